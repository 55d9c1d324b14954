#include "services/order/handlers/order_handlers.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <optional>
#include <regex>

#include "libs/common/ids.hpp"
#include "libs/common/time.hpp"
#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"
#include "libs/http/offload.hpp"
#include "libs/http/response.hpp"
#include "libs/observability/log.hpp"
#include "libs/storage/database.hpp"

namespace orderflow::order {
namespace {

// A query's UTC instant in the stored form of created_at (milliseconds, 'Z'), so that the
// database compares text in time order; nullopt when it is not one.
std::optional<std::string> stored_instant(const std::string& v) {
  static const std::regex form(R"(^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.(\d{1,3}))?Z$)");
  std::smatch m;
  if (!std::regex_match(v, m, form)) return std::nullopt;
  std::string millis = m[3].matched ? m[3].str() : "";
  millis.resize(3, '0');
  return m[1].str() + "." + millis + "Z";
}

namespace asio = boost::asio;
using http::Response;
using http::Status;
namespace json = boost::json;

bool is_json_content_type(std::string_view ct) {
  auto semi = ct.find(';');
  auto media = ct.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return boost::beast::iequals(media, "application/json");
}

json::object order_json(const OrderRow& o) {
  json::object j{{"orderId", o.order_id},         {"status", o.status},
                 {"customerId", o.customer_id},   {"customerEmail", o.customer_email},
                 {"currency", o.currency},        {"totalAmount", o.total_amount},
                 {"items", json::parse(o.items_json)}, {"correlationId", o.correlation_id},
                 {"createdAt", o.created_at},     {"updatedAt", o.updated_at}};
  if (!o.failure_reason.empty()) j["failureReason"] = o.failure_reason;
  if (!o.recovered_at.empty()) j["recoveredAt"] = o.recovered_at;
  if (!o.history.empty()) {
    json::array h;
    for (const auto& e : o.history) {
      json::object entry{{"status", e.status}, {"at", e.at}};
      if (!e.reason.empty()) entry["reason"] = e.reason;
      h.push_back(std::move(entry));
    }
    j["history"] = std::move(h);
  }
  return j;
}

Response service_unavailable(std::string_view detail) {
  auto res = http::problem(Status::service_unavailable, "unavailable", "Service Unavailable", detail);
  res.set(http::bhttp::field::retry_after, "1");
  return res;
}

Response too_many_requests(std::chrono::seconds wait) {
  auto res = http::problem(Status::too_many_requests, "rate-limited", "Too Many Requests",
                           "this client sends requests faster than it may; retry after " +
                               std::to_string(wait.count()) + " s");
  res.set(http::bhttp::field::retry_after, std::to_string(wait.count()));
  return res;
}

// Hands `order` to the repository's group commit and resumes the awaiting coroutine on its
// own executor once the order's transaction is durable (or failed). No thread waits
// meanwhile, so the number of orders in flight is not capped by a thread pool's size.
asio::awaitable<CreateOutcome> store_order(OrderRepository& repo, std::shared_ptr<const NewOrder> order) {
  auto initiate = [&repo, order](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    repo.create_async(order, [h](std::exception_ptr e, CreateOutcome outcome) {
      auto ex = asio::get_associated_executor(*h);
      asio::post(ex, [h, e, outcome = std::move(outcome)]() mutable { std::move (*h)(e, std::move(outcome)); });
    });
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(std::exception_ptr, CreateOutcome)>(
      initiate, asio::use_awaitable);
}

class Api final {
 public:
  explicit Api(OrderApiDeps deps) : d_(std::move(deps)) {}

  // Who is calling, or the response that refuses the call (401, 429).
  std::variant<auth::Principal, Response> admit(const http::RequestContext& ctx) {
    const auto& req = ctx.request;
    auto principal = d_.auth.authenticate(req[http::bhttp::field::authorization], req["X-API-Key"],
                                          std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
    // Authenticated callers are limited by who they are; the rest (and failed attempts at
    // guessing credentials) by where they come from.
    const std::string client =
        principal && d_.auth.required() ? "principal:" + principal->name : "ip:" + ctx.remote_address;
    if (auto wait = d_.limiter.acquire(client)) return too_many_requests(*wait);
    if (!principal) {
      const bool missing = principal.error().code == "missing-credentials";
      log::warn("request refused", {{"reason", principal.error().message}, {"remote", ctx.remote_address},
                                    {"correlationId", ctx.correlation_id}});
      auto res = http::problem(Status::unauthorized, missing ? "unauthenticated" : "invalid-credentials",
                               "Unauthorized", principal.error().message);
      res.set(http::bhttp::field::www_authenticate,
              missing ? R"(Bearer realm="orderflow")" : R"(Bearer realm="orderflow", error="invalid_token")");
      return res;
    }
    return std::move(*principal);
  }

  asio::awaitable<Response> place(http::RequestContext& ctx, const auth::Principal& who) {
    const auto& req = ctx.request;
    if (!is_json_content_type(req[http::bhttp::field::content_type])) {
      co_return http::problem(Status::unsupported_media_type, "unsupported-media-type", "Unsupported Media Type",
                              "send the order as Content-Type: application/json");
    }
    std::optional<std::string> key;
    if (auto it = req.find("Idempotency-Key"); it != req.end()) {
      key = std::string(it->value());
      if (key->empty() || key->size() > kMaxIdempotencyKey) {
        co_return http::problem(Status::unprocessable_entity, "validation-error", "Invalid request",
                                "the Idempotency-Key header is invalid",
                                {{"Idempotency-Key", "must be 1 to 255 characters"}});
      }
      if (contains_card_number(*key)) {  // it would be stored with the order: never a card number
        co_return http::problem(Status::unprocessable_entity, "validation-error", "Invalid request",
                                "the Idempotency-Key header is invalid",
                                {{"Idempotency-Key", "looks like a card number: use a random key (a UUID)"}});
      }
    }
    boost::system::error_code ec;
    auto body = json::parse(req.body(), ec);
    if (ec) co_return http::bad_request("the body is not valid JSON: " + ec.message());

    auto validated = validate(body);
    if (auto* violations = std::get_if<std::vector<Violation>>(&validated)) {
      std::vector<http::FieldError> errors;
      for (auto& v : *violations) errors.push_back({v.field, v.message});
      co_return http::problem(Status::unprocessable_entity, "validation-error", "Invalid order",
                              std::to_string(errors.size()) + " field(s) are invalid", errors);
    }
    auto& cmd = std::get<PlaceOrder>(validated);
    if (!who.may_act_for(cmd.customer_id)) {
      co_return http::problem(Status::forbidden, "forbidden", "Forbidden",
                              "this credential may place orders for its own customer only",
                              {{"customerId", "is not the authenticated customer"}});
    }

    auto order = std::make_shared<NewOrder>();
    order->order_id = ids::uuid_v7();
    order->correlation_id = ctx.correlation_id;
    order->created_at = now_iso8601();
    // Keys are per caller: two clients choosing the same key never see each other's order.
    if (key && d_.auth.required()) key = who.name + ":" + *key;
    order->idempotency_key = key;
    order->fingerprint = body_fingerprint(req.body());

    events::OrderCreated created{order->order_id, cmd.customer_id, cmd.customer_email, cmd.currency,
                                 cmd.total.str(), cmd.payment_token, order->created_at, {}};
    json::array items;
    for (const auto& i : cmd.items) {
      created.items.push_back({i.sku, i.quantity, i.unit_price.str()});
      items.push_back({{"sku", i.sku}, {"quantity", i.quantity}, {"unitPrice", i.unit_price.str()}});
    }
    order->items_json = json::serialize(items);
    auto ce = events::CloudEvent::make(events::OrderCreated::kType, d_.service_name, ctx.correlation_id, ctx.trace);
    order->event = events::encode(events::kOrderEvents, order->order_id, ce, events::to_json(created));
    order->response_body = json::serialize(json::object{{"orderId", order->order_id},
                                                        {"status", "PENDING"},
                                                        {"totalAmount", cmd.total.str()},
                                                        {"currency", cmd.currency},
                                                        {"correlationId", ctx.correlation_id}});
    order->command = std::move(cmd);

    CreateOutcome outcome{CreateOutcome::Kind::kCreated, {}};
    try {
      outcome = co_await store_order(d_.repo, order);
    } catch (const std::exception& e) {
      log::error("order not stored", {{"orderId", order->order_id}, {"correlationId", ctx.correlation_id},
                                      {"error", e.what()}});
      co_return service_unavailable("the order could not be stored durably; it was not accepted");
    }
    switch (outcome.kind) {
      case CreateOutcome::Kind::kKeyReuse:
        co_return http::problem(Status::unprocessable_entity, "idempotency-key-reused", "Idempotency-Key reused",
                                "this Idempotency-Key was used with a different request body",
                                {{"Idempotency-Key", "already used for a different request"}});
      case CreateOutcome::Kind::kReplay: {
        auto res = http::text_response(Status::ok, "application/json", outcome.response_body);
        auto id = json::parse(outcome.response_body).at("orderId").as_string();
        res.set(http::bhttp::field::location, "/api/v1/orders/" + std::string(id));
        co_return res;
      }
      case CreateOutcome::Kind::kCreated: break;
    }
    d_.on_committed();
    d_.probe.order_entered("PENDING");
    log::info("order accepted", {{"orderId", order->order_id}, {"correlationId", ctx.correlation_id},
                                 {"traceId", ctx.trace.trace_id}, {"total", order->command.total.str()},
                                 {"currency", order->command.currency}});
    auto res = http::text_response(Status::accepted, "application/json", order->response_body);
    res.set(http::bhttp::field::location, "/api/v1/orders/" + order->order_id);
    co_return res;
  }

  asio::awaitable<Response> get(http::RequestContext& ctx, const auth::Principal& who) {
    auto id = ctx.path_param("orderId");
    auto load = [this, id] { return d_.repo.get(id); };
    auto row = co_await http::offload(d_.blocking, load);
    // Another customer's order is answered exactly like a missing one.
    if (!row || !who.may_act_for(row->customer_id)) co_return http::not_found("no order with id '" + id + "'");
    co_return http::json_response(Status::ok, order_json(*row));
  }

  asio::awaitable<Response> list(http::RequestContext& ctx, const auth::Principal& who) {
    ListFilter f;
    std::vector<http::FieldError> errors;
    if (auto s = ctx.query_param("status"); s && !s->empty()) {
      if (!parse_status(*s)) errors.push_back({"status", "must be PENDING, CONFIRMED or FAILED"});
      f.status = *s;
    }
    if (auto c = ctx.query_param("customerId"); c && !c->empty()) f.customer_id = *c;
    if (!who.admin) f.customer_id = who.customer_id;  // a customer lists its own orders only
    auto number = [&](const char* name, std::int64_t min, std::int64_t max) -> std::optional<std::int64_t> {
      auto v = ctx.query_param(name);
      if (!v || v->empty()) return std::nullopt;
      try {
        std::size_t used = 0;
        auto n = std::stoll(*v, &used);
        if (used == v->size() && n >= min && n <= max) return n;
      } catch (const std::exception&) {
      }
      errors.push_back({name, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]"});
      return std::nullopt;
    };
    f.limit = static_cast<int>(number("limit", 1, 500).value_or(20));
    f.after = number("after", 1, INT64_MAX);
    auto instant = [&](const char* name) -> std::optional<std::string> {
      auto v = ctx.query_param(name);
      if (!v || v->empty()) return std::nullopt;
      if (auto t = stored_instant(*v)) return t;
      errors.push_back({name, "must be a UTC instant like 2026-12-07T04:00:00Z or 2026-12-07T04:00:00.250Z"});
      return std::nullopt;
    };
    f.created_after = instant("createdAfter");
    f.created_before = instant("createdBefore");
    if (!errors.empty()) {
      co_return http::problem(Status::bad_request, "invalid-query", "Invalid query", "invalid query parameters", errors);
    }
    auto query = [this, f] { return d_.repo.list(f); };
    auto rows = co_await http::offload(d_.blocking, query);
    json::array items;
    for (const auto& r : rows) items.push_back(order_json(r));
    json::object page{{"items", std::move(items)}};
    if (static_cast<int>(rows.size()) == f.limit) page["nextCursor"] = std::to_string(rows.back().seq);
    else page["nextCursor"] = nullptr;
    co_return http::json_response(Status::ok, page);
  }

 private:
  OrderApiDeps d_;
};

using Method = asio::awaitable<Response> (Api::*)(http::RequestContext&, const auth::Principal&);

// The route's handler: admit the caller, then run the method as that principal.
http::Handler guarded(std::shared_ptr<Api> api, Method method) {
  return [api, method](http::RequestContext& ctx) -> asio::awaitable<Response> {
    auto admitted = api->admit(ctx);
    if (auto* refusal = std::get_if<Response>(&admitted)) co_return std::move(*refusal);
    const auto who = std::get<auth::Principal>(std::move(admitted));
    co_return co_await ((*api).*method)(ctx, who);
  };
}

}  // namespace

void add_order_routes(http::Router& router, OrderApiDeps deps) {
  auto api = std::make_shared<Api>(std::move(deps));
  router.add(http::Verb::post, "/place-order", guarded(api, &Api::place));
  router.add(http::Verb::post, "/api/v1/orders", guarded(api, &Api::place));
  router.add(http::Verb::get, "/api/v1/orders", guarded(api, &Api::list));
  router.add(http::Verb::get, "/api/v1/orders/{orderId}", guarded(api, &Api::get));
}

}  // namespace orderflow::order
