// orderflow-loadgen: drives POST /place-order (or any POST path) over many keep-alive
// HTTP/1.1 connections and measures
//   L1  request latency (intended send time -> response), in microseconds;
//   L2  intended send time -> the order's OrderConfirmed event seen on `order-events`;
//   T1  confirmed orders per second, and whether every accepted order was confirmed.
//
// Open loop (--rate R): request i is due at start + i/R whatever happened to earlier ones;
// a request that waits for a free connection is late, and its latency still counts from
// when it was due. That is what keeps coordinated omission out: a stall shows up as the
// latency of every request that should have been sent during it.
// Closed loop (--rate 0): every connection sends its next request as soon as the previous
// answer arrives; latency counts from the actual send. This finds the maximum throughput.
//
// L2 uses one clock: the loadgen's steady clock at the intended send time and at the
// moment its own Kafka consumer receives the OrderConfirmed record. Broker or producer
// timestamps would mix another process's wall clock into a sub-millisecond difference;
// the receive time includes the consumer's fetch, which is what a client would also see.
//
// SIGUSR1 ends the load early (requests in flight are answered and counted): a driver that
// places orders "while something else happens" stops it when that is over.
//
// Output: a human summary on stderr, one JSON document on stdout (or --json FILE).
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/loadgen/histogram.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using asio::ip::tcp;

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "8081";
  std::string path = "/place-order";
  double rate = 0;  // requests/s; 0 = closed loop
  double duration_s = 10;
  double warmup_s = 1;  // sent but not recorded
  int connections = 64;
  std::string kafka;  // bootstrap; empty: no L2
  std::string topic = "order-events";
  double drain_s = 30;  // after the load: how long to wait for the last confirmations
  std::uint64_t max_requests = 0;  // closed loop: stop after this many sends (0: no cap)
  std::string json_out;
  std::string label;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "orderflow-loadgen: %s\n"
               "  --target HOST:PORT (127.0.0.1:8081)  --path /place-order\n"
               "  --rate R (requests/s; 0 = closed loop, the default)  --duration S (10)  --warmup S (1)\n"
               "  --connections N (64)  --kafka BOOTSTRAP (measure L2/T1 on --topic order-events)\n"
               "  --drain S (30: wait for confirmations after the load)  --json FILE  --label TEXT\n"
               "  --max-requests N (closed loop: stop after N requests, so the backlog behind them stays drainable)\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--target") {
      auto v = value();
      auto colon = v.rfind(':');
      if (colon == std::string::npos) usage("--target wants HOST:PORT");
      o.host = v.substr(0, colon);
      o.port = v.substr(colon + 1);
    } else if (a == "--path") o.path = value();
    else if (a == "--rate") o.rate = std::stod(value());
    else if (a == "--duration") o.duration_s = std::stod(value());
    else if (a == "--warmup") o.warmup_s = std::stod(value());
    else if (a == "--connections") o.connections = std::stoi(value());
    else if (a == "--kafka") o.kafka = value();
    else if (a == "--topic") o.topic = value();
    else if (a == "--drain") o.drain_s = std::stod(value());
    else if (a == "--max-requests") o.max_requests = std::stoull(value());
    else if (a == "--json") o.json_out = value();
    else if (a == "--label") o.label = value();
    else usage(("unknown option " + a).c_str());
  }
  if (o.connections < 1 || o.duration_s <= 0 || o.rate < 0) usage("bad numbers");
  return o;
}

// Realistic bodies (SPEC §2): a few thousand customers, 1-4 line items from a catalogue,
// EUR/USD/GBP, cards that the simulated gateway accepts, so every order should confirm.
class Bodies final {
 public:
  Bodies() {
    std::mt19937 rng(42);
    const char* currencies[] = {"EUR", "USD", "GBP"};
    const char* tokens[] = {"tok_visa", "tok_mastercard"};
    for (int i = 0; i < 1024; ++i) {
      int customer = static_cast<int>(rng() % 5000);
      json::array items;
      int n = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < n; ++k) {
        int cents = 199 + static_cast<int>(rng() % 9800);
        char price[32];
        std::snprintf(price, sizeof price, "%d.%02d", cents / 100, cents % 100);
        items.push_back({{"sku", "SKU-" + std::to_string(1000 + rng() % 900)},
                         {"quantity", 1 + static_cast<int>(rng() % 3)},
                         {"unitPrice", price}});
      }
      bodies_.push_back(json::serialize(json::object{
          {"customerId", "c-" + std::to_string(customer)},
          {"customerEmail", "customer" + std::to_string(customer) + "@example.com"},
          {"currency", currencies[rng() % 3]},
          {"items", std::move(items)},
          {"paymentToken", tokens[rng() % 2]}}));
    }
  }
  const std::string& next() { return bodies_[next_++ % bodies_.size()]; }

 private:
  std::vector<std::string> bodies_;
  std::size_t next_ = 0;
};

std::uint64_t micros(Clock::duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

// Orders in flight between "accepted" (HTTP) and "confirmed" (Kafka), shared by the HTTP
// thread and the consumer thread. Either side may come first.
class Confirmations final {
 public:
  void accepted(const std::string& order_id, Clock::time_point due, bool recorded) {
    std::lock_guard lock(mu_);
    ++accepted_;
    if (auto it = early_.find(order_id); it != early_.end()) {
      finish(due, it->second, recorded);
      early_.erase(it);
      return;
    }
    waiting_.emplace(order_id, std::make_pair(due, recorded));
  }
  void confirmed(const std::string& order_id, Clock::time_point seen) {
    std::lock_guard lock(mu_);
    auto it = waiting_.find(order_id);
    if (it == waiting_.end()) {
      early_.emplace(order_id, seen);  // its HTTP answer is still on its way (or not ours)
      return;
    }
    finish(it->second.first, seen, it->second.second);
    waiting_.erase(it);
  }
  void failed() { ++failed_; }
  std::uint64_t accepted_count() {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  std::uint64_t confirmed_count() {
    std::lock_guard lock(mu_);
    return confirmed_;
  }
  std::uint64_t failed_count() const { return failed_.load(); }
  Clock::time_point last_confirmation() {
    std::lock_guard lock(mu_);
    return last_;
  }
  std::uint64_t confirmed_at_or_before(Clock::time_point t) {
    std::lock_guard lock(mu_);
    std::uint64_t n = 0;
    for (auto c : confirm_times_) n += c <= t ? 1 : 0;
    return n;
  }
  std::vector<Clock::time_point> confirm_times() {
    std::lock_guard lock(mu_);
    return confirm_times_;
  }
  orderflow::bench::Histogram histogram() {
    std::lock_guard lock(mu_);
    return l2_;
  }

 private:
  void finish(Clock::time_point due, Clock::time_point seen, bool recorded) {
    ++confirmed_;
    last_ = std::max(last_, seen);
    confirm_times_.push_back(seen);
    if (recorded) l2_.record(micros(seen - due));
  }

  std::mutex mu_;
  std::unordered_map<std::string, std::pair<Clock::time_point, bool>> waiting_;
  std::unordered_map<std::string, Clock::time_point> early_;
  std::uint64_t accepted_ = 0, confirmed_ = 0;
  std::atomic<std::uint64_t> failed_{0};
  Clock::time_point last_{};
  std::vector<Clock::time_point> confirm_times_;
  orderflow::bench::Histogram l2_;
};

// Reads `order-events` from its current end (assigned before the load starts, so no
// record of this run is missed) and reports OrderConfirmed / OrderFailed by order id.
class EventWatcher final {
 public:
  EventWatcher(const Options& o, Confirmations& c) : confirmations_(c) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const char* k, const char* v) {
      if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) throw std::runtime_error(err);
    };
    set("bootstrap.servers", o.kafka.c_str());
    set("group.id", "orderflow-loadgen");  // never commits: assign() with explicit offsets
    set("enable.auto.commit", "false");
    set("fetch.wait.max.ms", "500");  // a record answers a waiting fetch at once: no latency cost
    set("fetch.min.bytes", "1");
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk_) throw std::runtime_error(std::string("consumer: ") + err);
    rd_kafka_poll_set_consumer(rk_);

    rd_kafka_topic_t* t = rd_kafka_topic_new(rk_, o.topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk_, 0, t, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
        md->topics[0].err) {
      throw std::runtime_error("no metadata for topic " + o.topic + " (is the stack up?)");
    }
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
      int32_t p = md->topics[0].partitions[i].id;
      int64_t low = 0, high = 0;
      rd_kafka_query_watermark_offsets(rk_, o.topic.c_str(), p, &low, &high, 10000);
      rd_kafka_topic_partition_list_add(parts, o.topic.c_str(), p)->offset = high;
    }
    partitions_ = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    rd_kafka_assign(rk_, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    thread_ = std::thread([this] { run(); });
  }
  ~EventWatcher() {
    stop_ = true;
    thread_.join();
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
  int partitions() const { return partitions_; }

 private:
  void run() {
    while (!stop_) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 50);
      if (!m) continue;
      auto seen = Clock::now();
      if (!m->err && m->key) {
        std::string type;
        rd_kafka_headers_t* hdrs = nullptr;
        const void* v = nullptr;
        size_t n = 0;
        if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            rd_kafka_header_get_last(hdrs, "ce_type", &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          type.assign(static_cast<const char*>(v), n);
        }
        std::string key(static_cast<const char*>(m->key), m->key_len);
        if (type == "OrderConfirmed") confirmations_.confirmed(key, seen);
        else if (type == "OrderFailed") confirmations_.failed();
      }
      rd_kafka_message_destroy(m);
    }
  }

  Confirmations& confirmations_;
  rd_kafka_t* rk_ = nullptr;
  int partitions_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct Stats {
  orderflow::bench::Histogram l1;
  std::uint64_t sent = 0, ok = 0, errors = 0, late = 0;
  std::map<int, std::uint64_t> status;
  std::vector<Clock::time_point> ok_times;
};

class Load final {
 public:
  Load(const Options& o, Confirmations* c) : o_(o), confirmations_(c) {}

  void run() {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    endpoints_ = resolver.resolve(o_.host, o_.port);
    start_ = Clock::now() + std::chrono::milliseconds(50);
    record_from_ = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.warmup_s));
    end_ = record_from_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.duration_s));
    wakeups_.reserve(static_cast<std::size_t>(o_.connections));
    for (int i = 0; i < o_.connections; ++i) {
      auto w = std::make_unique<asio::steady_timer>(ioc);
      wakeups_.push_back(std::move(w));
    }
    // SIGUSR1: the load ends now. The signal set is cancelled once the last connection is
    // done, so that run() returns.
    asio::signal_set stop(ioc, SIGUSR1);
    stop_ = &stop;
    stop.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      end_ = std::min(end_, std::max(Clock::now(), record_from_));
      stopped_early_ = true;
    });
    active_ = o_.connections;
    for (int i = 0; i < o_.connections; ++i) asio::co_spawn(ioc, connection(i), asio::detached);
    if (o_.rate > 0) asio::co_spawn(ioc, schedule(), asio::detached);
    ioc.run();
    stop_ = nullptr;
  }

  bool stopped_early() const { return stopped_early_; }

  Stats& stats() { return stats_; }
  Clock::time_point record_from() const { return record_from_; }
  Clock::time_point end() const { return end_; }
  Clock::time_point start() const { return start_; }

 private:
  // Open loop: puts every due send time on the queue and wakes an idle connection.
  asio::awaitable<void> schedule() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto period = std::chrono::duration<double>(1.0 / o_.rate);
    std::uint64_t i = 0;
    for (;;) {
      auto now = Clock::now();
      for (;;) {
        auto due = start_ + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i));
        if (due > now) {
          timer.expires_at(due);
          break;
        }
        if (due >= end_) {
          done_ = true;
          wake_all();
          co_return;
        }
        due_.push_back(due);
        ++i;
      }
      while (!due_.empty() && !idle_.empty()) {
        auto w = idle_.back();
        idle_.pop_back();
        wakeups_[static_cast<std::size_t>(w)]->cancel();
      }
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  void wake_all() {
    for (auto& w : wakeups_) w->cancel();
    idle_.clear();
  }

  // Next send: (due time, measured?) or nothing when the run is over.
  asio::awaitable<std::optional<Clock::time_point>> next(int id) {
    if (o_.rate <= 0) {
      auto now = Clock::now();
      if (now < start_) {
        asio::steady_timer t(co_await asio::this_coro::executor, start_);
        co_await t.async_wait(asio::use_awaitable);
        now = Clock::now();
      }
      if (now >= end_ || (o_.max_requests > 0 && issued_ >= o_.max_requests)) {
        end_ = std::min(end_, now);  // the measured window ends with the last request
        co_return std::nullopt;
      }
      ++issued_;
      co_return now;
    }
    while (due_.empty()) {
      if (done_) co_return std::nullopt;
      idle_.push_back(id);
      auto& w = *wakeups_[static_cast<std::size_t>(id)];
      w.expires_at(Clock::time_point::max());
      boost::system::error_code ec;
      co_await w.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    auto due = due_.front();
    due_.pop_front();
    co_return due;
  }

  asio::awaitable<void> connection(int id) {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    beast::flat_buffer buffer;
    bool connected = false;
    for (;;) {
      auto due = co_await next(id);
      if (!due) break;
      const bool recorded = *due >= record_from_;
      const auto sent_at = Clock::now();
      if (recorded && sent_at - *due > std::chrono::milliseconds(1)) ++stats_.late;
      bhttp::request<bhttp::string_body> req{bhttp::verb::post, o_.path, 11};
      req.set(bhttp::field::host, o_.host);
      req.set(bhttp::field::content_type, "application/json");
      req.keep_alive(true);
      req.body() = bodies_.next();
      req.prepare_payload();
      boost::system::error_code ec;
      bhttp::response<bhttp::string_body> res;
      if (!connected) {
        stream.expires_after(std::chrono::seconds(10));
        co_await stream.async_connect(endpoints_, asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) {
          stream.socket().set_option(tcp::no_delay(true));
          connected = true;
        }
      }
      if (!ec) {
        stream.expires_after(std::chrono::seconds(30));
        co_await bhttp::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
      }
      if (!ec) co_await bhttp::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
      const auto answered = Clock::now();
      if (recorded) ++stats_.sent;
      if (ec) {
        if (recorded) ++stats_.errors;
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.close();
        connected = false;
        buffer.clear();
        continue;
      }
      const int code = static_cast<int>(res.result_int());
      if (recorded) {
        ++stats_.status[code];
        stats_.l1.record(micros(answered - *due));
      }
      if (code >= 200 && code < 300) {
        if (recorded) {
          ++stats_.ok;
          stats_.ok_times.push_back(answered);
        }
        if (confirmations_ && code == 202) {
          auto at = res.body().find("\"orderId\":\"");
          if (at != std::string::npos) {
            at += 11;
            auto stop = res.body().find('"', at);
            confirmations_->accepted(res.body().substr(at, stop - at), *due, recorded);
          }
        }
      }
      if (!res.keep_alive()) {
        stream.close();
        connected = false;
      }
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (--active_ == 0 && stop_ != nullptr) stop_->cancel();
  }

  const Options& o_;
  Confirmations* confirmations_;
  asio::signal_set* stop_ = nullptr;
  int active_ = 0;
  bool stopped_early_ = false;
  tcp::resolver::results_type endpoints_;
  Bodies bodies_;
  Stats stats_;
  Clock::time_point start_, record_from_, end_;
  std::deque<Clock::time_point> due_;
  std::vector<int> idle_;
  std::vector<std::unique_ptr<asio::steady_timer>> wakeups_;
  bool done_ = false;
  std::uint64_t issued_ = 0;
};

json::object summary(const orderflow::bench::Histogram& h) {
  return {{"count", h.count()},           {"mean_us", h.mean()},
          {"p50_us", h.percentile(50)},   {"p90_us", h.percentile(90)},
          {"p99_us", h.percentile(99)},   {"p99_9_us", h.percentile(99.9)},
          {"max_us", h.max()},            {"min_us", h.min()}};
}

// Events per second, second by second from `from`.
json::array per_second(const std::vector<Clock::time_point>& times, Clock::time_point from, Clock::time_point to) {
  auto seconds = static_cast<std::size_t>(std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(to - from + std::chrono::milliseconds(999)).count()));
  std::vector<std::uint64_t> buckets(seconds, 0);
  for (auto t : times) {
    if (t < from) continue;
    auto s = static_cast<std::size_t>(std::chrono::duration_cast<std::chrono::seconds>(t - from).count());
    if (s < buckets.size()) ++buckets[s];
  }
  json::array a;
  for (auto b : buckets) a.push_back(b);
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    Confirmations confirmations;
    std::unique_ptr<EventWatcher> watcher;
    if (!o.kafka.empty()) watcher = std::make_unique<EventWatcher>(o, confirmations);

    Load load(o, o.kafka.empty() ? nullptr : &confirmations);
    load.run();
    auto& s = load.stats();
    const double measured =
        std::max(1e-3, std::chrono::duration<double>(load.end() - load.record_from()).count());

    json::object out{{"label", o.label},
                     {"mode", o.rate > 0 ? "open" : "closed"},
                     {"offered_rps", o.rate},
                     {"duration_s", o.duration_s},
                     {"warmup_s", o.warmup_s},
                     {"connections", o.connections},
                     {"path", o.path},
                     {"sent", s.sent},
                     {"ok", s.ok},
                     {"errors", s.errors},
                     {"late_sends", s.late},
                     {"achieved_rps", static_cast<double>(s.ok) / measured},
                     {"l1", summary(s.l1)},
                     {"stopped_early", load.stopped_early()},
                     {"ok_per_second", per_second(s.ok_times, load.record_from(), load.end())}};
    json::object status;
    for (auto [code, n] : s.status) status[std::to_string(code)] = n;
    out["status"] = std::move(status);

    if (watcher) {
      // Wait for the confirmations of everything accepted, or give up after --drain.
      const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.drain_s));
      while (Clock::now() < deadline &&
             confirmations.confirmed_count() + confirmations.failed_count() < confirmations.accepted_count()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      const int partitions = watcher->partitions();
      watcher.reset();
      auto accepted = confirmations.accepted_count();
      auto confirmed = confirmations.confirmed_count();
      auto last = confirmations.last_confirmation();
      // T1: confirmations per second while the load ran (steady state), and overall from
      // the first send to the last confirmation (includes draining any backlog).
      const double window = std::chrono::duration<double>(std::max(last, load.end()) - load.start()).count();
      const auto in_window = confirmations.confirmed_at_or_before(load.end()) -
                             confirmations.confirmed_at_or_before(load.record_from());
      out["kafka"] = json::object{
          {"partitions", partitions},
          {"accepted", accepted},
          {"confirmed", confirmed},
          {"failed", confirmations.failed_count()},
          {"missing", accepted - std::min(accepted, confirmed + confirmations.failed_count())},
          {"confirmed_per_s_during_load", static_cast<double>(in_window) / measured},
          {"confirmed_per_s_overall", window > 0 ? static_cast<double>(confirmed) / window : 0.0},
          {"l2", summary(confirmations.histogram())},
          {"confirmed_per_second", per_second(confirmations.confirm_times(), load.record_from(),
                                              std::max(last, load.end()))}};
    }

    auto text = json::serialize(out);
    if (o.json_out.empty()) std::cout << text << "\n";
    else std::ofstream(o.json_out) << text << "\n";

    std::fprintf(stderr, "%s %s: %llu sent, %llu ok, %llu errors, %.0f/s; L1 p50 %llu us p99 %llu us p99.9 %llu us\n",
                 o.label.c_str(), o.rate > 0 ? "open" : "closed", static_cast<unsigned long long>(s.sent),
                 static_cast<unsigned long long>(s.ok), static_cast<unsigned long long>(s.errors),
                 static_cast<double>(s.ok) / measured, static_cast<unsigned long long>(s.l1.percentile(50)),
                 static_cast<unsigned long long>(s.l1.percentile(99)),
                 static_cast<unsigned long long>(s.l1.percentile(99.9)));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "orderflow-loadgen: %s\n", e.what());
    return 1;
  }
}
