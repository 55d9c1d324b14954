#include "libs/common/card.hpp"

#include <string>

namespace orderflow {
namespace {

bool luhn_ok(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Whether a UUID (8-4-4-4-12 hex digits) starts at s[i] and is not part of a longer hex run.
bool uuid_at(std::string_view s, std::size_t i) {
  constexpr std::string_view kShape = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  if (s.size() - i < kShape.size() || (i > 0 && is_hex(s[i - 1]))) return false;
  for (std::size_t k = 0; k < kShape.size(); ++k) {
    if (kShape[k] == '-' ? s[i + k] != '-' : !is_hex(s[i + k])) return false;
  }
  return i + kShape.size() == s.size() || !is_hex(s[i + kShape.size()]);
}

}  // namespace

bool contains_card_number(std::string_view input) {
  // UUIDs are ids, never card numbers, but their decimal groups can line up as 13-19 digits
  // that pass Luhn (a key or correlation id refused once in a few thousand): blank them out.
  std::string s(input);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (uuid_at(s, i)) {
      for (std::size_t k = 0; k < 36; ++k) s[i + k] = ' ';
      i += 35;
    }
  }
  // Collect runs of digits where single spaces or dashes may separate groups.
  std::string run;
  auto check = [&] { return run.size() >= 13 && run.size() <= 19 && luhn_ok(run); };
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      run.push_back(c);
      continue;
    }
    bool separator = (c == ' ' || c == '-') && !run.empty() && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9';
    if (separator) continue;
    if (check()) return true;
    run.clear();
  }
  // Runs longer than 19 digits are not card numbers (ids, references): checking windows
  // inside them would reject ordinary data at random.
  return check();
}

}  // namespace orderflow
