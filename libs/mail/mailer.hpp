#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libs/common/result.hpp"
#include "libs/common/settings.hpp"

namespace orderflow::mail {

// One plain-text email to one recipient.
struct Message final {
  std::string from;     // "orderflow@localhost" or "Orderflow <orderflow@localhost>"
  std::string to;       // one address, same forms
  std::string subject;  // UTF-8; encoded (RFC 2047) when not ASCII
  std::string body;     // UTF-8 plain text, LF or CRLF line ends
  // Extra header fields. A "Message-ID" or "Date" given here replaces the generated one
  // (a stable Message-ID lets mail clients fold a resent copy into the first).
  std::vector<std::pair<std::string, std::string>> headers;
};

// Where emails go: an SMTP server or a folder of .eml files. Failures are values:
//   "invalid-message"  (not retryable: a header would be malformed, e.g. CR/LF in it)
//   "smtp-unavailable" (retryable: connect, timeout, broken connection, 4xx reply)
//   "smtp-rejected"    (not retryable: the server answered 5xx, e.g. unknown recipient)
//   "mail-write-failed" (retryable: the mail folder could not be written)
//   "cancelled"        (cancel() was called: the process is stopping. Not retryable now,
//                       but not the message's fault either: hand the work back)
// send() may block for up to the configured timeout; call it off I/O threads. An
// implementation may be used from several threads at once.
class Mailer {
 public:
  virtual ~Mailer() = default;
  virtual Status send(const Message& message) = 0;
  // "smtp" or "file": what the service records as the notification channel.
  virtual std::string_view channel() const = 0;
  // Makes sends in progress and later fail fast with "cancelled" (shutdown).
  virtual void cancel() {}
};

// Settings shared by the services that send mail:
//   smtp-url  (ORDERFLOW_SMTP_URL)  smtp://host:port or smtps://; user:password@ allowed.
//                                   Unset: write .eml files into mail-dir instead.
//   mail-dir  (ORDERFLOW_MAIL_DIR)  default given by the caller
//   mail-from (ORDERFLOW_MAIL_FROM) default orderflow@localhost
//   smtp-timeout-ms                 whole-transfer deadline, default 10000
struct MailerConfig final {
  std::string smtp_url;
  std::string mail_dir;
  std::string from = "orderflow@localhost";
  std::chrono::milliseconds timeout{10'000};
  std::chrono::milliseconds connect_timeout{5'000};

  // Validated (throws ConfigError on a bad URL scheme or sender address).
  static MailerConfig from_settings(const Settings& settings, const std::string& default_mail_dir);
  // For logs: the SMTP URL without credentials, or the folder.
  std::string describe() const;
};

std::unique_ptr<Mailer> make_mailer(const MailerConfig& config);

// The mail folder next to a service's data folder, as scripts/stack.sh lays them out:
// <run>/data[/<service>] -> <run>/mail/<service>.
std::string default_mail_dir(const std::string& data_dir, const std::string& service);

}  // namespace orderflow::mail
