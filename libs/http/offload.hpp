#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

#include "libs/http/types.hpp"

namespace orderflow::http {

// Runs blocking work (SQLite, fsync) on `pool` and resumes the calling coroutine on its own
// executor when done, so I/O threads never block. Exceptions propagate to the caller.
template <class Fn>
asio::awaitable<std::invoke_result_t<Fn>> offload(asio::thread_pool& pool, Fn fn) {
  using R = std::invoke_result_t<Fn>;
  co_return co_await asio::co_spawn(
      pool.get_executor(), [f = std::move(fn)]() mutable -> asio::awaitable<R> { co_return f(); },
      asio::use_awaitable);
}

}  // namespace orderflow::http
