#include "libs/runtime/openapi.hpp"

#include <gtest/gtest.h>

namespace orderflow::runtime {
namespace {

TEST(OpenApi, CommonDocumentDescribesTheActuatorAndTheProblemSchema) {
  auto doc = merge_openapi(common_openapi(), R"({"openapi":"3.0.3","info":{"title":"t","version":"1"}})");
  const auto& paths = doc.at("paths").as_object();
  for (const char* p : {"/actuator/health", "/actuator/health/readiness", "/actuator/health/liveness",
                        "/actuator/info", "/actuator/prometheus", "/metrics", "/v3/api-docs"}) {
    EXPECT_TRUE(paths.contains(p)) << p;
  }
  EXPECT_TRUE(doc.at("components").at("schemas").as_object().contains("Problem"));
  EXPECT_EQ(doc.at("info").at("title").as_string(), "t");
}

TEST(OpenApi, ServiceEntriesWinAndBothSetsAreKept) {
  auto doc = merge_openapi(
      R"({"paths":{"/a":{"get":{}},"/b":{"get":{}}},"components":{"schemas":{"X":{"type":"object"},"P":{}}}})",
      R"({"paths":{"/b":{"post":{}}},"components":{"schemas":{"P":{"type":"string"}},"parameters":{"Q":{}}}})");
  const auto& paths = doc.at("paths").as_object();
  EXPECT_TRUE(paths.contains("/a"));
  EXPECT_TRUE(paths.at("/b").as_object().contains("post"));
  EXPECT_FALSE(paths.at("/b").as_object().contains("get"));
  const auto& schemas = doc.at("components").at("schemas").as_object();
  EXPECT_EQ(schemas.at("P").at("type").as_string(), "string");
  EXPECT_TRUE(schemas.contains("X"));
  EXPECT_TRUE(doc.at("components").as_object().contains("parameters"));
}

TEST(OpenApi, RejectsADocumentThatIsNotAnObject) {
  EXPECT_THROW(merge_openapi(common_openapi(), "[1,2]"), std::invalid_argument);
  EXPECT_THROW(merge_openapi("{", "{}"), std::invalid_argument);
}

}  // namespace
}  // namespace orderflow::runtime
