#pragma once

#include <string>
#include <string_view>

#include "libs/common/result.hpp"
#include "libs/common/time.hpp"
#include "libs/mail/mailer.hpp"

namespace orderflow::mail {

// The RFC 5322 form of one message (CRLF line ends): Date, From, To, Subject, Message-ID,
// MIME-Version, Content-Type text/plain; charset=utf-8, Content-Transfer-Encoding, the
// extra headers, a blank line and the body. A body that is not 7-bit ASCII with short
// lines is sent base64-encoded so it survives any relay. Fails with "invalid-message"
// when an address is not a plain addr-spec or a header value contains CR/LF.
Result<std::string> render(const Message& message, SystemTime date, std::string_view message_id);

// "Tue, 03 Feb 2026 12:00:00 +0000"
std::string rfc5322_date(SystemTime t);
// "<uuid@domain-of-from>"
std::string new_message_id(std::string_view from);
// The addr-spec inside a mailbox: "Ann <ann@x.org>" -> "ann@x.org", "ann@x.org" -> itself.
std::string addr_spec(std::string_view mailbox);
// A conservative check of an addr-spec: local@domain, printable ASCII, no spaces, no
// characters that would break a header or an SMTP command.
bool valid_addr_spec(std::string_view address);

// RFC 2047 "encoded-word" (UTF-8, base64) when `text` is not printable ASCII.
std::string encode_header_text(std::string_view text);
std::string base64(std::string_view data);

}  // namespace orderflow::mail
