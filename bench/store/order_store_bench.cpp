// The order store alone (T3): how many new orders per second SQLite commits durably
// (WAL, synchronous=FULL) through OrderRepository's group commit, by number of orders in
// flight. in_flight=1 is one transaction and one fsync per order: the old ceiling.
//
//   build/release/bin/order-store-bench [--benchmark_min_time=2]
// ORDERFLOW_BENCH_DIR picks the folder of the database (default /var/tmp): put it on the
// disk you want to measure, not on a tmpfs.
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "libs/common/ids.hpp"
#include "services/order/repository/order_repository.hpp"

namespace {

using namespace orderflow;

std::shared_ptr<const order::NewOrder> make_order(std::uint64_t n) {
  auto o = std::make_shared<order::NewOrder>();
  o->order_id = "bench-" + std::to_string(n) + "-" + ids::uuid();
  o->command.customer_id = "c-" + std::to_string(n % 5000);
  o->command.customer_email = "customer@example.com";
  o->command.currency = "EUR";
  o->command.payment_token = "tok_visa";
  o->command.total = *Money::parse("61.47");
  o->correlation_id = ids::uuid();
  o->created_at = "2026-01-01T00:00:00.000Z";
  o->items_json = R"([{"sku":"SKU-1042","quantity":3,"unitPrice":"12.49"},{"sku":"SKU-1100","quantity":1,"unitPrice":"24.00"}])";
  o->response_body = R"({"orderId":")" + o->order_id + R"(","status":"PENDING","totalAmount":"61.47"})";
  // An OrderCreated record the size of the real one (~600 bytes with CloudEvents headers).
  o->event = {"order-events", o->order_id, std::string(420, 'x'),
              {{"ce_id", ids::uuid()}, {"ce_type", "OrderCreated"}, {"ce_source", "order-service"},
               {"ce_specversion", "1.0"}, {"ce_time", o->created_at}, {"content-type", "application/json"},
               {"traceparent", "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01"}}};
  return o;
}

void BM_PlaceOrderCommit(benchmark::State& state) {
  const char* dir_env = std::getenv("ORDERFLOW_BENCH_DIR");
  std::filesystem::path dir = dir_env ? dir_env : "/var/tmp";
  auto path = dir / ("order-store-bench-" + ids::uuid() + ".db");
  const auto in_flight = static_cast<std::size_t>(state.range(0));
  std::uint64_t n = 0, failures = 0;
  {
    order::OrderRepository repo(path.string());
    std::mutex mu;
    std::condition_variable cv;
    for (auto _ : state) {
      std::size_t pending = in_flight;
      for (std::size_t i = 0; i < in_flight; ++i) {
        repo.create_async(make_order(n++), [&](std::exception_ptr e, order::CreateOutcome) {
          std::lock_guard lock(mu);
          if (e) ++failures;
          if (--pending == 0) cv.notify_one();
        });
      }
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return pending == 0; });
    }
    state.counters["orders_per_txn"] = benchmark::Counter(
        static_cast<double>(n) / static_cast<double>(std::max<std::uint64_t>(1, repo.batches_committed())));
    state.counters["fsyncs_per_s"] =
        benchmark::Counter(static_cast<double>(repo.batches_committed()), benchmark::Counter::kIsRate);
  }
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  if (failures) state.SkipWithError("some orders were not committed");
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_PlaceOrderCommit)->Arg(1)->Arg(16)->Arg(64)->Arg(256)->Arg(1024)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
