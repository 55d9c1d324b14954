#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "libs/common/ids.hpp"
#include "libs/kafka/key_parking.hpp"
#include "libs/kafka/sqlite_parking_store.hpp"

namespace orderflow::kafka {
namespace {

// In memory, for the gate's logic.
class FakeStore final : public ParkingStore {
 public:
  bool holds(const std::string& key) override { return blocked(key) || has_parked(key); }
  bool blocked(const std::string& key) override { return blocked_.count(key) != 0; }
  void block(const std::string& key, const std::string&) override { blocked_.insert(key); }
  void unblock(const std::string& key) override { blocked_.erase(key); }
  void park(const Record& r) override {
    for (const auto& p : parked_) {
      if (p.topic == r.topic && p.partition == r.partition && p.offset == r.offset) return;
    }
    parked_.push_back(r);
  }
  std::optional<Record> first_parked(const std::string& key) override {
    for (const auto& p : parked_) {
      if (p.key == key) return p;
    }
    return std::nullopt;
  }
  std::vector<Record> parked(const std::string& key) override {
    std::vector<Record> out;
    for (const auto& p : parked_) {
      if (p.key == key) out.push_back(p);
    }
    return out;
  }
  void remove(const Record& r) override {
    std::erase_if(parked_, [&](const Record& p) {
      return p.topic == r.topic && p.partition == r.partition && p.offset == r.offset;
    });
  }
  std::vector<std::string> held_keys() override {
    std::set<std::string> keys(blocked_.begin(), blocked_.end());
    for (const auto& p : parked_) keys.insert(p.key);
    return {keys.begin(), keys.end()};
  }
  bool has_parked(const std::string& key) { return first_parked(key).has_value(); }

 private:
  std::set<std::string> blocked_;
  std::vector<Record> parked_;
};

Record rec(const std::string& key, std::int64_t offset, std::string value = {}) {
  Record r{"t", key, value.empty() ? "v" + std::to_string(offset) : value, {}};
  r.partition = 0;
  r.offset = offset;
  return r;
}

// A handler that "fails over to a retry" for values starting with "retry", recording what it handled.
struct Recorder {
  std::vector<std::string> handled;
  KeyParking* gate = nullptr;
  void operator()(const Record& r) {
    handled.push_back(r.key + ":" + r.value);
    if (r.value.rfind("retry", 0) == 0) gate->block(r.key, "retry");
  }
};

TEST(KeyParking, LaterRecordsOfABlockedKeyWaitAndComeOutInOrder) {
  FakeStore store;
  Recorder seen;
  KeyParking gate(store, [&](const Record& r) { seen(r); });
  seen.gate = &gate;

  gate.handle(rec("a", 1, "retry-1"));  // goes to the retry topic: blocks "a"
  gate.handle(rec("a", 2));
  gate.handle(rec("b", 3));             // another key flows
  gate.handle(rec("a", 4));
  EXPECT_EQ(seen.handled, (std::vector<std::string>{"a:retry-1", "b:v3"}));
  EXPECT_TRUE(store.holds("a"));

  gate.resolve("a");  // the retry decided
  EXPECT_EQ(seen.handled, (std::vector<std::string>{"a:retry-1", "b:v3", "a:v2", "a:v4"}));
  EXPECT_FALSE(store.holds("a"));
  gate.handle(rec("a", 5));
  EXPECT_EQ(seen.handled.back(), "a:v5") << "nothing parked any more: straight through";
  gate.resolve("zzz");  // a key never held: nothing happens
}

TEST(KeyParking, AParkedRecordThatBlocksAgainKeepsTheRestBehindIt) {
  FakeStore store;
  Recorder seen;
  KeyParking gate(store, [&](const Record& r) { seen(r); });
  seen.gate = &gate;
  gate.handle(rec("a", 1, "retry-1"));
  gate.handle(rec("a", 2, "retry-2"));
  gate.handle(rec("a", 3));
  gate.resolve("a");
  EXPECT_EQ(seen.handled, (std::vector<std::string>{"a:retry-1", "a:retry-2"}));
  EXPECT_TRUE(store.blocked("a"));
  gate.handle(rec("a", 4));
  gate.resolve("a");
  EXPECT_EQ(seen.handled, (std::vector<std::string>{"a:retry-1", "a:retry-2", "a:v3", "a:v4"}));
}

TEST(KeyParking, AReplayOfTheBlockingRecordPassesTheGate) {
  FakeStore store;
  Recorder seen;
  KeyParking gate(store, [&](const Record& r) { seen(r); });
  seen.gate = &gate;
  gate.block("a", "dlq");
  gate.handle(rec("a", 2));
  auto replay = rec("a", 9, "replayed");
  replay.headers.emplace_back("dlq-replayed-from", "x.dlq:0:1");
  gate.handle(replay);
  EXPECT_EQ(seen.handled, (std::vector<std::string>{"a:replayed"}));
  gate.resolve("a");
  EXPECT_EQ(seen.handled, (std::vector<std::string>{"a:replayed", "a:v2"}));
}

TEST(KeyParking, AFailingHandlerLeavesTheRecordParkedForTheNextResolve) {
  FakeStore store;
  int calls = 0;
  std::vector<std::string> handled;
  KeyParking gate(store, [&](const Record& r) {
    if (++calls == 1) throw std::runtime_error("database busy");
    handled.push_back(r.value);
  });
  gate.block("a", "retry");
  gate.handle(rec("a", 2));
  EXPECT_THROW(gate.resolve("a"), std::runtime_error);
  EXPECT_TRUE(store.holds("a")) << "still parked";
  gate.handle(rec("a", 3));  // queues behind the parked one
  gate.resolve("a");
  EXPECT_EQ(handled, (std::vector<std::string>{"v2", "v3"}));
  EXPECT_FALSE(store.holds("a"));
}

TEST(KeyParking, ResolveSettledReleasesOnlyDecidedKeys) {
  FakeStore store;
  std::vector<std::string> handled;
  KeyParking gate(store, [&](const Record& r) { handled.push_back(r.key); });
  gate.block("done", "retry");
  gate.handle(rec("done", 1));
  gate.block("pending", "retry");
  gate.handle(rec("pending", 2));
  gate.resolve_settled([](const std::string& key) { return key == "done"; });
  EXPECT_EQ(handled, (std::vector<std::string>{"done"}));
  EXPECT_TRUE(store.holds("pending"));
}

TEST(SqliteParkingStore, KeepsBlocksAndParkedRecordsInOrderAcrossReopen) {
  auto path = std::filesystem::temp_directory_path() / ("parking-" + ids::uuid() + ".db");
  {
    SqliteParkingStore store(path.string());
    EXPECT_FALSE(store.holds("a"));
    store.block("a", "retry");
    store.block("a", "dlq");  // idempotent
    auto r1 = rec("a", 7);
    r1.headers = {{"ce_id", "e-7"}, {"traceparent", "00-x"}};
    store.park(r1);
    store.park(r1);  // a redelivery: kept once
    store.park(rec("a", 8));
    store.park(rec("b", 9));
  }
  {
    SqliteParkingStore store(path.string());
    EXPECT_TRUE(store.holds("a"));
    EXPECT_TRUE(store.blocked("a"));
    EXPECT_TRUE(store.holds("b")) << "parked records hold a key that is not blocked";
    EXPECT_FALSE(store.blocked("b"));
    auto first = store.first_parked("a");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->offset, 7);
    EXPECT_EQ(first->header("ce_id"), "e-7");
    EXPECT_EQ(first->headers.size(), 2u);
    ASSERT_EQ(store.parked("a").size(), 2u);
    EXPECT_EQ(store.parked("a")[1].offset, 8);
    store.remove(*first);
    EXPECT_EQ(store.first_parked("a")->offset, 8);
    EXPECT_EQ(store.held_keys(), (std::vector<std::string>{"a", "b"}));
    store.unblock("a");
    store.remove(rec("a", 8));
    EXPECT_FALSE(store.holds("a"));
  }
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

}  // namespace
}  // namespace orderflow::kafka
