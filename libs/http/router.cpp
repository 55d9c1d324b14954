#include "libs/http/router.hpp"

namespace orderflow::http {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_capture(const std::string& s) { return s.size() > 2 && s.front() == '{' && s.back() == '}'; }

}  // namespace

void Router::add(Verb method, std::string pattern, Handler handler) {
  auto segments = split_path(pattern);
  routes_.push_back({method, std::move(pattern), std::move(segments), std::move(handler)});
}

Router::Match Router::match(Verb method, std::string_view path) const {
  auto parts = split_path(path);
  Match result;
  result.route = "UNMATCHED";
  for (const auto& r : routes_) {
    if (r.segments.size() != parts.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      if (is_capture(r.segments[i])) {
        params[r.segments[i].substr(1, r.segments[i].size() - 2)] = parts[i];
      } else {
        ok = r.segments[i] == parts[i];
      }
    }
    if (!ok) continue;
    if (r.method == method || (method == Verb::head && r.method == Verb::get)) {
      result.handler = &r.handler;
      result.route = r.pattern;
      result.params = std::move(params);
      result.allow.clear();
      return result;
    }
    if (!result.allow.empty()) result.allow += ", ";
    result.allow += std::string(bhttp::to_string(r.method));
    result.route = r.pattern;
  }
  return result;
}

}  // namespace orderflow::http
