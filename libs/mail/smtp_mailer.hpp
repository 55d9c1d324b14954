#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "libs/mail/mailer.hpp"

namespace orderflow::mail {

// Sends through an SMTP server with libcurl: one connection per message (a few messages a
// second at most here; no pooling needed), every transfer bounded by `timeout`.
class SmtpMailer final : public Mailer {
 public:
  SmtpMailer(std::string url, std::chrono::milliseconds timeout,
             std::chrono::milliseconds connect_timeout);

  Status send(const Message& message) override;
  std::string_view channel() const override { return "smtp"; }
  void cancel() override { cancelled_ = true; }

 private:
  std::string url_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds connect_timeout_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace orderflow::mail
