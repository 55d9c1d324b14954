// orderflow-hello: the baseline H. The same runtime and HTTP server as every service
// (libs/runtime, libs/http: Beast coroutines, router, metrics, tracing hooks, JSON logs
// off the hot path) with a handler that does no work: POST /place-order answers 202 with a
// fixed body the shape of order-service's. What order-service spends above this is the
// cost of the order itself (validation, SQLite group commit, outbox).
#include "libs/http/response.hpp"
#include "libs/runtime/runtime.hpp"

using namespace orderflow;

int main(int argc, char** argv) {
  return runtime::guarded_main("hello", [&] {
    runtime::Runtime rt("hello", argc, argv, 8099);
    auto hello = [](http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
      co_return http::text_response(
          http::Status::accepted, "application/json",
          R"({"orderId":"00000000-0000-4000-8000-000000000000","status":"PENDING","totalAmount":"25.00",)"
          R"("currency":"EUR","correlationId":")" + ctx.correlation_id + "\"}");
    };
    rt.router().add(http::Verb::post, "/place-order", hello);
    return rt.run();
  });
}
