#include "services/console/domain/charts.hpp"

namespace orderflow::console::domain {

const std::vector<Chart>& charts() {
  static const std::vector<Chart> kCharts = {
      {"orders", "Orders by status", "/s",
       {{"sum by (status) (rate(orders_total[1m]))", "", "status"}}},
      {"payments", "Payment outcomes", "/s",
       {{"sum by (outcome) (rate(payments_total[1m]))", "", "outcome"}}},
      {"gateway-latency", "Gateway latency (payment-service's calls)", "s",
       {{"histogram_quantile(0.5, sum by (le) (rate(payment_gateway_request_seconds_bucket[1m])))", "p50", ""},
        {"histogram_quantile(0.99, sum by (le) (rate(payment_gateway_request_seconds_bucket[1m])))", "p99", ""}}},
      {"lag", "Consumer lag per group", "records",
       {{"sum by (group) (kafka_consumer_lag >= 0)", "", "group"}}},
      {"dlq", "Records sent to a DLQ, per topic", "records",
       {{"sum by (topic) (dlq_messages_total)", "", "topic"}}},
      {"http-5xx", "HTTP 5xx answers per service", "/s",
       {{"sum by (job) (rate(http_server_requests_seconds_count{status=~\"5..\"}[1m]))", "", "job"}}},
  };
  return kCharts;
}

}  // namespace orderflow::console::domain
