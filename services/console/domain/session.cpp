#include "services/console/domain/session.hpp"

#include <utility>

namespace orderflow::console::domain {

SessionStore::SessionStore(std::function<std::string(std::size_t)> random_hex,
                           std::function<std::int64_t()> now_ms, std::chrono::milliseconds idle_timeout)
    : random_hex_(std::move(random_hex)), now_ms_(std::move(now_ms)), idle_ms_(idle_timeout.count()) {}

Session SessionStore::open(const std::string& who, bool demo) {
  Session s{random_hex_(32), random_hex_(32), who, demo, now_ms_() + idle_ms_};
  std::lock_guard lock(mu_);
  // Expired sessions go when a new one opens: the map never outgrows the sign-ins of one
  // idle timeout.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.expires_ms <= now_ms_() ? sessions_.erase(it) : std::next(it);
  }
  sessions_[s.id] = s;
  return s;
}

std::optional<Session> SessionStore::find(const std::string& id) {
  if (id.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  const auto now = now_ms_();
  if (it->second.expires_ms <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.expires_ms = now + idle_ms_;
  return it->second;
}

void SessionStore::close(const std::string& id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

std::string cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto end = header.find(';');
    auto pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
  }
  return "";
}

}  // namespace orderflow::console::domain
