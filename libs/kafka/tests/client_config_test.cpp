#include <gtest/gtest.h>

#include <librdkafka/rdkafkacpp.h>

#include "libs/kafka/client_config.hpp"

namespace orderflow::kafka {
namespace {

TEST(ClientConfig, PassesThroughPrefixedEnvironment) {
  ::setenv("ORDERFLOW_KAFKA_PROP_SOCKET_KEEPALIVE_ENABLE", "true", 1);
  ::setenv("ORDERFLOW_KAFKA_BOOTSTRAP", "broker:1234", 1);
  auto c = ClientConfig::from(Settings(std::map<std::string, std::string>{}));
  EXPECT_EQ(c.bootstrap, "broker:1234");
  EXPECT_EQ(c.properties.at("socket.keepalive.enable"), "true");
  auto conf = c.make_conf({});
  std::string v;
  ASSERT_EQ(conf->get("bootstrap.servers", v), RdKafka::Conf::CONF_OK);
  EXPECT_EQ(v, "broker:1234");
  ::unsetenv("ORDERFLOW_KAFKA_PROP_SOCKET_KEEPALIVE_ENABLE");
  ::unsetenv("ORDERFLOW_KAFKA_BOOTSTRAP");
}

TEST(ClientConfig, FailoverDefaultsAreSetAndOverridable) {
  ClientConfig c;
  std::string v;
  auto conf = c.make_conf({});
  ASSERT_EQ(conf->get("topic.metadata.refresh.fast.interval.ms", v), RdKafka::Conf::CONF_OK);
  EXPECT_EQ(v, "100");
  ASSERT_EQ(conf->get("reconnect.backoff.max.ms", v), RdKafka::Conf::CONF_OK);
  EXPECT_EQ(v, "1000");
  c.properties["reconnect.backoff.max.ms"] = "5000";
  conf = c.make_conf({});
  ASSERT_EQ(conf->get("reconnect.backoff.max.ms", v), RdKafka::Conf::CONF_OK);
  EXPECT_EQ(v, "5000");
}

TEST(ClientConfig, RejectsUnknownProperty) {
  ClientConfig c;
  c.properties["no.such.property"] = "1";
  EXPECT_THROW(c.make_conf({}), ConfigError);
}

}  // namespace
}  // namespace orderflow::kafka
