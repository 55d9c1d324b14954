#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>
#include <vector>

#include "libs/auth/admin_tokens.hpp"
#include "libs/auth/authenticator.hpp"
#include "libs/http/client.hpp"
#include "libs/http/router.hpp"
#include "services/console/domain/session.hpp"
#include "services/console/probe.hpp"
#include "services/console/repository/event_index.hpp"

namespace orderflow::console::handlers {

// Where the console's server-side calls go. The browser never sees these addresses' answers
// unfiltered, nor the admin token.
struct Upstreams final {
  http::Endpoint order, payment, gateway, notification, alerting;
  http::Endpoint prometheus, zipkin;
  std::string zipkin_public_url;  // the base of trace links shown on order pages
  std::string admin_token;        // sent to alerting-service's DLQ operations
  std::string order_api_key;      // sent to order-service when it requires credentials
};

struct ApiDeps final {
  boost::asio::thread_pool& blocking;
  http::Client& client;
  Upstreams upstreams;
  domain::SessionStore& sessions;
  repository::EventIndex& index;
  Probe& probe;
  std::vector<auth::AdminToken> admin_tokens;   // who may sign in with a token
  const auth::Authenticator* api_keys = nullptr;  // who may sign in with an admin API key
  bool demo_sign_in = false;                    // sign a visitor in without credentials
  bool secure_cookie = false;                   // add `Secure` (behind HTTPS)
  std::function<std::string()> broker_health;   // "UP" or a reason it is not
};

// /api/*: the session, and the console's server-side views of the services, Prometheus and
// Zipkin (README "Serves").
void add_api_routes(http::Router& router, ApiDeps deps);

// The page and its ES modules, embedded in the binary.
void add_asset_routes(http::Router& router);

}  // namespace orderflow::console::handlers
