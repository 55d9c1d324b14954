// The server and client together over loopback (port 0): the request/response path,
// problem+json for protocol errors, keep-alive reuse and the client's deadline.
#include <gtest/gtest.h>

#include <filesystem>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <thread>

#include "libs/http/client.hpp"
#include "libs/http/response.hpp"
#include "libs/http/server.hpp"

namespace orderflow::http {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add(Verb::post, "/echo/{name}", [](RequestContext& ctx) -> asio::awaitable<Response> {
      co_return json_response(Status::ok, {{"name", ctx.path_param("name")},
                                           {"body", ctx.request.body()},
                                           {"q", ctx.query_param("q").value_or("")},
                                           {"correlationId", ctx.correlation_id}});
    });
    router_.add(Verb::get, "/slow", [](RequestContext&) -> asio::awaitable<Response> {
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(500));
      co_await t.async_wait(asio::use_awaitable);
      co_return text_response(Status::ok, "text/plain", "late");
    });
    router_.add(Verb::get, "/boom", [](RequestContext&) -> asio::awaitable<Response> {
      throw std::runtime_error("secret internals");
      co_return Response{};
    });
    ServerOptions opts;
    opts.address = "127.0.0.1";
    opts.body_limit = 1024;
    server_ = std::make_unique<Server>(ioc_, opts, router_, registry_);
    endpoint_ = Endpoint::parse("http://127.0.0.1:" + std::to_string(server_->start()));
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    server_->stop();
    ioc_.stop();
    thread_.join();
  }
  Result<Response> call(Verb verb, std::string target, std::string body = {},
                        std::string content_type = "application/json",
                        std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    Request req{verb, target, 11};
    req.set(bhttp::field::content_type, content_type);
    req.set(kCorrelationHeader, "corr-123");
    req.body() = std::move(body);
    return client_.send_blocking(endpoint_, std::move(req), deadline);
  }

  asio::io_context ioc_;
  Router router_;
  metrics::Registry registry_;
  std::unique_ptr<Server> server_;
  Client client_{ioc_};
  Endpoint endpoint_;
  std::thread thread_;
};

TEST_F(ServerTest, RoutesWithParamsQueryAndCorrelationId) {
  for (int i = 0; i < 3; ++i) {  // the second and third reuse the pooled connection
    auto res = call(Verb::post, "/echo/ann?q=x%20y", "hello");
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(res->result(), Status::ok);
    auto j = boost::json::parse(res->body()).as_object();
    EXPECT_EQ(j.at("name").as_string(), "ann");
    EXPECT_EQ(j.at("body").as_string(), "hello");
    EXPECT_EQ(j.at("q").as_string(), "x y");
    EXPECT_EQ(j.at("correlationId").as_string(), "corr-123");
    EXPECT_EQ((*res)[kCorrelationHeader], "corr-123");
  }
  EXPECT_NE(registry_.render().find("route=\"/echo/{name}\",status=\"200\",le=\"+Inf\"} 3"), std::string::npos);
}

// A correlation id holding a card number is never echoed, logged or passed on: replaced.
TEST_F(ServerTest, ACardNumberAsCorrelationIdIsReplaced) {
  Request req{Verb::post, "/echo/ann", 11};
  req.set(kCorrelationHeader, "4242-4242-4242-4242");
  req.body() = "x";
  req.prepare_payload();
  auto res = client_.send_blocking(endpoint_, std::move(req), std::chrono::seconds(5));
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->result(), Status::ok);
  const std::string echoed((*res)[kCorrelationHeader]);
  EXPECT_FALSE(echoed.empty());
  EXPECT_EQ(echoed.find("4242"), std::string::npos) << echoed;
  EXPECT_EQ(res->body().find("4242"), std::string::npos) << res->body();
}

TEST_F(ServerTest, UnknownPathIs404Problem) {
  auto res = call(Verb::get, "/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), Status::not_found);
  EXPECT_EQ((*res)[bhttp::field::content_type], "application/problem+json");
  EXPECT_EQ(boost::json::parse(res->body()).at("status").as_int64(), 404);
}

TEST_F(ServerTest, WrongMethodIs405WithAllow) {
  auto res = call(Verb::get, "/echo/x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), Status::method_not_allowed);
  EXPECT_EQ((*res)[bhttp::field::allow], "POST");
}

TEST_F(ServerTest, OversizeBodyIs413) {
  auto res = call(Verb::post, "/echo/x", std::string(4096, 'a'));
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->result(), Status::payload_too_large);
  EXPECT_EQ((*res)[bhttp::field::content_type], "application/problem+json");
}

TEST_F(ServerTest, HandlerExceptionIs500WithoutInternals) {
  auto res = call(Verb::get, "/boom");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), Status::internal_server_error);
  EXPECT_EQ(res->body().find("secret"), std::string::npos);
}

TEST_F(ServerTest, ClientDeadlineIsATimeoutError) {
  auto res = call(Verb::get, "/slow", {}, "text/plain", std::chrono::milliseconds(100));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, "timeout");
  EXPECT_TRUE(res.error().retryable);
}

TEST_F(ServerTest, AnAddressNeedsNoResolverThreadANameIsResolved) {
  const auto threads = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/task"), std::filesystem::directory_iterator{});
  };
  const auto before = threads();
  auto res = call(Verb::post, "/echo/ann", "x");  // http://127.0.0.1:<port>
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(threads(), before);  // Asio's resolver runs on a thread of its own; no lookup, no thread

  Request req{Verb::post, "/echo/bob", 11};
  req.body() = "y";
  auto named = Endpoint::parse("http://localhost:" + endpoint_.port);
  auto res2 = client_.send_blocking(named, std::move(req), std::chrono::seconds(5));
  ASSERT_TRUE(res2) << res2.error().message;
  EXPECT_EQ(boost::json::parse(res2->body()).at("name").as_string(), "bob");
}

TEST_F(ServerTest, ConnectionRefusedIsConnectFailed) {
  Request req{Verb::get, "/", 11};
  auto res = client_.send_blocking(Endpoint::parse("http://127.0.0.1:1"), std::move(req), std::chrono::seconds(2));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, "connect-failed");
}

}  // namespace
}  // namespace orderflow::http
