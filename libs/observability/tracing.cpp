#include "libs/observability/tracing.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <memory>

#include "libs/common/thread_name.hpp"
#include "libs/observability/log.hpp"

namespace orderflow::trace {
namespace {

const char* kind_name(SpanKind kind) {
  switch (kind) {
    case SpanKind::kServer:
      return "SERVER";
    case SpanKind::kClient:
      return "CLIENT";
    case SpanKind::kProducer:
      return "PRODUCER";
    case SpanKind::kConsumer:
      return "CONSUMER";
  }
  return "SERVER";
}

std::int64_t epoch_us(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string to_zipkin_json(const std::vector<SpanData>& spans, std::string_view service) {
  boost::json::array out;
  out.reserve(spans.size());
  for (const auto& s : spans) {
    boost::json::object o;
    o["traceId"] = s.trace_id;
    o["id"] = s.id;
    if (!s.parent_id.empty()) o["parentId"] = s.parent_id;
    o["name"] = s.name;
    o["kind"] = kind_name(s.kind);
    o["timestamp"] = s.timestamp_us;
    o["duration"] = std::max<std::int64_t>(s.duration_us, 1);  // Zipkin reads 0 as "unknown"
    o["localEndpoint"] = boost::json::object{{"serviceName", service}};
    if (!s.tags.empty()) {
      boost::json::object tags;
      for (const auto& [k, v] : s.tags) tags[k] = v;
      o["tags"] = std::move(tags);
    }
    out.push_back(std::move(o));
  }
  return boost::json::serialize(out);
}

// --- Span -------------------------------------------------------------------------------

Span::Span(Span&& other) noexcept
    : tracer_(std::exchange(other.tracer_, nullptr)),
      context_(std::move(other.context_)),
      data_(std::move(other.data_)),
      started_(other.started_) {}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    end();
    tracer_ = std::exchange(other.tracer_, nullptr);
    context_ = std::move(other.context_);
    data_ = std::move(other.data_);
    started_ = other.started_;
  }
  return *this;
}

void Span::tag(std::string key, std::string value) {
  if (tracer_ != nullptr) data_.tags.emplace_back(std::move(key), std::move(value));
}

void Span::end() {
  if (tracer_ == nullptr) return;
  data_.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started_)
                          .count();
  std::exchange(tracer_, nullptr)->submit(std::move(data_));
}

// --- Tracer -----------------------------------------------------------------------------

Tracer::Tracer(TracerOptions options, metrics::Registry& registry)
    : Tracer(options, registry,
             options.zipkin_url.empty() ? Sender{}
                                        : zipkin_http_sender(options.zipkin_url, options.timeout)) {
}

namespace {
metrics::Family<metrics::Counter>& dropped_family(metrics::Registry& registry) {
  return registry.counter("tracing_spans_dropped_total",
                          "Finished spans not exported: the queue was full or the collector failed",
                          {"reason"});
}
}  // namespace

Tracer::Tracer(TracerOptions options, metrics::Registry& registry, Sender sender)
    : options_(std::move(options)),
      sender_(std::move(sender)),
      dropped_(dropped_family(registry)),
      dropped_full_(dropped_.with({"queue-full"})),
      dropped_failed_(dropped_.with({"export-failed"})),
      exported_(registry.counter("tracing_spans_exported_total", "Spans accepted by the collector")
                    .with({})) {
  if (sender_) thread_ = std::thread([this] {
      name_this_thread("zipkin-export");
      run();
    });
}

Tracer::~Tracer() { stop(); }

Span Tracer::start(std::string name, SpanKind kind, const Context* parent) {
  Span span;
  span.context_ = parent != nullptr ? parent->child() : Context::root();
  if (exporting() && span.context_.sampled) {
    span.tracer_ = this;
    span.started_ = std::chrono::steady_clock::now();
    span.data_.trace_id = span.context_.trace_id;
    span.data_.id = span.context_.span_id;
    span.data_.parent_id = span.context_.parent_span_id;
    span.data_.name = std::move(name);
    span.data_.kind = kind;
    span.data_.timestamp_us = epoch_us(std::chrono::system_clock::now());
  }
  return span;
}

Span Tracer::start(std::string name, SpanKind kind, std::string_view traceparent) {
  auto parent = Context::parse(traceparent);
  return start(std::move(name), kind, parent ? &*parent : nullptr);
}

void Tracer::submit(SpanData&& span) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.queue_capacity) {
      dropped_full_.inc();
      return;
    }
    queue_.push_back(std::move(span));
    wake = queue_.size() >= options_.batch_size;
  }
  if (wake) cv_.notify_one();
}

void Tracer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Tracer::run() {
  for (;;) {
    std::vector<SpanData> batch;
    bool last = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.flush_interval,
                   [this] { return stopping_ || queue_.size() >= options_.batch_size; });
      const auto n = std::min(queue_.size(), options_.batch_size);
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      last = stopping_ && queue_.empty();
    }
    if (!batch.empty()) {
      bool accepted = false;
      try {
        accepted = sender_(to_zipkin_json(batch, options_.service));
      } catch (const std::exception& e) {
        log::warn("span export failed", {{"error", e.what()}});
      }
      (accepted ? exported_ : dropped_failed_).inc(batch.size());
    }
    if (last) return;
  }
}

// --- libcurl sender ---------------------------------------------------------------------

Tracer::Sender zipkin_http_sender(std::string url, std::chrono::milliseconds timeout) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  struct State {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(), &curl_easy_cleanup};
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers{
        curl_slist_append(nullptr, "Content-Type: application/json"), &curl_slist_free_all};
    std::chrono::steady_clock::time_point quiet_until{};  // logs a failing collector once a minute
  };
  auto state = std::make_shared<State>();
  return [state, url = std::move(url), timeout](const std::string& json) {
    CURL* c = state->curl.get();
    if (c == nullptr) return false;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, state->headers.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(json.size()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(
        c, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
    auto rc = curl_easy_perform(c);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    const bool accepted = rc == CURLE_OK && status >= 200 && status < 300;
    if (!accepted && std::chrono::steady_clock::now() >= state->quiet_until) {
      state->quiet_until = std::chrono::steady_clock::now() + std::chrono::minutes(1);
      log::warn("zipkin rejected or unreachable; dropping spans",
                {{"url", url},
                 {"error", rc == CURLE_OK ? "HTTP " + std::to_string(status)
                                          : std::string(curl_easy_strerror(rc))}});
    }
    return accepted;
  };
}

}  // namespace orderflow::trace
