#include "libs/common/settings.hpp"

#include <cctype>
#include <cstdlib>

namespace orderflow {

Settings::Settings(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) throw ConfigError("unexpected argument '" + arg + "'");
    arg = arg.substr(2);
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      flags_[arg.substr(0, eq)] = arg.substr(eq + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      flags_[arg] = argv[++i];
    } else {
      flags_[arg] = "true";
    }
  }
}

std::string Settings::env_name(const std::string& name) {
  std::string env = "ORDERFLOW_";
  for (char c : name) env.push_back(c == '-' || c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return env;
}

std::optional<std::string> Settings::find(const std::string& name) const {
  if (auto it = flags_.find(name); it != flags_.end()) return it->second;
  if (const char* v = std::getenv(env_name(name).c_str()); v != nullptr && *v != '\0') {
    return std::string(v);
  }
  return std::nullopt;
}

std::string Settings::str(const std::string& name, const std::string& fallback) const {
  return find(name).value_or(fallback);
}

std::int64_t Settings::integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                               std::int64_t max) const {
  auto v = find(name);
  if (!v) return fallback;
  std::size_t used = 0;
  std::int64_t n = 0;
  try {
    n = std::stoll(*v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v->size() || n < min || n > max) {
    throw ConfigError("--" + name + " / " + env_name(name) + " must be an integer in [" +
                      std::to_string(min) + ", " + std::to_string(max) + "], got '" + *v + "'");
  }
  return n;
}

bool Settings::boolean(const std::string& name, bool fallback) const {
  auto v = find(name);
  if (!v) return fallback;
  if (*v == "true" || *v == "1" || *v == "yes" || *v == "on") return true;
  if (*v == "false" || *v == "0" || *v == "no" || *v == "off") return false;
  throw ConfigError("--" + name + " / " + env_name(name) + " must be true or false, got '" + *v + "'");
}

}  // namespace orderflow
