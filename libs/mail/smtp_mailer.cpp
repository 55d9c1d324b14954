#include "libs/mail/smtp_mailer.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "libs/mail/message.hpp"

namespace orderflow::mail {
namespace {

struct Upload final {
  std::string_view data;
  std::size_t pos = 0;
};

std::size_t read_body(char* buffer, std::size_t size, std::size_t nitems, void* user) {
  auto* up = static_cast<Upload*>(user);
  std::size_t n = std::min(size * nitems, up->data.size() - up->pos);
  std::memcpy(buffer, up->data.data() + up->pos, n);
  up->pos += n;
  return n;
}

int check_cancelled(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

SmtpMailer::SmtpMailer(std::string url, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds connect_timeout)
    : url_(std::move(url)), timeout_(timeout), connect_timeout_(connect_timeout) {
  // Here, at start-up on the main thread: curl_global_init is not thread-safe.
  global_init();
}

Status SmtpMailer::send(const Message& message) {
  if (cancelled_) return Error{"cancelled", "mailer is shutting down", false};
  auto text = render(message, std::chrono::system_clock::now(), new_message_id(message.from));
  if (!text) return text.error();

  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Error{"smtp-unavailable", "curl_easy_init failed", true};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt(
      curl_slist_append(nullptr, ("<" + addr_spec(message.to) + ">").c_str()), curl_slist_free_all);
  std::string mail_from = "<" + addr_spec(message.from) + ">";
  Upload upload{*text};
  char errbuf[CURL_ERROR_SIZE] = {0};

  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(text->size()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we are multi-threaded
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, check_cancelled);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &cancelled_);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OK) return ok_status();
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Error{"cancelled", "mailer is shutting down", false};

  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  if (reply > 0) detail += " (last SMTP reply " + std::to_string(reply) + ")";
  // 5xx is the server's final word on this message (unknown recipient, rejected content):
  // sending it again cannot succeed. Everything else (no connection, timeout, 4xx) can.
  if (reply >= 500 && rc != CURLE_LOGIN_DENIED) return Error{"smtp-rejected", detail, false};
  return Error{"smtp-unavailable", detail, true};
}

}  // namespace orderflow::mail
