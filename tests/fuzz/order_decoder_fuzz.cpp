// libFuzzer target: the body of POST /place-order, as the handler treats it — JSON
// parsing, then the order validator (fields, amounts, card-number scan) and the body
// fingerprint of the idempotency check.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "services/order/domain/order.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)orderflow::order::body_fingerprint(body);
  (void)orderflow::order::contains_card_number(body);
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec) return 0;
  auto result = orderflow::order::validate(value);
  if (auto* cmd = std::get_if<orderflow::order::PlaceOrder>(&result)) {
    // A valid command is what the handler turns into an OrderCreated event.
    if (cmd->items.empty() || cmd->total.minor() <= 0) __builtin_trap();
    (void)cmd->total.str();
  } else if (std::get<std::vector<orderflow::order::Violation>>(result).empty()) {
    __builtin_trap();  // a refusal always names what is wrong
  }
  return 0;
}
