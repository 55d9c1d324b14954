#include "libs/observability/tracing.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <future>

namespace orderflow::trace {
namespace {

TEST(Tracing, ZipkinJsonShape) {
  SpanData s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.id = "00f067aa0ba902b7";
  s.parent_id = "a0f067aa0ba902b7";
  s.name = "post /place-order";
  s.kind = SpanKind::kServer;
  s.timestamp_us = 1'700'000'000'000'000;
  s.duration_us = 1234;
  s.tags = {{"http.method", "POST"}, {"http.status_code", "202"}};
  SpanData root = s;
  root.parent_id.clear();
  root.kind = SpanKind::kConsumer;
  root.tags.clear();

  auto v = boost::json::parse(to_zipkin_json({s, root}, "order-service"));
  const auto& arr = v.as_array();
  ASSERT_EQ(arr.size(), 2u);
  const auto& o = arr[0].as_object();
  EXPECT_EQ(o.at("traceId").as_string(), s.trace_id);
  EXPECT_EQ(o.at("id").as_string(), s.id);
  EXPECT_EQ(o.at("parentId").as_string(), s.parent_id);
  EXPECT_EQ(o.at("name").as_string(), "post /place-order");
  EXPECT_EQ(o.at("kind").as_string(), "SERVER");
  EXPECT_EQ(o.at("timestamp").as_int64(), 1'700'000'000'000'000);
  EXPECT_EQ(o.at("duration").as_int64(), 1234);
  EXPECT_EQ(o.at("localEndpoint").at("serviceName").as_string(), "order-service");
  EXPECT_EQ(o.at("tags").at("http.status_code").as_string(), "202");
  const auto& r = arr[1].as_object();
  EXPECT_FALSE(r.contains("parentId"));
  EXPECT_FALSE(r.contains("tags"));
  EXPECT_EQ(r.at("kind").as_string(), "CONSUMER");
}

TEST(Tracing, ChildSpansLinkToTheirParent) {
  metrics::Registry registry;
  std::promise<std::string> sent;
  bool once = false;
  Tracer tracer({"svc", "", 16, 2, std::chrono::milliseconds(20), std::chrono::milliseconds(100)},
                registry, [&](const std::string& json) {
                  if (!std::exchange(once, true)) sent.set_value(json);
                  return true;
                });
  auto incoming = Context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  std::string server_id, client_id;
  {
    auto server = tracer.start("get /x", SpanKind::kServer, &*incoming);
    EXPECT_EQ(server.context().trace_id, incoming->trace_id);
    EXPECT_EQ(server.context().parent_span_id, "00f067aa0ba902b7");
    auto client = tracer.start("get", SpanKind::kClient, &server.context());
    EXPECT_EQ(client.context().parent_span_id, server.context().span_id);
    server_id = server.context().span_id;
    client_id = client.context().span_id;
    client.tag("http.status_code", "200");
  }
  auto fut = sent.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto arr = boost::json::parse(fut.get()).as_array();
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[0].at("id").as_string(), client_id);  // the inner span ends first
  EXPECT_EQ(arr[0].at("parentId").as_string(), server_id);
  EXPECT_EQ(arr[1].at("parentId").as_string(), "00f067aa0ba902b7");
}

TEST(Tracing, NoExportWithoutUrlButContextFlows) {
  metrics::Registry registry;
  Tracer tracer({"svc", ""}, registry);
  EXPECT_FALSE(tracer.exporting());
  auto span = tracer.start("x", SpanKind::kConsumer,
                           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(span.context().trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  auto root = tracer.start("y", SpanKind::kServer, "garbage");
  EXPECT_EQ(root.context().trace_id.size(), 32u);
  EXPECT_TRUE(root.context().parent_span_id.empty());
}

TEST(Tracing, DropsAndCountsWhenQueueIsFullNeverBlocks) {
  metrics::Registry registry;
  std::promise<void> release;
  auto released = release.get_future().share();
  // The collector hangs on the first batch; the queue (capacity 4) then fills up.
  Tracer tracer({"svc", "", 4, 1, std::chrono::milliseconds(1), std::chrono::milliseconds(100)},
                registry, [released](const std::string&) {
                  released.wait();
                  return true;
                });
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) tracer.start("s", SpanKind::kServer, nullptr).end();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  auto text = registry.render();
  // At most 4 queued + 1 in the hanging batch; the rest were dropped.
  auto pos = text.find("tracing_spans_dropped_total{reason=\"queue-full\"} ");
  ASSERT_NE(pos, std::string::npos) << text;
  auto dropped = std::stoi(
      text.substr(pos + std::string("tracing_spans_dropped_total{reason=\"queue-full\"} ").size()));
  EXPECT_GE(dropped, 45);
  release.set_value();
}

TEST(Tracing, CountsFailedExports) {
  metrics::Registry registry;
  {
    Tracer tracer(
        {"svc", "", 16, 100, std::chrono::milliseconds(10), std::chrono::milliseconds(100)},
        registry, [](const std::string&) { return false; });
    for (int i = 0; i < 3; ++i) tracer.start("s", SpanKind::kServer, nullptr).end();
  }  // stop() sends what is queued
  EXPECT_NE(registry.render().find("tracing_spans_dropped_total{reason=\"export-failed\"} 3"),
            std::string::npos)
      << registry.render();
}

TEST(Tracing, RealHttpSenderToAClosedPortFailsFast) {
  auto send = zipkin_http_sender("http://127.0.0.1:1/api/v2/spans", std::chrono::milliseconds(500));
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(send("[]"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST(Trace, ScopedContextSetsAndRestoresCurrent) {
  EXPECT_EQ(current(), nullptr);
  auto a = Context::root();
  {
    ScopedContext sa(a);
    EXPECT_EQ(current(), &a);
    auto b = a.child();
    {
      ScopedContext sb(b);
      EXPECT_EQ(current()->parent_span_id, a.span_id);
    }
    EXPECT_EQ(current(), &a);
  }
  EXPECT_EQ(current(), nullptr);
}

}  // namespace
}  // namespace orderflow::trace
