#pragma once

#include <map>
#include <memory>
#include <string>

#include "libs/common/settings.hpp"

namespace RdKafka {
class Conf;
class EventCb;
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
  // Builds an RdKafka::Conf with the failover defaults every client shares, `extra` on top,
  // then `properties` (operator overrides win); throws ConfigError. `events` (logs, errors, statistics) must outlive the client;
  // nullptr routes logs and errors to the JSON log and ignores statistics.
  std::unique_ptr<RdKafka::Conf> make_conf(const std::map<std::string, std::string>& extra,
                                           RdKafka::EventCb* events = nullptr) const;
};

}  // namespace orderflow::kafka
