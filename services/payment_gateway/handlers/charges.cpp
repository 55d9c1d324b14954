#include "services/payment_gateway/handlers/charges.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <memory>
#include <random>
#include <string>

#include "libs/common/time.hpp"
#include "libs/http/offload.hpp"
#include "libs/http/response.hpp"
#include "libs/observability/log.hpp"
#include "services/payment_gateway/handlers/codec.hpp"

namespace orderflow::payment_gateway {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Response;
using http::Status;

constexpr std::string_view kIdempotencyHeader = "Idempotency-Key";
constexpr int kMaxListLimit = 100;

// Uniform in [0, 1). One generator per I/O thread, so no locking.
double uniform_roll() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// Waits on the coroutine's own executor: the I/O thread serves other requests meanwhile.
asio::awaitable<void> sleep_for(std::chrono::milliseconds delay) {
  if (delay.count() <= 0) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

class Stopwatch final {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// ?limit= : absent -> the maximum; otherwise 1..100.
std::optional<int> parse_limit(const http::RequestContext& ctx, std::optional<Response>& problem) {
  auto raw = ctx.query_param("limit");
  if (!raw) return kMaxListLimit;
  int n = 0;
  try {
    std::size_t used = 0;
    n = std::stoi(*raw, &used);
    if (used != raw->size()) n = 0;
  } catch (const std::exception&) {
    n = 0;
  }
  if (n < 1 || n > kMaxListLimit) {
    problem = codec::request_problem(Status::bad_request, "invalid-parameter", "Bad Request",
                                     "limit must be an integer between 1 and 100", "invalid_request_error",
                                     "parameter_invalid", {{"limit", "must be an integer between 1 and 100"}});
    return std::nullopt;
  }
  return n;
}

Response list_response(std::string_view url, json::array data, bool has_more) {
  return http::json_response(Status::ok, json::object{{"object", "list"},
                                                      {"url", url},
                                                      {"has_more", has_more},
                                                      {"data", std::move(data)}});
}

}  // namespace

Response ChargeHandlers::reset_connection(const std::string& order_id, const std::string& key,
                                          const std::string& correlation_id) {
  probe_.fault_injected(Probe::Fault::kReset);
  log::warn("charge processed; connection reset by injected fault",
            {{"fault", "reset-after-commit"}, {"orderId", order_id}, {"idempotencyKey", key},
             {"correlationId", correlation_id}});
  return http::abort_connection();
}

ChargeHandlers::ChargeHandlers(ChargeLedger& ledger, asio::thread_pool& pool, const FaultState& faults,
                               Probe& probe, Options options)
    : ledger_(ledger), pool_(pool), faults_(faults), probe_(probe), options_(options) {}

void ChargeHandlers::add_routes(http::Router& router) {
  router.add(http::Verb::post, "/v1/charges", [this](http::RequestContext& ctx) { return create(ctx); });
  router.add(http::Verb::get, "/v1/charges", [this](http::RequestContext& ctx) { return list(ctx); });
  router.add(http::Verb::get, "/v1/charges/{chargeId}", [this](http::RequestContext& ctx) { return retrieve(ctx); });
  router.add(http::Verb::get, "/v1/attempts", [this](http::RequestContext& ctx) { return list_attempts(ctx); });
}

asio::awaitable<Response> ChargeHandlers::create(http::RequestContext& ctx) {
  Probe::InFlight in_flight(probe_);
  Stopwatch watch;
  const std::string& correlation_id = ctx.correlation_id;
  const std::string& trace_id = ctx.trace.trace_id;
  const std::string key(ctx.request[kIdempotencyHeader]);

  // 1. Injected faults come first: a gateway in an outage does not read the request.
  auto plan = plan_faults(faults_.snapshot(), uniform_roll(), uniform_roll(), uniform_roll());
  if (plan.delay.count() > 0) {
    probe_.fault_injected(Probe::Fault::kLatency);
    co_await sleep_for(plan.delay);
  }
  if (plan.action != FaultPlan::Action::kNone) {
    const bool outage = plan.action == FaultPlan::Action::kOutage;
    probe_.fault_injected(outage ? Probe::Fault::kOutage : Probe::Fault::kError);
    probe_.charged(Probe::Outcome::kError, watch.seconds());
    log::warn("charge failed by injected fault", {{"fault", outage ? "outage" : "error-rate"},
                                                   {"idempotencyKey", key},
                                                   {"correlationId", correlation_id},
                                                   {"traceId", trace_id}});
    if (outage) {
      co_return codec::api_error(503, "service_unavailable",
                                 "The gateway is unavailable (simulated outage). Retry later.");
    }
    co_return codec::api_error(500, "injected_fault",
                               "An error occurred while processing the request (injected fault). Retry later.");
  }

  // 2. The request: Idempotency-Key header, then the body.
  if (auto problem = idempotency_key_problem(key)) {
    probe_.rejected(Probe::Rejection::kMissingIdempotencyKey, watch.seconds());
    co_return codec::request_problem(Status::bad_request, "missing-idempotency-key", "Bad Request", *problem,
                                     "invalid_request_error", "idempotency_key_missing");
  }
  auto decoded = codec::decode_charge(ctx.request.body());
  if (decoded.malformed) {
    probe_.rejected(Probe::Rejection::kMalformedBody, watch.seconds());
    co_return codec::request_problem(Status::bad_request, "malformed-request", "Bad Request", *decoded.malformed,
                                     "invalid_request_error", "parameter_invalid");
  }
  auto validated = validate_charge(decoded.fields);
  if (auto* field_violations = std::get_if<Violations>(&validated); field_violations || !decoded.violations.empty()) {
    Violations all = decoded.violations;
    if (field_violations) {
      // A field with a type error was left out, so validation also calls it missing: say it once.
      for (const auto& v : *field_violations) {
        bool typed = false;
        for (const auto& t : decoded.violations) typed = typed || t.field == v.field;
        if (!typed) all.push_back(v);
      }
    }
    probe_.rejected(Probe::Rejection::kInvalidBody, watch.seconds());
    co_return codec::request_problem(Status::unprocessable_entity, "invalid-charge", "Invalid charge request",
                                     "the charge request has invalid fields", "invalid_request_error",
                                     "parameter_invalid", all);
  }
  const auto& request = std::get<ChargeRequest>(validated);

  // 3. The ledger decides in its next group commit (SQLite never runs on an I/O thread), and
  // this coroutine resumes on its own executor once the charge is durable. The initiation is
  // named, not a temporary: see libs/http/offload.hpp (GCC 12 coroutine bug).
  auto initiation = [this, &key, &request](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    ledger_.charge_async(key, request, now_epoch_ms(),
                         [source = request.source](int attempt) { return decide_charge(source, attempt); },
                         [h](std::exception_ptr error, LedgerOutcome outcome) {
                           auto ex = boost::asio::get_associated_executor(*h);
                           boost::asio::post(ex, [h, error, outcome = std::move(outcome)]() mutable {
                             std::move (*h)(error, std::move(outcome));
                           });
                         });
  };
  LedgerOutcome outcome;
  bool ledger_failed = false;
  try {
    outcome = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                   void(std::exception_ptr, LedgerOutcome)>(initiation,
                                                                                           boost::asio::use_awaitable);
  } catch (const std::exception& e) {
    log::error("charge ledger failed", {{"error", e.what()},
                                        {"orderId", request.order_id},
                                        {"idempotencyKey", key},
                                        {"correlationId", correlation_id},
                                        {"traceId", trace_id}});
    ledger_failed = true;
  }
  if (ledger_failed) {
    probe_.charged(Probe::Outcome::kError, watch.seconds());
    co_return codec::api_error(500, "api_error", "The charge could not be recorded. Retry with the same Idempotency-Key.");
  }

  // 4. Map the outcome.
  switch (outcome.use) {
    case KeyUse::kMismatch:
      probe_.rejected(Probe::Rejection::kIdempotencyMismatch, watch.seconds());
      log::warn("idempotency key reused with different parameters", {{"orderId", request.order_id},
                                                                     {"idempotencyKey", key},
                                                                     {"correlationId", correlation_id},
                                                                     {"traceId", trace_id}});
      co_return codec::request_problem(
          Status::unprocessable_entity, "idempotency-key-reused", "Idempotency key reused",
          "Keys for idempotent requests can only be used with the same parameters they were first used with.",
          "idempotency_error", "idempotency_key_in_use");

    case KeyUse::kReplay: {
      const auto& charge = *outcome.charge;
      probe_.replayed(watch.seconds());
      log::info("charge replayed", {{"orderId", request.order_id},
                                    {"chargeId", charge.id},
                                    {"status", charge.status},
                                    {"idempotencyKey", key},
                                    {"correlationId", correlation_id},
                                    {"traceId", trace_id}});
      if (plan.reset_after_commit) co_return reset_connection(request.order_id, key, correlation_id);
      auto res = codec::final_answer(charge);
      res.set("Idempotent-Replayed", "true");
      co_return res;
    }

    case KeyUse::kFirst:
    case KeyUse::kRetry:
      break;
  }

  const auto& decision = outcome.decision;
  const auto attempt = std::to_string(outcome.attempt);
  if (!outcome.charge) {
    probe_.charged(Probe::Outcome::kError, watch.seconds());
    log::warn("charge attempt failed", {{"orderId", request.order_id},
                                        {"code", decision.code},
                                        {"httpStatus", std::to_string(decision.http_status)},
                                        {"attempt", attempt},
                                        {"idempotencyKey", key},
                                        {"correlationId", correlation_id},
                                        {"traceId", trace_id}});
    co_return codec::api_error(decision.http_status, decision.code, decision.message);
  }

  const auto& charge = *outcome.charge;
  // tok_slow: the charge is made and stored, only the answer is late, as when a real
  // gateway's reply is lost to a client timeout. A retry with the key gets the stored answer.
  if (decision.delayed) co_await sleep_for(options_.slow_delay);
  const bool succeeded = charge.succeeded();
  probe_.charged(succeeded ? Probe::Outcome::kSucceeded : Probe::Outcome::kDeclined, watch.seconds());
  log::info(succeeded ? "charge succeeded" : "charge declined", {{"orderId", request.order_id},
                                                                 {"chargeId", charge.id},
                                                                 {"amount", charge.amount.str()},
                                                                 {"currency", charge.currency},
                                                                 {"code", charge.failure_code},
                                                                 {"attempt", attempt},
                                                                 {"idempotencyKey", key},
                                                                 {"correlationId", correlation_id},
                                                                 {"traceId", trace_id}});
  if (plan.reset_after_commit) co_return reset_connection(request.order_id, key, correlation_id);
  co_return codec::final_answer(charge);
}

asio::awaitable<Response> ChargeHandlers::list(http::RequestContext& ctx) {
  std::optional<Response> problem;
  auto limit = parse_limit(ctx, problem);
  if (!limit) co_return std::move(*problem);
  auto order_id = ctx.query_param("orderId").value_or("");
  auto query = [this, &order_id, n = *limit + 1] { return ledger_.charges(order_id, n); };
  auto charges = co_await http::offload(pool_, query);
  const bool has_more = charges.size() > static_cast<std::size_t>(*limit);
  if (has_more) charges.pop_back();
  json::array data;
  for (const auto& c : charges) data.push_back(codec::charge_json(c, true));
  co_return list_response("/v1/charges", std::move(data), has_more);
}

asio::awaitable<Response> ChargeHandlers::retrieve(http::RequestContext& ctx) {
  auto id = ctx.path_param("chargeId");
  auto query = [this, &id] { return ledger_.find(id); };
  auto charge = co_await http::offload(pool_, query);
  if (!charge) {
    co_return codec::request_problem(Status::not_found, "not-found", "Not Found", "No such charge: '" + id + "'",
                                     "invalid_request_error", "resource_missing");
  }
  co_return http::json_response(Status::ok, codec::charge_json(*charge, true));
}

asio::awaitable<Response> ChargeHandlers::list_attempts(http::RequestContext& ctx) {
  std::optional<Response> problem;
  auto limit = parse_limit(ctx, problem);
  if (!limit) co_return std::move(*problem);
  auto order_id = ctx.query_param("orderId").value_or("");
  auto query = [this, &order_id, n = *limit + 1] { return ledger_.attempts(order_id, n); };
  auto attempts = co_await http::offload(pool_, query);
  const bool has_more = attempts.size() > static_cast<std::size_t>(*limit);
  if (has_more) attempts.pop_back();
  json::array data;
  for (const auto& a : attempts) data.push_back(codec::attempt_json(a));
  co_return list_response("/v1/attempts", std::move(data), has_more);
}

}  // namespace orderflow::payment_gateway
