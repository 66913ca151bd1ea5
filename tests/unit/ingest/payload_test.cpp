// The payload parser: flattening, data types, RFC 3339 forms, every limit and reason, and the
// UTF-8-safe payload head kept for the ingest-errors list.
#include "ingest/payload.hpp"

#include <gtest/gtest.h>

#include <string>

namespace factoryops::ingest {
namespace {

constexpr std::int64_t kNow = 1'795'780'800'000;  // 2026-11-27T12:00:00Z

double value_of(const tsdb::Reading& reading, std::string_view key) {
  for (const auto& f : reading.fields)
    if (f.key == key) return f.value;
  ADD_FAILURE() << "no field " << key;
  return -1;
}

TEST(Payload, FlattensNestedObjectsWithDots) {
  auto p = parse_payload(R"({"ts":1795780799000,"l1":{"v":230.1,"i":{"peak":3}},"pf":0.912})", kNow);
  ASSERT_EQ(p.readings.size(), 1u);
  const auto& r = p.readings[0];
  EXPECT_EQ(r.ts_ms, 1795780799000);
  ASSERT_EQ(r.fields.size(), 3u);
  EXPECT_EQ(value_of(r, "l1.v"), 230.1);
  EXPECT_EQ(value_of(r, "l1.i.peak"), 3.0);
  EXPECT_EQ(value_of(r, "pf"), 0.912);
  EXPECT_EQ(p.value_count, 3u);
}

TEST(Payload, BooleansAreOneAndZeroAndRememberedAsBool) {
  auto p = parse_payload(R"({"running":true,"fault":false,"power_kw":4})", kNow);
  ASSERT_EQ(p.readings.size(), 1u);
  EXPECT_EQ(value_of(p.readings[0], "running"), 1.0);
  EXPECT_EQ(value_of(p.readings[0], "fault"), 0.0);
  ASSERT_EQ(p.keys.size(), 3u);
  for (const auto& k : p.keys) {
    EXPECT_EQ(data_type_name(k.type), k.key == "power_kw" ? "number" : "bool") << k.key;
  }
}

TEST(Payload, MissingTimestampIsTheTimeOfReceipt) {
  auto p = parse_payload(R"([{"a":1},{"a":2}])", kNow);
  ASSERT_EQ(p.readings.size(), 2u);
  EXPECT_EQ(p.readings[0].ts_ms, kNow);
  EXPECT_EQ(p.readings[1].ts_ms, kNow);
}

TEST(Payload, LargeIntegersAndNegativeValuesAreKept) {
  auto p = parse_payload(R"({"counter":18446744073709551615,"delta":-12,"tiny":1e-9})", kNow);
  ASSERT_EQ(p.readings.size(), 1u);
  EXPECT_EQ(value_of(p.readings[0], "counter"), 18446744073709551615.0);
  EXPECT_EQ(value_of(p.readings[0], "delta"), -12.0);
  EXPECT_EQ(value_of(p.readings[0], "tiny"), 1e-9);
}

TEST(Payload, Rfc3339Forms) {
  EXPECT_EQ(parse_rfc3339_ms("2026-11-27T12:00:00Z"), kNow);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-27T12:00:00.1Z"), kNow + 100);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-27T12:00:00.123456789Z"), kNow + 123);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-27t12:00:00z"), kNow);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-27T17:30:00+05:30"), kNow);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-27T07:00:00.250-05:00"), kNow + 250);
  EXPECT_EQ(parse_rfc3339_ms("2024-02-29T00:00:00Z"), 1709164800000);
  for (const char* bad :
       {"2026-11-27", "2026-11-27 12:00:00Z", "2026-11-27T12:00:00", "2026-11-27T12:00:00+0530",
        "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27T12:00:00.Z",
        "2026-11-27T12:00:00ZZ", "x026-11-27T12:00:00Z"}) {
    EXPECT_FALSE(parse_rfc3339_ms(bad).has_value()) << bad;
  }
}

TEST(Payload, TimestampWindowIsInclusive) {
  auto at = [](std::int64_t ts) {
    return parse_payload("{\"ts\":" + std::to_string(ts) + ",\"a\":1}", kNow);
  };
  EXPECT_EQ(at(kNow + kMaxFutureMs).readings.size(), 1u);
  EXPECT_EQ(at(kNow - kMaxPastMs).readings.size(), 1u);
  auto future = at(kNow + kMaxFutureMs + 1);
  ASSERT_EQ(future.rejected_readings.size(), 1u);
  EXPECT_EQ(future.rejected_readings[0].reason, Reason::kTimestampOutOfRange);
  auto past = at(kNow - kMaxPastMs - 1);
  ASSERT_EQ(past.rejected_readings.size(), 1u);
  EXPECT_EQ(past.rejected_readings[0].reason, Reason::kTimestampOutOfRange);
}

TEST(Payload, TimestampOfAnotherTypeIsBad) {
  for (const char* ts : {"null", "true", "\"soon\"", "1.5", "[1]", "{}"}) {
    auto p = parse_payload(std::string("{\"ts\":") + ts + ",\"a\":1}", kNow);
    ASSERT_EQ(p.rejected_readings.size(), 1u) << ts;
    EXPECT_EQ(p.rejected_readings[0].reason, Reason::kBadTimestamp) << ts;
    EXPECT_FALSE(p.rejected_readings[0].field.has_value());
  }
}

TEST(Payload, KeysFollowThePattern) {
  EXPECT_TRUE(is_valid_key("a"));
  EXPECT_TRUE(is_valid_key("Voltage_L1.avg-1"));
  EXPECT_TRUE(is_valid_key(std::string(64, 'k')));
  EXPECT_FALSE(is_valid_key(""));
  EXPECT_FALSE(is_valid_key(std::string(65, 'k')));
  for (const char* bad : {"a b", "a/b", "a:b", "ä", "a\"b", "a$"}) EXPECT_FALSE(is_valid_key(bad)) << bad;
  // Flattening counts: 60 + 1 + 4 characters is too long.
  auto p = parse_payload("{\"" + std::string(60, 'a') + "\":{\"bbbb\":1},\"ok\":2}", kNow);
  ASSERT_EQ(p.dropped_fields.size(), 1u);
  EXPECT_EQ(p.dropped_fields[0].reason, Reason::kBadKey);
  EXPECT_EQ(p.dropped_fields[0].field, std::string(60, 'a') + ".bbbb");
  // An empty nested name is a bad key too.
  auto empty = parse_payload(R"({"a":{"":1},"b":2})", kNow);
  ASSERT_EQ(empty.dropped_fields.size(), 1u);
  EXPECT_EQ(empty.dropped_fields[0].reason, Reason::kBadKey);
}

TEST(Payload, DroppedFieldsNameTheFieldAndTheReading) {
  auto p = parse_payload(R"([{"a":1},{"a":2,"s":"x","n":null}])", kNow);
  ASSERT_EQ(p.readings.size(), 2u);
  ASSERT_EQ(p.dropped_fields.size(), 2u);
  EXPECT_EQ(p.dropped_fields[0].index, 1u);
  EXPECT_EQ(p.dropped_fields[0].field, "s");
  EXPECT_EQ(p.dropped_fields[0].reason, Reason::kNotANumber);
  EXPECT_EQ(p.dropped_fields[1].field, "n");
  EXPECT_FALSE(p.dropped_fields[0].message.empty());
}

TEST(Payload, SizeLimitIsExactly256KiB) {
  // {"a":1,"p":{"x":0,…}} padded with spaces to an exact size.
  auto sized = [](std::size_t size) {
    std::string body = R"({"a":1})";
    body.insert(1, size - body.size(), ' ');
    return body;
  };
  auto at_limit = parse_payload(sized(kMaxPayloadBytes), kNow);
  EXPECT_FALSE(at_limit.message_rejection.has_value());
  EXPECT_EQ(at_limit.readings.size(), 1u);
  auto over = parse_payload(sized(kMaxPayloadBytes + 1), kNow);
  ASSERT_TRUE(over.message_rejection.has_value());
  EXPECT_EQ(over.message_rejection->reason, Reason::kTooLarge);
  EXPECT_LE(over.message_rejection->payload_head.size(), 512u);
}

TEST(Payload, KeyLimitCountsFlattenedKeys) {
  std::string body = "{\"ts\":" + std::to_string(kNow) + ",\"n\":{";
  for (int i = 0; i < 500; ++i) body += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":1";
  body += "}}";
  EXPECT_EQ(parse_payload(body, kNow).readings.at(0).fields.size(), 500u);
  std::string over = body.substr(0, body.size() - 2) + ",\"extra\":1}}";
  auto p = parse_payload(over, kNow);
  EXPECT_TRUE(p.readings.empty());
  ASSERT_EQ(p.rejected_readings.size(), 1u);
  EXPECT_EQ(p.rejected_readings[0].reason, Reason::kTooManyKeys);
  EXPECT_TRUE(p.dropped_fields.empty());
}

TEST(Payload, MessageLevelReasons) {
  EXPECT_EQ(parse_payload("", kNow).message_rejection->reason, Reason::kInvalidJson);
  EXPECT_EQ(parse_payload("{\"a\":1} x", kNow).message_rejection->reason, Reason::kInvalidJson);
  EXPECT_EQ(parse_payload("\"text\"", kNow).message_rejection->reason, Reason::kNotAnObject);
  EXPECT_EQ(parse_payload("null", kNow).message_rejection->reason, Reason::kNotAnObject);
  EXPECT_EQ(parse_payload("[]", kNow).message_rejection->reason, Reason::kEmpty);
  // Nesting is bounded; a pathological document is not JSON we accept.
  std::string deep(40, '[');
  EXPECT_EQ(parse_payload(deep + std::string(40, ']'), kNow).message_rejection->reason, Reason::kInvalidJson);
}

TEST(Payload, RejectedReadingsCarryTheirOwnText) {
  auto p = parse_payload(R"([{"a":1},{"ts":"never","a":2}])", kNow);
  ASSERT_EQ(p.rejected_readings.size(), 1u);
  EXPECT_EQ(p.rejected_readings[0].index, 1u);
  EXPECT_EQ(p.rejected_readings[0].payload_head, R"({"ts":"never","a":2})");
}

TEST(Payload, Utf8HeadIsValidText) {
  EXPECT_EQ(utf8_head("plain", 512), "plain");
  EXPECT_EQ(utf8_head(std::string(600, 'x'), 512).size(), 512u);
  // "é" is two bytes; a cut in its middle drops it instead of leaving half.
  std::string text = std::string(511, 'x') + "\xC3\xA9";
  EXPECT_EQ(utf8_head(text, 512), std::string(511, 'x'));
  EXPECT_EQ(utf8_head("a\xFF"
                      "b",
                      512),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(utf8_head("\xC3\xA9\xE2\x82\xAC", 512), "\xC3\xA9\xE2\x82\xAC");
  // An overlong encoding and a lone surrogate are replaced.
  EXPECT_EQ(utf8_head("\xC0\xAF", 512), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8_head("\xED\xA0\x80", 512).substr(0, 3), "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace factoryops::ingest
