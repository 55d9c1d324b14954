#include "services/alerting/clients/webhook.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace orderflow::alerting::clients {
namespace {

constexpr std::size_t kMaxResponseKept = 300;

std::size_t keep_some(char* data, std::size_t size, std::size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  std::size_t len = size * n;
  if (out->size() < kMaxResponseKept)
    out->append(data, std::min(len, kMaxResponseKept - out->size()));
  return len;
}

int check_cancelled(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

}  // namespace

std::string redact_url(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  auto host_end = url.find('/', scheme_end + 3);
  auto at = url.rfind('@', host_end == std::string::npos ? std::string::npos : host_end);
  if (at == std::string::npos || at < scheme_end) return url;
  return url.substr(0, scheme_end + 3) + url.substr(at + 1);
}

CurlWebhook::CurlWebhook(std::string url, std::string authorization,
                         std::chrono::milliseconds timeout)
    : url_(std::move(url)), authorization_(std::move(authorization)), timeout_(timeout) {
  // At start-up, on the main thread: curl_global_init is not thread-safe (it counts calls,
  // so the mail library calling it as well is fine).
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Status CurlWebhook::post(std::string_view json_body) {
  if (cancelled_) return Error{"cancelled", "shutting down", false};
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Error{"webhook-unavailable", "curl_easy_init failed", true};
  curl_slist* raw_headers = nullptr;
  raw_headers = curl_slist_append(raw_headers, "Content-Type: application/json");
  raw_headers = curl_slist_append(raw_headers, "Accept: application/json");
  if (!authorization_.empty())
    raw_headers = curl_slist_append(raw_headers, ("Authorization: " + authorization_).c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(raw_headers,
                                                                      curl_slist_free_all);
  std::string response;
  char errbuf[CURL_ERROR_SIZE] = {0};

  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_some);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<std::int64_t>(timeout_.count(), 5000)));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, check_cancelled);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &cancelled_);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");

  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Error{"cancelled", "shutting down", false};
  if (rc != CURLE_OK) {
    return Error{"webhook-unavailable",
                 errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc), true};
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    std::replace(response.begin(), response.end(), '\n', ' ');
    return Error{"webhook-rejected", "HTTP " + std::to_string(status) + ": " + response,
                 status >= 500 || status == 429};
  }
  return ok_status();
}

}  // namespace orderflow::alerting::clients
