#pragma once

#include <string>

namespace orderflow::ids {

// Random (version 4) UUID in canonical lower-case form.
std::string uuid();
// n random bytes as lower-case hex (trace ids: 16, span ids: 8).
std::string random_hex(std::size_t bytes);

}  // namespace orderflow::ids
