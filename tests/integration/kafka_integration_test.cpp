// Against a real broker: records round-trip with their CloudEvents headers, a poison record
// goes to the DLQ without stopping the partition, and the outbox relay publishes exactly
// what was committed.
#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <thread>

#include "libs/common/ids.hpp"
#include "libs/common/time.hpp"
#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"
#include "libs/kafka/admin.hpp"
#include "libs/kafka/consumer.hpp"
#include "libs/kafka/batch_loop.hpp"
#include "libs/kafka/dlq.hpp"
#include "libs/kafka/key_parking.hpp"
#include "libs/kafka/sqlite_parking_store.hpp"
#include "libs/kafka/producer.hpp"
#include "libs/observability/metrics.hpp"
#include "services/order/outbox/relay.hpp"
#include "services/payment/consumers/order_events.hpp"

namespace orderflow {
namespace {

using namespace std::chrono_literals;

kafka::ClientConfig broker() {
  kafka::ClientConfig c;
  const char* b = std::getenv("ORDERFLOW_KAFKA_BOOTSTRAP");
  c.bootstrap = b && *b ? b : "127.0.0.1:9092";
  return c;
}

// Reads `topic` from the beginning with a fresh group until `done(records)` holds or the
// deadline passes; returns what it read.
std::vector<kafka::Record> consume_until(const std::string& topic,
                                         const std::function<bool(const std::vector<kafka::Record>&)>& done,
                                         std::chrono::seconds deadline = 60s) {
  kafka::Consumer consumer(broker(), "it-reader-" + ids::uuid(), {topic}, "it-reader");
  std::vector<kafka::Record> seen;
  auto until = std::chrono::steady_clock::now() + deadline;
  // A poll's worth at a time, keeping only records produced since this test program
  // started (a minute's slack for clocks): a long-lived broker's shared topics
  // (payment-events, the DLQs) hold hundreds of thousands of records before the ones a test
  // waits for, and `done` looks at everything kept after every poll.
  static const std::int64_t since_ms = now_epoch_ms() - 60'000;
  while (!done(seen) && std::chrono::steady_clock::now() < until) {
    for (auto& r : consumer.poll_batch(1000, 200ms)) {
      if (r.timestamp_ms == 0 || r.timestamp_ms >= since_ms) seen.push_back(std::move(r));
    }
  }
  consumer.close();
  return seen;
}

// Polls `done` until it holds or the deadline passes.
bool wait_until(const std::function<bool()>& done, std::chrono::seconds deadline = 60s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
  return done();
}

// How many values a handler recorded by key so far (under its mutex).
std::size_t values_seen(std::mutex& mu, const std::map<std::string, std::vector<int>>& seen) {
  std::lock_guard lock(mu);
  std::size_t n = 0;
  for (const auto& [k, v] : seen) n += v.size();
  return n;
}

class KafkaIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ping = producer_.ping(10s);
    ASSERT_TRUE(ping) << "no Kafka broker at " << broker().bootstrap << ": " << ping.error().message;
  }
  kafka::Producer producer_{broker(), "integration-test"};
};

TEST_F(KafkaIntegration, RecordRoundTripsWithCloudEventsHeaders) {
  const std::string topic = "it-roundtrip-" + ids::uuid();
  ASSERT_TRUE(kafka::ensure_topics(producer_, {{topic, 3, 1}}));
  auto ce = events::CloudEvent::make("OrderCreated", "integration-test", "corr-" + ids::uuid(), trace::Context::root());
  auto rec = events::encode(topic, "order-1", ce, {{"orderId", "order-1"}});
  ASSERT_TRUE(producer_.send_sync(rec));

  auto seen = consume_until(topic, [](const auto& r) { return !r.empty(); });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].key, "order-1");
  EXPECT_GE(seen[0].offset, 0);
  auto decoded = events::decode(seen[0]);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->ce.id, ce.id);
  EXPECT_EQ(decoded->ce.type, "OrderCreated");
  EXPECT_EQ(decoded->ce.correlation_id, ce.correlation_id);
  EXPECT_EQ(decoded->ce.traceparent, ce.traceparent);
  EXPECT_EQ(seen[0].header("content-type"), "application/json");
  EXPECT_EQ(decoded->payload.at("orderId").as_string(), "order-1");
}

TEST_F(KafkaIntegration, PoisonRecordGoesToDlqAndThePartitionKeepsFlowing) {
  // Same key = same partition: the good record sits right behind the poison one.
  const std::string key = "it-poison-" + ids::uuid();
  kafka::Record poison{events::kOrderEvents, key, "{not json", {{"ce_specversion", "1.0"}, {"ce_id", ids::uuid()},
                                                               {"ce_type", "OrderCreated"}, {"ce_source", "it"}}};
  ASSERT_TRUE(producer_.send_sync(poison));
  events::OrderCreated good{key, "c-1", "ann@example.com", "EUR", "25.00", "tok_visa", now_iso8601(), {{"B", 2, "12.50"}}};
  auto good_ce = events::CloudEvent::make(events::OrderCreated::kType, "it", "corr-" + key, trace::Context::root());
  ASSERT_TRUE(producer_.send_sync(events::encode(events::kOrderEvents, key, good_ce, events::to_json(good))));

  auto db = std::filesystem::temp_directory_path() / ("it-payment-" + ids::uuid() + ".db");
  metrics::Registry registry;
  payment::Probe probe(registry);
  payment::PaymentRepository repo(db.string());
  std::atomic<int> charges{0};
  auto charger = [&](http::Request req) -> Result<http::Response> {
    EXPECT_EQ(req["Idempotency-Key"], key);
    ++charges;
    http::Response res{http::Status::ok, 11};
    res.body() = R"({"id":"ch_it","status":"succeeded"})";
    return res;
  };
  const std::string group = "it-payment-" + ids::uuid();
  payment::CircuitBreaker breaker({5, std::chrono::milliseconds(10000)});
  payment::OrderEventsConsumer handler(repo, producer_, probe, charger, breaker, {}, group,
                                       [](std::chrono::milliseconds) { return true; });
  std::set<std::string> handled_ids;
  std::mutex mu;
  kafka::Consumer consumer(broker(), group, {events::kOrderEvents}, "it-payment");
  kafka::ConsumerLoop loop(consumer, [&](const kafka::Record& r) {
    if (r.key != key) return;  // other tests' orders share the topic
    handler.handle(r);
    std::lock_guard lock(mu);
    handled_ids.insert(r.header("ce_id").value_or(""));
  }, "it");
  loop.start();

  // A running payment-service may dead-letter the same poison record: ours carries our group.
  auto ours = [&](const kafka::Record& r) { return r.key == key && r.header("dlq-consumer-group") == group; };
  auto dlq = consume_until(kafka::dlq_topic("payment-service"), [&](const auto& recs) {
    return std::any_of(recs.begin(), recs.end(), ours);
  });
  auto payments = consume_until(events::kPaymentEvents, [&](const auto& recs) {
    return std::any_of(recs.begin(), recs.end(), [&](const kafka::Record& r) { return r.key == key; });
  });
  loop.stop();

  const kafka::Record* dead = nullptr;
  for (const auto& r : dlq) {
    if (ours(r)) dead = &r;
  }
  ASSERT_NE(dead, nullptr) << "poison record not in payment-service.dlq";
  EXPECT_EQ(dead->value, "{not json");
  EXPECT_EQ(dead->header("dlq-reason"), "malformed-event");
  EXPECT_EQ(dead->header("dlq-original-topic"), "order-events");
  EXPECT_EQ(dead->header("dlq-consumer-group"), group);
  EXPECT_EQ(dead->header("dlq-attempts"), "1");
  EXPECT_TRUE(dead->header("dlq-original-offset"));

  const kafka::Record* success = nullptr;
  for (const auto& r : payments) {
    if (r.key == key) success = &r;
  }
  ASSERT_NE(success, nullptr) << "the good record behind the poison one was not processed";
  EXPECT_EQ(success->header("ce_type"), "PaymentSuccess");
  EXPECT_EQ(success->header("ce_correlationid"), "corr-" + key);
  EXPECT_EQ(charges.load(), 1);
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
}

// A charge that keeps failing goes to payment-service.retry (the partition keeps flowing);
// when the gateway is back, the retry round charges once and announces PaymentSuccess.
TEST_F(KafkaIntegration, TransientFailureGoesThroughTheRetryTopicAndChargesOnce) {
  const std::string key = "it-retry-" + ids::uuid();
  events::OrderCreated created{key, "c-1", "ann@example.com", "EUR", "10.00", "tok_visa", now_iso8601(), {{"B", 1, "10.00"}}};
  auto ce = events::CloudEvent::make(events::OrderCreated::kType, "it", "corr-" + key, trace::Context::root());
  ASSERT_TRUE(producer_.send_sync(events::encode(events::kOrderEvents, key, ce, events::to_json(created))));
  ASSERT_TRUE(kafka::ensure_topics(producer_, {{events::kPaymentRetry, 6, 1}}));

  auto db = std::filesystem::temp_directory_path() / ("it-retry-" + ids::uuid() + ".db");
  metrics::Registry registry;
  payment::Probe probe(registry);
  payment::PaymentRepository repo(db.string());
  std::atomic<bool> gateway_up{false};
  std::atomic<int> posts{0};
  auto gateway = [&](http::Request req) -> Result<http::Response> {
    if (req.method() == http::Verb::get) {  // reconciliation lookup: nothing charged yet
      http::Response res{http::Status::ok, 11};
      res.body() = R"({"data":[]})";
      return res;
    }
    ++posts;
    http::Response res{gateway_up ? http::Status::ok : http::Status::service_unavailable, 11};
    res.body() = gateway_up ? R"({"id":"ch_retry","status":"succeeded"})" : R"({"error":{"code":"down"}})";
    return res;
  };
  payment::CircuitBreaker breaker({100, std::chrono::milliseconds(10000)});
  payment::ChargePolicy policy;
  policy.attempts = 2;
  policy.backoff_base = std::chrono::milliseconds(1);
  policy.retry = {3, std::chrono::milliseconds(200), std::chrono::milliseconds(400)};
  auto sleep = [](std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);
    return true;
  };
  const std::string group = "it-pay-" + ids::uuid();
  payment::OrderEventsConsumer first(repo, producer_, probe, gateway, breaker, policy, group, sleep);
  payment::OrderEventsConsumer retries(repo, producer_, probe, gateway, breaker, policy, group + "-retry", sleep);
  kafka::Consumer c1(broker(), group, {events::kOrderEvents}, "it");
  kafka::Consumer c2(broker(), group + "-retry", {events::kPaymentRetry}, "it");
  kafka::ConsumerLoop l1(c1, [&](const kafka::Record& r) {
    if (r.key == key) first.handle(r);
  }, "it");
  kafka::ConsumerLoop l2(c2, [&](const kafka::Record& r) {
    if (r.key != key) return;
    gateway_up = true;  // the gateway recovers before the retry round
    retries.handle(r);
  }, "it-retry");
  l1.start();
  l2.start();
  auto retry_records = consume_until(events::kPaymentRetry, [&](const auto& recs) {
    return std::any_of(recs.begin(), recs.end(), [&](const kafka::Record& r) { return r.key == key; });
  });
  auto payments = consume_until(events::kPaymentEvents, [&](const auto& recs) {
    return std::any_of(recs.begin(), recs.end(), [&](const kafka::Record& r) { return r.key == key; });
  });
  l2.stop();
  l1.stop();

  const kafka::Record* retry = nullptr;
  for (const auto& r : retry_records) {
    if (r.key == key) retry = &r;
  }
  ASSERT_NE(retry, nullptr);
  EXPECT_EQ(retry->header("retry-attempt"), "2");
  EXPECT_EQ(retry->header("retry-original-topic"), "order-events");
  EXPECT_EQ(retry->header("ce_id"), ce.id) << "the retry copy is the same event";
  EXPECT_TRUE(retry->header("retry-not-before"));
  int successes = 0;
  for (const auto& r : payments) {
    if (r.key == key) {
      EXPECT_EQ(r.header("ce_type"), "PaymentSuccess");
      ++successes;
    }
  }
  EXPECT_EQ(successes, 1);
  EXPECT_EQ(posts.load(), 3) << "two failed tries in round 1, one successful in round 2";
  auto row = repo.find(key);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, "SUCCEEDED");
  EXPECT_EQ(row->attempts, 2);
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
}

// A charge whose answer is lost (timeout after the request was sent) is reconciled by
// asking the gateway, not by charging again.
TEST_F(KafkaIntegration, UnknownChargeOutcomeIsReconciledNotRetried) {
  const std::string key = "it-reconcile-" + ids::uuid();
  events::OrderCreated created{key, "c-1", "ann@example.com", "EUR", "10.00", "tok_slow", now_iso8601(), {{"B", 1, "10.00"}}};
  auto ce = events::CloudEvent::make(events::OrderCreated::kType, "it", "corr-" + key, trace::Context::root());
  auto rec = events::encode(events::kOrderEvents, key, ce, events::to_json(created));

  auto db = std::filesystem::temp_directory_path() / ("it-reconcile-" + ids::uuid() + ".db");
  metrics::Registry registry;
  payment::Probe probe(registry);
  payment::PaymentRepository repo(db.string());
  int posts = 0, lookups = 0;
  auto gateway = [&](http::Request req) -> Result<http::Response> {
    if (req.method() == http::Verb::post) {
      ++posts;
      return Error{"timeout", "no response within deadline", true};
    }
    ++lookups;
    EXPECT_EQ(std::string(req.target()), "/v1/charges?orderId=" + key);
    http::Response res{http::Status::ok, 11};
    res.body() = R"({"data":[{"id":"ch_lost","status":"succeeded","idempotencyKey":")" + key + R"("}]})";
    return res;
  };
  payment::CircuitBreaker breaker({100, std::chrono::milliseconds(10000)});
  payment::OrderEventsConsumer handler(repo, producer_, probe, gateway, breaker, {}, "it-" + ids::uuid(),
                                       [](std::chrono::milliseconds) { return true; });
  rec.partition = 0;
  rec.offset = 0;
  handler.handle(rec);
  EXPECT_EQ(posts, 1);
  EXPECT_EQ(lookups, 1);
  auto row = repo.find(key);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, "SUCCEEDED");
  EXPECT_EQ(row->charge_id, "ch_lost");
  EXPECT_TRUE(row->published);
  handler.handle(rec);  // a redelivery: nothing new
  EXPECT_EQ(posts, 1);
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
}

TEST_F(KafkaIntegration, OutboxRelayPublishesExactlyWhatWasCommitted) {
  const std::string topic = "it-outbox-" + ids::uuid();
  ASSERT_TRUE(kafka::ensure_topics(producer_, {{topic, 6, 1}}));
  auto db = std::filesystem::temp_directory_path() / ("it-order-" + ids::uuid() + ".db");
  metrics::Registry registry;
  order::Probe probe(registry);
  order::OrderRepository repo(db.string());

  constexpr int kOrders = 200;
  std::map<std::string, std::string> committed;  // ce_id -> order id
  auto create = [&](int i) {
    order::NewOrder o;
    o.order_id = ids::uuid();
    o.command.customer_id = "c";
    o.command.customer_email = "c@example.com";
    o.command.currency = "EUR";
    o.command.payment_token = "tok_visa";
    o.command.total = Money::from_minor(100 + i);
    o.correlation_id = "corr";
    o.created_at = now_iso8601();
    o.items_json = "[]";
    auto ce = events::CloudEvent::make("OrderCreated", "order-service", "corr", trace::Context::root());
    o.event = events::encode(topic, o.order_id, ce, {{"orderId", o.order_id}, {"i", i}});
    committed[ce.id] = o.order_id;
    ASSERT_EQ(repo.create(o).kind, order::CreateOutcome::Kind::kCreated);
  };
  for (int i = 0; i < kOrders; ++i) create(i);
  ASSERT_EQ(repo.outbox_size(), kOrders);

  boost::asio::thread_pool pool(1);
  order::OutboxRelay relay(repo, producer_, probe, pool);
  relay.start();  // the rows committed before it: its first round
  ASSERT_TRUE(wait_until([&] { return repo.outbox_size() == 0; }));
  // Rows committed while the relay is idle go out when it is notified.
  for (int i = kOrders; i < kOrders + 50; ++i) create(i);
  relay.notify();
  auto seen = consume_until(topic, [&](const auto& recs) { return recs.size() >= committed.size(); });
  relay.stop();
  pool.join();

  std::map<std::string, int> count;
  for (const auto& r : seen) {
    auto id = r.header("ce_id").value_or("");
    ++count[id];
    ASSERT_TRUE(committed.contains(id)) << "published something never committed: " << id;
    EXPECT_EQ(committed[id], r.key);
  }
  EXPECT_EQ(count.size(), committed.size()) << "every committed event is published";
  for (const auto& [id, n] : count) EXPECT_EQ(n, 1) << id << " published " << n << " times";
  EXPECT_EQ(repo.outbox_size(), 0) << "the outbox is emptied once Kafka acknowledged";
  EXPECT_NE(registry.render().find("outbox_published_total " + std::to_string(kOrders + 50)), std::string::npos);
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
}

// Key parking on a real consumer: while key K is blocked (its record went to a retry or a
// DLQ), K's later records are parked and the consumer moves on — other keys flow, offsets
// are committed. The parked records survive a restart and come out in order when K is
// resolved; afterwards K's records go straight through again.
TEST_F(KafkaIntegration, LaterRecordsOfABlockedKeyWaitAndComeOutInOrderAfterARestart) {
  const std::string topic = "it-parking-" + ids::uuid();
  ASSERT_TRUE(kafka::ensure_topics(producer_, {{topic, 1, 1}}));
  const std::string group = "it-parking-" + ids::uuid();
  auto db = std::filesystem::temp_directory_path() / ("it-parking-" + ids::uuid() + ".db");
  auto send = [&](const std::string& key, const std::string& value) {
    ASSERT_TRUE(producer_.send_sync(kafka::Record{topic, key, value, {}}));
  };
  std::mutex mu;
  std::vector<std::string> handled;
  auto seen = [&] {
    std::lock_guard lock(mu);
    return handled;
  };
  auto wait_for = [&](const std::function<bool()>& done) {
    auto until = std::chrono::steady_clock::now() + 60s;
    while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
    return done();
  };

  send("k", "k1-retry");
  send("k", "k2");
  send("o", "o1");
  send("k", "k3");
  {
    kafka::SqliteParkingStore store(db.string());
    kafka::KeyParking* gate_ptr = nullptr;
    kafka::KeyParking gate(store, [&](const kafka::Record& r) {
      {
        std::lock_guard lock(mu);
        handled.push_back(r.value);
      }
      if (r.value.ends_with("-retry")) gate_ptr->block(r.key, "retry");
    });
    gate_ptr = &gate;
    kafka::Consumer consumer(broker(), group, {topic}, "it-parking");
    kafka::ConsumerLoop loop(consumer, [&](const kafka::Record& r) { gate.handle(r); }, "it-parking");
    loop.start();
    auto parked_values = [&] {
      std::vector<std::string> values;
      for (const auto& r : store.parked("k")) values.push_back(r.value);
      return values;
    };
    ASSERT_TRUE(wait_for([&] { return parked_values() == std::vector<std::string>{"k2", "k3"} && seen().size() >= 2; }));
    loop.stop();  // commits the offsets of the parked records: the store holds their only copy
  }
  EXPECT_EQ(seen(), (std::vector<std::string>{"k1-retry", "o1"}));

  // After a restart: K is still blocked, its records still parked, in order.
  kafka::SqliteParkingStore store(db.string());
  kafka::KeyParking gate(store, [&](const kafka::Record& r) {
    std::lock_guard lock(mu);
    handled.push_back(r.value);
  });
  EXPECT_TRUE(store.blocked("k"));
  kafka::Consumer consumer(broker(), group, {topic}, "it-parking");
  kafka::ConsumerLoop loop(consumer, [&](const kafka::Record& r) { gate.handle(r); }, "it-parking");
  loop.start();
  send("k", "k4");  // arrives while K is still blocked: parked behind k2 and k3
  ASSERT_TRUE(wait_for([&] { return store.parked("k").size() == 3; })) << "k4 parked behind k2 and k3";
  EXPECT_EQ(store.parked("k").back().value, "k4");
  gate.resolve("k");  // the blocking record was decided
  EXPECT_EQ(seen(), (std::vector<std::string>{"k1-retry", "o1", "k2", "k3", "k4"}));
  EXPECT_FALSE(store.holds("k"));
  send("k", "k5");
  ASSERT_TRUE(wait_for([&] { return seen().size() == 6; }));
  EXPECT_EQ(seen().back(), "k5") << "not held any more: straight to the handler";
  loop.stop();
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
}

// Batches: every wave holds each key at most once, a key's records come in order across
// waves, and records of a backlog are decided many at a time.
// librdkafka 2.0 stops fetching for a second once its prefetch queue is full; a consumer
// behind a backlog many times that queue must not read one queue's worth per second.
TEST_F(KafkaIntegration, AConsumerBehindABacklogLargerThanItsPrefetchKeepsFetching) {
  const std::string topic = "it-prefetch-" + ids::uuid();
  ASSERT_TRUE(kafka::ensure_topics(producer_, {{topic, 1, 1}}));
  constexpr int kRecords = 6000;  // ~6 MiB: ~24 fetches of 256 KiB, each over the queue's bound
  std::vector<kafka::Record> records;
  std::uint64_t seed = 42;
  for (int i = 0; i < kRecords; ++i) {
    kafka::Record r;
    r.topic = topic;
    r.key = "k" + std::to_string(i % 50);
    r.value.resize(1000);  // incompressible: the fetch sizes count compressed bytes
    for (auto& c : r.value) c = static_cast<char>('!' + (seed = seed * 6364136223846793005ULL + 1442695040888963407ULL) % 90);
    records.push_back(std::move(r));
  }
  ASSERT_TRUE(producer_.send_all(std::move(records)));
  auto config = broker();
  config.properties["queued.max.messages.kbytes"] = "64";
  kafka::Consumer consumer(config, "it-prefetch-" + ids::uuid(), {topic}, "it-prefetch");
  std::size_t seen = 0;
  // A liveness bound, not a timing: without the wake-up this backlog takes ~24 s (a second
  // per fetch); with it, a fraction of one.
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (seen < kRecords && std::chrono::steady_clock::now() < until) {
    seen += consumer.poll_batch(500, 100ms).size();
  }
  consumer.close();
  EXPECT_EQ(seen, static_cast<std::size_t>(kRecords));
  EXPECT_GT(consumer.fetcher_wakes(), 0u);
}

TEST_F(KafkaIntegration, BatchLoopDecidesWavesOfDistinctKeysAndEachKeyInOrder) {
  const std::string topic = "it-batch-" + ids::uuid();
  ASSERT_TRUE(kafka::ensure_topics(producer_, {{topic, 3, 1}}));
  constexpr int kKeys = 40, kPerKey = 10;
  std::vector<kafka::Record> records;
  for (int i = 0; i < kPerKey; ++i) {
    for (int k = 0; k < kKeys; ++k) {
      kafka::Record r;
      r.topic = topic;
      r.key = "k" + std::to_string(k);
      r.value = std::to_string(i);
      records.push_back(std::move(r));
    }
  }
  ASSERT_TRUE(producer_.send_all(std::move(records)));  // a backlog before the consumer starts
  std::mutex mu;
  std::map<std::string, std::vector<int>> seen;
  std::size_t largest_wave = 0;
  bool repeated_key = false;
  metrics::Registry registry;
  kafka::Consumer consumer(broker(), "it-batch-" + ids::uuid(), {topic}, "it-batch");
  kafka::BatchConsumerLoop loop(consumer, [&](std::span<const kafka::Delivery> wave) {
    std::lock_guard lock(mu);
    std::set<std::string> keys;
    for (const auto& d : wave) {
      repeated_key |= !keys.insert(d.record->key).second;
      seen[d.record->key].push_back(std::stoi(d.record->value));
      EXPECT_FALSE(d.context.trace_id.empty());
    }
    largest_wave = std::max(largest_wave, wave.size());
  }, "it-batch", [&] {
    kafka::BatchConsumerLoop::Options o;
    o.registry = &registry;
    return o;
  }());
  loop.start();
  auto total = [&] { return values_seen(mu, seen); };
  ASSERT_TRUE(wait_until([&] { return total() >= kKeys * kPerKey; })) << "handled " << total();
  loop.stop();
  EXPECT_FALSE(repeated_key) << "a key twice in one wave";
  EXPECT_GT(largest_wave, 1u) << "a backlog is decided many records at a time";
  EXPECT_GT(loop.records_polled(), loop.batches()) << "more records than batches";
  // Each batch's size is in the loop's histogram: as many observations as batches, their
  // sum every record polled.
  const auto text = registry.render();
  EXPECT_NE(text.find("kafka_consumer_batch_records_count{consumer=\"it-batch\"} " + std::to_string(loop.batches())),
            std::string::npos) << text;
  EXPECT_NE(text.find("kafka_consumer_batch_records_sum{consumer=\"it-batch\"} " +
                      std::to_string(loop.records_polled())),
            std::string::npos) << text;
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [key, values] : seen) {
    EXPECT_TRUE(std::is_sorted(values.begin(), values.end())) << key << " out of order";
    EXPECT_EQ(std::set<int>(values.begin(), values.end()).size(), static_cast<std::size_t>(kPerKey)) << key;
  }
}

// A crash in the middle of a batch: the waves decided before it are committed, the wave in
// hand and everything after it come back to the next member; once done, nothing again.
TEST_F(KafkaIntegration, BatchLoopRedeliversFromTheFirstUndecidedRecordAfterACrash) {
  const std::string topic = "it-batch-crash-" + ids::uuid();
  ASSERT_TRUE(kafka::ensure_topics(producer_, {{topic, 1, 1}}));
  // One partition, keys a and b twice: waves [a1 b1] [a2 b2] when polled in one batch.
  std::vector<kafka::Record> records;
  for (const char* v : {"a1", "b1", "a2", "b2"}) {
    kafka::Record r;
    r.topic = topic;
    r.key = std::string(1, v[0]);
    r.value = v;
    records.push_back(std::move(r));
  }
  ASSERT_TRUE(producer_.send_all(std::move(records)));
  const std::string group = "it-batch-crash-" + ids::uuid();
  std::mutex mu;
  std::vector<std::string> decided;
  std::atomic<int> failures{0};
  {
    kafka::Consumer consumer(broker(), group, {topic}, "it-batch");
    kafka::BatchConsumerLoop loop(consumer, [&](std::span<const kafka::Delivery> wave) {
      for (const auto& d : wave) {
        if (d.record->value == "a2") {
          ++failures;
          throw std::runtime_error("the process dies here");
        }
      }
      std::lock_guard lock(mu);
      for (const auto& d : wave) decided.push_back(d.record->value);
    }, "it-batch", {});
    loop.start();
    // The handler counts its failure before the loop catches it: wait for the loop's side too.
    ASSERT_TRUE(wait_until([&] { return failures.load() >= 1 && !loop.healthy(); }))
        << "a failing wave shows in health (failures: " << failures.load() << ")";
    loop.stop();  // commits what was stored
  }
  // In produce order, the first record not decided (a2, unless the first poll split the batch).
  const std::vector<std::string> produced{"a1", "b1", "a2", "b2"};
  std::vector<std::string>::const_iterator first_undecided;
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(std::find(decided.begin(), decided.end(), "a1") != decided.end());
    first_undecided = std::find_if(produced.begin(), produced.end(), [&](const std::string& v) {
      return std::find(decided.begin(), decided.end(), v) == decided.end();
    });
  }
  ASSERT_NE(first_undecided, produced.end());
  auto run_until = [&](std::size_t n) {
    std::vector<std::string> values;
    kafka::Consumer consumer(broker(), group, {topic}, "it-batch");
    kafka::BatchConsumerLoop loop(consumer, [&](std::span<const kafka::Delivery> wave) {
      std::lock_guard lock(mu);
      for (const auto& d : wave) values.push_back(d.record->value);
    }, "it-batch", {});
    loop.start();
    EXPECT_TRUE(wait_until([&] {
      std::lock_guard lock(mu);
      return values.size() >= n;
    }));
    EXPECT_TRUE(loop.healthy());
    loop.stop();
    std::lock_guard lock(mu);
    return values;
  };
  auto second = run_until(static_cast<std::size_t>(produced.end() - first_undecided));
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(second.front(), *first_undecided) << "redelivery starts at the first record not decided";
  for (auto it = produced.begin(); it != first_undecided; ++it) {
    EXPECT_EQ(std::count(second.begin(), second.end(), *it), 0) << *it << " was decided and came back";
  }
  kafka::Record end;
  end.topic = topic;
  end.key = "end";
  end.value = "end";
  ASSERT_TRUE(producer_.send_sync(std::move(end)));
  auto third = run_until(1);
  ASSERT_FALSE(third.empty());
  EXPECT_EQ(third.front(), "end") << "everything before it was committed";
}

// A pipelined handler: the next wave starts while the one in hand is unfinished, but only
// when they share no key; waves finish in the order started; a finisher that fails is
// handed its wave again; offsets move past finished waves only, so a restarted member
// starts after everything.
TEST_F(KafkaIntegration, PipelinedBatchLoopOverlapsWavesOfDistinctKeysOnly) {
  const std::string topic = "it-batch-pipe-" + ids::uuid();
  ASSERT_TRUE(kafka::ensure_topics(producer_, {{topic, 1, 1}}));
  // 128 records, read in batches of 8: every other batch repeats a key of the batch before
  // it (record 16j+4 has record 16j-4's key), so half the batches may overlap the one before
  // and half may not. A key's values count its records.
  constexpr int kRecords = 128;
  std::vector<std::string> keys;
  std::map<std::string, int> per_key;
  std::vector<kafka::Record> records;
  for (int i = 0; i < kRecords; ++i) {
    keys.push_back(i % 16 == 4 && i >= 16 ? keys[i - 8] : "k" + std::to_string(i));
    kafka::Record r;
    r.topic = topic;
    r.key = keys.back();
    r.value = std::to_string(per_key[r.key]++);
    records.push_back(std::move(r));
  }
  ASSERT_TRUE(producer_.send_all(std::move(records)));
  const std::string group = "it-batch-pipe-" + ids::uuid();
  std::mutex mu;
  std::map<std::string, std::vector<int>> seen;  // by key, as finished
  std::vector<std::int64_t> finished;  // each finished wave's first offset
  std::set<std::string> in_hand;       // keys of started, unfinished waves
  int most_in_hand = 0, unfinished = 0;
  bool shared_key = false, failed_once = false;
  kafka::Consumer consumer(broker(), group, {topic}, "it-batch-pipe");
  kafka::BatchConsumerLoop::Options options;
  options.max_batch = 8;
  kafka::BatchConsumerLoop loop(
      consumer,
      kafka::BatchConsumerLoop::Pipelined{[&](std::span<const kafka::Delivery> wave) -> kafka::BatchConsumerLoop::Finisher {
        std::lock_guard lock(mu);
        std::int64_t n = wave.front().record->offset;
        std::vector<std::pair<std::string, int>> mine;
        for (const auto& d : wave) {
          n = std::min(n, d.record->offset);
          shared_key |= !in_hand.insert(d.record->key).second;
          mine.emplace_back(d.record->key, std::stoi(d.record->value));
        }
        most_in_hand = std::max(most_in_hand, ++unfinished);
        return [&, n, mine] {
          std::lock_guard lock(mu);
          --unfinished;
          for (const auto& [key, value] : mine) in_hand.erase(key);
          // The wave that holds k12's second record fails once: it comes back whole.
          const bool fails = !failed_once && std::any_of(mine.begin(), mine.end(), [](const auto& kv) {
            return kv.first == "k12" && kv.second == 1;
          });
          if (fails) {
            failed_once = true;
            throw std::runtime_error("the database is briefly away");
          }
          finished.push_back(n);
          for (const auto& [key, value] : mine) seen[key].push_back(value);
        };
      }},
      "it-batch-pipe", options);
  loop.start();
  auto total = [&] { return values_seen(mu, seen); };
  ASSERT_TRUE(wait_until([&] { return total() >= kRecords; })) << "finished " << total();
  EXPECT_TRUE(wait_until([&] { return loop.healthy(); }));
  loop.stop();
  std::lock_guard lock(mu);
  EXPECT_TRUE(failed_once);
  EXPECT_FALSE(shared_key) << "two waves in hand with a key in common";
  EXPECT_EQ(most_in_hand, 2) << "the next wave starts while one is in hand, and no more";
  EXPECT_GT(loop.overlapped_waves(), 0u);
  // A wave's first offset is past the previous wave's (each key's next record is in the
  // next wave), so finishing in the order polled is finishing in ascending first offsets.
  EXPECT_TRUE(std::is_sorted(finished.begin(), finished.end())) << "waves finish in the order polled";
  ASSERT_EQ(seen.size(), per_key.size());
  for (const auto& [key, values] : seen) {
    std::vector<int> expected(per_key[key]);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(values, expected) << key << ": each record once, in order";
  }
  // Everything was committed: a new member of the group starts after it.
  kafka::Record end;
  end.topic = topic;
  end.key = "end";
  end.value = "end";
  ASSERT_TRUE(producer_.send_sync(std::move(end)));
  kafka::Consumer again(broker(), group, {topic}, "it-batch-pipe");
  std::optional<kafka::Record> first;
  ASSERT_TRUE(wait_until([&] { return (first = first ? first : again.poll(200ms)).has_value(); }));
  again.close();
  EXPECT_EQ(first->value, "end");
}

// A linger: while records are flowing, a poll that got its first record waits the linger
// once and takes what arrived meanwhile, so records produced one by one are decided in one
// wave; a record after a quiet spell is decided at once.
TEST_F(KafkaIntegration, BatchLoopLingerGathersRecordsThatKeepComing) {
  const std::string topic = "it-batch-linger-" + ids::uuid();
  ASSERT_TRUE(kafka::ensure_topics(producer_, {{topic, 1, 1}}));
  auto send = [&](const std::string& key) {
    kafka::Record r;
    r.topic = topic;
    r.key = key;
    r.value = key;
    ASSERT_TRUE(producer_.send_sync(std::move(r)));
  };
  std::mutex mu;
  std::vector<std::vector<std::string>> waves;
  kafka::Consumer consumer(broker(), "it-batch-linger-" + ids::uuid(), {topic}, "it-batch-linger");
  kafka::BatchConsumerLoop::Options options;
  // Far longer than three acknowledged sends take: the test does not depend on timing.
  options.linger = std::chrono::seconds(3);
  kafka::BatchConsumerLoop loop(consumer, [&](std::span<const kafka::Delivery> wave) {
    std::lock_guard lock(mu);
    auto& w = waves.emplace_back();
    for (const auto& d : wave) w.push_back(d.record->value);
  }, "it-batch-linger", options);
  loop.start();
  auto decided = [&](std::size_t n) {
    return wait_until([&] {
      std::lock_guard lock(mu);
      std::size_t total = 0;
      for (const auto& w : waves) total += w.size();
      return total >= n;
    });
  };
  send("first");  // nothing before it: decided alone
  ASSERT_TRUE(decided(1));
  for (const char* key : {"a", "b", "c"}) send(key);  // one by one, each acknowledged
  ASSERT_TRUE(decided(4));
  loop.stop();
  std::lock_guard lock(mu);
  ASSERT_EQ(waves.size(), 2u) << "the three records that kept coming in one wave";
  EXPECT_EQ(waves[0], (std::vector<std::string>{"first"}));
  EXPECT_EQ(waves[1], (std::vector<std::string>{"a", "b", "c"}));
}

// Ignored records never reach the handler, and a batch of only ignored records is
// committed too: a restarted member starts after them.
TEST_F(KafkaIntegration, BatchLoopSkipsIgnoredRecordsAndCommitsPastThem) {
  const std::string topic = "it-batch-ignore-" + ids::uuid();
  ASSERT_TRUE(kafka::ensure_topics(producer_, {{topic, 1, 1}}));
  auto send = [&](const std::string& value) {
    kafka::Record r;
    r.topic = topic;
    r.key = "order-1";
    r.value = value;
    ASSERT_TRUE(producer_.send_sync(std::move(r)));
  };
  for (const char* v : {"a1", "x1", "a2", "x2", "x3", "a3"}) send(v);
  const std::string group = "it-batch-ignore-" + ids::uuid();
  auto run_until = [&](std::size_t n, std::atomic<std::uint64_t>* polled = nullptr, std::uint64_t polls = 0) {
    std::mutex mu;
    std::vector<std::string> values;
    kafka::Consumer consumer(broker(), group, {topic}, "it-batch");
    kafka::BatchConsumerLoop::Options options;
    options.ignore = [](const kafka::Record& r) { return r.value.starts_with("x"); };
    kafka::BatchConsumerLoop loop(consumer, [&](std::span<const kafka::Delivery> wave) {
      std::lock_guard lock(mu);
      for (const auto& d : wave) values.push_back(d.record->value);
    }, "it-batch", options);
    loop.start();
    EXPECT_TRUE(wait_until([&] {
      std::lock_guard lock(mu);
      return values.size() >= n && (polled == nullptr || loop.records_polled() >= polls);
    }));
    loop.stop();
    std::lock_guard lock(mu);
    return values;
  };
  EXPECT_EQ(run_until(3), (std::vector<std::string>{"a1", "a2", "a3"}));
  send("x4");
  std::atomic<std::uint64_t> polled{0};
  EXPECT_TRUE(run_until(0, &polled, 1).empty()) << "a batch of one ignored record";
  send("end");
  EXPECT_EQ(run_until(1), (std::vector<std::string>{"end"})) << "nothing before it came back";
}

// payment-service's batch path: a poison record inside a batch goes to the DLQ, the other
// orders of the batch are charged (once each, through the asynchronous gateway) and announced.
TEST_F(KafkaIntegration, PoisonRecordInsideABatchGoesToTheDlqAndTheRestOfTheBatchCompletes) {
  const std::string topic = "it-batch-payment-" + ids::uuid();
  ASSERT_TRUE(kafka::ensure_topics(producer_, {{topic, 1, 1}}));
  const std::string run = ids::uuid();
  std::vector<kafka::Record> records;
  std::vector<std::string> keys;
  for (int i = 0; i < 6; ++i) {
    const std::string key = "it-bp-" + run + "-" + std::to_string(i);
    keys.push_back(key);
    if (i == 2) {
      records.push_back({topic, key, "{not json", {{"ce_specversion", "1.0"}, {"ce_id", ids::uuid()},
                                                   {"ce_type", "OrderCreated"}, {"ce_source", "it"}}});
      continue;
    }
    events::OrderCreated order{key, "c-1", "ann@example.com", "EUR", "25.00", "tok_visa", now_iso8601(), {{"B", 2, "12.50"}}};
    auto ce = events::CloudEvent::make(events::OrderCreated::kType, "it", "corr-" + key, trace::Context::root());
    records.push_back(events::encode(topic, key, ce, events::to_json(order)));
  }
  ASSERT_TRUE(producer_.send_all(std::move(records)));

  auto db = std::filesystem::temp_directory_path() / ("it-batch-payment-" + ids::uuid() + ".db");
  metrics::Registry registry;
  payment::Probe probe(registry);
  payment::PaymentRepository repo(db.string());
  std::mutex mu;
  std::map<std::string, int> charges;
  auto answer = [&](const http::Request& req) -> Result<http::Response> {
    std::lock_guard lock(mu);
    ++charges[std::string(req["Idempotency-Key"])];
    http::Response res{http::Status::ok, 11};
    res.body() = R"({"id":"ch_it","status":"succeeded"})";
    return res;
  };
  const std::string group = "it-batch-payment-" + ids::uuid();
  payment::CircuitBreaker breaker({5, std::chrono::milliseconds(10000)});
  payment::OrderEventsConsumer handler(repo, producer_, probe, answer, breaker, {}, group,
                                       [](std::chrono::milliseconds) { return true; });
  std::vector<std::thread> io;
  std::atomic<int> async_calls{0};
  handler.use_async_gateway([&](http::Request req, std::function<void(Result<http::Response>)> done) {
    ++async_calls;
    std::lock_guard lock(mu);
    io.emplace_back([&answer, req = std::move(req), done = std::move(done)] { done(answer(req)); });
  });
  std::atomic<std::size_t> largest_wave{0};
  kafka::Consumer consumer(broker(), group, {topic}, "it-batch-payment");
  kafka::BatchConsumerLoop loop(consumer, [&](std::span<const kafka::Delivery> wave) {
    largest_wave = std::max(largest_wave.load(), wave.size());
    handler.handle_batch(wave);
  }, "it", {});
  loop.start();
  auto ours = [&](const kafka::Record& r) { return r.key == keys[2] && r.header("dlq-consumer-group") == group; };
  auto dlq = consume_until(kafka::dlq_topic("payment-service"), [&](const auto& recs) {
    return std::any_of(recs.begin(), recs.end(), ours);
  });
  auto mine = [&](const kafka::Record& r) { return r.key.starts_with("it-bp-" + run); };
  auto payments = consume_until(events::kPaymentEvents, [&](const auto& recs) {
    return std::count_if(recs.begin(), recs.end(), mine) >= 5;
  });
  loop.stop();
  for (auto& t : io) t.join();

  EXPECT_TRUE(std::any_of(dlq.begin(), dlq.end(), ours)) << "poison record not in payment-service.dlq";
  std::set<std::string> announced;
  for (const auto& r : payments) {
    if (!mine(r)) continue;
    EXPECT_EQ(r.header("ce_type"), "PaymentSuccess");
    announced.insert(r.key);
  }
  EXPECT_EQ(announced.size(), 5u);
  EXPECT_FALSE(announced.contains(keys[2]));
  EXPECT_EQ(async_calls.load(), 5) << "the batch path charged them, not the per-record path";
  std::lock_guard lock(mu);
  EXPECT_EQ(charges.size(), 5u);
  for (const auto& [key, n] : charges) EXPECT_EQ(n, 1) << key << " charged " << n << " times";
  for (const auto& key : keys) {
    if (key == keys[2]) continue;
    auto row = repo.find(key);
    ASSERT_TRUE(row) << key;
    EXPECT_TRUE(row->published) << key;
  }
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
}

}  // namespace
}  // namespace orderflow
