#include <gtest/gtest.h>

#include "libs/events/cloud_event.hpp"
#include "libs/events/events.hpp"

namespace orderflow::events {
namespace {

kafka::Record sample_record() {
  OrderCreated e{"o-1", "c-1", "ann@example.com", "EUR", "25.00", "tok_visa", "2026-01-01T00:00:00.000Z",
                 {{"BOOK-1", 2, "12.50"}}};
  auto ce = CloudEvent::make(OrderCreated::kType, "order-service", "corr-1", trace::Context::root());
  return encode(kOrderEvents, e.order_id, ce, to_json(e));
}

TEST(CloudEvent, RoundTripsThroughKafkaRecord) {
  auto rec = sample_record();
  EXPECT_EQ(rec.topic, "order-events");
  EXPECT_EQ(rec.key, "o-1");
  EXPECT_EQ(rec.header("ce_specversion"), "1.0");
  EXPECT_EQ(rec.header("content-type"), "application/json");
  EXPECT_EQ(rec.header("ce_correlationid"), "corr-1");
  ASSERT_TRUE(trace::Context::parse(*rec.header("traceparent")));

  auto d = decode(rec);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->ce.type, "OrderCreated");
  EXPECT_EQ(d->ce.source, "order-service");
  EXPECT_EQ(d->ce.id.size(), 36u);
  auto e = parse_order_created(d->payload);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->total_amount, "25.00");
  ASSERT_EQ(e->items.size(), 1u);
  EXPECT_EQ(e->items[0].quantity, 2);
  EXPECT_EQ(e->items[0].unit_price, "12.50");
}

TEST(CloudEvent, MissingHeaderIsMalformed) {
  auto rec = sample_record();
  std::erase_if(rec.headers, [](const auto& h) { return h.first == "ce_type"; });
  auto d = decode(rec);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, "malformed-event");
  EXPECT_NE(d.error().message.find("ce_type"), std::string::npos);
}

TEST(CloudEvent, NonJsonValueIsMalformed) {
  auto rec = sample_record();
  rec.value = "{not json";
  auto d = decode(rec);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, "malformed-event");
}

TEST(CloudEvent, UnknownSchemaVersionIsRejected) {
  auto rec = sample_record();
  rec.value = R"({"schemaVersion":2,"orderId":"o-1"})";
  auto d = decode(rec);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, "unsupported-schema-version");
}

TEST(Events, PaymentResultRoundTrip) {
  PaymentResult failed{"o-9", "10.00", "EUR", "t", false, "", "card_declined"};
  auto parsed = parse_payment_result(to_json(failed), false);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->reason, "card_declined");
  EXPECT_FALSE(parse_payment_result(to_json(failed), true)) << "a failure has no chargeId";
}

TEST(Events, OrderOutcomeCarriesCustomerEmail) {
  OrderOutcome o{"o-1", "c-1", "ann@example.com", "EUR", "25.00", "t", true, "ch_1", ""};
  auto j = to_json(o);
  EXPECT_EQ(j.at("customerEmail").as_string(), "ann@example.com");
  EXPECT_EQ(j.at("chargeId").as_string(), "ch_1");
  EXPECT_FALSE(j.contains("failureReason"));
  auto back = parse_order_outcome(j, true);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->charge_id, "ch_1");
}

}  // namespace
}  // namespace orderflow::events
