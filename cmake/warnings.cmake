# Project-wide warnings; applied per target through orderflow_warnings().
# GCC-only flags are conditional: the fuzz build (cmake --preset fuzz) uses clang.
add_library(orderflow_warnings INTERFACE)
target_compile_options(orderflow_warnings INTERFACE
  -Wall -Wextra -Wpedantic $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local> -Wnon-virtual-dtor -Wcast-align
  -Wno-missing-field-initializers)
# GCC 12 false positives inside Boost headers: asio's coroutine frame allocator
# (-Wmismatched-new-delete) and boost::json initializer lists (-Wdangling-pointer).
target_compile_options(orderflow_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete> $<$<CXX_COMPILER_ID:GNU>:-Wno-dangling-pointer>)
