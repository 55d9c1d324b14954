#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

#include "libs/http/types.hpp"

namespace orderflow::http {

// Runs blocking work (SQLite, fsync) on `pool` and resumes the calling coroutine on its own
// executor when done, so I/O threads never block. Exceptions propagate to the caller.
//
// `fn` must be a named object (an lvalue) that outlives the co_await:
//     auto work = [this, id] { return repo.get(id); };
//     auto row = co_await http::offload(pool, work);
// GCC 12 destroys a lambda temporary with captures twice when it is created in the same
// full-expression as a co_await (double free; see GCC bug 101367 and asio issue 858), so
// passing a temporary lambda is deliberately a compile error.
template <class Fn>
asio::awaitable<std::invoke_result_t<Fn&>> offload(asio::thread_pool& pool, Fn& fn) {
  using R = std::invoke_result_t<Fn&>;
  co_return co_await asio::co_spawn(
      pool.get_executor(), [&fn]() -> asio::awaitable<R> { co_return fn(); }, asio::use_awaitable);
}

template <class Fn>
  requires(!std::is_lvalue_reference_v<Fn>)
void offload(asio::thread_pool& pool, Fn&& fn) = delete;  // name the lambda first: see above

}  // namespace orderflow::http
