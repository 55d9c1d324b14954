// libFuzzer target: a consumed Kafka record (value and headers) through the event decoder
// every consumer runs first (CloudEvents headers, JSON value, schemaVersion), then the
// payload parser of each event type.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <algorithm>

#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"

namespace {

// Header names the decoder looks for, so the fuzzer reaches past the first check often.
constexpr const char* kNames[] = {"ce_id", "ce_type", "ce_source", "ce_time", "ce_specversion",
                                  "ce_correlationid", "traceparent", "content-type", "x-other"};

// Cuts the input into the parts of a record: a byte is a choice or a length, then that
// many bytes (fewer at the end). A plain reader rather than libFuzzer's FuzzedDataProvider
// so the replay driver builds with any compiler.
class Reader final {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}
  unsigned byte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<unsigned char>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  std::string text(std::size_t max) {
    auto n = std::min<std::size_t>(byte() % (max + 1), rest_.size());
    std::string out(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return out;
  }
  std::string remaining() { return std::string(std::exchange(rest_, {})); }

 private:
  std::string_view rest_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace orderflow;
  constexpr const char* kTopics[] = {events::kOrderEvents, events::kPaymentEvents, events::kPaymentRetry};
  Reader in(data, size);
  kafka::Record record;
  record.topic = kTopics[in.byte() % 3];
  record.key = in.text(64);
  const auto headers = in.byte() % 13;
  for (unsigned i = 0; i < headers; ++i) {
    const auto pick = in.byte();
    std::string name = pick < 200 ? std::string(kNames[pick % std::size(kNames)]) : in.text(32);
    record.headers.emplace_back(std::move(name), in.text(128));
  }
  record.value = in.remaining();

  auto decoded = events::decode(record);
  if (!decoded.ok()) {
    if (decoded.error().code.empty()) __builtin_trap();  // the DLQ reason is always named
    return 0;
  }
  const auto& d = decoded.value();
  (void)events::parse_order_created(d.payload);
  (void)events::parse_order_outcome(d.payload, true);
  (void)events::parse_order_outcome(d.payload, false);
  (void)events::parse_payment_result(d.payload, true);
  (void)events::parse_payment_result(d.payload, false);
  return 0;
}
