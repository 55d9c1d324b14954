# Project-wide warnings; applied per target through orderflow_warnings().
add_library(orderflow_warnings INTERFACE)
target_compile_options(orderflow_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wcast-align
  -Wno-missing-field-initializers)
# GCC 12 false positives inside Boost headers: asio's coroutine frame allocator
# (-Wmismatched-new-delete) and boost::json initializer lists (-Wdangling-pointer).
target_compile_options(orderflow_warnings INTERFACE -Wno-mismatched-new-delete -Wno-dangling-pointer)
