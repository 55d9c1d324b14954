#include "services/alerting/handlers/alertmanager_handler.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "libs/http/offload.hpp"
#include "libs/http/response.hpp"
#include "libs/observability/log.hpp"
#include "services/alerting/domain/alertmanager.hpp"

namespace orderflow::alerting::handlers {
namespace {

bool is_json(std::string_view ct) {
  auto media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return boost::beast::iequals(media, "application/json");
}

}  // namespace

void add_alertmanager_route(http::Router& router, AlertmanagerDeps deps) {
  router.add(
      http::Verb::post, "/api/v1/alertmanager",
      [d = std::move(deps)](http::RequestContext& ctx) -> http::asio::awaitable<http::Response> {
        const auto& req = ctx.request;
        if (auto ct = req[http::bhttp::field::content_type]; !ct.empty() && !is_json(ct)) {
          co_return http::problem(http::Status::unsupported_media_type, "unsupported-media-type",
                                  "Unsupported Media Type", "send the request as application/json");
        }
        const auto email_param = ctx.query_param("email");
        if (email_param && *email_param != "true" && *email_param != "false") {
          std::vector<http::FieldError> errors{{"email", "email must be true or false"}};
          co_return http::problem(http::Status::bad_request, "invalid-parameter", "Bad Request",
                                  "email must be true or false", errors);
        }
        const bool email = email_param && *email_param == "true";
        boost::system::error_code ec;
        auto body = boost::json::parse(req.body(), ec);
        if (ec) co_return http::bad_request("the body is not valid JSON: " + ec.message());
        auto converted = domain::incident_from_alertmanager(body);
        if (auto* problem = std::get_if<std::string>(&converted)) {
          co_return http::problem(http::Status::unprocessable_entity, "validation-error",
                                  "Not an Alertmanager notification", *problem);
        }
        const auto& incident = std::get<boost::json::object>(converted);
        const std::string correlation(incident.at("correlation_id").as_string());
        const std::string title(incident.at("short_description").as_string());
        const std::string payload = boost::json::serialize(incident);
        mail::Message message{d.from, d.email_to, "[orderflow] " + title,
                              std::string(incident.at("description").as_string()) + "\n",
                              {{"X-Orderflow-Correlation-Id", correlation}}};
        // What failed ("" when everything was delivered); offload wants a default-constructible result.
        auto send = [&d, email, &payload, &message] {
          if (d.webhook) {
            if (auto posted = d.webhook->post(payload); !posted) return "incident webhook: " + posted.error().message;
          }
          if (email) {
            if (auto mailed = d.mailer.send(message); !mailed) return "email: " + mailed.error().message;
          }
          return std::string();
        };
        const std::string error = co_await http::offload(d.blocking, send);
        if (!error.empty()) {
          log::warn("Alertmanager notification not delivered", {{"incident", title}, {"error", error}});
          co_return http::problem(http::Status::bad_gateway, "alert-delivery-failed", "Bad Gateway",
                                  "the notification was not delivered (" + error + "); Alertmanager retries it");
        }
        if (!d.webhook && !email) {
          log::warn("Alertmanager notification dropped: no incident webhook (alert-webhook-url)", {{"incident", title}});
        } else {
          log::info("Alertmanager notification delivered", {{"incident", title},
                                                            {"correlationId", correlation},
                                                            {"webhook", d.webhook ? "posted" : "none"},
                                                            {"email", email ? "sent" : "no"}});
        }
        co_return http::json_response(http::Status::ok, boost::json::object{{"forwarded", d.webhook != nullptr},
                                                                            {"emailed", email},
                                                                            {"correlationId", correlation}});
      });
}

}  // namespace orderflow::alerting::handlers
