#include "services/alerting/handlers/dlq_handlers.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <memory>
#include <optional>

#include "libs/http/offload.hpp"
#include "libs/http/response.hpp"
#include "libs/observability/log.hpp"
#include "libs/runtime/admin.hpp"

namespace orderflow::alerting::handlers {
namespace {

namespace json = boost::json;
using http::Response;
using http::Status;

constexpr std::size_t kDefaultMessages = 20;
constexpr std::int64_t kMaxMessages = 500;
constexpr int kDefaultReplays = 100;
constexpr int kMaxReplays = 1000;
constexpr std::size_t kMaxTopicName = 249;  // Kafka's limit

Response invalid(std::string_view field, std::string_view detail) {
  std::vector<http::FieldError> errors{{std::string(field), std::string(detail)}};
  return http::problem(Status::bad_request, "invalid-parameter", "Bad Request", detail, errors);
}

// An integer query parameter in [min, max]: nullopt when absent, an error response when
// malformed.
template <class T>
std::variant<std::optional<T>, Response> int_param(const http::RequestContext& ctx,
                                                   const std::string& name, T min, T max) {
  auto raw = ctx.query_param(name);
  if (!raw) return std::optional<T>();
  T value{};
  auto [ptr, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), value);
  if (raw->empty() || ec != std::errc() || ptr != raw->data() + raw->size() || value < min ||
      value > max) {
    return invalid(name, name + " must be an integer from " + std::to_string(min) + " to " +
                             std::to_string(max));
  }
  return std::optional<T>(value);
}

bool is_json_content_type(std::string_view ct) {
  auto media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return boost::beast::iequals(media, "application/json");
}

// Who is calling, or the response that refuses the call.
std::variant<std::string, Response> authorize(const DlqApiDeps& d, const http::RequestContext& ctx,
                                              std::string_view route) {
  return runtime::authorize_admin(
      d.tokens, ctx, route,
      "DLQ operations are disabled because no admin token is configured: start "
      "alerting-service with --admin-token <token> (or ORDERFLOW_ADMIN_TOKEN=<token>; "
      "<name>:<token> entries, comma-separated, name who replays) and send "
      "'Authorization: Bearer <token>'");
}

Response ops_problem(const operations::OpsError& e) {
  using Kind = operations::OpsError::Kind;
  switch (e.kind) {
    case Kind::kNotFound:
      return http::not_found(e.message);
    case Kind::kInvalid: {
      std::vector<http::FieldError> errors;
      for (const auto& f : e.fields) errors.push_back({f.field, f.message});
      return http::problem(Status::bad_request, "invalid-parameter", "Bad Request", e.message,
                           errors);
    }
    case Kind::kUnavailable:
      break;
  }
  return http::problem(Status::service_unavailable, "kafka-unavailable", "Service Unavailable",
                       e.message);
}

json::object position_json(const domain::Position& p) {
  return {{"partition", p.partition}, {"offset", p.offset}};
}

json::object replay_json(const operations::ReplayResult& r) {
  const auto& a = r.audit;
  json::array replayed;
  for (std::size_t i = 0; i < r.replayed.size() && i < a.offsets.size(); ++i) {
    const auto& rec = r.replayed[i];
    json::object item = position_json(a.offsets[i]);
    item["originalTopic"] = rec.topic;
    item["key"] = rec.key;
    item["ceId"] = rec.header("ce_id").value_or("");
    replayed.push_back(std::move(item));
  }
  json::array already;
  for (const auto& p : r.already_replayed) already.push_back(position_json(p));
  json::array missing;
  for (const auto& p : r.missing) missing.push_back(position_json(p));
  json::array unreplayable;
  for (const auto& s : r.unreplayable) {
    auto item = position_json(s.position);
    item["reason"] = s.reason;
    unreplayable.push_back(std::move(item));
  }
  json::array failed;
  for (const auto& s : r.failed) {
    auto item = position_json(s.position);
    item["error"] = s.reason;
    failed.push_back(std::move(item));
  }
  return {{"replayId", a.id},
          {"topic", a.topic},
          {"dryRun", a.dry_run},
          {"force", a.force},
          {"selection", a.all ? "all" : "offsets"},
          {"count", a.count},
          {"replayed", std::move(replayed)},
          {"alreadyReplayed", std::move(already)},
          {"remaining", a.remaining},
          {"max", r.max},
          {"missing", std::move(missing)},
          {"unreplayable", std::move(unreplayable)},
          {"failed", std::move(failed)}};
}

class Api final {
 public:
  explicit Api(DlqApiDeps deps) : d_(std::move(deps)) {}

  http::asio::awaitable<Response> messages(http::RequestContext& ctx) {
    auto who = authorize(d_, ctx, "messages");
    if (auto* refused = std::get_if<Response>(&who)) co_return std::move(*refused);
    auto topic = ctx.path_param("topic");
    if (topic.empty() || topic.size() > kMaxTopicName)
      co_return http::not_found("there is no DLQ topic named '" + topic + "'");

    operations::BrowseQuery query;
    auto limit = int_param<std::int64_t>(ctx, "limit", 1, kMaxMessages);
    if (auto* bad = std::get_if<Response>(&limit)) co_return std::move(*bad);
    query.limit = static_cast<std::size_t>(
        std::get<0>(limit).value_or(static_cast<std::int64_t>(kDefaultMessages)));
    auto offset = int_param<std::int64_t>(ctx, "offset", 0, INT64_MAX);
    if (auto* bad = std::get_if<Response>(&offset)) co_return std::move(*bad);
    query.offset = std::get<0>(offset);
    auto partition = int_param<std::int32_t>(ctx, "partition", 0, INT32_MAX);
    if (auto* bad = std::get_if<Response>(&partition)) co_return std::move(*bad);
    query.partition = std::get<0>(partition);

    auto work = [this, &topic, &query] {
      return std::optional<operations::Outcome<operations::BrowseResult>>(
          d_.operations.browse(topic, query));
    };
    auto outcome = co_await http::offload(d_.blocking, work);
    if (auto* e = std::get_if<operations::OpsError>(&*outcome)) co_return ops_problem(*e);
    const auto& r = std::get<operations::BrowseResult>(*outcome);
    json::array partitions;
    for (const auto& p : r.partitions)
      partitions.push_back({{"partition", p.partition}, {"low", p.low}, {"high", p.high}});
    json::array records;
    for (const auto& rec : r.records)
      records.push_back(domain::message_json(rec, d_.max_value_bytes));
    co_return http::json_response(Status::ok, json::object{{"topic", r.topic},
                                                           {"partitions", std::move(partitions)},
                                                           {"limit", query.limit},
                                                           {"complete", r.complete},
                                                           {"records", std::move(records)}});
  }

  http::asio::awaitable<Response> replay(http::RequestContext& ctx) {
    auto who = authorize(d_, ctx, "replay");
    if (auto* refused = std::get_if<Response>(&who)) co_return std::move(*refused);
    auto topic = ctx.path_param("topic");
    if (topic.empty() || topic.size() > kMaxTopicName)
      co_return http::not_found("there is no DLQ topic named '" + topic + "'");
    const auto& req = ctx.request;
    if (auto ct = req[http::bhttp::field::content_type]; !ct.empty() && !is_json_content_type(ct)) {
      co_return http::problem(Status::unsupported_media_type, "unsupported-media-type",
                              "Unsupported Media Type", "send the request as application/json");
    }
    boost::system::error_code ec;
    auto body = json::parse(req.body(), ec);
    if (ec) co_return http::bad_request("the body is not valid JSON: " + ec.message());
    auto parsed = domain::parse_replay_request(body);
    if (auto* problems = std::get_if<std::vector<domain::FieldProblem>>(&parsed)) {
      std::vector<http::FieldError> errors;
      for (const auto& p : *problems) errors.push_back({p.field, p.message});
      co_return http::problem(Status::unprocessable_entity, "validation-error",
                              "Invalid replay request",
                              std::to_string(errors.size()) + " field(s) are invalid", errors);
    }
    const auto& request = std::get<domain::ReplayRequest>(parsed);
    const auto& caller = std::get<std::string>(who);
    auto work = [this, &topic, &request, &caller, &ctx] {
      return std::optional<operations::Outcome<operations::ReplayResult>>(
          d_.operations.replay(topic, request, caller, ctx.correlation_id));
    };
    auto outcome = co_await http::offload(d_.blocking, work);
    if (auto* e = std::get_if<operations::OpsError>(&*outcome)) co_return ops_problem(*e);
    const auto& r = std::get<operations::ReplayResult>(*outcome);
    auto out = replay_json(r);
    if (r.failed.empty()) co_return http::json_response(Status::ok, out);
    // Some records were not acknowledged: a problem, carrying the full account.
    out["type"] = "urn:orderflow:problem:replay-incomplete";
    out["title"] = "Replay incomplete";
    out["status"] = static_cast<int>(Status::service_unavailable);
    out["detail"] = std::to_string(r.failed.size()) +
                    " record(s) were not acknowledged by Kafka and are not marked replayed; "
                    "repeat the call to retry them";
    co_return http::text_response(Status::service_unavailable, "application/problem+json",
                                  json::serialize(out));
  }

  http::asio::awaitable<Response> replays(http::RequestContext& ctx) {
    auto who = authorize(d_, ctx, "replays");
    if (auto* refused = std::get_if<Response>(&who)) co_return std::move(*refused);
    auto topic = ctx.query_param("topic");
    if (topic && topic->empty()) topic.reset();
    if (topic && topic->size() > kMaxTopicName) co_return invalid("topic", "topic is too long");
    auto limit = int_param<int>(ctx, "limit", 1, kMaxReplays);
    if (auto* bad = std::get_if<Response>(&limit)) co_return std::move(*bad);
    const int n = std::get<0>(limit).value_or(kDefaultReplays);
    auto work = [this, &topic, n] { return d_.replays.list(topic, n); };
    auto rows = co_await http::offload(d_.blocking, work);
    json::array out;
    for (const auto& a : rows) out.push_back(domain::to_json(a));
    co_return http::json_response(Status::ok, out);
  }

 private:
  DlqApiDeps d_;
};

}  // namespace

void add_dlq_routes(http::Router& router, DlqApiDeps deps) {
  auto api = std::make_shared<Api>(std::move(deps));
  router.add(http::Verb::get, "/api/v1/dlq/replays",
             [api](http::RequestContext& ctx) { return api->replays(ctx); });
  router.add(http::Verb::get, "/api/v1/dlq/{topic}/messages",
             [api](http::RequestContext& ctx) { return api->messages(ctx); });
  router.add(http::Verb::post, "/api/v1/dlq/{topic}/replay",
             [api](http::RequestContext& ctx) { return api->replay(ctx); });
}

}  // namespace orderflow::alerting::handlers
