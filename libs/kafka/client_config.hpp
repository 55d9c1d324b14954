#pragma once

#include <map>
#include <memory>
#include <string>

#include "libs/common/settings.hpp"

namespace RdKafka {
class Conf;
}

namespace orderflow::kafka {

// librdkafka properties shared by every client of a service. `bootstrap` comes from
// --kafka-bootstrap / ORDERFLOW_KAFKA_BOOTSTRAP; any other librdkafka property passes
// through from environment variables ORDERFLOW_KAFKA_PROP_<NAME>, where the name is
// upper-cased with dots as underscores (ORDERFLOW_KAFKA_PROP_SECURITY_PROTOCOL=SASL_SSL).
struct ClientConfig final {
  std::string bootstrap = "localhost:9092";
  std::map<std::string, std::string> properties;

  static ClientConfig from(const Settings& settings);
  // Builds an RdKafka::Conf with `properties`, then `extra` on top; throws ConfigError.
  std::unique_ptr<RdKafka::Conf> make_conf(const std::map<std::string, std::string>& extra) const;
};

}  // namespace orderflow::kafka
