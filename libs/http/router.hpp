#pragma once

#include <string>
#include <vector>

#include "libs/http/types.hpp"

namespace orderflow::http {

// Maps (method, path) to a handler. Patterns are literal segments and `{name}` captures:
// "/api/v1/orders/{orderId}". A path that matches only under other methods is a 405.
class Router final {
 public:
  void add(Verb method, std::string pattern, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: no route for this method
    std::string route;                 // the pattern (metrics label), or "UNMATCHED"
    std::map<std::string, std::string> params;
    std::string allow;                 // non-empty: the path exists under these methods (405)
  };
  Match match(Verb method, std::string_view path) const;

 private:
  struct Route {
    Verb method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace orderflow::http
