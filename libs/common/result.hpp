#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace orderflow {

// Expected failures (network, bad input, a dependency's error) are values. `retryable`
// tells the caller whether trying again later can succeed (userver's IsRetryable()).
struct Error final {
  std::string code;     // short machine-readable reason, e.g. "timeout"
  std::string message;  // human-readable detail
  bool retryable = false;
};

template <class T>
class [[nodiscard]] Result final {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Unit final {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

}  // namespace orderflow
