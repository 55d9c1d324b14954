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

}  // namespace

bool contains_card_number(std::string_view s) {
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
