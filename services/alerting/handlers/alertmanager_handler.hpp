#pragma once

#include <boost/asio/thread_pool.hpp>

#include <string>

#include "libs/http/router.hpp"
#include "libs/mail/mailer.hpp"
#include "services/alerting/clients/webhook.hpp"

namespace orderflow::alerting::handlers {

struct AlertmanagerDeps {
  boost::asio::thread_pool& blocking;
  clients::Webhook* webhook;  // null: no alert-webhook-url
  mail::Mailer& mailer;
  std::string from, email_to;
};

// POST /api/v1/alertmanager[?email=true]: Alertmanager's webhook receiver (its JSON,
// version 4). Each notification is forwarded to the incident webhook (alert-webhook-url)
// as a ServiceNow incident body (domain/alertmanager.hpp) and, with email=true, also mailed
// to alert-email-to through this service's mailer (for a stack whose mail is a folder,
// which Alertmanager cannot write). Answered once both are done:
//   200 {"forwarded":bool,"emailed":bool,"correlationId":…} (forwarded false: no webhook
//   configured); 502 problem when the webhook or the email failed (Alertmanager then
//   retries the notification); 400 not JSON, 415 not application/json, 422 not
//   Alertmanager's shape.
void add_alertmanager_route(http::Router& router, AlertmanagerDeps deps);

}  // namespace orderflow::alerting::handlers
