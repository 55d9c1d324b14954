#include "libs/mail/mailer.hpp"

#include <filesystem>

#include <algorithm>

#include "libs/mail/file_mailer.hpp"
#include "libs/mail/message.hpp"
#include "libs/mail/smtp_mailer.hpp"

namespace orderflow::mail {

MailerConfig MailerConfig::from_settings(const Settings& settings,
                                         const std::string& default_mail_dir) {
  MailerConfig c;
  c.smtp_url = settings.str("smtp-url", "");
  c.mail_dir = settings.str("mail-dir", default_mail_dir);
  c.from = settings.str("mail-from", c.from);
  c.timeout = settings.millis("smtp-timeout-ms", 10'000);
  c.connect_timeout = std::min(c.timeout, std::chrono::milliseconds{5'000});
  if (!c.smtp_url.empty() && c.smtp_url.rfind("smtp://", 0) != 0 &&
      c.smtp_url.rfind("smtps://", 0) != 0) {
    throw ConfigError("--smtp-url / ORDERFLOW_SMTP_URL must start with smtp:// or smtps://, got '" +
                      MailerConfig{c.smtp_url}.describe() + "'");
  }
  if (!valid_addr_spec(addr_spec(c.from))) {
    throw ConfigError("--mail-from / ORDERFLOW_MAIL_FROM must be an email address, got '" + c.from +
                      "'");
  }
  if (c.timeout.count() <= 0)
    throw ConfigError("--smtp-timeout-ms / ORDERFLOW_SMTP_TIMEOUT_MS must be > 0");
  return c;
}

std::string MailerConfig::describe() const {
  if (smtp_url.empty()) return "folder " + mail_dir;
  // Never log credentials: drop "user:password@".
  std::string url = smtp_url;
  auto scheme_end = url.find("://");
  auto at = url.find('@', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (scheme_end != std::string::npos && at != std::string::npos)
    url.erase(scheme_end + 3, at - scheme_end - 2);
  return url;
}

std::unique_ptr<Mailer> make_mailer(const MailerConfig& config) {
  if (!config.smtp_url.empty()) {
    return std::make_unique<SmtpMailer>(config.smtp_url, config.timeout, config.connect_timeout);
  }
  return std::make_unique<FileMailer>(config.mail_dir);
}

std::string default_mail_dir(const std::string& data_dir, const std::string& service) {
  auto dir = std::filesystem::absolute(data_dir).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "…/data/" names the same folder as "…/data"
  return (dir.parent_path() / "mail" / service).string();
}

}  // namespace orderflow::mail
