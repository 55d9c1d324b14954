#include "libs/kafka/client_config.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <cctype>
#include <cstdlib>

#include "libs/kafka/client_events.hpp"

extern char** environ;

namespace orderflow::kafka {
namespace {

// Clients created without their own event callback still log through librdkafka's.
ClientEvents g_log_only;  // no statistics; outlives every client

}  // namespace

ClientConfig ClientConfig::from(const Settings& settings) {
  ClientConfig c;
  c.bootstrap = settings.str("kafka-bootstrap", "localhost:9092");
  constexpr std::string_view kPrefix = "ORDERFLOW_KAFKA_PROP_";
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.substr(0, kPrefix.size()) != kPrefix) continue;
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name;
    for (char ch : kv.substr(kPrefix.size(), eq - kPrefix.size())) {
      name.push_back(ch == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    }
    c.properties[name] = std::string(kv.substr(eq + 1));
  }
  return c;
}

std::unique_ptr<RdKafka::Conf> ClientConfig::make_conf(const std::map<std::string, std::string>& extra,
                                                       RdKafka::EventCb* events) const {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto set = [&](const std::string& k, const std::string& v) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      throw ConfigError("kafka property " + k + "=" + v + ": " + err);
    }
  };
  set("bootstrap.servers", bootstrap);
  if (conf->set("event_cb", events != nullptr ? events : &g_log_only, err) != RdKafka::Conf::CONF_OK) throw ConfigError(err);
  // Failover (libs/kafka/README.md "Broker failover"): a partition whose leader is gone asks
  // for metadata after 100 ms, doubling [250 ms], so a new leader is found within ~0.1-0.3 s
  // of the controller naming it instead of up to ~0.75 s later; a broker that is back is
  // reconnected within 1 s [up to 10 s].
  set("topic.metadata.refresh.fast.interval.ms", "100");
  set("reconnect.backoff.max.ms", "1000");
  for (const auto& [k, v] : extra) set(k, v);
  for (const auto& [k, v] : properties) set(k, v);  // operator overrides win
  return conf;
}

}  // namespace orderflow::kafka
