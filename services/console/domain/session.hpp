#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace orderflow::console::domain {

// A signed-in operator: the cookie's id maps to who signed in and the CSRF token that every
// state-changing request must echo in X-CSRF-Token. Sessions live in memory: a restart signs
// everyone out, which for an operator console is a feature, not a loss.
struct Session final {
  std::string id;    // the cookie value (256 random bits)
  std::string csrf;  // 256 random bits, handed to the page, never in a cookie
  std::string who;   // the admin token's or API key's name
  bool demo = false; // signed in automatically (demo mode)
  std::int64_t expires_ms = 0;
};

// The open sessions. Thread-safe. `random_hex(bytes)` and `now_ms()` are injected so tests
// can pin them; production passes a CSPRNG and the wall clock.
class SessionStore final {
 public:
  SessionStore(std::function<std::string(std::size_t)> random_hex, std::function<std::int64_t()> now_ms,
               std::chrono::milliseconds idle_timeout);

  Session open(const std::string& who, bool demo);
  // The live session with this id (its idle timeout restarts), or nullopt.
  std::optional<Session> find(const std::string& id);
  void close(const std::string& id);

 private:
  std::function<std::string(std::size_t)> random_hex_;
  std::function<std::int64_t()> now_ms_;
  std::int64_t idle_ms_;
  std::mutex mu_;
  std::map<std::string, Session> sessions_;
};

// The value of cookie `name` in a Cookie header, or "".
std::string cookie_value(std::string_view header, std::string_view name);

}  // namespace orderflow::console::domain
