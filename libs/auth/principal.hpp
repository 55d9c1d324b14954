#pragma once

#include <string>

namespace orderflow::auth {

// Who made a request. A customer acts on its own orders only; an admin (an operator, or a
// trusted backend acting for customers) on any, and may use the admin endpoints.
struct Principal final {
  std::string name;         // for logs and rate limits: the API key's name or the JWT subject
  std::string customer_id;  // the customer this principal is; empty for an admin
  bool admin = false;

  bool may_act_for(const std::string& customer) const { return admin || customer == customer_id; }
};

}  // namespace orderflow::auth
