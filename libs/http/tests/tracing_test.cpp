// The server's SERVER span and the client's CLIENT span over loopback: traceparent goes out
// and comes back, and the exported spans link client -> server.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <mutex>
#include <thread>

#include "libs/http/client.hpp"
#include "libs/http/response.hpp"
#include "libs/http/server.hpp"

namespace orderflow::http {
namespace {

struct Collected {
  std::mutex mu;
  std::vector<boost::json::object> spans;
  std::size_t size() {
    std::lock_guard lock(mu);
    return spans.size();
  }
};

TEST(HttpTracing, ClientSpanIsParentOfServerSpan) {
  Collected collected;
  auto sender = [&](const std::string& json) {
    std::lock_guard lock(collected.mu);
    auto batch = boost::json::parse(json);
    for (auto& v : batch.as_array()) collected.spans.push_back(v.as_object());
    return true;
  };
  metrics::Registry registry;
  trace::TracerOptions topts{
      "svc", "", 64, 10, std::chrono::milliseconds(10), std::chrono::milliseconds(100)};
  trace::Tracer tracer(topts, registry, sender);
  asio::io_context ioc;
  Router router;
  router.add(Verb::get, "/items/{id}", [](RequestContext& ctx) -> asio::awaitable<Response> {
    co_return text_response(Status::ok, "text/plain", ctx.trace.traceparent());
  });
  ServerOptions opts;
  opts.address = "127.0.0.1";
  Server server(ioc, opts, router, registry, &tracer);
  auto endpoint = Endpoint::parse("http://127.0.0.1:" + std::to_string(server.start()));
  std::thread io([&] { ioc.run(); });
  Client client(ioc, 4, &tracer);

  auto parent = trace::Context::root();
  Result<Response> res = Error{"unset", "", false};
  {
    trace::ScopedContext scope(parent);  // as a Kafka handler under a ConsumerLoop
    res = client.send_blocking(endpoint, Request{Verb::get, "/items/7?x=1", 11},
                               std::chrono::seconds(5));
  }
  ASSERT_TRUE(res) << res.error().message;
  auto handler_ctx = trace::Context::parse(res->body());
  ASSERT_TRUE(handler_ctx);
  EXPECT_EQ(handler_ctx->trace_id, parent.trace_id);
  EXPECT_EQ((*res)["traceparent"], res->body());  // the response names the server span

  for (int i = 0; i < 500 && collected.size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  server.stop();
  ioc.stop();
  io.join();
  ASSERT_EQ(collected.size(), 2u);
  const boost::json::object* server_span = nullptr;
  const boost::json::object* client_span = nullptr;
  for (const auto& s : collected.spans)
    (s.at("kind").as_string() == "SERVER" ? server_span : client_span) = &s;
  ASSERT_TRUE(server_span && client_span);
  EXPECT_EQ(client_span->at("parentId").as_string(), parent.span_id);
  EXPECT_EQ(client_span->at("name").as_string(), "GET /items/7");
  EXPECT_EQ(server_span->at("parentId").as_string(), client_span->at("id").as_string());
  EXPECT_EQ(server_span->at("id").as_string(), handler_ctx->span_id);
  EXPECT_EQ(server_span->at("name").as_string(), "GET /items/{id}");
  EXPECT_EQ(server_span->at("tags").at("http.status_code").as_string(), "200");
  EXPECT_EQ(server_span->at("traceId").as_string(), parent.trace_id);
}

}  // namespace
}  // namespace orderflow::http
