include(GoogleTest)
# orderflow_unit_test(name SOURCES ... LIBS ...): a GoogleTest binary registered with ctest
# under the "unit" label (no I/O: runs anywhere).
function(orderflow_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest_main orderflow_warnings)
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 30)
endfunction()
