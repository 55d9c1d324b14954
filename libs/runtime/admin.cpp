#include "libs/runtime/admin.hpp"

#include <optional>

#include "libs/http/response.hpp"
#include "libs/observability/log.hpp"

namespace orderflow::runtime {
namespace {

constexpr std::string_view kRealm = "Bearer realm=\"orderflow-admin\"";

}  // namespace

std::variant<std::string, http::Response> authorize_admin(const std::vector<auth::AdminToken>& tokens,
                                                          const http::RequestContext& ctx, std::string_view route,
                                                          std::string_view how_to_enable) {
  std::optional<std::string_view> header;
  if (auto it = ctx.request.find(http::bhttp::field::authorization); it != ctx.request.end())
    header = std::string_view(it->value().data(), it->value().size());
  auto check = auth::check_admin(tokens, header);
  using Outcome = auth::AdminCheck::Outcome;
  switch (check.outcome) {
    case Outcome::kAllowed:
      return check.who;
    case Outcome::kDisabled:
      return http::problem(http::Status::forbidden, "admin-disabled", "Forbidden", how_to_enable);
    case Outcome::kMissing:
    case Outcome::kInvalid:
      break;
  }
  const bool missing = check.outcome == Outcome::kMissing;
  log::warn("admin request refused", {{"route", route},
                                      {"reason", missing ? "no bearer token" : "unknown token"},
                                      {"correlationId", ctx.correlation_id}});
  auto res = http::problem(http::Status::unauthorized, "unauthorized", "Unauthorized",
                           missing ? "this endpoint needs 'Authorization: Bearer <admin token>'"
                                   : "the bearer token is not a valid admin token");
  res.set(http::bhttp::field::www_authenticate,
          missing ? std::string(kRealm) : std::string(kRealm) + ", error=\"invalid_token\"");
  return res;
}

}  // namespace orderflow::runtime
