#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <latch>
#include <thread>
#include <vector>

#include "libs/common/ids.hpp"
#include "libs/storage/testing.hpp"
#include "services/order/repository/order_repository.hpp"

namespace orderflow::order {
namespace {

class RepositoryTest : public ::testing::TestWithParam<storage::Backend> {
 protected:
  void SetUp() override {
    ORDERFLOW_SKIP_WITHOUT(db_);
    repo_ = replica();
  }
  void TearDown() override { repo_.reset(); }
  // Another OrderRepository on the same database: a second service replica.
  std::unique_ptr<OrderRepository> replica() { return std::make_unique<OrderRepository>(db_.url(), db_.schema()); }
  NewOrder new_order(std::optional<std::string> key = std::nullopt, std::string fingerprint = "f1") {
    NewOrder o;
    o.order_id = ids::uuid();
    o.command.customer_id = "c-1";
    o.command.customer_email = "ann@example.com";
    o.command.currency = "EUR";
    o.command.payment_token = "tok_visa";
    o.command.total = *Money::parse("25.00");
    o.correlation_id = "corr-1";
    o.created_at = "2026-01-01T00:00:00.000Z";
    o.items_json = R"([{"sku":"B","quantity":2,"unitPrice":"12.50"}])";
    o.idempotency_key = std::move(key);
    o.fingerprint = std::move(fingerprint);
    o.response_body = R"({"orderId":")" + o.order_id + R"("})";
    o.event = {"order-events", o.order_id, "{\"created\":true}", {{"ce_id", "e-" + o.order_id}}};
    return o;
  }
  kafka::Record outcome_event(const OrderRow& o) { return {"order-events", o.order_id, o.status, {}}; }

  storage::testing::TestDatabase db_{GetParam()};
  std::unique_ptr<OrderRepository> repo_;
};

TEST_P(RepositoryTest, CreateCommitsOrderHistoryAndOutboxTogether) {
  auto o = new_order();
  EXPECT_EQ(repo_->create(o).kind, CreateOutcome::Kind::kCreated);
  auto row = repo_->get(o.order_id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, "PENDING");
  EXPECT_EQ(row->total_amount, "25.00");
  ASSERT_EQ(row->history.size(), 1u);
  auto outbox = repo_->outbox_batch(10);
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].record.key, o.order_id);
  EXPECT_EQ(outbox[0].record.header("ce_id"), "e-" + o.order_id);
  repo_->outbox_remove({outbox[0].id});
  EXPECT_EQ(repo_->outbox_size(), 0);
}

TEST_P(RepositoryTest, IdempotencyKeyReplaysOrRejects) {
  auto first = new_order("key-1", "f1");
  ASSERT_EQ(repo_->create(first).kind, CreateOutcome::Kind::kCreated);
  auto again = new_order("key-1", "f1");
  auto replay = repo_->create(again);
  EXPECT_EQ(replay.kind, CreateOutcome::Kind::kReplay);
  EXPECT_EQ(replay.response_body, first.response_body);
  EXPECT_FALSE(repo_->get(again.order_id)) << "a replay must not create a second order";
  EXPECT_EQ(repo_->create(new_order("key-1", "other")).kind, CreateOutcome::Kind::kKeyReuse);
  EXPECT_EQ(repo_->outbox_size(), 1);
}

TEST_P(RepositoryTest, PaymentAppliesOnceAndEmitsOutcomeEvent) {
  auto o = new_order();
  ASSERT_EQ(repo_->create(o).kind, CreateOutcome::Kind::kCreated);
  PaymentUpdate ok{"pay-1", o.order_id, true, "", "2026-01-01T00:00:01.000Z"};
  auto applied = repo_->apply_payment(ok, [&](const OrderRow& r) { return outcome_event(r); });
  ASSERT_EQ(applied.kind, ApplyOutcome::Kind::kApplied);
  EXPECT_EQ(applied.order->status, "CONFIRMED");
  EXPECT_EQ(repo_->outbox_size(), 2);

  EXPECT_EQ(repo_->apply_payment(ok, [&](const OrderRow& r) { return outcome_event(r); }).kind,
            ApplyOutcome::Kind::kDuplicate);
  PaymentUpdate contradict{"pay-2", o.order_id, false, "card_declined", "t"};
  EXPECT_EQ(repo_->apply_payment(contradict, [&](const OrderRow& r) { return outcome_event(r); }).kind,
            ApplyOutcome::Kind::kConflict);
  EXPECT_EQ(repo_->outbox_size(), 2) << "no event for a duplicate or a conflict";
  auto row = repo_->get(o.order_id);
  EXPECT_EQ(row->status, "CONFIRMED");
  ASSERT_EQ(row->history.size(), 2u);
  EXPECT_EQ(row->history[1].status, "CONFIRMED");
}

TEST_P(RepositoryTest, FailureKeepsReasonAndUnknownOrderIsReported) {
  auto o = new_order();
  ASSERT_EQ(repo_->create(o).kind, CreateOutcome::Kind::kCreated);
  PaymentUpdate declined{"pay-1", o.order_id, false, "card_declined", "t"};
  ASSERT_EQ(repo_->apply_payment(declined, [&](const OrderRow& r) { return outcome_event(r); }).kind,
            ApplyOutcome::Kind::kApplied);
  auto row = repo_->get(o.order_id);
  EXPECT_EQ(row->status, "FAILED");
  EXPECT_EQ(row->failure_reason, "card_declined");
  PaymentUpdate ghost{"pay-9", "no-such-order", true, "", "t"};
  EXPECT_EQ(repo_->apply_payment(ghost, [&](const OrderRow& r) { return outcome_event(r); }).kind,
            ApplyOutcome::Kind::kUnknownOrder);
}

TEST_P(RepositoryTest, GatewayUnavailableFailureRecoversOnceDeclineNever) {
  auto make = [&](const OrderRow& r) { return outcome_event(r); };
  auto o = new_order();
  ASSERT_EQ(repo_->create(o).kind, CreateOutcome::Kind::kCreated);
  PaymentUpdate failed{"pay-1", o.order_id, false, "payment-gateway-unavailable", "t1"};
  ASSERT_EQ(repo_->apply_payment(failed, make).kind, ApplyOutcome::Kind::kApplied);
  PaymentUpdate replayed{"pay-2", o.order_id, true, "", "t2"};
  auto recovered = repo_->apply_payment(replayed, make);
  ASSERT_EQ(recovered.kind, ApplyOutcome::Kind::kRecovered);
  EXPECT_EQ(recovered.order->status, "CONFIRMED");
  EXPECT_EQ(repo_->outbox_size(), 3) << "OrderCreated, OrderFailed, OrderConfirmed";
  auto row = repo_->get(o.order_id);
  EXPECT_EQ(row->status, "CONFIRMED");
  EXPECT_EQ(row->failure_reason, "");
  EXPECT_EQ(row->recovered_at, "t2");
  ASSERT_EQ(row->history.size(), 3u);
  EXPECT_EQ(row->history[1].reason, "payment-gateway-unavailable");
  EXPECT_EQ(row->history[2].status, "CONFIRMED");
  EXPECT_EQ(row->history[2].reason, "recovered after payment-gateway-unavailable");
  PaymentUpdate again{"pay-3", o.order_id, true, "", "t3"};
  EXPECT_EQ(repo_->apply_payment(again, make).kind, ApplyOutcome::Kind::kAlreadyFinal);
  EXPECT_EQ(repo_->outbox_size(), 3);

  auto d = new_order();
  ASSERT_EQ(repo_->create(d).kind, CreateOutcome::Kind::kCreated);
  PaymentUpdate declined{"pay-4", d.order_id, false, "card_declined", "t1"};
  ASSERT_EQ(repo_->apply_payment(declined, make).kind, ApplyOutcome::Kind::kApplied);
  PaymentUpdate late{"pay-5", d.order_id, true, "", "t2"};
  EXPECT_EQ(repo_->apply_payment(late, make).kind, ApplyOutcome::Kind::kConflict);
  EXPECT_EQ(repo_->get(d.order_id)->status, "FAILED");
  EXPECT_EQ(repo_->get(d.order_id)->recovered_at, "");
}

TEST_P(RepositoryTest, KeysetPaginationWalksNewestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto o = new_order();
    ids.push_back(o.order_id);
    ASSERT_EQ(repo_->create(o).kind, CreateOutcome::Kind::kCreated);
  }
  ListFilter f;
  f.limit = 2;
  auto p1 = repo_->list(f);
  ASSERT_EQ(p1.size(), 2u);
  EXPECT_EQ(p1[0].order_id, ids[4]);
  f.after = p1.back().seq;
  auto p2 = repo_->list(f);
  ASSERT_EQ(p2.size(), 2u);
  EXPECT_EQ(p2[0].order_id, ids[2]);
  f.after = p2.back().seq;
  auto p3 = repo_->list(f);
  ASSERT_EQ(p3.size(), 1u);
  EXPECT_EQ(p3[0].order_id, ids[0]);
  ListFilter confirmed;
  confirmed.status = "CONFIRMED";
  EXPECT_TRUE(repo_->list(confirmed).empty());
}

TEST_P(RepositoryTest, ListsOnlyOrdersPlacedInTheGivenTimeRange) {
  std::vector<std::string> ids;
  for (const char* at : {"2026-01-01T10:00:00.000Z", "2026-01-01T11:00:00.000Z", "2026-01-01T11:00:00.500Z",
                         "2026-01-01T12:00:00.000Z"}) {
    auto o = new_order();
    o.created_at = at;
    ids.push_back(o.order_id);
    ASSERT_EQ(repo_->create(o).kind, CreateOutcome::Kind::kCreated);
  }
  ListFilter f;
  f.created_after = "2026-01-01T11:00:00.000Z";  // inclusive
  f.created_before = "2026-01-01T12:00:00.000Z";  // exclusive
  auto rows = repo_->list(f);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].order_id, ids[2]);  // newest first
  EXPECT_EQ(rows[1].order_id, ids[1]);
  ListFilter later;
  later.created_after = "2026-01-01T12:00:00.001Z";
  EXPECT_TRUE(repo_->list(later).empty());
}

TEST_P(RepositoryTest, ReplicasRacingOnOneIdempotencyKeyCreateOneOrder) {
  auto other = replica();
  for (int round = 0; round < 20; ++round) {
    std::string key = "race-" + std::to_string(round);
    std::atomic<int> created{0}, replayed{0};
    auto place = [&](OrderRepository& r) {
      auto outcome = r.create(new_order(key, "f1"));
      (outcome.kind == CreateOutcome::Kind::kCreated ? created : replayed)++;
      if (outcome.kind == CreateOutcome::Kind::kReplay) {
        EXPECT_FALSE(outcome.response_body.empty());
      }
    };
    std::thread a([&] { place(*repo_); });
    std::thread b([&] { place(*other); });
    a.join();
    b.join();
    EXPECT_EQ(created.load(), 1) << key;
    EXPECT_EQ(replayed.load(), 1) << key;
  }
  EXPECT_EQ(repo_->outbox_size(), 20) << "one OrderCreated per key";
}

TEST_P(RepositoryTest, ReplicasRacingOnOnePaymentEventApplyItOnce) {
  auto other = replica();
  for (int round = 0; round < 20; ++round) {
    auto o = new_order();
    ASSERT_EQ(repo_->create(o).kind, CreateOutcome::Kind::kCreated);
    PaymentUpdate ok{"pay-" + o.order_id, o.order_id, true, "", "t"};
    std::atomic<int> applied{0}, duplicate{0};
    auto apply = [&](OrderRepository& r) {
      auto kind = r.apply_payment(ok, [&](const OrderRow& row) { return outcome_event(row); }).kind;
      if (kind == ApplyOutcome::Kind::kApplied) ++applied;
      if (kind == ApplyOutcome::Kind::kDuplicate) ++duplicate;
    };
    std::thread a([&] { apply(*repo_); });
    std::thread b([&] { apply(*other); });
    a.join();
    b.join();
    EXPECT_EQ(applied.load(), 1);
    EXPECT_EQ(duplicate.load(), 1);
    EXPECT_EQ(repo_->get(o.order_id)->history.size(), 2u);
  }
  EXPECT_EQ(repo_->outbox_size(), 40) << "one OrderCreated and one outcome event per order";
}

TEST_P(RepositoryTest, ConcurrentPaymentEventsAreEachAppliedOnceAndSurviveAReopen) {
  constexpr int kOrders = 30;
  std::vector<NewOrder> orders;
  for (int i = 0; i < kOrders; ++i) {
    orders.push_back(new_order());
    ASSERT_EQ(repo_->create(orders.back()).kind, CreateOutcome::Kind::kCreated);
  }
  // Every event delivered twice, all at once (the consumer's workers, a redelivery).
  std::vector<std::atomic<int>> applied(kOrders), duplicate(kOrders);
  std::vector<std::thread> workers;
  for (int w = 0; w < 2 * kOrders; ++w) {
    workers.emplace_back([&, w] {
      const auto& o = orders[w / 2];
      PaymentUpdate update{"pay-" + o.order_id, o.order_id, (w / 2) % 2 == 0, "card_declined", "t"};
      auto outcome = repo_->apply_payment(update, [&](const OrderRow& row) { return outcome_event(row); });
      if (outcome.kind == ApplyOutcome::Kind::kApplied) {
        EXPECT_EQ(outcome.order->order_id, o.order_id) << "a caller got another's outcome";
        ++applied[w / 2];
      }
      if (outcome.kind == ApplyOutcome::Kind::kDuplicate) ++duplicate[w / 2];
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_GE(repo_->payment_batches_committed(), 1u);
  repo_.reset();
  repo_ = replica();  // a new connection: what was committed
  for (int i = 0; i < kOrders; ++i) {
    EXPECT_EQ(applied[i].load(), 1) << i;
    EXPECT_EQ(duplicate[i].load(), 1) << i;
    EXPECT_EQ(repo_->get(orders[i].order_id)->status, i % 2 == 0 ? "CONFIRMED" : "FAILED");
  }
  EXPECT_EQ(repo_->outbox_size(), 2 * kOrders) << "one OrderCreated and one outcome event per order";
}

TEST_P(RepositoryTest, OneReplicaRelaysTheOutbox) {
  ASSERT_EQ(repo_->create(new_order()).kind, CreateOutcome::Kind::kCreated);
  auto other = replica();
  EXPECT_EQ(repo_->outbox_batch(10).size(), 1u);
  if (GetParam() == storage::Backend::kPostgres) {
    EXPECT_TRUE(other->outbox_batch(10).empty()) << "the first replica leads the relay";
    repo_.reset();  // the leader stops: the other replica takes over
    bool took_over = false;
    for (int i = 0; i < 100 && !took_over; ++i) {
      took_over = other->outbox_batch(10).size() == 1;
      if (!took_over) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(took_over);
  }
}

ORDERFLOW_STORAGE_BACKENDS(RepositoryTest);

// The committer thread runs callbacks, so a callback that waits holds the committer: every
// order submitted meanwhile must go into the one next transaction. This makes grouping
// observable without relying on timing.
struct Answer final {
  std::exception_ptr error;
  CreateOutcome outcome{};
};

class GroupCommitTest : public RepositoryTest {
 protected:
  // Submits `held` and, while its callback holds the committer, everything in `rest`;
  // returns the answers to `rest` in order.
  std::vector<Answer> submit_while_held(const NewOrder& held, const std::vector<NewOrder>& rest) {
    std::latch holding(1), queued(1);
    std::promise<void> first_done;
    repo_->create_async(std::make_shared<const NewOrder>(held), [&](std::exception_ptr e, CreateOutcome o) {
      EXPECT_FALSE(e);
      EXPECT_EQ(o.kind, CreateOutcome::Kind::kCreated);
      holding.count_down();
      queued.wait();
      first_done.set_value();
    });
    holding.wait();  // the committer is inside the held order's callback now
    std::vector<std::promise<Answer>> promises(rest.size());
    for (std::size_t i = 0; i < rest.size(); ++i) {
      repo_->create_async(std::make_shared<const NewOrder>(rest[i]),
                          [&promises, i](std::exception_ptr e, CreateOutcome o) { promises[i].set_value({e, o}); });
    }
    queued.count_down();
    first_done.get_future().get();
    std::vector<Answer> answers;
    for (auto& p : promises) answers.push_back(p.get_future().get());
    return answers;
  }
};

TEST_P(GroupCommitTest, OrdersQueuedDuringACommitShareTheNextTransaction) {
  std::vector<NewOrder> rest;
  for (int i = 0; i < 200; ++i) rest.push_back(new_order());
  auto answers = submit_while_held(new_order(), rest);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    EXPECT_FALSE(answers[i].error) << i;
    EXPECT_EQ(answers[i].outcome.kind, CreateOutcome::Kind::kCreated) << i;
    EXPECT_TRUE(repo_->get(rest[i].order_id)) << i;
  }
  EXPECT_EQ(repo_->batches_committed(), 2u);  // the held order, then all 200 together
  EXPECT_EQ(repo_->outbox_size(), 201);
}

TEST_P(GroupCommitTest, EachOrderInABatchGetsItsOwnOutcome) {
  auto existing = new_order();
  ASSERT_EQ(repo_->create(existing).kind, CreateOutcome::Kind::kCreated);
  auto clash = new_order();
  clash.order_id = existing.order_id;  // UNIQUE(order_id) fails: this order alone
  clash.event.key = existing.order_id;
  clash.correlation_id = "corr-clash";
  std::vector<NewOrder> rest{new_order("key-7", "f1"), new_order("key-7", "f2"), new_order("key-7", "f1"), clash,
                             new_order()};
  auto answers = submit_while_held(new_order(), rest);

  EXPECT_EQ(repo_->batches_committed(), 3u);  // `existing`, the held order, the five together
  EXPECT_FALSE(answers[0].error);
  EXPECT_EQ(answers[0].outcome.kind, CreateOutcome::Kind::kCreated);
  EXPECT_FALSE(answers[1].error);
  EXPECT_EQ(answers[1].outcome.kind, CreateOutcome::Kind::kKeyReuse);
  EXPECT_FALSE(answers[2].error);
  EXPECT_EQ(answers[2].outcome.kind, CreateOutcome::Kind::kReplay);
  EXPECT_EQ(answers[2].outcome.response_body, rest[0].response_body);
  ASSERT_TRUE(answers[3].error);
  try {
    std::rethrow_exception(answers[3].error);
  } catch (const storage::DbError& e) {
    EXPECT_TRUE(e.is_constraint()) << e.what();
  }
  EXPECT_FALSE(answers[4].error);
  EXPECT_EQ(answers[4].outcome.kind, CreateOutcome::Kind::kCreated);

  EXPECT_TRUE(repo_->get(rest[0].order_id));
  EXPECT_FALSE(repo_->get(rest[1].order_id));  // rejected orders leave nothing behind
  EXPECT_FALSE(repo_->get(rest[2].order_id));
  EXPECT_TRUE(repo_->get(rest[4].order_id));
  EXPECT_EQ(repo_->get(existing.order_id)->correlation_id, existing.correlation_id);
  // existing + held + key-7 + the last one: the clash added no outbox record
  EXPECT_EQ(repo_->outbox_size(), 4);
}

TEST_P(GroupCommitTest, ConcurrentCallersAreAllCommitted) {
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto o = new_order("k-" + std::to_string(t) + "-" + std::to_string(i));
        if (repo_->create(o).kind == CreateOutcome::Kind::kCreated) ids[t].push_back(o.order_id);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& per_thread : ids) {
    ASSERT_EQ(per_thread.size(), static_cast<std::size_t>(kEach));
    for (const auto& id : per_thread) EXPECT_TRUE(repo_->get(id));
  }
  EXPECT_EQ(repo_->outbox_size(), kThreads * kEach);
  EXPECT_LE(repo_->batches_committed(), static_cast<std::uint64_t>(kThreads * kEach));
}

TEST_P(GroupCommitTest, ShutdownAnswersEveryQueuedOrder) {
  std::vector<std::future<Answer>> answers;
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto o = std::make_shared<const NewOrder>(new_order());
    ids.push_back(o->order_id);
    auto p = std::make_shared<std::promise<Answer>>();
    answers.push_back(p->get_future());
    repo_->create_async(o, [p](std::exception_ptr e, CreateOutcome out) { p->set_value({e, out}); });
  }
  repo_.reset();  // drains the queue before it returns
  for (auto& a : answers) {
    ASSERT_EQ(a.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_FALSE(a.get().error);
  }
  auto reopened = replica();
  for (const auto& id : ids) EXPECT_TRUE(reopened->get(id));
}

ORDERFLOW_STORAGE_BACKENDS(GroupCommitTest);

}  // namespace
}  // namespace orderflow::order
