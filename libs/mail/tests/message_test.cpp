#include "libs/mail/message.hpp"

#include <gtest/gtest.h>

#include "libs/mail/mailer.hpp"

namespace orderflow::mail {
namespace {

SystemTime fixed_time() {
  return SystemTime{std::chrono::seconds{1769860800}};
}  // 2026-01-31T12:00:00Z

Message sample() {
  return Message{"orderflow@localhost",
                 "ann@example.com",
                 "Your order o-1 is confirmed",
                 "Hello Ann\nTotal: 25.00 EUR\n",
                 {}};
}

TEST(MailMessage, RendersRfc5322HeadersAndCrlfBody) {
  auto text = render(sample(), fixed_time(), "<id-1@localhost>");
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text,
            "Date: Sat, 31 Jan 2026 12:00:00 +0000\r\n"
            "From: orderflow@localhost\r\n"
            "To: ann@example.com\r\n"
            "Subject: Your order o-1 is confirmed\r\n"
            "Message-ID: <id-1@localhost>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 7bit\r\n"
            "\r\n"
            "Hello Ann\r\nTotal: 25.00 EUR\r\n");
}

TEST(MailMessage, ExtraHeadersAndStableMessageId) {
  auto m = sample();
  m.from = "Orderflow <orderflow@localhost>";
  m.headers = {{"Message-ID", "<notification.o-1.confirmed@orderflow>"},
               {"X-Orderflow-Order-Id", "o-1"}};
  auto text = render(m, fixed_time(), "<ignored@localhost>");
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_NE(text->find("From: Orderflow <orderflow@localhost>\r\n"), std::string::npos);
  EXPECT_NE(text->find("Message-ID: <notification.o-1.confirmed@orderflow>\r\n"),
            std::string::npos);
  EXPECT_EQ(text->find("ignored"), std::string::npos);
  EXPECT_NE(text->find("X-Orderflow-Order-Id: o-1\r\n"), std::string::npos);
}

TEST(MailMessage, RejectsHeaderInjection) {
  auto m = sample();
  m.to = "ann@example.com\r\nBcc: eve@example.com";
  auto r = render(m, fixed_time(), "<x@y>");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid-message");
  EXPECT_FALSE(r.error().retryable);

  m = sample();
  m.headers = {{"X-Note", "a\nBcc: eve@example.com"}};
  EXPECT_FALSE(render(m, fixed_time(), "<x@y>").ok());

  // A subject is made one line rather than refused: it often quotes upstream error text.
  m = sample();
  m.subject = "line one\r\nBcc: eve@example.com";
  auto text = render(m, fixed_time(), "<x@y>");
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("Subject: line one  Bcc: eve@example.com\r\n"), std::string::npos);
  EXPECT_EQ(text->find("\r\nBcc:"), std::string::npos);
}

TEST(MailMessage, NonAsciiIsEncoded) {
  auto m = sample();
  m.subject = "Commande confirmée";
  m.body = "Merci, Zoë!\n";
  auto text = render(m, fixed_time(), "<x@y>");
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("Subject: =?UTF-8?B?" + base64("Commande confirmée") + "?=\r\n"),
            std::string::npos);
  EXPECT_NE(
      text->find("Content-Transfer-Encoding: base64\r\n\r\n" + base64("Merci, Zoë!\r\n") + "\r\n"),
      std::string::npos);
}

TEST(MailMessage, LongNonAsciiSubjectIsFoldedIntoShortWords) {
  std::string subject;
  for (int i = 0; i < 40; ++i) subject += "é";
  auto encoded = encode_header_text(subject);
  std::size_t start = 0;
  while (start < encoded.size()) {
    auto end = encoded.find("\r\n ", start);
    auto word = encoded.substr(start, end == std::string::npos ? std::string::npos : end - start);
    EXPECT_LE(word.size(), 75u) << word;
    EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u);
    if (end == std::string::npos) break;
    start = end + 3;
  }
}

TEST(MailMessage, Addresses) {
  EXPECT_EQ(addr_spec("Ann <ann@example.com>"), "ann@example.com");
  EXPECT_EQ(addr_spec(" ann@example.com "), "ann@example.com");
  EXPECT_TRUE(valid_addr_spec("ann.b+tag@example.co.uk"));
  EXPECT_TRUE(valid_addr_spec("orderflow@localhost"));
  EXPECT_FALSE(valid_addr_spec("ann"));
  EXPECT_FALSE(valid_addr_spec("@example.com"));
  EXPECT_FALSE(valid_addr_spec("ann@"));
  EXPECT_FALSE(valid_addr_spec("a n@example.com"));
  EXPECT_FALSE(valid_addr_spec("ann@exa mple.com"));
  EXPECT_FALSE(valid_addr_spec("ann@example.com>"));
  EXPECT_FALSE(valid_addr_spec("ann@ex\r\nample.com"));
  auto id = new_message_id("Orderflow <orderflow@localhost>");
  EXPECT_EQ(id.front(), '<');
  EXPECT_NE(id.find("@localhost>"), std::string::npos);
}

TEST(MailMessage, Base64) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

TEST(MailConfig, ReadsSettingsAndHidesCredentials) {
  Settings s(std::map<std::string, std::string>{
      {"smtp-url", "smtp://user:secret@mail.example.com:587"}, {"mail-from", "shop@example.com"}});
  auto c = MailerConfig::from_settings(s, "/tmp/mail");
  EXPECT_EQ(c.from, "shop@example.com");
  EXPECT_EQ(c.mail_dir, "/tmp/mail");
  EXPECT_EQ(c.timeout, std::chrono::milliseconds(10'000));
  EXPECT_EQ(c.describe(), "smtp://mail.example.com:587");
  EXPECT_THROW(MailerConfig::from_settings(
                   Settings(std::map<std::string, std::string>{{"smtp-url", "http://x"}}), "d"),
               ConfigError);
  EXPECT_THROW(MailerConfig::from_settings(
                   Settings(std::map<std::string, std::string>{{"mail-from", "nobody"}}), "d"),
               ConfigError);
}

}  // namespace
}  // namespace orderflow::mail
