// Kafka security passthrough against a real broker: the SASL_SSL listener (SCRAM-SHA-256
// over TLS) that scripts/kafka.sh gives a single-node broker. The clients are configured the
// way every service is: ORDERFLOW_KAFKA_PROP_<NAME> environment variables read by
// ClientConfig::from. Records round-trip; a wrong password or an untrusted CA is refused.
//
// Environment: ORDERFLOW_KAFKA_BOOTSTRAP (127.0.0.1:9092; the SASL_SSL port is 3 above it
// unless ORDERFLOW_KAFKA_SASL_PORT says otherwise), ORDERFLOW_KAFKA_DIR or ORDERFLOW_RUN_DIR
// (where the broker's tls/ca.pem is), ORDERFLOW_KAFKA_SASL_USER / _PASSWORD.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "libs/common/ids.hpp"
#include "libs/kafka/admin.hpp"
#include "libs/kafka/consumer.hpp"
#include "libs/kafka/producer.hpp"

namespace orderflow {
namespace {

using namespace std::chrono_literals;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::string sasl_bootstrap() {
  std::string plain = env_or("ORDERFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092");
  plain = plain.substr(0, plain.find(','));
  const auto colon = plain.rfind(':');
  const int port = std::stoi(plain.substr(colon + 1));
  return plain.substr(0, colon) + ":" + env_or("ORDERFLOW_KAFKA_SASL_PORT", std::to_string(port + 3));
}

std::string ca_file() {
  const std::filesystem::path root = ORDERFLOW_SOURCE_DIR;
  std::filesystem::path run = env_or("ORDERFLOW_RUN_DIR", (root / ".run").string());
  if (run.is_relative()) run = root / run;
  std::filesystem::path kafka = env_or("ORDERFLOW_KAFKA_DIR", (run / "kafka").string());
  if (kafka.is_relative()) kafka = root / kafka;
  return (kafka / "tls" / "ca.pem").string();
}

// Sets ORDERFLOW_KAFKA_PROP_* for the life of the object, as an operator would for a service.
class SecurityEnv {
 public:
  explicit SecurityEnv(std::map<std::string, std::string> props) : props_(std::move(props)) {
    for (const auto& [k, v] : props_) ::setenv(k.c_str(), v.c_str(), 1);
  }
  ~SecurityEnv() {
    for (const auto& [k, v] : props_) ::unsetenv(k.c_str());
  }
  SecurityEnv(const SecurityEnv&) = delete;
  SecurityEnv& operator=(const SecurityEnv&) = delete;

 private:
  std::map<std::string, std::string> props_;
};

std::map<std::string, std::string> sasl_ssl_env(const std::string& password, const std::string& ca) {
  return {{"ORDERFLOW_KAFKA_PROP_SECURITY_PROTOCOL", "SASL_SSL"},
          {"ORDERFLOW_KAFKA_PROP_SASL_MECHANISMS", "SCRAM-SHA-256"},
          {"ORDERFLOW_KAFKA_PROP_SASL_USERNAME", env_or("ORDERFLOW_KAFKA_SASL_USER", "orderflow")},
          {"ORDERFLOW_KAFKA_PROP_SASL_PASSWORD", password},
          {"ORDERFLOW_KAFKA_PROP_SSL_CA_LOCATION", ca}};
}

// The configuration a service would build from its settings and the environment.
kafka::ClientConfig service_config() {
  return kafka::ClientConfig::from(Settings({{"kafka-bootstrap", sasl_bootstrap()}}));
}

const std::string kPassword = env_or("ORDERFLOW_KAFKA_SASL_PASSWORD", "orderflow-dev-secret");

TEST(KafkaSecurity, EnvironmentPropertiesReachTheClientConfiguration) {
  SecurityEnv env(sasl_ssl_env(kPassword, ca_file()));
  auto config = service_config();
  EXPECT_EQ(config.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(config.properties.at("sasl.mechanisms"), "SCRAM-SHA-256");
  EXPECT_EQ(config.properties.at("ssl.ca.location"), ca_file());
}

TEST(KafkaSecurity, RecordsRoundTripOverSaslScramAndTls) {
  ASSERT_TRUE(std::filesystem::exists(ca_file()))
      << "no " << ca_file() << ": start the broker with scripts/kafka.sh (it makes the CA)";
  SecurityEnv env(sasl_ssl_env(kPassword, ca_file()));
  auto config = service_config();
  kafka::Producer producer(config, "security-test");
  auto ping = producer.ping(15s);
  ASSERT_TRUE(ping) << "SASL_SSL listener at " << config.bootstrap << ": " << ping.error().message;

  const std::string topic = "it-sasl-ssl-" + ids::uuid();
  ASSERT_TRUE(kafka::ensure_topics(producer, {{topic, 1, 1}}));
  kafka::Record record;
  record.topic = topic;
  record.key = "order-tls";
  record.value = R"({"hello":"tls"})";
  ASSERT_TRUE(producer.send_sync(record));

  kafka::Consumer consumer(config, "it-sasl-ssl-" + ids::uuid(), {topic}, "security-test");
  std::optional<kafka::Record> seen;
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (!seen && std::chrono::steady_clock::now() < until) seen = consumer.poll(200ms);
  consumer.close();
  ASSERT_TRUE(seen.has_value()) << "nothing read back over SASL_SSL";
  EXPECT_EQ(seen->key, "order-tls");
  EXPECT_EQ(seen->value, R"({"hello":"tls"})");
}

// Pings with the given environment; returns what the client logged (its JSON log lines go
// to stderr), so a test can tell why the connection failed.
std::string refused_ping_log(const std::map<std::string, std::string>& props) {
  SecurityEnv env(props);
  ::testing::internal::CaptureStderr();
  bool reached = false;
  {
    kafka::Producer producer(service_config(), "security-test-refused");
    reached = static_cast<bool>(producer.ping(5s));
  }
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(reached) << "the SASL_SSL listener let the client in";
  return log;
}

TEST(KafkaSecurity, AWrongPasswordIsRefused) {
  const auto log = refused_ping_log(sasl_ssl_env("not-the-password", ca_file()));
  EXPECT_NE(log.find("Authentication failure"), std::string::npos) << log;
}

TEST(KafkaSecurity, ABrokerCertificateFromAnotherCaIsRefused) {
  // The system's CA bundle does not know the broker's local CA.
  const auto log = refused_ping_log(sasl_ssl_env(kPassword, "/etc/ssl/certs/ca-certificates.crt"));
  EXPECT_NE(log.find("certificate verify failed"), std::string::npos) << log;
}

}  // namespace
}  // namespace orderflow
