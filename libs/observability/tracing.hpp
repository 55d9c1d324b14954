#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "libs/observability/metrics.hpp"
#include "libs/observability/trace.hpp"

namespace orderflow::trace {

enum class SpanKind { kServer, kClient, kProducer, kConsumer };

// One finished span, as reported to Zipkin.
struct SpanData final {
  std::string trace_id;
  std::string id;
  std::string parent_id;  // empty for a root span
  std::string name;
  SpanKind kind = SpanKind::kServer;
  std::int64_t timestamp_us = 0;  // start, microseconds since the epoch
  std::int64_t duration_us = 0;
  std::vector<std::pair<std::string, std::string>> tags;
};

// Zipkin v2 JSON (POST /api/v2/spans): an array of span objects.
std::string to_zipkin_json(const std::vector<SpanData>& spans, std::string_view service);

class Tracer;

// One unit of work. Ends (and is queued for export) on end() or destruction. A span from a
// tracer that does not export still has a context, so trace ids flow either way.
class Span final {
 public:
  Span() = default;
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { end(); }

  const Context& context() const { return context_; }
  // "error" is shown as a failed span by Zipkin.
  void tag(std::string key, std::string value);
  void end();

 private:
  friend class Tracer;
  Tracer* tracer_ = nullptr;  // nullptr: not recorded
  Context context_;
  SpanData data_;
  std::chrono::steady_clock::time_point started_;
};

struct TracerOptions final {
  std::string service;
  std::string zipkin_url;             // empty: spans are not exported
  std::size_t queue_capacity = 4096;  // finished spans waiting for export; more are dropped
  std::size_t batch_size = 100;
  std::chrono::milliseconds flush_interval{500};
  std::chrono::milliseconds timeout{2000};  // per POST
};

// Makes spans and exports finished ones to Zipkin in batches from its own thread. Ending a
// span never blocks: when the bounded queue is full, or a POST fails or times out, spans are
// dropped and counted in tracing_spans_dropped_total{reason}.
class Tracer final {
 public:
  // Sends one JSON batch; returns whether the collector accepted it.
  using Sender = std::function<bool(const std::string& json)>;

  Tracer(TracerOptions options, metrics::Registry& registry);
  // With an explicit sender (tests); exports even without zipkin_url.
  Tracer(TracerOptions options, metrics::Registry& registry, Sender sender);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  bool exporting() const { return static_cast<bool>(sender_); }
  const std::string& service() const { return options_.service; }

  // A child span of `parent`, or the root of a new trace when parent is nullptr.
  Span start(std::string name, SpanKind kind, const Context* parent);
  // Continues a W3C traceparent (HTTP header, Kafka record header) when valid.
  Span start(std::string name, SpanKind kind, std::string_view traceparent);

  // Sends what is queued (within the POST timeout) and stops the export thread. Idempotent.
  void stop();

 private:
  friend class Span;
  void submit(SpanData&& span);
  void run();

  TracerOptions options_;
  Sender sender_;
  metrics::Family<metrics::Counter>& dropped_;
  metrics::Counter& dropped_full_;
  metrics::Counter& dropped_failed_;
  metrics::Counter& exported_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SpanData> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// A Sender that POSTs to a Zipkin v2 URL with libcurl (one keep-alive handle; call it from
// one thread only).
Tracer::Sender zipkin_http_sender(std::string url, std::chrono::milliseconds timeout);

}  // namespace orderflow::trace
