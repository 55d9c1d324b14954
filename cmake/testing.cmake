include(GoogleTest)
# orderflow_unit_test(name SOURCES ... LIBS ...): a GoogleTest binary registered with ctest
# under the "unit" label (no I/O: runs anywhere).
function(orderflow_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest_main orderflow_warnings)
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 30)
endfunction()

# orderflow_db_test(name SOURCES ... LIBS ...): a GoogleTest binary whose suites run once per
# storage backend (INSTANTIATE_TEST_SUITE_P with the prefixes Sqlite and Postgres). The
# SQLite instances are "unit" tests; the PostgreSQL ones get the label "postgres" and need a
# server at ORDERFLOW_TEST_DATABASE_URL (scripts/test.sh starts one; without it they skip).
function(orderflow_db_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest_main orderflow_warnings)
  gtest_discover_tests(${name} TEST_FILTER "-Postgres/*" PROPERTIES LABELS unit DISCOVERY_TIMEOUT 30)
  gtest_discover_tests(${name} TEST_FILTER "Postgres/*" PROPERTIES LABELS postgres DISCOVERY_TIMEOUT 30)
endfunction()
