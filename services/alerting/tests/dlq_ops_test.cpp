#include "services/alerting/domain/dlq_ops.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "libs/common/settings.hpp"

namespace orderflow::alerting::domain {
namespace {

namespace json = boost::json;

// ------------------------------------------------------------------------ token check

TEST(AdminToken, ParsesPlainAndNamedEntries) {
  auto tokens = parse_admin_tokens(" s3cret-token , alice:al1ce-token,ops.team@x:t:with:colons");
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].name, "admin");
  EXPECT_EQ(tokens[0].token, "s3cret-token");
  EXPECT_EQ(tokens[1].name, "alice");
  EXPECT_EQ(tokens[1].token, "al1ce-token");
  EXPECT_EQ(tokens[2].name, "ops.team@x");
  EXPECT_EQ(tokens[2].token, "t:with:colons");
  EXPECT_TRUE(parse_admin_tokens("").empty());
  EXPECT_TRUE(parse_admin_tokens("  ").empty());
}

TEST(AdminToken, AColonAfterSomethingThatIsNoNameStaysInTheToken) {
  auto tokens = parse_admin_tokens("a b:c");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].name, "admin");
  EXPECT_EQ(tokens[0].token, "a b:c");
}

TEST(AdminToken, RejectsEmptyEntriesAndTokens) {
  EXPECT_THROW(parse_admin_tokens("a,,b"), ConfigError);
  EXPECT_THROW(parse_admin_tokens("a,"), ConfigError);
  EXPECT_THROW(parse_admin_tokens("alice:"), ConfigError);
}

TEST(AdminToken, ConstantTimeEquals) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "ab"));
  EXPECT_FALSE(constant_time_equals("abc", "abcabc"));  // a repeat of it is no match
  EXPECT_FALSE(constant_time_equals("abc", ""));
  EXPECT_FALSE(constant_time_equals("", ""));
}

TEST(AdminToken, Check) {
  const auto tokens = parse_admin_tokens("root-token,alice:alice-token");
  using O = AdminCheck::Outcome;
  EXPECT_EQ(check_admin({}, std::string_view("Bearer x")).outcome, O::kDisabled);
  EXPECT_EQ(check_admin({}, std::nullopt).outcome, O::kDisabled);
  EXPECT_EQ(check_admin(tokens, std::nullopt).outcome, O::kMissing);
  EXPECT_EQ(check_admin(tokens, std::string_view("")).outcome, O::kMissing);
  EXPECT_EQ(check_admin(tokens, std::string_view("Basic cm9vdC10b2tlbg==")).outcome, O::kMissing);
  EXPECT_EQ(check_admin(tokens, std::string_view("Bearer")).outcome, O::kMissing);
  EXPECT_EQ(check_admin(tokens, std::string_view("Bearer ")).outcome, O::kMissing);
  EXPECT_EQ(check_admin(tokens, std::string_view("Bearer wrong")).outcome, O::kInvalid);
  EXPECT_EQ(check_admin(tokens, std::string_view("Bearer root-token2")).outcome, O::kInvalid);

  auto root = check_admin(tokens, std::string_view("Bearer root-token"));
  EXPECT_EQ(root.outcome, O::kAllowed);
  EXPECT_EQ(root.who, "admin");
  auto alice = check_admin(tokens, std::string_view("bearer  alice-token "));
  EXPECT_EQ(alice.outcome, O::kAllowed);
  EXPECT_EQ(alice.who, "alice");
}

// ------------------------------------------------------------------------ header rewriting

kafka::Record dlq_record() {
  kafka::Record r;
  r.topic = "payment-service.dlq";
  r.partition = 3;
  r.offset = 41;
  r.key = "order-1";
  r.value = R"({"orderId":"order-1"})";
  r.headers = {{"ce_specversion", "1.0"},
               {"ce_id", "evt-1"},
               {"ce_type", "OrderCreated"},
               {"ce_correlationid", "corr-1"},
               {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
               {"dlq-replayed-from", "payment-service.dlq:0:2"},  // an earlier replay
               {"dlq-original-topic", "order-events"},
               {"dlq-original-partition", "5"},
               {"dlq-original-offset", "99"},
               {"dlq-consumer-group", "payment-service"},
               {"dlq-reason", "gateway-unavailable"},
               {"dlq-error-message", "HTTP 500"},
               {"dlq-attempts", "5"},
               {"dlq-first-failure-time", "2026-01-01T00:00:00.000Z"},
               {"dlq-last-failure-time", "2026-01-01T00:01:00.000Z"},
               {"x-custom", "kept"}};
  return r;
}

TEST(ReplayRecord, GoesToTheOriginalTopicWithoutFailureHeaders) {
  auto out = replay_record(dlq_record());
  ASSERT_TRUE(std::holds_alternative<kafka::Record>(out)) << std::get<std::string>(out);
  const auto& r = std::get<kafka::Record>(out);
  EXPECT_EQ(r.topic, "order-events");
  EXPECT_EQ(r.partition, -1);  // by key, as the original producer chose
  EXPECT_EQ(r.key, "order-1");
  EXPECT_EQ(r.value, R"({"orderId":"order-1"})");
  kafka::Headers expected{
      {"ce_specversion", "1.0"},
      {"ce_id", "evt-1"},
      {"ce_type", "OrderCreated"},
      {"ce_correlationid", "corr-1"},
      {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
      {"x-custom", "kept"},
      {"dlq-replayed-from", "payment-service.dlq:3:41"}};
  EXPECT_EQ(r.headers, expected);
}

TEST(ReplayRecord, NeedsAnOriginalTopic) {
  auto r = dlq_record();
  r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                 [](const auto& h) { return h.first == "dlq-original-topic"; }),
                  r.headers.end());
  EXPECT_TRUE(std::holds_alternative<std::string>(replay_record(r)));
  r.headers.emplace_back("dlq-original-topic", "");
  EXPECT_TRUE(std::holds_alternative<std::string>(replay_record(r)));
  r.headers.emplace_back("dlq-original-topic", "payment-service.dlq");  // itself: a loop
  EXPECT_TRUE(std::holds_alternative<std::string>(replay_record(r)));
}

// ------------------------------------------------------------------------ the request

ReplayRequest parse_ok(std::string_view text) {
  auto v = parse_replay_request(json::parse(text));
  if (auto* p = std::get_if<std::vector<FieldProblem>>(&v)) {
    ADD_FAILURE() << text << ": " << p->front().field << " " << p->front().message;
    return {};
  }
  return std::get<ReplayRequest>(v);
}

std::vector<std::string> problem_fields(std::string_view text) {
  auto v = parse_replay_request(json::parse(text));
  std::vector<std::string> out;
  if (auto* p = std::get_if<std::vector<FieldProblem>>(&v)) {
    for (const auto& f : *p) out.push_back(f.field);
  }
  return out;
}

TEST(ReplayRequestParsing, OffsetsAreSortedAndDeduplicated) {
  auto r = parse_ok(
      R"({"offsets":[{"partition":1,"offset":5},{"partition":0,"offset":9},{"partition":1,"offset":5}],"dryRun":true})");
  EXPECT_FALSE(r.all);
  EXPECT_TRUE(r.dry_run);
  EXPECT_FALSE(r.force);
  EXPECT_EQ(r.offsets, (std::vector<Position>{{0, 9}, {1, 5}}));
  auto all = parse_ok(R"({"all":true,"force":true})");
  EXPECT_TRUE(all.all);
  EXPECT_TRUE(all.force);
  EXPECT_FALSE(all.dry_run);
}

TEST(ReplayRequestParsing, NamesEveryBadField) {
  EXPECT_EQ(problem_fields("[]"), std::vector<std::string>{""});
  EXPECT_EQ(problem_fields("{}"), std::vector<std::string>{"offsets"});
  EXPECT_EQ(problem_fields(R"({"all":false})"), std::vector<std::string>{"all"});
  EXPECT_EQ(problem_fields(R"({"all":true,"offsets":[{"partition":0,"offset":1}]})"),
            std::vector<std::string>{"all"});
  EXPECT_EQ(problem_fields(R"({"offsets":[]})"), std::vector<std::string>{"offsets"});
  EXPECT_EQ(problem_fields(R"({"offsets":{}})"), std::vector<std::string>{"offsets"});
  EXPECT_EQ(problem_fields(R"({"all":"yes"})"), std::vector<std::string>{"all"});
  EXPECT_EQ(
      problem_fields(
          R"({"offsets":[{"partition":-1,"offset":1},{"partition":0,"offset":"7"},3,{"partition":0,"offset":1,"x":1}]})"),
      (std::vector<std::string>{"offsets[0].partition", "offsets[1].offset", "offsets[2]",
                                "offsets[3].x"}));
  EXPECT_EQ(problem_fields(R"({"offsets":[{"partition":2147483648,"offset":1}]})"),
            std::vector<std::string>{"offsets[0].partition"});
  EXPECT_EQ(problem_fields(R"({"offsets":[{"partition":0,"offset":1.5}]})"),
            std::vector<std::string>{"offsets[0].offset"});
  // A typo must not turn a dry run into a real one.
  EXPECT_EQ(problem_fields(R"({"all":true,"dryrun":true})"), std::vector<std::string>{"dryrun"});
  EXPECT_EQ(problem_fields(R"({"all":true,"dryRun":"true","force":1})"),
            (std::vector<std::string>{"dryRun", "force"}));
}

// ------------------------------------------------------------------------ cap and remaining

TEST(ReplayPlanning, CapsAndCountsWhatRemains) {
  std::vector<Position> five{{0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 7}};
  auto plan = plan_replay(five, {}, false, 3);
  EXPECT_EQ(plan.take, (std::vector<Position>{{0, 1}, {0, 2}, {1, 1}}));
  EXPECT_EQ(plan.remaining, 2u);
  EXPECT_TRUE(plan.already_replayed.empty());

  auto all = plan_replay(five, {}, false, 500);
  EXPECT_EQ(all.take, five);
  EXPECT_EQ(all.remaining, 0u);
}

TEST(ReplayPlanning, SkipsWhatWasReplayedUnlessForced) {
  std::vector<Position> three{{0, 1}, {0, 2}, {0, 3}};
  std::set<Position> before{{0, 2}, {5, 5}};
  auto plan = plan_replay(three, before, false, 1);
  EXPECT_EQ(plan.take, (std::vector<Position>{{0, 1}}));
  EXPECT_EQ(plan.already_replayed, (std::vector<Position>{{0, 2}}));
  EXPECT_EQ(plan.remaining, 1u);  // {0,3}; the replayed one does not count

  auto forced = plan_replay(three, before, true, 10);
  EXPECT_EQ(forced.take, three);
  EXPECT_EQ(forced.already_replayed, (std::vector<Position>{{0, 2}}));
  EXPECT_EQ(forced.remaining, 0u);
}

TEST(ReplayPlanning, AllWalksPartitionsInOrderAndProgressesAcrossCalls) {
  std::vector<PartitionRange> ranges{{1, 10, 13}, {0, 0, 2}, {2, 4, 4}};  // 2 + 3 + 0 records
  auto first = plan_replay_all(ranges, {}, false, 3);
  EXPECT_EQ(first.take, (std::vector<Position>{{0, 0}, {0, 1}, {1, 10}}));
  EXPECT_EQ(first.remaining, 2u);

  // The next call, once those are recorded as replayed, takes the rest.
  std::set<Position> replayed(first.take.begin(), first.take.end());
  replayed.insert({1, 99});  // outside every range: neither reported nor counted
  auto second = plan_replay_all(ranges, replayed, false, 3);
  EXPECT_EQ(second.take, (std::vector<Position>{{1, 11}, {1, 12}}));
  EXPECT_EQ(second.remaining, 0u);
  EXPECT_EQ(second.already_replayed, first.take);

  auto forced = plan_replay_all(ranges, replayed, true, 4);
  EXPECT_EQ(forced.take, (std::vector<Position>{{0, 0}, {0, 1}, {1, 10}, {1, 11}}));
  EXPECT_EQ(forced.remaining, 1u);
}

TEST(ReplayPlanning, AllOnAHugeTopicOnlyListsWhatItTakes) {
  std::vector<PartitionRange> ranges{{0, 1'000, 5'000'000'000}};
  auto plan = plan_replay_all(ranges, {}, false, 500);
  EXPECT_EQ(plan.take.size(), 500u);
  EXPECT_EQ(plan.take.back(), (Position{0, 1'499}));
  EXPECT_EQ(plan.remaining, 5'000'000'000u - 1'000u - 500u);
}

// ------------------------------------------------------------------------ the audit

TEST(ReplayAuditRecord, JsonAndOffsetsRoundTrip) {
  ReplayAudit a;
  a.id = 7;
  a.time_ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  a.who = "alice";
  a.topic = "payment-service.dlq";
  a.offsets = {{0, 12}, {3, 4}};
  a.dry_run = true;
  a.count = 2;
  a.already_replayed = 1;
  a.remaining = 5;
  a.correlation_id = "corr-9";
  auto j = to_json(a);
  EXPECT_EQ(j.at("id").as_int64(), 7);
  EXPECT_EQ(j.at("time").as_string(), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(j.at("who").as_string(), "alice");
  EXPECT_EQ(j.at("topic").as_string(), "payment-service.dlq");
  EXPECT_EQ(j.at("selection").as_string(), "offsets");
  EXPECT_EQ(j.at("dryRun").as_bool(), true);
  EXPECT_EQ(j.at("force").as_bool(), false);
  EXPECT_EQ(j.at("count").as_int64(), 2);
  EXPECT_EQ(j.at("alreadyReplayed").as_int64(), 1);
  EXPECT_EQ(j.at("remaining").as_int64(), 5);
  EXPECT_EQ(j.at("failed").as_int64(), 0);
  EXPECT_EQ(j.at("correlationId").as_string(), "corr-9");
  ASSERT_EQ(j.at("offsets").as_array().size(), 2u);
  EXPECT_EQ(j.at("offsets").as_array()[1].at("partition").as_int64(), 3);
  EXPECT_EQ(j.at("offsets").as_array()[1].at("offset").as_int64(), 4);

  EXPECT_EQ(offsets_from_json(offsets_to_json(a.offsets)), a.offsets);
  EXPECT_TRUE(offsets_from_json("not json").empty());
}

// ------------------------------------------------------------------------ browsing

TEST(MessageJson, JsonValueTextValueAndHeaders) {
  auto r = dlq_record();
  r.timestamp_ms = 1'767'225'600'000;
  auto j = message_json(r, 1024);
  EXPECT_EQ(j.at("partition").as_int64(), 3);
  EXPECT_EQ(j.at("offset").as_int64(), 41);
  EXPECT_EQ(j.at("timestamp").as_string(), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(j.at("key").as_string(), "order-1");
  EXPECT_EQ(j.at("valueFormat").as_string(), "json");
  EXPECT_EQ(j.at("value").at("orderId").as_string(), "order-1");
  const auto& headers = j.at("headers").as_array();
  ASSERT_EQ(headers.size(), r.headers.size());
  EXPECT_EQ(headers[6].at("key").as_string(), "dlq-original-topic");
  EXPECT_EQ(headers[6].at("value").as_string(), "order-events");

  r.value = "not { json";
  j = message_json(r, 1024);
  EXPECT_EQ(j.at("valueFormat").as_string(), "text");
  EXPECT_EQ(j.at("value").as_string(), "not { json");
}

TEST(MessageJson, BinaryIsBase64AndLongValuesAreCut) {
  auto r = dlq_record();
  r.value = std::string("\xff\x00\x01", 3);
  r.headers = {{"bin", std::string("\xc3", 1)}};
  auto j = message_json(r, 1024);
  EXPECT_EQ(j.at("valueEncoding").as_string(), "base64");
  EXPECT_EQ(j.at("value").as_string(), "/wAB");
  EXPECT_EQ(j.at("headers").as_array()[0].at("valueEncoding").as_string(), "base64");

  r.value = "\"" + std::string(10, 'x') + "\xc3\xa9\"";  // JSON, but cut mid-character
  j = message_json(r, 12);
  EXPECT_TRUE(j.at("valueTruncated").as_bool());
  EXPECT_EQ(j.at("valueBytes").as_int64(), 14);
  EXPECT_EQ(j.at("valueFormat").as_string(), "text");
  EXPECT_EQ(j.at("value").as_string(), "\"" + std::string(10, 'x'));
}

TEST(MessageJson, Utf8Validation) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xc3"));              // cut short
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\x80"));
}

}  // namespace
}  // namespace orderflow::alerting::domain
