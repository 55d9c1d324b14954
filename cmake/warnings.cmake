# Project-wide warnings; applied per target through orderflow_warnings().
add_library(orderflow_warnings INTERFACE)
target_compile_options(orderflow_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wcast-align
  -Wno-missing-field-initializers)
