#pragma once

#include <pthread.h>

#include <string>

namespace orderflow {

// Names the calling thread (at most 15 characters are kept), so that `top -H`, `ps -L`,
// perf and /proc/<pid>/task/*/comm tell a service's threads apart.
inline void name_this_thread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace orderflow
