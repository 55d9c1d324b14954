#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "libs/storage/database.hpp"

namespace orderflow::storage {

// Group commit: small write transactions of many threads share one transaction, hence one
// fsync. run(work) queues `work`; a committer thread takes everything queued (up to
// max_batch), opens ONE Transaction, runs each work inside its own SAVEPOINT, commits once
// and answers every caller. When nothing is queued and no batch is in progress, run()
// commits its work as a batch of one on the caller's own thread (no hand-off to the
// committer and back); whatever arrives meanwhile queues for the committer. Each caller is answered only after the COMMIT holding its work
// has returned (it is durable then), with the work's result or what it threw.
//
//   - A work that throws is rolled back to its savepoint: nothing it wrote is kept, only its
//     caller gets the exception, the others of the batch commit. (A work that decides to
//     change nothing after all can throw its own exception type and catch it around run().)
//   - BEGIN, a savepoint or COMMIT failing: nothing of the batch is stored and every caller
//     of the batch gets that error.
//   - No timer, no artificial wait by default: while one batch is written and fsync'ed the
//     next one queues up. Under light load a batch is one work (latency = one commit); under
//     load batches grow and the fsync is shared. With a linger, works that keep coming at a
//     moderate rate (each alone would be a commit and an fsync) are gathered for up to that
//     long on the committer thread.
//
// A work runs on the committer thread (or on run()'s caller's, see above) with the database
// lock held and a transaction open: it must be pure database work — no db.lock() (it would deadlock), no Transaction of its
// own (nested SAVEPOINTs are fine), nothing that relies on the caller's thread-locals
// (trace::current(), log context): capture what it needs by value or reference instead.
// It must let a database error propagate (on PostgreSQL the transaction is unusable after
// one until the work's savepoint is rolled back).
// Its costs: a work waits for the batch before it (at most one commit's time), and its
// locks (PostgreSQL rows, SQLite's write lock) are held until the whole batch commits.
//
// Thread-safe: run() may be called from any number of threads.
class GroupCommitter final {
 public:
  // `db` must outlive the committer. max_batch: the most works one transaction holds.
  // linger: how long the committer thread may hold a batch open for more works while works
  // are flowing (its previous commit ended less than two lingers ago); an isolated work is
  // never held. 0 (the default): no wait at all, see above.
  explicit GroupCommitter(Database& db, std::size_t max_batch = 1024,
                          std::chrono::microseconds linger = std::chrono::microseconds(0));
  // stop(): every queued caller is answered first.
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Runs work(db) in the next batch and returns its result once that batch is committed;
  // rethrows what the work threw, or the batch's error. Throws std::runtime_error after
  // stop() (nothing runs then). A batch is committed Durability::kDeferred (no fsync of its
  // own) only when every work in it asked for that; one durable work makes it durable.
  template <class Work>
  std::invoke_result_t<Work&, Database&> run(Work&& work, Durability durability = Durability::kDurable);

  // The asynchronous form, for callers that must not block (an HTTP I/O thread): queues
  // `work` and returns at once; `done(error)` runs on the committer thread once the batch
  // holding the work is committed (error: what the work threw or the batch's error, null
  // when it is durable). After stop(), `done` runs at once on the caller's thread. `done`
  // must not throw (what it throws is dropped, so that the batch's other callers still hear).
  void submit(std::function<void(Database&)> work, std::function<void(std::exception_ptr)> done);

  // The batch form, for a caller that decides many things at once (a consumer's poll
  // batch): every work in one transaction (max_batch at a time), each in its own savepoint,
  // committed on the caller's thread when the committer is idle (queued together otherwise).
  // Returns once all are committed: per work, what it threw (null when it is durable). A
  // batch-level error (BEGIN/COMMIT failing) is every work's error. Throws after stop().
  std::vector<std::exception_ptr> run_all(std::vector<std::function<void(Database&)>> works,
                                          Durability durability = Durability::kDurable);

  // Refuses new work, answers everything queued (committing it), ends the committer
  // thread. Idempotent.
  void stop();

  // Transactions committed so far (each holds one or more works).
  std::uint64_t batches_committed() const { return batches_committed_.load(); }
  // Works committed so far (works that threw are not counted).
  std::uint64_t items_committed() const { return items_committed_.load(); }
  // Works waiting for the next batch (not counting the batch being committed).
  std::size_t queued() const;
  bool stopping() const;

 private:
  // One caller's work. Shared by the caller and the committer, so that it outlives the
  // committer's release() even when the caller returns at once.
  struct Item final {
    void (*call)(void* work, Database& db) = nullptr;
    void* work = nullptr;
    // submit(): the work and the answer travel with the item instead.
    std::function<void(Database&)> owned_work;
    std::function<void(std::exception_ptr)> done;
    Durability durability = Durability::kDurable;
    std::exception_ptr error;
    std::binary_semaphore answered{0};
  };
  template <class F>
  static void invoke(void* f, Database& db) {
    (*static_cast<F*>(f))(db);
  }

  // Queues the item and wakes the committer; queue_mu_ held.
  void push_locked(const std::shared_ptr<Item>& item);
  // Starts the committer thread if it is not running yet, and wakes it; queue_mu_ held.
  void wake_committer_locked();
  // False when stopping (nothing queued).
  bool enqueue(const std::shared_ptr<Item>& item);
  // run(): queues the item, or commits it on this thread when nothing else is in progress.
  void submit_and_wait(const std::shared_ptr<Item>& item);
  void commit_loop();
  void commit_batch(const std::vector<std::shared_ptr<Item>>& batch);

  Database& db_;
  const std::size_t max_batch_;
  const std::chrono::microseconds linger_;
  std::chrono::steady_clock::time_point last_commit_{};  // committer thread only
  bool lingering_ = false;  // the committer holds a batch open (queue_mu_): pushes do not wake it
  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::shared_ptr<Item>> queue_;
  bool stopping_ = false;
  bool busy_ = false;  // a batch is being committed (by the committer or by a run() caller)
  std::atomic<std::uint64_t> batches_committed_{0};
  std::atomic<std::uint64_t> items_committed_{0};
  std::mutex stop_mu_;     // serialises stop() (the destructor and explicit calls)
  std::thread committer_;  // started by the first work that queues (wake_committer_locked)
};

template <class Work>
std::invoke_result_t<Work&, Database&> GroupCommitter::run(Work&& work, Durability durability) {
  using Result = std::invoke_result_t<Work&, Database&>;
  if constexpr (std::is_void_v<Result>) {
    auto call = [&work](Database& db) { work(db); };
    auto item = std::make_shared<Item>();
    item->call = &invoke<decltype(call)>;
    item->work = &call;
    item->durability = durability;
    submit_and_wait(item);
  } else {
    std::optional<Result> result;
    auto call = [&work, &result](Database& db) { result.emplace(work(db)); };
    auto item = std::make_shared<Item>();
    item->call = &invoke<decltype(call)>;
    item->work = &call;
    item->durability = durability;
    submit_and_wait(item);
    return std::move(*result);
  }
}

}  // namespace orderflow::storage
