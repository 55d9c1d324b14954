#include <gtest/gtest.h>

#include "libs/observability/metrics.hpp"

namespace orderflow::metrics {
namespace {

TEST(Metrics, RendersCountersWithLabels) {
  Registry r;
  auto& orders = r.counter("orders_total", "Orders by status", {"status"});
  orders.with({"CONFIRMED"}).inc(3);
  orders.with({"FAILED"}).inc();
  auto text = r.render();
  EXPECT_NE(text.find("# TYPE orders_total counter"), std::string::npos);
  EXPECT_NE(text.find("orders_total{status=\"CONFIRMED\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("orders_total{status=\"FAILED\"} 1\n"), std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = r.histogram("lat_seconds", "Latency", {"route"}, {0.1, 1.0});
  auto& s = h.with({"/x"});
  s.observe(0.05);
  s.observe(0.5);
  s.observe(5);
  auto text = r.render();
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"0.10000000000000001\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"1\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_count{route=\"/x\"} 3"), std::string::npos) << text;
}

TEST(Metrics, EscapesLabelValues) {
  Registry r;
  r.counter("c_total", "c", {"l"}).with({"a\"b\\c"}).inc();
  EXPECT_NE(r.render().find("c_total{l=\"a\\\"b\\\\c\"} 1"), std::string::npos);
}

TEST(Metrics, CallbackGaugeIsEvaluatedAtScrape) {
  Registry r;
  double backlog = 4;
  r.callback_gauge("outbox_pending", "Backlog", [&] { return backlog; });
  EXPECT_NE(r.render().find("outbox_pending 4\n"), std::string::npos);
  backlog = 7;
  EXPECT_NE(r.render().find("outbox_pending 7\n"), std::string::npos);
}

}  // namespace
}  // namespace orderflow::metrics

TEST(Metrics, RegisteringANameTwiceSharesTheFamily) {
  orderflow::metrics::Registry r;
  auto& a = r.gauge("shared_gauge", "help", {"k"});
  auto& b = r.gauge("shared_gauge", "other help", {"k"});
  EXPECT_EQ(&a, &b);
  a.with({"x"}).set(1);
  b.with({"y"}).set(2);
  auto text = r.render();
  EXPECT_EQ(text.find("# TYPE shared_gauge"), text.rfind("# TYPE shared_gauge"));
  EXPECT_NE(text.find("shared_gauge{k=\"y\"} 2"), std::string::npos);
}
