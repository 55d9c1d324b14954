#include "libs/mail/file_mailer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "libs/common/ids.hpp"
#include "libs/mail/mailer.hpp"

namespace orderflow::mail {
namespace {

class TempDir final {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("orderflow-mail-" + ids::uuid())) {}
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

TEST(FileMailer, WritesOneEmlFilePerMessage) {
  TempDir tmp;
  FileMailer mailer(tmp.path() / "nested" / "mail");  // created on first send
  EXPECT_EQ(mailer.channel(), "file");
  Message m{"orderflow@localhost",
            "ann@example.com",
            "Your order o-1 is confirmed",
            "Total: 25.00 EUR",
            {}};
  ASSERT_TRUE(mailer.send(m).ok());
  m.subject = "second";
  ASSERT_TRUE(mailer.send(m).ok());

  auto files = files_in(mailer.dir());
  ASSERT_EQ(files.size(), 2u);
  bool found_first = false;
  for (const auto& f : files) {
    EXPECT_EQ(f.extension(), ".eml");
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto text = ss.str();
    EXPECT_EQ(text.rfind("Date: ", 0), 0u) << text;
    EXPECT_NE(text.find("\r\nFrom: orderflow@localhost\r\n"), std::string::npos);
    EXPECT_NE(text.find("\r\nTo: ann@example.com\r\n"), std::string::npos);
    EXPECT_NE(text.find("\r\nMessage-ID: <"), std::string::npos);
    EXPECT_NE(text.find("\r\nContent-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
    EXPECT_NE(text.find("\r\n\r\nTotal: 25.00 EUR\r\n"), std::string::npos);
    if (text.find("\r\nSubject: Your order o-1 is confirmed\r\n") != std::string::npos)
      found_first = true;
  }
  EXPECT_TRUE(found_first);
}

TEST(FileMailer, InvalidMessageWritesNothing) {
  TempDir tmp;
  FileMailer mailer(tmp.path());
  auto s = mailer.send(Message{"orderflow@localhost", "not an address", "s", "b", {}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "invalid-message");
  EXPECT_FALSE(std::filesystem::exists(tmp.path()) && !files_in(tmp.path()).empty());
}

TEST(FileMailer, UnwritableFolderIsARetryableError) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path());
  std::ofstream(tmp.path() / "file") << "x";
  FileMailer mailer(tmp.path() / "file" / "mail");  // a path under a regular file
  auto s = mailer.send(Message{"orderflow@localhost", "ann@example.com", "s", "b", {}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "mail-write-failed");
  EXPECT_TRUE(s.error().retryable);
}

TEST(MailDir, DefaultsNextToTheDataFolder) {
  EXPECT_EQ(default_mail_dir("/srv/run/data", "notification-service"), "/srv/run/mail/notification-service");
  EXPECT_EQ(default_mail_dir("/srv/run/data/", "alerting-service"), "/srv/run/mail/alerting-service");
}

}  // namespace
}  // namespace orderflow::mail
