#include "services/alerting/domain/dlq_ops.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <limits>

#include "libs/common/settings.hpp"
#include "libs/common/time.hpp"
#include "libs/mail/message.hpp"

namespace orderflow::alerting::domain {
namespace {

bool starts_with_dlq(std::string_view name) { return name.substr(0, 4) == "dlq-"; }

// A JSON integer that fits `T` and is >= 0, else nullopt.
template <class T>
std::optional<T> non_negative(const boost::json::value& v) {
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return {};
    n = static_cast<std::int64_t>(v.get_uint64());
  } else {
    return {};
  }
  if (n < 0 || n > static_cast<std::int64_t>(std::numeric_limits<T>::max())) return {};
  return static_cast<T>(n);
}

boost::json::value text_or_base64(std::string_view bytes, boost::json::object& into,
                                  std::string_view encoding_field) {
  if (valid_utf8(bytes)) return boost::json::string(bytes);
  into[encoding_field] = "base64";
  return boost::json::string(mail::base64(bytes));
}

}  // namespace


// ------------------------------------------------------------------------ replaying

std::variant<kafka::Record, std::string> replay_record(const kafka::Record& dlq) {
  auto original = dlq.header(kOriginalTopicHeader);
  if (!original || original->empty()) {
    return std::string("the record has no ") + std::string(kOriginalTopicHeader) + " header";
  }
  if (*original == dlq.topic) {
    return std::string(kOriginalTopicHeader) + " names the DLQ topic itself";
  }
  kafka::Record out;
  out.topic = *original;
  out.key = dlq.key;
  out.value = dlq.value;
  out.partition = -1;
  for (const auto& h : dlq.headers) {
    if (!starts_with_dlq(h.first)) out.headers.push_back(h);
  }
  out.headers.emplace_back(kReplayedFromHeader, dlq.topic + ":" + std::to_string(dlq.partition) +
                                                    ":" + std::to_string(dlq.offset));
  return out;
}

std::variant<ReplayRequest, std::vector<FieldProblem>> parse_replay_request(
    const boost::json::value& body) {
  std::vector<FieldProblem> problems;
  ReplayRequest req;
  const auto* obj = body.if_object();
  if (obj == nullptr) {
    problems.push_back({"", "the body must be a JSON object"});
    return problems;
  }
  bool has_all = false;
  bool has_offsets = false;
  bool bad_all = false;
  for (const auto& [key, value] : *obj) {
    if (key == "all") {
      has_all = true;
      if (!value.is_bool()) {
        bad_all = true;
        problems.push_back({"all", "must be true or false"});
      } else {
        req.all = value.get_bool();
      }
    } else if (key == "dryRun") {
      if (!value.is_bool()) {
        problems.push_back({"dryRun", "must be true or false"});
      } else {
        req.dry_run = value.get_bool();
      }
    } else if (key == "force") {
      if (!value.is_bool()) {
        problems.push_back({"force", "must be true or false"});
      } else {
        req.force = value.get_bool();
      }
    } else if (key == "offsets") {
      has_offsets = true;
      const auto* list = value.if_array();
      if (list == nullptr) {
        problems.push_back({"offsets", "must be an array of {\"partition\", \"offset\"}"});
        continue;
      }
      if (list->empty()) problems.push_back({"offsets", "must not be empty"});
      for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string at = "offsets[" + std::to_string(i) + "]";
        const auto* item = (*list)[i].if_object();
        if (item == nullptr) {
          problems.push_back({at, "must be an object {\"partition\", \"offset\"}"});
          continue;
        }
        Position pos;
        bool ok = true;
        const auto* p = item->if_contains("partition");
        if (auto v = p ? non_negative<std::int32_t>(*p) : std::nullopt) {
          pos.partition = *v;
        } else {
          problems.push_back({at + ".partition", "must be an integer >= 0"});
          ok = false;
        }
        const auto* o = item->if_contains("offset");
        if (auto v = o ? non_negative<std::int64_t>(*o) : std::nullopt) {
          pos.offset = *v;
        } else {
          problems.push_back({at + ".offset", "must be an integer >= 0"});
          ok = false;
        }
        for (const auto& field : *item) {
          if (field.key() != "partition" && field.key() != "offset") {
            problems.push_back({at + "." + std::string(field.key()), "unknown field"});
            ok = false;
          }
        }
        if (ok) req.offsets.push_back(pos);
      }
    } else {
      problems.push_back(
          {std::string(key), "unknown field (expected offsets or all, dryRun, force)"});
    }
  }
  if (has_all && has_offsets) {
    problems.push_back({"all", "give either offsets or all, not both"});
  } else if (!has_offsets && !req.all && !bad_all) {
    problems.push_back(has_all ? FieldProblem{"all", "must be true (or list offsets instead)"}
                               : FieldProblem{"offsets", "give offsets or \"all\": true"});
  }
  if (!problems.empty()) return problems;
  std::sort(req.offsets.begin(), req.offsets.end());
  req.offsets.erase(std::unique(req.offsets.begin(), req.offsets.end()), req.offsets.end());
  return req;
}

ReplayPlan plan_replay(const std::vector<Position>& candidates,
                       const std::set<Position>& replayed_before, bool force, std::size_t max) {
  ReplayPlan plan;
  for (const auto& pos : candidates) {
    bool before = replayed_before.contains(pos);
    if (before) plan.already_replayed.push_back(pos);
    if (before && !force) continue;
    if (plan.take.size() < max) {
      plan.take.push_back(pos);
    } else {
      ++plan.remaining;
    }
  }
  return plan;
}

ReplayPlan plan_replay_all(const std::vector<PartitionRange>& ranges,
                           const std::set<Position>& replayed_before, bool force, std::size_t max) {
  ReplayPlan plan;
  auto sorted = ranges;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.partition < b.partition; });
  for (const auto& r : sorted) {
    if (r.high <= r.low) continue;
    // Replayed offsets inside this range: reported, and not counted as remaining.
    auto first = replayed_before.lower_bound(Position{r.partition, r.low});
    auto last = replayed_before.lower_bound(Position{r.partition, r.high});
    std::int64_t before_in_range = 0;
    for (auto it = first; it != last; ++it) {
      plan.already_replayed.push_back(*it);
      ++before_in_range;
    }
    std::int64_t candidates = (r.high - r.low) - (force ? 0 : before_in_range);
    // Take offsets in order until the cap; only the taken ones are listed.
    for (std::int64_t off = r.low; off < r.high && plan.take.size() < max; ++off) {
      Position pos{r.partition, off};
      if (!force && replayed_before.contains(pos)) continue;
      plan.take.push_back(pos);
      --candidates;
    }
    plan.remaining += static_cast<std::size_t>(std::max<std::int64_t>(0, candidates));
  }
  return plan;
}

// ------------------------------------------------------------------------ the audit

std::string offsets_to_json(const std::vector<Position>& offsets) {
  boost::json::array out;
  out.reserve(offsets.size());
  for (const auto& p : offsets) out.push_back({{"partition", p.partition}, {"offset", p.offset}});
  return boost::json::serialize(out);
}

std::vector<Position> offsets_from_json(std::string_view text) {
  std::vector<Position> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& item : v.get_array()) {
    const auto* o = item.if_object();
    if (o == nullptr) continue;
    const auto* p = o->if_contains("partition");
    const auto* off = o->if_contains("offset");
    if (p == nullptr || off == nullptr || !p->is_int64() || !off->is_int64()) continue;
    out.push_back({static_cast<std::int32_t>(p->get_int64()), off->get_int64()});
  }
  return out;
}

boost::json::object to_json(const ReplayAudit& a) {
  boost::json::array offsets;
  for (const auto& p : a.offsets)
    offsets.push_back({{"partition", p.partition}, {"offset", p.offset}});
  return {{"id", a.id},
          {"time", iso8601_from_ms(a.time_ms)},
          {"who", a.who},
          {"topic", a.topic},
          {"selection", a.all ? "all" : "offsets"},
          {"offsets", std::move(offsets)},
          {"dryRun", a.dry_run},
          {"force", a.force},
          {"count", a.count},
          {"alreadyReplayed", a.already_replayed},
          {"remaining", a.remaining},
          {"failed", a.failed},
          {"correlationId", a.correlation_id}};
}

// ------------------------------------------------------------------------ browsing

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // cut short
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values above U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

boost::json::object message_json(const kafka::Record& r, std::size_t max_value_bytes) {
  boost::json::object out;
  out["partition"] = r.partition;
  out["offset"] = r.offset;
  out["timestamp"] = r.timestamp_ms > 0 ? boost::json::value(iso8601_from_ms(r.timestamp_ms))
                                        : boost::json::value(nullptr);
  out["key"] = text_or_base64(r.key, out, "keyEncoding");
  std::string_view value = r.value;
  bool truncated = value.size() > max_value_bytes;
  if (truncated) {
    value = value.substr(0, max_value_bytes);
    // Do not cut a UTF-8 sequence in half: when the last one is incomplete, drop it.
    std::size_t lead = value.size();
    while (lead > 0 && (static_cast<unsigned char>(value[lead - 1]) & 0xC0) == 0x80) --lead;
    if (lead > 0) {
      auto c = static_cast<unsigned char>(value[lead - 1]);
      std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (lead - 1 + len > value.size()) value = value.substr(0, lead - 1);
    }
    out["valueTruncated"] = true;
    out["valueBytes"] = static_cast<std::int64_t>(r.value.size());
  }
  boost::system::error_code ec;
  boost::json::value parsed;
  if (!truncated && !value.empty()) parsed = boost::json::parse(value, ec);
  if (!truncated && !value.empty() && !ec) {
    out["valueFormat"] = "json";
    out["value"] = std::move(parsed);
  } else {
    out["valueFormat"] = "text";
    out["value"] = text_or_base64(value, out, "valueEncoding");
  }
  boost::json::array headers;
  for (const auto& [name, v] : r.headers) {
    boost::json::object h;
    h["key"] = text_or_base64(name, h, "keyEncoding");
    h["value"] = text_or_base64(v, h, "valueEncoding");
    headers.push_back(std::move(h));
  }
  out["headers"] = std::move(headers);
  return out;
}

}  // namespace orderflow::alerting::domain
