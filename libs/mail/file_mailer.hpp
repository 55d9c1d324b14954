#pragma once

#include <filesystem>

#include "libs/mail/mailer.hpp"

namespace orderflow::mail {

// Writes each message as an RFC 5322 file "<epoch ms>-<uuid>.eml" into a folder (created
// when missing): the development stand-in for an SMTP server. A file appears complete or
// not at all (written under a temporary name, fsync'ed, then renamed).
class FileMailer final : public Mailer {
 public:
  explicit FileMailer(std::filesystem::path dir);

  Status send(const Message& message) override;
  std::string_view channel() const override { return "file"; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace orderflow::mail
