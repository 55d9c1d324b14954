#include "services/console/handlers/api.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "libs/common/time.hpp"
#include "libs/http/offload.hpp"
#include "libs/http/response.hpp"
#include "libs/observability/log.hpp"
#include "services/console/domain/charts.hpp"
#include "services/console/domain/replay_plan.hpp"

namespace orderflow::console::handlers {
namespace {

namespace json = boost::json;
using http::Response;
using http::Status;
using http::Verb;
namespace asio = http::asio;

constexpr const char* kCookie = "orderflow_console";
constexpr auto kUpstreamDeadline = std::chrono::milliseconds(5000);
// A replay waits for the broker's acknowledgements (alerting-service: replay-ack-timeout-ms).
constexpr auto kReplayDeadline = std::chrono::milliseconds(35'000);

std::string enc(std::string_view s) { return boost::urls::encode(s, boost::urls::unreserved_chars); }

Response unauthorized(std::string_view detail) {
  return http::problem(Status::unauthorized, "unauthorized", "Unauthorized", detail);
}

Response bad_gateway(std::string_view what, const Error& e) {
  return http::problem(Status::bad_gateway, "upstream-unavailable", "Bad Gateway",
                       std::string(what) + " did not answer: " + e.code + " (" + e.message + ")");
}

json::value parse_or_null(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  return ec ? json::value(nullptr) : v;
}

// An upstream answer handed on: its status and its JSON (problem+json included).
Response pass_through(const Response& up) {
  Response res{up.result(), 11};
  res.set(http::bhttp::field::content_type, up[http::bhttp::field::content_type].empty()
                                                ? std::string("application/json")
                                                : std::string(up[http::bhttp::field::content_type]));
  res.body() = up.body();
  res.prepare_payload();
  return res;
}

// The gateway's ledger answers a Stripe-style list: {"object":"list","data":[...]}.
json::value charges_of(const json::value& list) {
  if (list.is_object() && list.as_object().contains("data")) return list.at("data");
  return list;
}

std::string session_cookie(const std::string& value, std::int64_t max_age_s, bool secure) {
  return std::string(kCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(max_age_s) + (secure ? "; Secure" : "");
}

json::object session_json(const domain::Session& s) {
  return {{"signedIn", true}, {"who", s.who}, {"demo", s.demo}, {"csrf", s.csrf}};
}

class Api final : public std::enable_shared_from_this<Api> {
 public:
  explicit Api(ApiDeps d) : d_(std::move(d)) {}

  std::optional<domain::Session> session_of(const http::RequestContext& ctx) {
    auto cookie = ctx.request[http::bhttp::field::cookie];
    return d_.sessions.find(domain::cookie_value(std::string_view(cookie.data(), cookie.size()), kCookie));
  }

  asio::awaitable<Result<Response>> call(const http::Endpoint& to, Verb method, std::string target,
                                         std::string body = "", bool admin = false,
                                         std::chrono::milliseconds deadline = kUpstreamDeadline) {
    http::Request req{method, to.base_path + target, 11};
    req.set(http::bhttp::field::accept, "application/json");
    if (!body.empty()) {
      req.set(http::bhttp::field::content_type, "application/json");
      req.body() = std::move(body);
    }
    if (admin) req.set(http::bhttp::field::authorization, "Bearer " + d_.upstreams.admin_token);
    if (&to == &d_.upstreams.order && !d_.upstreams.order_api_key.empty()) {
      req.set("X-API-Key", d_.upstreams.order_api_key);
    }
    co_return co_await d_.client.send(to, std::move(req), deadline);
  }

  // GET that yields the JSON, or null when the upstream fails or answers non-2xx.
  asio::awaitable<json::value> get_json(const http::Endpoint& to, std::string target, bool admin = false) {
    auto r = co_await call(to, Verb::get, std::move(target), "", admin);
    if (!r || r->result_int() / 100 != 2) co_return json::value(nullptr);
    co_return parse_or_null(r->body());
  }

  asio::awaitable<Response> proxy_get(const http::Endpoint& to, std::string target, std::string_view what,
                                      bool admin = false) {
    auto r = co_await call(to, Verb::get, std::move(target), "", admin);
    if (!r) co_return bad_gateway(what, r.error());
    co_return pass_through(*r);
  }

  // ---- session ----

  asio::awaitable<Response> get_session(http::RequestContext& ctx) {
    if (auto s = session_of(ctx)) co_return http::json_response(Status::ok, session_json(*s));
    if (d_.demo_sign_in) {
      auto s = d_.sessions.open("demo", true);
      d_.probe.sign_in("demo");
      auto res = http::json_response(Status::ok, session_json(s));
      res.set(http::bhttp::field::set_cookie, session_cookie(s.id, 8 * 3600, d_.secure_cookie));
      co_return res;
    }
    co_return http::json_response(Status::ok, json::object{{"signedIn", false}});
  }

  asio::awaitable<Response> sign_in(http::RequestContext& ctx) {
    auto body = parse_or_null(ctx.request.body());
    const json::string* token = nullptr;
    if (body.is_object()) {
      if (const auto* t = body.as_object().if_contains("token"); t && t->is_string()) token = &t->as_string();
    }
    if (!token || token->empty()) co_return http::bad_request("expected {\"token\": \"<admin token or admin API key>\"}");
    const std::string presented(*token);
    std::string who;
    auto check = auth::check_admin(d_.admin_tokens, "Bearer " + presented);
    if (check.outcome == auth::AdminCheck::Outcome::kAllowed) {
      who = check.who;
    } else if (d_.api_keys) {
      auto p = d_.api_keys->authenticate("", presented, now_epoch_ms() / 1000);
      if (p && p->admin) who = p->name;
    }
    if (who.empty()) {
      log::warn("console sign-in refused", {{"remote", ctx.remote_address}});
      d_.probe.sign_in("refused");
      co_return unauthorized("that is neither an admin token nor an admin API key");
    }
    auto s = d_.sessions.open(who, false);
    d_.probe.sign_in("ok");
    log::info("console sign-in", {{"who", who}, {"remote", ctx.remote_address}});
    auto res = http::json_response(Status::ok, session_json(s));
    res.set(http::bhttp::field::set_cookie, session_cookie(s.id, 8 * 3600, d_.secure_cookie));
    co_return res;
  }

  asio::awaitable<Response> sign_out(http::RequestContext& ctx, const domain::Session& s) {
    d_.sessions.close(s.id);
    auto res = http::json_response(Status::ok, json::object{{"signedIn", false}});
    res.set(http::bhttp::field::set_cookie, session_cookie("", 0, d_.secure_cookie));
    (void)ctx;
    co_return res;
  }

  // ---- overview ----

  asio::awaitable<Response> overview(http::RequestContext&) {
    const auto& u = d_.upstreams;
    const std::vector<std::pair<std::string, const http::Endpoint*>> services = {
        {"order-service", &u.order},
        {"payment-service", &u.payment},
        {"payment-gateway", &u.gateway},
        {"notification-service", &u.notification},
        {"alerting-service", &u.alerting}};
    json::array health;
    for (const auto& [name, ep] : services) {
      auto r = co_await call(*ep, Verb::get, "/actuator/health");
      json::object h{{"name", name}};
      if (!r) {
        h["status"] = "UNREACHABLE";
        h["detail"] = r.error().code;
      } else {
        auto body = parse_or_null(r->body());
        h["status"] = body.is_object() && body.as_object().contains("status") ? body.at("status")
                                                                              : json::value("DOWN");
        if (body.is_object() && body.as_object().contains("components")) h["components"] = body.at("components");
      }
      health.push_back(std::move(h));
    }
    auto probe = d_.broker_health;
    auto broker = co_await http::offload(d_.blocking, probe);
    auto count_fn = [this] { return d_.index.count(); };
    auto indexed = co_await http::offload(d_.blocking, count_fn);
    // co_await outside braced initialisers: GCC 12 mishandles temporaries around them.
    auto dlq = co_await get_json(u.alerting, "/api/v1/dlq");
    auto alerts = co_await get_json(u.alerting, "/api/v1/alerts?limit=10");
    json::object out{{"services", std::move(health)},
                     {"broker", json::object{{"status", broker == "UP" ? "UP" : "DOWN"}, {"detail", broker}}},
                     {"dlq", std::move(dlq)},
                     {"alerts", std::move(alerts)},
                     {"indexedEvents", indexed}};
    co_return http::json_response(Status::ok, out);
  }

  asio::awaitable<Response> charts(http::RequestContext& ctx) {
    const auto minutes = std::clamp<std::int64_t>(
        std::atoll(ctx.query_param("minutes").value_or("10").c_str()), 1, 24 * 60);
    const auto end_s = now_epoch_ms() / 1000;
    const auto start_s = end_s - minutes * 60;
    const auto step_s = std::max<std::int64_t>(2, minutes * 60 / 300);
    json::array out;
    bool reachable = true;
    for (const auto& chart : domain::charts()) {
      json::array series;
      for (const auto& q : chart.queries) {
        if (!reachable) break;
        auto r = co_await call(d_.upstreams.prometheus, Verb::get,
                               "/api/v1/query_range?query=" + enc(q.promql) + "&start=" + std::to_string(start_s) +
                                   "&end=" + std::to_string(end_s) + "&step=" + std::to_string(step_s));
        if (!r) {
          reachable = false;
          break;
        }
        auto body = parse_or_null(r->body());
        const auto* data = body.is_object() ? body.as_object().if_contains("data") : nullptr;
        const auto* result = data && data->is_object() ? data->as_object().if_contains("result") : nullptr;
        if (!result || !result->is_array()) continue;
        for (const auto& s : result->as_array()) {
          const auto& metric = s.at("metric").as_object();
          std::string name = q.label;
          if (!q.by.empty()) {
            const auto* v = metric.if_contains(q.by);
            std::string label = v && v->is_string() ? std::string(v->as_string()) : "";
            name = name.empty() ? label : name + " " + label;
          }
          json::array points;
          for (const auto& p : s.at("values").as_array()) {
            const auto& pair = p.as_array();
            double v = std::atof(pair.at(1).as_string().c_str());
            points.push_back(json::array{pair.at(0), std::isfinite(v) ? json::value(v) : json::value(nullptr)});
          }
          series.push_back(json::object{{"name", name.empty() ? "value" : name}, {"points", std::move(points)}});
        }
      }
      out.push_back(json::object{{"id", chart.id}, {"title", chart.title}, {"unit", chart.unit},
                                 {"series", std::move(series)}});
    }
    co_return http::json_response(Status::ok, json::object{{"prometheus", reachable ? "UP" : "UNREACHABLE"},
                                                           {"start", start_s},
                                                           {"end", end_s},
                                                           {"step", step_s},
                                                           {"charts", std::move(out)}});
  }

  // ---- orders ----

  asio::awaitable<Response> orders(http::RequestContext& ctx) {
    std::string q;
    for (const char* name : {"status", "customerId", "createdAfter", "createdBefore", "limit", "after"}) {
      if (auto v = ctx.query_param(name); v && !v->empty()) q += (q.empty() ? "?" : "&") + std::string(name) + "=" + enc(*v);
    }
    co_return co_await proxy_get(d_.upstreams.order, "/api/v1/orders" + q, "order-service");
  }

  asio::awaitable<Response> order_story(http::RequestContext& ctx) {
    const auto id = ctx.path_param("orderId");
    const auto& u = d_.upstreams;
    auto order = co_await call(u.order, Verb::get, "/api/v1/orders/" + enc(id));
    if (!order) co_return bad_gateway("order-service", order.error());
    auto lookup = [this, id] { return d_.index.by_order(id); };
    auto events = co_await http::offload(d_.blocking, lookup);
    if (order->result() == Status::not_found && events.empty()) co_return http::not_found("no order with id '" + id + "'");

    json::array evs;
    std::string trace_id;
    for (const auto& e : events) {
      json::object o{{"topic", e.topic},     {"partition", e.partition},         {"offset", e.offset},
                     {"time", e.time_ms},    {"type", e.type},                   {"ceId", e.ce_id},
                     {"correlationId", e.correlation_id}, {"traceparent", e.traceparent},
                     {"headers", parse_or_null(e.headers_json)}};
      auto payload = parse_or_null(e.value);
      o["payload"] = payload.is_null() ? json::value(e.value) : payload;
      // traceparent: 00-<32 hex trace id>-<16 hex span id>-<flags>
      if (trace_id.empty() && e.traceparent.size() >= 35) trace_id = e.traceparent.substr(3, 32);
      evs.push_back(std::move(o));
    }
    auto charges = co_await get_json(u.gateway, "/v1/charges?orderId=" + enc(id));
    auto notifications = co_await get_json(u.notification, "/api/v1/notifications?orderId=" + enc(id));
    auto alerts = co_await get_json(u.alerting, "/api/v1/alerts?orderId=" + enc(id));
    json::object out{{"orderId", id},
                     {"order", order->result() == Status::ok ? parse_or_null(order->body()) : json::value(nullptr)},
                     {"events", std::move(evs)},
                     {"charges", charges_of(charges)},
                     {"notifications", std::move(notifications)},
                     {"alerts", std::move(alerts)}};
    if (!trace_id.empty()) {
      auto spans = co_await get_json(u.zipkin, "/api/v2/trace/" + trace_id);
      out["trace"] = json::object{{"traceId", trace_id},
                                  {"url", u.zipkin_public_url + "/zipkin/traces/" + trace_id},
                                  {"spans", spans.is_array() ? static_cast<std::int64_t>(spans.as_array().size()) : 0}};
    }
    co_return http::json_response(Status::ok, out);
  }

  // ---- DLQ and alerts (alerting-service) ----

  asio::awaitable<Response> dlq(http::RequestContext&) {
    co_return co_await proxy_get(d_.upstreams.alerting, "/api/v1/dlq", "alerting-service");
  }

  asio::awaitable<Response> dlq_messages(http::RequestContext& ctx) {
    std::string q;
    for (const char* name : {"limit", "partition", "offset"}) {
      if (auto v = ctx.query_param(name); v && !v->empty()) q += (q.empty() ? "?" : "&") + std::string(name) + "=" + enc(*v);
    }
    co_return co_await proxy_get(d_.upstreams.alerting, "/api/v1/dlq/" + enc(ctx.path_param("topic")) + "/messages" + q,
                                 "alerting-service", true);
  }

  asio::awaitable<Response> replays(http::RequestContext& ctx) {
    std::string q = "?limit=50";
    if (auto t = ctx.query_param("topic"); t && !t->empty()) q += "&topic=" + enc(*t);
    co_return co_await proxy_get(d_.upstreams.alerting, "/api/v1/dlq/replays" + q, "alerting-service", true);
  }

  asio::awaitable<Response> alerts(http::RequestContext& ctx) {
    std::string q = "?limit=" + enc(ctx.query_param("limit").value_or("200"));
    if (auto o = ctx.query_param("orderId"); o && !o->empty()) q += "&orderId=" + enc(*o);
    co_return co_await proxy_get(d_.upstreams.alerting, "/api/v1/alerts" + q, "alerting-service");
  }

  // The replay, forwarded as is (alerting-service validates it). A dry run's answer gains
  // `predictions`: per record, where it goes and what the order can still do.
  asio::awaitable<Response> replay(http::RequestContext& ctx, const domain::Session& s) {
    const auto topic = ctx.path_param("topic");
    auto body = parse_or_null(ctx.request.body());
    if (!body.is_object()) co_return http::bad_request("expected a JSON object: {\"offsets\":[…]} or {\"all\":true}");
    const bool dry_run = body.as_object().contains("dryRun") && body.at("dryRun").is_bool() && body.at("dryRun").as_bool();
    log::info("console replay", {{"who", s.who}, {"topic", topic}, {"dryRun", dry_run ? "true" : "false"}});
    auto r = co_await call(d_.upstreams.alerting, Verb::post, "/api/v1/dlq/" + enc(topic) + "/replay",
                           json::serialize(body), true, kReplayDeadline);
    if (!r) co_return bad_gateway("alerting-service", r.error());
    if (!dry_run || r->result() != Status::ok) co_return pass_through(*r);
    auto answer = parse_or_null(r->body());
    if (!answer.is_object()) co_return pass_through(*r);
    json::array predictions;
    for (const char* key : {"replayed", "alreadyReplayed"}) {
      const auto* list = answer.as_object().if_contains(key);
      if (!list || !list->is_array()) continue;
      for (const auto& item : list->as_array()) {
        auto p = co_await predict(topic, item, std::string_view(key) == "alreadyReplayed");
        predictions.push_back(std::move(p));
      }
    }
    answer.as_object()["predictions"] = std::move(predictions);
    co_return http::json_response(Status::ok, answer);
  }

  // One record of a dry run's answer, with what the console predicts for it.
  asio::awaitable<json::value> predict(std::string topic, json::value item, bool already) {
    const auto partition = static_cast<std::int32_t>(item.at("partition").to_number<std::int64_t>());
    const auto offset = item.at("offset").to_number<std::int64_t>();
    auto find = [this, topic, partition, offset] { return d_.index.at(topic, partition, offset); };
    auto rec = co_await http::offload(d_.blocking, find);
    domain::ReplayCandidate c;
    c.dlq_topic = topic;
    c.already_replayed = already;
    std::string order_id;
    if (const auto* k = item.as_object().if_contains("key"); k && k->is_string()) order_id = k->as_string();
    if (const auto* t = item.as_object().if_contains("originalTopic"); t && t->is_string()) c.original_topic = t->as_string();
    if (rec) {
      if (order_id.empty()) order_id = rec->order_id;
      c.event_type = rec->type;
      auto headers = parse_or_null(rec->headers_json);
      for (const auto& h : headers.is_array() ? headers.as_array() : json::array()) {
        const auto& name = h.as_array().at(0).as_string();
        const auto& value = h.as_array().at(1).as_string();
        if (name == "dlq-reason") c.dlq_reason = value;
        if (name == "dlq-original-topic" && c.original_topic.empty()) c.original_topic = value;
      }
    }
    if (!order_id.empty()) {
      auto order = co_await get_json(d_.upstreams.order, "/api/v1/orders/" + enc(order_id));
      if (order.is_object()) {
        const auto& o = order.as_object();
        if (const auto* st = o.if_contains("status"); st && st->is_string()) c.order_status = std::string(st->as_string());
        if (const auto* fr = o.if_contains("failureReason"); fr && fr->is_string()) c.failure_reason = std::string(fr->as_string());
      }
    }
    auto p = domain::predict_replay(c);
    co_return json::object{{"partition", partition},
                           {"offset", offset},
                           {"orderId", order_id},
                           {"eventType", c.event_type},
                           {"reason", c.dlq_reason},
                           {"orderStatus", c.order_status ? json::value(*c.order_status) : json::value(nullptr)},
                           {"goesTo", p.goes_to},
                           {"orderCanChange", p.order_can_change},
                           {"outcome", p.outcome},
                           {"says", p.says}};
  }

  ApiDeps d_;
};

using Plain = asio::awaitable<Response> (Api::*)(http::RequestContext&);
using Changing = asio::awaitable<Response> (Api::*)(http::RequestContext&, const domain::Session&);

// A read: needs a session.
http::Handler signed_in(std::shared_ptr<Api> api, Plain method) {
  return [api, method](http::RequestContext& ctx) -> asio::awaitable<Response> {
    if (!api->session_of(ctx)) co_return unauthorized("sign in first (POST /api/session)");
    auto res = co_await ((*api).*method)(ctx);
    co_return res;
  };
}

// A state-changing request: needs a session and its CSRF token in X-CSRF-Token. The cookie
// is SameSite=Strict already; the token also stops a same-site page (another port of
// localhost is the same site) from replaying through the operator's browser.
http::Handler with_csrf(std::shared_ptr<Api> api, Changing method) {
  return [api, method](http::RequestContext& ctx) -> asio::awaitable<Response> {
    auto s = api->session_of(ctx);
    if (!s) co_return unauthorized("sign in first (POST /api/session)");
    auto presented = ctx.request["X-CSRF-Token"];
    if (presented.empty() || !auth::constant_time_equals(s->csrf, std::string_view(presented.data(), presented.size()))) {
      log::warn("console request without a valid CSRF token refused", {{"who", s->who}});
      co_return http::problem(Status::forbidden, "csrf", "Forbidden",
                              "missing or wrong X-CSRF-Token (GET /api/session gives the session's token)");
    }
    auto res = co_await ((*api).*method)(ctx, *s);
    co_return res;
  };
}

}  // namespace

void add_api_routes(http::Router& router, ApiDeps deps) {
  auto api = std::make_shared<Api>(std::move(deps));
  router.add(Verb::get, "/api/session", [api](http::RequestContext& ctx) { return api->get_session(ctx); });
  router.add(Verb::post, "/api/session", [api](http::RequestContext& ctx) { return api->sign_in(ctx); });
  router.add(Verb::delete_, "/api/session", with_csrf(api, &Api::sign_out));
  router.add(Verb::get, "/api/overview", signed_in(api, &Api::overview));
  router.add(Verb::get, "/api/charts", signed_in(api, &Api::charts));
  router.add(Verb::get, "/api/orders", signed_in(api, &Api::orders));
  router.add(Verb::get, "/api/orders/{orderId}", signed_in(api, &Api::order_story));
  router.add(Verb::get, "/api/dlq", signed_in(api, &Api::dlq));
  router.add(Verb::get, "/api/dlq/replays", signed_in(api, &Api::replays));
  router.add(Verb::get, "/api/dlq/{topic}/messages", signed_in(api, &Api::dlq_messages));
  router.add(Verb::post, "/api/dlq/{topic}/replay", with_csrf(api, &Api::replay));
  router.add(Verb::get, "/api/alerts", signed_in(api, &Api::alerts));
}

}  // namespace orderflow::console::handlers
