#pragma once

#include <string>

namespace orderflow::ids {

// Random (version 4) UUID in canonical lower-case form.
std::string uuid();
// Time-ordered (version 7, RFC 9562) UUID: 48 bits of Unix milliseconds, then 74 random
// bits. Ids made later sort later, so a B-tree keyed by them (orders, payments, the gateway's
// ledger, processed events) inserts near its right edge and an order's later writes find its
// pages still cached: a commit writes a few pages instead of one random page per index per
// row. For ids that are stored and looked up; the random version 4 for everything else.
std::string uuid_v7();
// n random bytes as lower-case hex (trace ids: 16, span ids: 8).
std::string random_hex(std::size_t bytes);

}  // namespace orderflow::ids
