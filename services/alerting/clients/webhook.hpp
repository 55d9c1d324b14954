#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "libs/common/result.hpp"

namespace orderflow::alerting::clients {

// Where alert webhooks go. Failures are values ("webhook-unavailable": no connection,
// timeout; "webhook-rejected": a non-2xx answer).
class Webhook {
 public:
  virtual ~Webhook() = default;
  virtual Status post(std::string_view json_body) = 0;
  virtual void cancel() {}
};

// POSTs JSON with libcurl (http:// or https://, e.g. a ServiceNow instance's
// /api/now/table/incident), bounded by `timeout`. Credentials: user:password@ in the URL
// (basic auth) or a full Authorization header value.
class CurlWebhook final : public Webhook {
 public:
  CurlWebhook(std::string url, std::string authorization, std::chrono::milliseconds timeout);
  Status post(std::string_view json_body) override;
  void cancel() override { cancelled_ = true; }

 private:
  std::string url_;
  std::string authorization_;
  std::chrono::milliseconds timeout_;
  std::atomic<bool> cancelled_{false};
};

// The URL without credentials, for logs.
std::string redact_url(const std::string& url);

}  // namespace orderflow::alerting::clients
