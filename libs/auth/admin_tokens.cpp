#include "libs/auth/admin_tokens.hpp"

#include <algorithm>
#include <cctype>

#include "libs/common/settings.hpp"

namespace orderflow::auth {
namespace {

constexpr std::size_t kMaxNameLength = 64;
constexpr std::string_view kBearer = "bearer";

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' ||
           c == '@';
  });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<AdminToken> parse_admin_tokens(std::string_view setting) {
  std::vector<AdminToken> out;
  if (trim(setting).empty()) return out;
  std::size_t start = 0;
  while (start <= setting.size()) {
    auto comma = setting.find(',', start);
    if (comma == std::string_view::npos) comma = setting.size();
    auto entry = trim(setting.substr(start, comma - start));
    start = comma + 1;
    if (entry.empty()) {
      throw ConfigError(
          "--admin-token / ORDERFLOW_ADMIN_TOKEN has an empty entry: use <token> or "
          "<name>:<token>, comma-separated");
    }
    AdminToken t{"admin", std::string(entry)};
    if (auto colon = entry.find(':');
        colon != std::string_view::npos && valid_name(entry.substr(0, colon))) {
      t.name = std::string(entry.substr(0, colon));
      t.token = std::string(entry.substr(colon + 1));
    }
    if (t.token.empty())
      throw ConfigError("--admin-token / ORDERFLOW_ADMIN_TOKEN: the token of '" + t.name +
                        "' is empty");
    out.push_back(std::move(t));
  }
  return out;
}

bool constant_time_equals(std::string_view expected, std::string_view presented) {
  // Walk `presented` in full whatever the content; an empty `expected` never matches.
  volatile unsigned char diff = expected.size() == presented.size() ? 0 : 1;
  if (expected.empty()) return false;
  for (std::size_t i = 0; i < presented.size(); ++i) {
    diff = static_cast<unsigned char>(diff |
                                      (static_cast<unsigned char>(expected[i % expected.size()]) ^
                                       static_cast<unsigned char>(presented[i])));
  }
  return diff == 0;
}

AdminCheck check_admin(const std::vector<AdminToken>& tokens,
                       const std::optional<std::string_view>& authorization) {
  AdminCheck out;
  if (tokens.empty()) {
    out.outcome = AdminCheck::Outcome::kDisabled;
    return out;
  }
  if (!authorization) return out;  // kMissing
  auto value = trim(*authorization);
  if (value.size() <= kBearer.size() ||
      !std::equal(
          kBearer.begin(), kBearer.end(), value.begin(),
          [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); }) ||
      value[kBearer.size()] != ' ') {
    return out;  // kMissing: no bearer credential (e.g. Basic)
  }
  auto presented = trim(value.substr(kBearer.size() + 1));
  if (presented.empty()) return out;
  const AdminToken* match = nullptr;
  for (const auto& t : tokens) {  // no early exit: every token is compared
    if (constant_time_equals(t.token, presented) && match == nullptr) match = &t;
  }
  if (match == nullptr) {
    out.outcome = AdminCheck::Outcome::kInvalid;
    return out;
  }
  out.outcome = AdminCheck::Outcome::kAllowed;
  out.who = match->name;
  return out;
}

}  // namespace orderflow::auth
