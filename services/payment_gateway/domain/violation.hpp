#pragma once

#include <string>
#include <vector>

namespace orderflow::payment_gateway {

// One invalid input value: the handlers turn a list of these into the `errors` member of
// a 422 problem+json. Kept here so domain validation does not depend on the HTTP library.
struct Violation final {
  std::string field;    // JSON name of the offending value, e.g. "amount"
  std::string message;  // what is wrong with it

  friend bool operator==(const Violation&, const Violation&) = default;
};

using Violations = std::vector<Violation>;

}  // namespace orderflow::payment_gateway
