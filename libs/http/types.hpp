#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "libs/observability/trace.hpp"

namespace orderflow::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;
using Status = bhttp::status;
using Verb = bhttp::verb;

// What a handler sees of one request: the request itself, the path parameters of the
// route it matched, the decoded query string, and the correlation and trace context
// (taken from X-Correlation-ID / traceparent, or started here).
struct RequestContext final {
  const Request& request;
  std::map<std::string, std::string> path_params;
  std::map<std::string, std::string> query;
  std::string correlation_id;
  trace::Context trace;
  std::string remote_address;  // the peer's IP address (empty if unknown)

  std::optional<std::string> query_param(const std::string& key) const {
    auto it = query.find(key);
    return it == query.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  std::string path_param(const std::string& key) const {
    auto it = path_params.find(key);
    return it == path_params.end() ? std::string() : it->second;
  }
};

using Handler = std::function<asio::awaitable<Response>(RequestContext&)>;

inline constexpr std::string_view kCorrelationHeader = "X-Correlation-ID";

}  // namespace orderflow::http
