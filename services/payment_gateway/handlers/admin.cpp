#include "services/payment_gateway/handlers/admin.hpp"

#include <string>

#include "libs/http/response.hpp"
#include "libs/observability/log.hpp"
#include "libs/runtime/admin.hpp"
#include "services/payment_gateway/handlers/codec.hpp"

namespace orderflow::payment_gateway {
namespace {

void log_faults(std::string_view msg, const FaultConfig& c, const std::string& correlation_id) {
  log::warn(msg, {{"errorRate", codec::format_fraction(c.error_rate)},
                  {"latencyMs", std::to_string(c.latency_ms)},
                  {"latencyJitterMs", std::to_string(c.latency_jitter_ms)},
                  {"outage", c.outage ? "true" : "false"},
                  {"correlationId", correlation_id}});
}

}  // namespace

void AdminHandlers::add_routes(http::Router& router) {
  using Method = http::asio::awaitable<http::Response> (AdminHandlers::*)(http::RequestContext&);
  // Each route admits an admin first; the method runs only for one.
  auto guarded = [this](Method method) -> http::Handler {
    return [this, method](http::RequestContext& ctx) -> http::asio::awaitable<http::Response> {
      auto who = runtime::authorize_admin(
          tokens_, ctx, "/admin/faults",
          "fault injection is disabled because no admin token is configured: start payment-gateway "
          "with --admin-token <token> (or ORDERFLOW_ADMIN_TOKEN) and send 'Authorization: Bearer <token>'");
      if (auto* refusal = std::get_if<http::Response>(&who)) co_return std::move(*refusal);
      co_return co_await (this->*method)(ctx);
    };
  };
  router.add(http::Verb::get, "/admin/faults", guarded(&AdminHandlers::get_faults));
  router.add(http::Verb::post, "/admin/faults", guarded(&AdminHandlers::update_faults));
  router.add(http::Verb::delete_, "/admin/faults", guarded(&AdminHandlers::clear_faults));
}

http::asio::awaitable<http::Response> AdminHandlers::get_faults(http::RequestContext&) {
  co_return codec::faults_response(faults_.snapshot());
}

http::asio::awaitable<http::Response> AdminHandlers::update_faults(http::RequestContext& ctx) {
  auto decoded = codec::decode_faults(ctx.request.body());
  if (decoded.malformed) {
    co_return codec::request_problem(http::Status::bad_request, "malformed-request", "Bad Request",
                                     *decoded.malformed, "invalid_request_error", "parameter_invalid");
  }
  if (!decoded.violations.empty()) {
    co_return codec::request_problem(http::Status::unprocessable_entity, "invalid-faults",
                                     "Invalid fault configuration", "the fault configuration has invalid members",
                                     "invalid_request_error", "parameter_invalid", decoded.violations);
  }
  if (auto violations = faults_.update(decoded.patch); !violations.empty()) {
    co_return codec::request_problem(http::Status::unprocessable_entity, "invalid-faults",
                                     "Invalid fault configuration", "a value is out of range; nothing was changed",
                                     "invalid_request_error", "parameter_invalid", violations);
  }
  auto now = faults_.snapshot();
  log_faults("fault injection changed", now, ctx.correlation_id);
  co_return codec::faults_response(now);
}

http::asio::awaitable<http::Response> AdminHandlers::clear_faults(http::RequestContext& ctx) {
  faults_.reset(FaultConfig{});
  log_faults("fault injection cleared", FaultConfig{}, ctx.correlation_id);
  co_return codec::faults_response(faults_.snapshot());
}

}  // namespace orderflow::payment_gateway
