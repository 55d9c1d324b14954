#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <mutex>
#include <chrono>
#include <functional>
#include <semaphore>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "libs/storage/group_commit.hpp"
#include "libs/storage/testing.hpp"

namespace orderflow::storage {
namespace {

constexpr std::array<std::string_view, 1> kMigrations{R"sql(
CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
)sql"};

std::int64_t insert(Database& db, const std::string& name) {
  auto s = db.prepare("INSERT INTO t(name) VALUES (?) RETURNING id");
  s.bind(1, name);
  if (!s.step()) throw std::logic_error("INSERT ... RETURNING returned no row");
  return s.integer(0);
}

std::set<std::string> names(Database& db) {
  std::set<std::string> out;
  auto s = db.prepare("SELECT name FROM t");
  while (s.step()) out.insert(s.text(0));
  return out;
}

// Polls an observable condition until it holds or the deadline passes.
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Holds the committer inside a batch (a work that waits) until open(): works submitted
// meanwhile queue up and go together into the next batch.
class Gate final {
 public:
  explicit Gate(GroupCommitter& committer)
      : thread_([this, &committer] {
          committer.run([this](Database&) {
            entered_.release();
            open_.acquire();
          });
        }) {
    entered_.acquire();
  }
  ~Gate() { open(); }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  void open() {
    if (!thread_.joinable()) return;
    open_.release();
    thread_.join();
  }

 private:
  std::binary_semaphore entered_{0}, open_{0};
  std::thread thread_;
};

// What one caller got back.
struct Answer final {
  std::int64_t value = -1;
  std::exception_ptr error;
};

// Runs every work from its own thread, all of them in one batch (behind a Gate).
std::vector<Answer> run_in_one_batch(GroupCommitter& committer,
                                     const std::vector<std::function<std::int64_t(Database&)>>& works) {
  std::vector<Answer> answers(works.size());
  Gate gate(committer);
  std::vector<std::thread> callers;
  for (std::size_t i = 0; i < works.size(); ++i) {
    callers.emplace_back([&, i] {
      try {
        answers[i].value = committer.run(works[i]);
      } catch (...) {
        answers[i].error = std::current_exception();
      }
    });
  }
  EXPECT_TRUE(eventually([&] { return committer.queued() == works.size(); }));
  gate.open();
  for (auto& t : callers) t.join();
  return answers;
}

class GroupCommitTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ORDERFLOW_SKIP_WITHOUT(test_db_);
    db_ = test_db_.open();
    db_->migrate(kMigrations);
  }
  testing::TestDatabase test_db_{GetParam()};
  std::unique_ptr<Database> db_;
};

TEST_P(GroupCommitTest, ConcurrentCallersGetTheirOwnResultsAndEverythingIsDurable) {
  constexpr int kThreads = 16, kEach = 25;
  std::vector<std::vector<std::int64_t>> ids(kThreads);
  std::vector<std::vector<std::string>> echoed(kThreads);
  {
    GroupCommitter committer(*db_);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
          auto [id, read_back] = committer.run([&name](Database& db) {
            auto new_id = insert(db, name);
            auto s = db.prepare("SELECT name FROM t WHERE id = ?");
            s.bind(1, new_id);
            if (!s.step()) throw std::logic_error("row not visible in its own transaction");
            return std::pair(new_id, s.text(0));
          });
          ids[t].push_back(id);
          echoed[t].push_back(read_back);
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(committer.items_committed(), std::uint64_t{kThreads * kEach});
    EXPECT_GE(committer.batches_committed(), 1u);
    EXPECT_LE(committer.batches_committed(), committer.items_committed());
  }
  std::set<std::int64_t> distinct;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      EXPECT_EQ(echoed[t][i], "t" + std::to_string(t) + "-" + std::to_string(i)) << "a caller got another's result";
      distinct.insert(ids[t][i]);
    }
  }
  EXPECT_EQ(distinct.size(), std::size_t{kThreads * kEach});
  db_.reset();
  auto reopened = test_db_.open();  // what the commits wrote, read through a new connection
  auto stored = names(*reopened);
  EXPECT_EQ(stored.size(), std::size_t{kThreads * kEach});
  EXPECT_TRUE(stored.contains("t0-0") && stored.contains("t15-24"));
}

TEST_P(GroupCommitTest, QueuedWorksShareOneTransaction) {
  GroupCommitter committer(*db_);
  std::vector<std::function<std::int64_t(Database&)>> works;
  for (int i = 0; i < 10; ++i) works.emplace_back([i](Database& db) { return insert(db, "n" + std::to_string(i)); });
  auto answers = run_in_one_batch(committer, works);
  for (const auto& a : answers) EXPECT_FALSE(a.error);
  EXPECT_EQ(committer.items_committed(), 11u);   // the gate's work and the ten
  EXPECT_EQ(committer.batches_committed(), 2u);  // the gate's batch, then one for the ten
  EXPECT_EQ(names(*db_).size(), 10u);
}

TEST_P(GroupCommitTest, BatchesHoldAtMostMaxBatchWorks) {
  GroupCommitter committer(*db_, 4);
  std::vector<std::function<std::int64_t(Database&)>> works;
  for (int i = 0; i < 10; ++i) works.emplace_back([i](Database& db) { return insert(db, "n" + std::to_string(i)); });
  auto answers = run_in_one_batch(committer, works);
  for (const auto& a : answers) EXPECT_FALSE(a.error);
  EXPECT_EQ(committer.batches_committed(), 1u + 3u);  // the gate's, then 4 + 4 + 2
  EXPECT_EQ(names(*db_).size(), 10u);
}

TEST_P(GroupCommitTest, RunAllCommitsTheWorksInOneTransactionOnTheCallersThreadWhenIdle) {
  GroupCommitter committer(*db_, 4);
  std::set<std::thread::id> threads;
  std::vector<std::function<void(Database&)>> works;
  for (int i = 0; i < 6; ++i) {
    works.emplace_back([i, &threads](Database& db) {
      threads.insert(std::this_thread::get_id());
      if (i == 3) {
        insert(db, "gone");
        throw std::invalid_argument("changed its mind");
      }
      insert(db, "n" + std::to_string(i));
    });
  }
  auto errors = committer.run_all(std::move(works));
  ASSERT_EQ(errors.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(static_cast<bool>(errors[i]), i == 3) << i;
  EXPECT_THROW(std::rethrow_exception(errors[3]), std::invalid_argument);
  EXPECT_EQ(threads, std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(committer.batches_committed(), 2u) << "max_batch 4: 4 + 2";
  EXPECT_EQ(committer.items_committed(), 5u);
  EXPECT_EQ(names(*db_), (std::set<std::string>{"n0", "n1", "n2", "n4", "n5"}));
}

TEST_P(GroupCommitTest, RunAllQueuesTogetherBehindABatchInProgress) {
  GroupCommitter committer(*db_);
  std::vector<std::exception_ptr> errors;
  {
    Gate gate(committer);
    std::thread caller([&] {
      std::vector<std::function<void(Database&)>> works;
      for (int i = 0; i < 5; ++i) works.emplace_back([i](Database& db) { insert(db, "q" + std::to_string(i)); });
      errors = committer.run_all(std::move(works));
    });
    EXPECT_TRUE(eventually([&] { return committer.queued() == 5; }));
    gate.open();
    caller.join();
  }
  ASSERT_EQ(errors.size(), 5u);
  for (const auto& e : errors) EXPECT_FALSE(e);
  EXPECT_EQ(committer.batches_committed(), 2u) << "the gate's batch, then the five together";
  EXPECT_EQ(names(*db_).size(), 5u);
  committer.stop();
  EXPECT_THROW(committer.run_all({[](Database&) {}}), std::runtime_error);
}

TEST_P(GroupCommitTest, AThrowingWorkIsRolledBackAndFailsOnlyItsCaller) {
  GroupCommitter committer(*db_);
  auto answers = run_in_one_batch(committer, {
                                                 [](Database& db) { return insert(db, "a"); },
                                                 [](Database& db) -> std::int64_t {
                                                   insert(db, "b");
                                                   throw std::invalid_argument("changed its mind");
                                                 },
                                                 [](Database& db) { return insert(db, "c"); },
                                             });
  EXPECT_FALSE(answers[0].error);
  EXPECT_FALSE(answers[2].error);
  ASSERT_TRUE(answers[1].error);
  EXPECT_THROW(std::rethrow_exception(answers[1].error), std::invalid_argument);
  EXPECT_EQ(committer.batches_committed(), 2u) << "the three were one batch";
  EXPECT_EQ(committer.items_committed(), 3u);
  EXPECT_EQ(names(*db_), (std::set<std::string>{"a", "c"}));
}

TEST_P(GroupCommitTest, AConstraintViolationRollsBackOnlyThatWork) {
  insert(*db_, "taken");
  GroupCommitter committer(*db_);
  auto answers = run_in_one_batch(committer, {
                                                 [](Database& db) { return insert(db, "a"); },
                                                 [](Database& db) {
                                                   insert(db, "lost");
                                                   return insert(db, "taken");
                                                 },
                                                 [](Database& db) { return insert(db, "c"); },
                                             });
  EXPECT_FALSE(answers[0].error);
  EXPECT_FALSE(answers[2].error);
  ASSERT_TRUE(answers[1].error);
  try {
    std::rethrow_exception(answers[1].error);
  } catch (const DbError& e) {
    EXPECT_TRUE(e.is_constraint()) << e.what();
  }
  EXPECT_EQ(committer.batches_committed(), 2u) << "the three were one batch";
  EXPECT_EQ(names(*db_), (std::set<std::string>{"taken", "a", "c"}));
}

TEST_P(GroupCommitTest, AFailedCommitFailsEveryCallerOfTheBatchAndTheNextBatchCommits) {
  GroupCommitter committer(*db_);
  // A deferred foreign key is checked by COMMIT: the batch's COMMIT fails.
  auto answers = run_in_one_batch(committer, {
                                                 [](Database& db) { return insert(db, "a"); },
                                                 [](Database& db) {
                                                   db.prepare("INSERT INTO child(id, parent_id) VALUES (1, 99)").run();
                                                   return std::int64_t{0};
                                                 },
                                             });
  for (const auto& a : answers) {
    ASSERT_TRUE(a.error);
    EXPECT_THROW(std::rethrow_exception(a.error), DbError);
  }
  EXPECT_EQ(committer.batches_committed(), 1u) << "only the gate's batch committed";
  EXPECT_TRUE(names(*db_).empty());
  EXPECT_GT(committer.run([](Database& db) { return insert(db, "after"); }), 0);
  EXPECT_EQ(names(*db_), (std::set<std::string>{"after"}));
}

// submit(): the caller does not wait; its `done` hears once the batch is committed (or
// why not), on the committer thread; after stop() at once.
TEST_P(GroupCommitTest, SubmitAnswersAfterTheCommitWithoutBlockingTheCaller) {
  GroupCommitter committer(*db_);
  std::mutex mu;
  std::vector<std::exception_ptr> errors;
  std::thread::id committer_thread;
  std::atomic<int> answered{0};
  auto done = [&](std::exception_ptr e) {
    std::lock_guard lock(mu);
    errors.push_back(e);
    committer_thread = std::this_thread::get_id();
    ++answered;
  };
  {
    Gate gate(committer);
    committer.submit([](Database& db) { insert(db, "s1"); }, done);
    committer.submit([](Database& db) {
      insert(db, "s2");
      throw std::runtime_error("changed my mind");
    }, done);
    EXPECT_EQ(answered.load(), 0) << "submit returns before the batch is committed";
    EXPECT_EQ(committer.queued(), 2u);
  }
  ASSERT_TRUE(eventually([&] { return answered.load() == 2; }));
  EXPECT_NE(committer_thread, std::this_thread::get_id());
  EXPECT_FALSE(errors[0]);
  ASSERT_TRUE(errors[1]);
  EXPECT_THROW(std::rethrow_exception(errors[1]), std::runtime_error);
  EXPECT_EQ(names(*db_), (std::set<std::string>{"s1"})) << "the throwing work was rolled back alone";

  committer.stop();
  std::exception_ptr late;
  committer.submit([](Database& db) { insert(db, "late"); }, [&](std::exception_ptr e) { late = e; });
  ASSERT_TRUE(late) << "answered at once after stop()";
  EXPECT_FALSE(names(*db_).contains("late"));
}

// With a linger, works that keep coming are gathered: after a commit on the committer
// thread, the next works wait for more (without a wake-up each) until the batch is full.
TEST_P(GroupCommitTest, ALingerGathersWorksThatKeepComingUntilTheBatchIsFull) {
  // A linger far longer than the test: only a full batch (3 works) ends it.
  GroupCommitter committer(*db_, 3, std::chrono::seconds(60));
  std::atomic<int> answered{0};
  auto done = [&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    ++answered;
  };
  // The first work finds the committer idle, with no commit before it: committed at once.
  committer.submit([](Database& db) { insert(db, "first"); }, done);
  ASSERT_TRUE(eventually([&] { return answered.load() == 1; }));
  EXPECT_EQ(committer.batches_committed(), 1u);
  // Right behind it: held open for more, one work after another.
  committer.submit([](Database& db) { insert(db, "a"); }, done);
  committer.submit([](Database& db) { insert(db, "b"); }, done);
  EXPECT_TRUE(eventually([&] { return committer.queued() == 2; }));
  EXPECT_EQ(answered.load(), 1) << "two works of three: the batch is still open";
  committer.submit([](Database& db) { insert(db, "c"); }, done);
  ASSERT_TRUE(eventually([&] { return answered.load() == 4; })) << "a full batch is committed at once";
  EXPECT_EQ(committer.batches_committed(), 2u) << "a, b and c in one transaction";
  EXPECT_EQ(names(*db_), (std::set<std::string>{"first", "a", "b", "c"}));
  // stop() ends a linger: what is queued is committed and answered.
  committer.submit([](Database& db) { insert(db, "last"); }, done);
  committer.stop();
  EXPECT_EQ(answered.load(), 5);
  EXPECT_TRUE(names(*db_).contains("last"));
}

TEST_P(GroupCommitTest, StopAnswersQueuedCallersThenRefusesWork) {
  constexpr int kCallers = 8;
  auto committer = std::make_unique<GroupCommitter>(*db_);
  std::vector<Answer> answers(kCallers);
  std::vector<std::thread> callers;
  std::thread stopper;
  {
    Gate gate(*committer);
    for (int i = 0; i < kCallers; ++i) {
      callers.emplace_back([&, i] {
        try {
          answers[i].value = committer->run([i](Database& db) { return insert(db, "q" + std::to_string(i)); });
        } catch (...) {
          answers[i].error = std::current_exception();
        }
      });
    }
    EXPECT_TRUE(eventually([&] { return committer->queued() == std::size_t{kCallers}; }));
    stopper = std::thread([&] { committer->stop(); });  // waits for the batch held by the gate
    EXPECT_TRUE(eventually([&] { return committer->stopping(); }));
    EXPECT_THROW(committer->run([](Database& db) { return insert(db, "late"); }), std::runtime_error);
  }  // the gate opens: the queued callers' batch is committed before the committer ends
  stopper.join();
  for (auto& t : callers) t.join();
  for (const auto& a : answers) EXPECT_FALSE(a.error);
  EXPECT_EQ(committer->items_committed(), std::uint64_t{kCallers} + 1);
  committer.reset();  // the destructor stops again: a no-op
  db_.reset();
  auto stored = names(*test_db_.open());
  EXPECT_EQ(stored.size(), std::size_t{kCallers});
  EXPECT_FALSE(stored.contains("late"));
}

TEST_P(GroupCommitTest, TheDestructorAnswersQueuedCallers) {
  constexpr int kCallers = 8;
  std::vector<Answer> answers(kCallers);
  std::vector<std::thread> callers;
  {
    GroupCommitter committer(*db_);
    Gate gate(committer);
    for (int i = 0; i < kCallers; ++i) {
      callers.emplace_back([&, i] {
        try {
          answers[i].value = committer.run([i](Database& db) { return insert(db, "q" + std::to_string(i)); });
        } catch (...) {
          answers[i].error = std::current_exception();
        }
      });
    }
    EXPECT_TRUE(eventually([&] { return committer.queued() == std::size_t{kCallers}; }));
    gate.open();
  }  // ~GroupCommitter with callers possibly still queued: each is answered before it returns
  for (auto& t : callers) t.join();
  for (const auto& a : answers) EXPECT_FALSE(a.error);
  EXPECT_EQ(names(*db_).size(), std::size_t{kCallers});
}

TEST_P(GroupCommitTest, VoidWorksAndNestedSavepoints) {
  GroupCommitter committer(*db_);
  committer.run([](Database& db) {
    insert(db, "outer");
    db.exec("SAVEPOINT nested");
    insert(db, "inner");
    db.exec("ROLLBACK TO nested");
    db.exec("RELEASE nested");
  });
  EXPECT_EQ(names(*db_), (std::set<std::string>{"outer"}));
}

// Nothing queued, nothing in progress: run() commits on its caller's thread (no hand-off);
// a caller arriving while that batch is open queues for the committer thread instead.
TEST_P(GroupCommitTest, AnIdleCommitterLetsTheCallerCommitAndQueuesTheOthers) {
  GroupCommitter committer(*db_);
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  committer.run([&](Database& db) {
    ran_on = std::this_thread::get_id();
    insert(db, "alone");
  });
  EXPECT_EQ(ran_on, caller);
  EXPECT_EQ(committer.batches_committed(), 1u);

  std::thread::id queued_ran_on;
  std::thread::id gate_ran_on;
  std::binary_semaphore entered{0}, open{0};
  std::thread gate([&] {
    committer.run([&](Database&) {
      gate_ran_on = std::this_thread::get_id();
      entered.release();
      open.acquire();
    });
  });
  entered.acquire();
  std::thread queued([&] {
    committer.run([&](Database& db) {
      queued_ran_on = std::this_thread::get_id();
      insert(db, "queued");
    });
  });
  EXPECT_TRUE(eventually([&] { return committer.queued() == 1; }));
  open.release();
  const auto gate_id = gate.get_id();
  const auto queued_id = queued.get_id();
  gate.join();
  queued.join();
  EXPECT_EQ(gate_ran_on, gate_id);
  EXPECT_NE(queued_ran_on, queued_id);  // the committer's thread
  EXPECT_NE(queued_ran_on, caller);
  EXPECT_EQ(names(*db_), (std::set<std::string>{"alone", "queued"}));
  EXPECT_EQ(committer.batches_committed(), 3u);
}

// A batch commits without its own fsync only when every work in it asked for that.
TEST_P(GroupCommitTest, ABatchIsDeferredOnlyWhenEveryWorkIs) {
  using testing::commit_setting;
  GroupCommitter committer(*db_);
  const auto durable = testing::durable_setting(GetParam());
  std::string alone;
  committer.run(
      [&](Database& db) {
        alone = commit_setting(db);
        insert(db, "alone");
      },
      Durability::kDeferred);
  EXPECT_EQ(alone, testing::deferred_setting(GetParam()));

  std::string deferred_saw, durable_saw;
  {
    Gate gate(committer);
    std::thread deferred([&] {
      committer.run(
          [&](Database& db) {
            deferred_saw = commit_setting(db);
            insert(db, "deferred");
          },
          Durability::kDeferred);
    });
    std::thread durable_work([&] {
      committer.run([&](Database& db) {
        durable_saw = commit_setting(db);
        insert(db, "durable");
      });
    });
    EXPECT_TRUE(eventually([&] { return committer.queued() == 2; }));
    gate.open();
    deferred.join();
    durable_work.join();
  }
  EXPECT_EQ(deferred_saw, durable);  // it shared the durable work's batch
  EXPECT_EQ(durable_saw, durable);
  EXPECT_EQ(commit_setting(*db_), durable);
  EXPECT_EQ(names(*db_), (std::set<std::string>{"alone", "deferred", "durable"}));
}

ORDERFLOW_STORAGE_BACKENDS(GroupCommitTest);

}  // namespace
}  // namespace orderflow::storage
