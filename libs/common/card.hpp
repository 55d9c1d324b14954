#pragma once

#include <string_view>

namespace orderflow {

// Whether `s` holds something that looks like a payment card number (PAN): a run of 13 to
// 19 digits, possibly grouped by single spaces or dashes, that passes the Luhn check.
// Used to refuse card data wherever a client can put text (PCI DSS: a raw card number must
// never be stored, logged or published). Longer digit runs and UUIDs are ids, not cards.
bool contains_card_number(std::string_view s);

}  // namespace orderflow
