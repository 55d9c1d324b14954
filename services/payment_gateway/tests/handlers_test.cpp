// The HTTP handlers without a network: requests go through the router to the handler
// coroutines on a local io_context, with the ledger on an in-memory database.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "libs/http/response.hpp"
#include "services/payment_gateway/handlers/admin.hpp"
#include "services/payment_gateway/handlers/charges.hpp"

namespace orderflow::payment_gateway {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Response;
using http::Verb;

class HandlersTest : public ::testing::Test {
 protected:
  HandlersTest() {
    charges_.add_routes(router_);
    admin_.add_routes(router_);
  }

  Response call(Verb verb, const std::string& path, const std::string& body = {},
                const std::string& key = {}, std::map<std::string, std::string> query = {}) {
    http::Request req{verb, path, 11};
    if (!key.empty()) req.set("Idempotency-Key", key);
    if (path.starts_with("/admin/") && !admin_auth_.empty()) req.set(http::bhttp::field::authorization, admin_auth_);
    req.set(http::bhttp::field::content_type, "application/json");
    req.body() = body;
    auto match = router_.match(verb, path);
    EXPECT_NE(match.handler, nullptr) << path;
    asio::io_context ioc;
    Response out;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          http::RequestContext ctx{req, match.params, std::move(query), "corr-1", trace::Context::root()};
          out = co_await (*match.handler)(ctx);
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    ioc.run();
    return out;
  }

  Response charge(const std::string& key, const std::string& source, const std::string& order = "o-1",
                  const std::string& amount = "25.00") {
    json::object body{{"orderId", order}, {"amount", amount}, {"currency", "EUR"}, {"source", source}};
    return call(Verb::post, "/v1/charges", json::serialize(body), key);
  }

  static json::value body(const Response& r) { return json::parse(r.body()); }
  static std::string content_type(const Response& r) {
    return std::string(r[http::bhttp::field::content_type]);
  }

  json::array ledger(const std::string& order_id) {
    auto r = call(Verb::get, "/v1/charges", {}, {}, {{"orderId", order_id}});
    EXPECT_EQ(r.result_int(), 200);
    return body(r).at("data").as_array();
  }

  storage::Database db_{":memory:"};
  ChargeLedger ledger_{db_};
  asio::thread_pool pool_{2};
  FaultState faults_{FaultConfig{}};
  metrics::Registry registry_;
  Probe probe_{registry_, faults_};
  ChargeHandlers charges_{ledger_, pool_, faults_, probe_, {std::chrono::milliseconds(200)}};
  AdminHandlers admin_{faults_, auth::parse_admin_tokens("ops:test-admin-token")};
  std::string admin_auth_ = "Bearer test-admin-token";  // sent on /admin/ calls
  http::Router router_;
};

TEST_F(HandlersTest, SuccessfulChargeIsStripeLike) {
  auto r = charge("o-1", "tok_visa");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(content_type(r), "application/json");
  auto b = body(r).as_object();
  EXPECT_EQ(b.at("id").as_string().subview().substr(0, 3), "ch_");
  EXPECT_EQ(b.at("object").as_string(), "charge");
  EXPECT_EQ(b.at("status").as_string(), "succeeded");
  EXPECT_EQ(b.at("amount").as_string(), "25.00");
  EXPECT_EQ(b.at("currency").as_string(), "EUR");
  EXPECT_EQ(b.at("orderId").as_string(), "o-1");
  EXPECT_TRUE(b.at("created").is_int64());
}

TEST_F(HandlersTest, SameKeyReplaysTheSameAnswer) {
  auto first = charge("o-1", "tok_visa");
  auto second = charge("o-1", "tok_visa");
  ASSERT_EQ(second.result_int(), 200);
  EXPECT_EQ(second.body(), first.body());
  EXPECT_EQ(second["Idempotent-Replayed"], "true");
  EXPECT_EQ(ledger("o-1").size(), 1u);
}

TEST_F(HandlersTest, SameKeyDifferentBodyIs422IdempotencyError) {
  charge("o-1", "tok_visa");
  auto r = charge("o-1", "tok_visa", "o-1", "30.00");
  ASSERT_EQ(r.result_int(), 422);
  EXPECT_EQ(content_type(r), "application/problem+json");
  auto b = body(r).as_object();
  EXPECT_EQ(b.at("status").as_int64(), 422);
  EXPECT_EQ(b.at("error").at("type").as_string(), "idempotency_error");
  EXPECT_EQ(ledger("o-1").size(), 1u);
}

TEST_F(HandlersTest, DeclineIs402CardErrorAndFinal) {
  auto r = charge("o-2", "tok_chargeDeclined", "o-2");
  ASSERT_EQ(r.result_int(), 402) << r.body();
  auto e = body(r).at("error").as_object();
  EXPECT_EQ(e.at("type").as_string(), "card_error");
  EXPECT_EQ(e.at("code").as_string(), "card_declined");
  EXPECT_FALSE(e.at("message").as_string().empty());
  auto again = charge("o-2", "tok_chargeDeclined", "o-2");
  EXPECT_EQ(again.result_int(), 402);
  EXPECT_EQ(again.body(), r.body());
  auto list = ledger("o-2");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("status").as_string(), "failed");
  EXPECT_EQ(list[0].at("failureCode").as_string(), "card_declined");

  auto funds = charge("o-3", "tok_chargeDeclinedInsufficientFunds", "o-3");
  EXPECT_EQ(funds.result_int(), 402);
  EXPECT_EQ(body(funds).at("error").at("code").as_string(), "insufficient_funds");
}

TEST_F(HandlersTest, UnknownTokenIs402InvalidSource) {
  auto r = charge("o-u", "tok_doesNotExist", "o-u");
  ASSERT_EQ(r.result_int(), 402);
  EXPECT_EQ(body(r).at("error").at("code").as_string(), "invalid_source");
}

TEST_F(HandlersTest, ProcessingErrorIsAlways500AndNothingIsCharged) {
  for (int i = 0; i < 3; ++i) {
    auto r = charge("o-p", "tok_processingError", "o-p");
    ASSERT_EQ(r.result_int(), 500);
    EXPECT_EQ(body(r).at("error").at("type").as_string(), "api_error");
  }
  EXPECT_TRUE(ledger("o-p").empty());
  auto attempts = call(Verb::get, "/v1/attempts", {}, {}, {{"orderId", "o-p"}});
  EXPECT_EQ(body(attempts).at("data").as_array().size(), 3u);
}

TEST_F(HandlersTest, FlakyFailsTwiceThenSucceedsOnce) {
  EXPECT_EQ(charge("o-f", "tok_flaky", "o-f").result_int(), 503);
  EXPECT_EQ(charge("o-f", "tok_flaky", "o-f").result_int(), 503);
  auto ok = charge("o-f", "tok_flaky", "o-f");
  ASSERT_EQ(ok.result_int(), 200);
  auto again = charge("o-f", "tok_flaky", "o-f");
  EXPECT_EQ(again.body(), ok.body());
  auto list = ledger("o-f");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("attempts").as_int64(), 3);
}

TEST_F(HandlersTest, SlowAnswersAfterTheDelayAndReplaysAtOnce) {
  auto start = std::chrono::steady_clock::now();
  auto r = charge("o-s", "tok_slow", "o-s");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(charge("o-s", "tok_slow", "o-s").result_int(), 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
}

TEST_F(HandlersTest, MissingKeyIs400Problem) {
  auto r = charge("", "tok_visa");
  ASSERT_EQ(r.result_int(), 400);
  EXPECT_EQ(content_type(r), "application/problem+json");
  EXPECT_TRUE(ledger("o-1").empty());
}

TEST_F(HandlersTest, BadBodiesAre400Or422) {
  auto malformed = call(Verb::post, "/v1/charges", "{not json", "k1");
  EXPECT_EQ(malformed.result_int(), 400);
  EXPECT_EQ(content_type(malformed), "application/problem+json");
  EXPECT_EQ(call(Verb::post, "/v1/charges", "[1,2]", "k2").result_int(), 400);

  auto number = call(Verb::post, "/v1/charges",
                     R"({"orderId":"o","amount":25.0,"currency":"EUR","source":"tok_visa"})", "k3");
  ASSERT_EQ(number.result_int(), 422);
  auto errors = body(number).at("errors").as_array();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at("field").as_string(), "amount");

  auto pan = charge("k4", "4242424242424242", "o-pan");
  ASSERT_EQ(pan.result_int(), 422);
  EXPECT_EQ(pan.body().find("4242424242424242"), std::string::npos);
  EXPECT_TRUE(ledger("o-pan").empty());
}

TEST_F(HandlersTest, InjectedOutageAndErrorsComeBeforeProcessing) {
  ASSERT_EQ(call(Verb::post, "/admin/faults", R"({"outage":true})").result_int(), 200);
  auto r = charge("o-x", "tok_visa", "o-x");
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(body(r).at("error").at("type").as_string(), "api_error");

  ASSERT_EQ(call(Verb::post, "/admin/faults", R"({"outage":false,"errorRate":1})").result_int(), 200);
  EXPECT_EQ(charge("o-x", "tok_visa", "o-x").result_int(), 500);
  EXPECT_TRUE(ledger("o-x").empty());

  ASSERT_EQ(call(Verb::delete_, "/admin/faults").result_int(), 200);
  EXPECT_EQ(charge("o-x", "tok_visa", "o-x").result_int(), 200);
}

TEST_F(HandlersTest, ResetAfterCommitProcessesTheChargeThenDropsTheAnswer) {
  ASSERT_EQ(call(Verb::post, "/admin/faults", R"({"resetAfterCommitRate":1})").result_int(), 200);
  auto r = charge("o-r", "tok_visa", "o-r");
  EXPECT_TRUE(http::is_abort_connection(r)) << "the server resets the connection instead of answering";
  ASSERT_EQ(ledger("o-r").size(), 1u) << "the charge was committed";
  EXPECT_EQ(ledger("o-r")[0].at("status").as_string(), "succeeded");
  ASSERT_EQ(call(Verb::delete_, "/admin/faults").result_int(), 200);
  auto again = charge("o-r", "tok_visa", "o-r");
  EXPECT_EQ(again.result_int(), 200);
  EXPECT_EQ(again["Idempotent-Replayed"], "true");
  EXPECT_EQ(ledger("o-r").size(), 1u) << "the retry with the key is not a second charge";
}

TEST_F(HandlersTest, AdminFaultsValidatesAndAppliesPartialUpdates) {
  auto r = call(Verb::post, "/admin/faults", R"({"errorRate":0.3,"latencyMs":5})");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  auto now = body(call(Verb::get, "/admin/faults")).as_object();
  EXPECT_EQ(now.at("errorRate").as_double(), 0.3);
  EXPECT_EQ(now.at("latencyMs").as_int64(), 5);
  EXPECT_EQ(now.at("latencyJitterMs").as_int64(), 0);
  EXPECT_FALSE(now.at("outage").as_bool());

  for (auto bad : {R"({"errorRate":2})", R"({"latencyMs":-1})", R"({"outage":"yes"})", R"({"errorrate":0.1})",
                   R"({"resetAfterCommitRate":1.5})"}) {
    auto res = call(Verb::post, "/admin/faults", bad);
    EXPECT_EQ(res.result_int(), 422) << bad;
    EXPECT_EQ(content_type(res), "application/problem+json");
  }
  EXPECT_EQ(call(Verb::post, "/admin/faults", "nope").result_int(), 400);
  EXPECT_EQ(faults_.snapshot(), (FaultConfig{0.3, 5, 0, false, 0.0}));  // unchanged by the bad ones
}

TEST_F(HandlersTest, ListsRecentChargesAndRetrievesOne) {
  charge("a", "tok_visa", "o-a");
  charge("b", "tok_mastercard", "o-b");
  auto all = call(Verb::get, "/v1/charges");
  auto b = body(all).as_object();
  EXPECT_EQ(b.at("object").as_string(), "list");
  auto data = b.at("data").as_array();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0].at("orderId").as_string(), "o-b");
  EXPECT_EQ(data[0].at("idempotencyKey").as_string(), "b");

  auto limited = body(call(Verb::get, "/v1/charges", {}, {}, {{"limit", "1"}})).as_object();
  EXPECT_EQ(limited.at("data").as_array().size(), 1u);
  EXPECT_TRUE(limited.at("has_more").as_bool());
  EXPECT_EQ(call(Verb::get, "/v1/charges", {}, {}, {{"limit", "0"}}).result_int(), 400);

  std::string id(data[1].at("id").as_string());
  auto one = call(Verb::get, "/v1/charges/" + id);
  ASSERT_EQ(one.result_int(), 200);
  EXPECT_EQ(body(one).at("orderId").as_string(), "o-a");
  EXPECT_EQ(call(Verb::get, "/v1/charges/ch_nope").result_int(), 404);
}

TEST_F(HandlersTest, CountsOutcomesInMetrics) {
  charge("m1", "tok_visa", "m1");
  charge("m2", "tok_chargeDeclined", "m2");
  charge("m3", "tok_processingError", "m3");
  charge("m1", "tok_visa", "m1");
  auto text = registry_.render();
  EXPECT_NE(text.find("gateway_charges_total{outcome=\"succeeded\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("gateway_charges_total{outcome=\"declined\"} 1"), std::string::npos);
  EXPECT_NE(text.find("gateway_charges_total{outcome=\"error\"} 1"), std::string::npos);
  EXPECT_NE(text.find("gateway_idempotent_replays_total 1"), std::string::npos);
}

TEST_F(HandlersTest, FaultInjectionNeedsTheAdminToken) {
  admin_auth_.clear();
  auto missing = call(Verb::post, "/admin/faults", R"({"outage":true})");
  EXPECT_EQ(missing.result_int(), 401);
  EXPECT_NE(std::string(missing[http::bhttp::field::www_authenticate]).find("Bearer"), std::string::npos);
  admin_auth_ = "Bearer not-the-token";
  EXPECT_EQ(call(Verb::get, "/admin/faults").result_int(), 401);
  EXPECT_EQ(call(Verb::delete_, "/admin/faults").result_int(), 401);
  EXPECT_FALSE(faults_.snapshot().outage) << "a refused call changed nothing";
  admin_auth_ = "Bearer test-admin-token";
  EXPECT_EQ(call(Verb::get, "/admin/faults").result_int(), 200);
}

TEST(GatewayAdmin, WithoutAConfiguredTokenFaultInjectionIsOff) {
  FaultState faults{FaultConfig{}};
  AdminHandlers admin(faults, {});
  http::Router router;
  admin.add_routes(router);
  http::Request req{Verb::post, "/admin/faults", 11};
  req.set(http::bhttp::field::authorization, "Bearer anything");
  req.body() = R"({"outage":true})";
  auto match = router.match(Verb::post, "/admin/faults");
  ASSERT_NE(match.handler, nullptr);
  asio::io_context ioc;
  Response out;
  http::RequestContext ctx{req, match.params, {}, "corr-1", trace::Context::root()};
  asio::co_spawn(ioc, (*match.handler)(ctx), [&](std::exception_ptr e, Response r) {
    ASSERT_FALSE(e);
    out = std::move(r);
  });
  ioc.run();
  EXPECT_EQ(out.result_int(), 403);
  EXPECT_FALSE(faults.snapshot().outage);
}

}  // namespace
}  // namespace orderflow::payment_gateway
