#include <gtest/gtest.h>

#include "libs/http/router.hpp"

namespace orderflow::http {
namespace {

Handler noop() {
  return [](RequestContext&) -> asio::awaitable<Response> { co_return Response{}; };
}

TEST(Router, MatchesLiteralAndCapturedSegments) {
  Router r;
  r.add(Verb::post, "/api/v1/orders", noop());
  r.add(Verb::get, "/api/v1/orders/{orderId}", noop());
  auto m = r.match(Verb::get, "/api/v1/orders/abc-1");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.route, "/api/v1/orders/{orderId}");
  EXPECT_EQ(m.params.at("orderId"), "abc-1");
  EXPECT_NE(r.match(Verb::post, "/api/v1/orders").handler, nullptr);
}

TEST(Router, WrongMethodReportsAllowedMethods) {
  Router r;
  r.add(Verb::post, "/place-order", noop());
  auto m = r.match(Verb::get, "/place-order");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.allow, "POST");
}

TEST(Router, UnknownPathIsUnmatched) {
  Router r;
  r.add(Verb::get, "/a/{x}", noop());
  auto m = r.match(Verb::get, "/a/b/c");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.allow.empty());
  EXPECT_EQ(m.route, "UNMATCHED");
}

TEST(Router, HeadFallsBackToGet) {
  Router r;
  r.add(Verb::get, "/x", noop());
  EXPECT_NE(r.match(Verb::head, "/x").handler, nullptr);
}

}  // namespace
}  // namespace orderflow::http
