#include "libs/mail/message.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <vector>

#include "libs/common/ids.hpp"

namespace orderflow::mail {
namespace {

constexpr std::size_t kMaxLine = 998;          // RFC 5322 §2.1.1
constexpr std::size_t kMaxSubjectBytes = 900;  // keeps an ASCII subject on one legal line

Error invalid(std::string why) { return Error{"invalid-message", std::move(why), false}; }

bool has_crlf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// Cuts `s` to at most `n` bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// The mailbox as it goes into a From/To field: "addr" or "Display Name <addr>".
Result<std::string> mailbox_field(std::string_view mailbox, const char* which) {
  if (has_crlf(mailbox)) return invalid(std::string(which) + " contains a line break");
  std::string addr = addr_spec(mailbox);
  if (!valid_addr_spec(addr))
    return invalid(std::string(which) + " is not a valid address: '" + addr + "'");
  auto lt = mailbox.rfind('<');
  if (lt == std::string_view::npos) return addr;
  std::string name = trim(mailbox.substr(0, lt));
  if (name.empty()) return "<" + addr + ">";
  return encode_header_text(name) + " <" + addr + ">";
}

bool header_name_ok(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Body lines with CRLF ends; `seven_bit` tells whether it can travel as is.
std::string crlf_lines(std::string_view body, bool& seven_bit) {
  std::string out;
  out.reserve(body.size() + body.size() / 40 + 2);
  seven_bit = true;
  std::size_t line_len = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\r') {
      if (i + 1 < body.size() && body[i + 1] == '\n') ++i;
      out += "\r\n";
      line_len = 0;
      continue;
    }
    if (c == '\n') {
      out += "\r\n";
      line_len = 0;
      continue;
    }
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') seven_bit = false;
    if (++line_len > kMaxLine) seven_bit = false;
    out.push_back(c);
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

}  // namespace

std::string base64(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    auto n = (static_cast<unsigned char>(data[i]) << 16) |
             (static_cast<unsigned char>(data[i + 1]) << 8) |
             static_cast<unsigned char>(data[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == data.size()) {
    auto n = static_cast<unsigned char>(data[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    auto n = (static_cast<unsigned char>(data[i]) << 16) |
             (static_cast<unsigned char>(data[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string encode_header_text(std::string_view text) {
  if (printable_ascii(text)) return std::string(text);
  // Encoded words are at most 75 characters (RFC 2047 §2): 45 bytes of text -> 60 of
  // base64 + 12 of "=?UTF-8?B?" "?=". Continuation words go on folded lines.
  std::string out;
  while (!text.empty()) {
    auto chunk = utf8_prefix(text, 45);
    if (chunk.empty()) chunk = text.substr(0, 1);  // not UTF-8: still make progress
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(chunk) + "?=";
    text.remove_prefix(chunk.size());
  }
  return out;
}

std::string addr_spec(std::string_view mailbox) {
  auto lt = mailbox.rfind('<');
  auto gt = mailbox.rfind('>');
  if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt) {
    return trim(mailbox.substr(lt + 1, gt - lt - 1));
  }
  return trim(mailbox);
}

bool valid_addr_spec(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  auto at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64 || at + 1 == a.size()) return false;
  auto local = a.substr(0, at);
  auto domain = a.substr(at + 1);
  constexpr std::string_view kForbidden = "<>()[]\\,;:\"@ ";
  for (char c : local) {
    if (c <= 0x20 || c >= 0x7f || kForbidden.find(c) != std::string_view::npos) return false;
  }
  if (local.front() == '.' || local.back() == '.') return false;
  for (char c : domain) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return domain.front() != '.' && domain.back() != '.' &&
         domain.find("..") == std::string_view::npos;
}

std::string rfc5322_date(SystemTime t) {
  static constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed",
                                                    "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                kDays[static_cast<std::size_t>(tm.tm_wday)], tm.tm_mday,
                kMonths[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

std::string new_message_id(std::string_view from) {
  std::string addr = addr_spec(from);
  auto at = addr.rfind('@');
  std::string domain =
      at == std::string::npos || at + 1 == addr.size() ? "orderflow.local" : addr.substr(at + 1);
  return "<" + ids::uuid() + "@" + domain + ">";
}

Result<std::string> render(const Message& m, SystemTime date, std::string_view message_id) {
  auto from = mailbox_field(m.from, "From");
  if (!from) return from.error();
  auto to = mailbox_field(m.to, "To");
  if (!to) return to.error();

  std::string date_value = rfc5322_date(date);
  std::string id_value(message_id);
  std::vector<std::pair<std::string, std::string>> extra;
  for (const auto& [name, value] : m.headers) {
    if (!header_name_ok(name)) return invalid("bad header name '" + name + "'");
    if (has_crlf(value) || !printable_ascii(value))
      return invalid("header " + name + " must be one line of ASCII");
    if (iequals(name, "Date"))
      date_value = value;
    else if (iequals(name, "Message-ID"))
      id_value = value;
    else
      extra.emplace_back(name, value);
  }
  if (has_crlf(id_value)) return invalid("Message-ID contains a line break");

  // A subject is one line: line breaks (from an upstream error text) become spaces.
  std::string subject(utf8_prefix(m.subject, kMaxSubjectBytes));
  std::replace(subject.begin(), subject.end(), '\r', ' ');
  std::replace(subject.begin(), subject.end(), '\n', ' ');

  bool seven_bit = true;
  std::string body = crlf_lines(m.body, seven_bit);

  std::string out;
  out.reserve(body.size() + 512);
  auto field = [&out](std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  };
  field("Date", date_value);
  field("From", *from);
  field("To", *to);
  field("Subject", encode_header_text(subject));
  field("Message-ID", id_value);
  for (const auto& [name, value] : extra) field(name, value);
  field("MIME-Version", "1.0");
  field("Content-Type", "text/plain; charset=utf-8");
  if (seven_bit) {
    field("Content-Transfer-Encoding", "7bit");
    out += "\r\n";
    out += body;
  } else {
    field("Content-Transfer-Encoding", "base64");
    out += "\r\n";
    std::string encoded = base64(body);
    for (std::size_t i = 0; i < encoded.size(); i += 76) {
      out.append(encoded, i, 76);
      out += "\r\n";
    }
  }
  return out;
}

}  // namespace orderflow::mail
