// What the simulator sends and accepts, without a server: the feed's timestamps and sequence
// numbers, payloads the ingest parser takes as they are, the option rules of both transports,
// and how the MQTT transport reads the broker's acknowledgements.
#include "simulator/simulator.hpp"

#include <gtest/gtest.h>

#include <mqtt_protocol.h>

#include "core/errors.hpp"
#include "ingest/payload.hpp"
#include "simulator/feed.hpp"
#include "simulator/mqtt_transport.hpp"

namespace factoryops::simulator {
namespace {

// Monday 2026-11-23 00:00:00 UTC.
constexpr std::int64_t kMonday = 1'795'392'000'000;

double value_of(const tsdb::Reading& reading, const std::string& key) {
  for (const auto& field : reading.fields)
    if (field.key == key) return field.value;
  ADD_FAILURE() << "no " << key << " at " << reading.ts_ms;
  return -1;
}

TEST(MachineFeed, PacedBatchesEndAtTheStartAndKeepTheRateSpacing) {
  MachineFeed feed({.rate_hz = 4, .batch = 3, .sequence = false, .seed = 1}, 0, kMonday);
  std::vector<tsdb::Reading> batch;
  std::size_t values = feed.next(batch, kMonday);
  ASSERT_EQ(batch.size(), 3u);
  // The last reading of the first batch is due at the start: nothing lies in the future.
  EXPECT_EQ(batch[0].ts_ms, kMonday - 500);
  EXPECT_EQ(batch[1].ts_ms, kMonday - 250);
  EXPECT_EQ(batch[2].ts_ms, kMonday);
  EXPECT_EQ(values, batch[0].fields.size() + batch[1].fields.size() + batch[2].fields.size());
  feed.next(batch, kMonday + 750);
  EXPECT_EQ(batch[0].ts_ms, kMonday + 250);
  EXPECT_EQ(batch[2].ts_ms, kMonday + 750);
}

TEST(MachineFeed, SequenceCountsEveryReadingOfTheMachineFromZero) {
  MachineFeed feed({.rate_hz = 10, .batch = 4, .sequence = true, .seed = 3}, 2, kMonday);
  std::vector<tsdb::Reading> batch;
  double expected = 0;
  for (int message = 0; message < 3; ++message) {
    feed.next(batch, kMonday + 10'000);
    for (const auto& reading : batch) EXPECT_EQ(value_of(reading, kSequenceKey), expected++);
  }
  EXPECT_EQ(feed.next_sequence(), 12u);
  MachineFeed plain({.rate_hz = 10, .batch = 1, .sequence = false, .seed = 3}, 2, kMonday);
  plain.next(batch, kMonday);
  for (const auto& field : batch[0].fields) EXPECT_NE(field.key, kSequenceKey);
}

TEST(MachineFeed, LoadRunsReplayTheLastThirtyDaysAndStartOverWhenCaughtUp) {
  MachineFeed feed({.rate_hz = 0, .batch = 2, .sequence = true, .seed = 1}, 0, kMonday);
  std::vector<tsdb::Reading> batch;
  feed.next(batch, kMonday);
  EXPECT_EQ(batch[0].ts_ms, kMonday - 30 * tsdb::kDayMs);
  EXPECT_EQ(batch[1].ts_ms, kMonday - 30 * tsdb::kDayMs + 1000);
  // A clock that has fallen behind the replay: the next batch starts 30 days before it again.
  const std::int64_t now = kMonday - 30 * tsdb::kDayMs + 3000;
  feed.next(batch, now);
  feed.next(batch, now);
  EXPECT_EQ(batch[0].ts_ms, now - 30 * tsdb::kDayMs);
  // The sequence goes on regardless of the time jump.
  EXPECT_EQ(value_of(batch[0], kSequenceKey), 4);
}

TEST(MachineFeed, MachinesDifferAndTheSeedMakesRunsRepeatable) {
  std::vector<tsdb::Reading> a, b, c;
  MachineFeed first({.seed = 7}, 0, kMonday);
  MachineFeed again({.seed = 7}, 0, kMonday);
  MachineFeed other({.seed = 7}, 1, kMonday);
  first.next(a, kMonday);
  again.next(b, kMonday);
  other.next(c, kMonday);
  EXPECT_EQ(value_of(a[0], "power_kw"), value_of(b[0], "power_kw"));
  EXPECT_NE(first.profile().rated_kw, other.profile().rated_kw);
}

TEST(Payload, OneReadingIsAnObjectSeveralAreAnArrayAndTheParserTakesBoth) {
  MachineFeed feed({.rate_hz = 1, .batch = 100, .sequence = true, .seed = 9}, 0, kMonday);
  std::vector<tsdb::Reading> readings;
  feed.next(readings, kMonday);
  const std::int64_t now = kMonday + 1000;
  std::string array = payload_json(readings);
  ASSERT_EQ(array.front(), '[');
  auto parsed = ingest::parse_payload(array, now);
  ASSERT_FALSE(parsed.message_rejection.has_value());
  EXPECT_TRUE(parsed.rejected_readings.empty());
  EXPECT_TRUE(parsed.dropped_fields.empty());
  ASSERT_EQ(parsed.readings.size(), 100u);
  // The text round-trips every value exactly.
  for (std::size_t i = 0; i < readings.size(); ++i) {
    EXPECT_EQ(parsed.readings[i].ts_ms, readings[i].ts_ms);
    ASSERT_EQ(parsed.readings[i].fields.size(), readings[i].fields.size());
    for (std::size_t k = 0; k < readings[i].fields.size(); ++k) {
      EXPECT_EQ(parsed.readings[i].fields[k].key, readings[i].fields[k].key);
      EXPECT_EQ(parsed.readings[i].fields[k].value, readings[i].fields[k].value);
    }
  }
  std::string object = payload_json(std::span(readings).first(1));
  ASSERT_EQ(object.front(), '{');
  auto single = ingest::parse_payload(object, now);
  ASSERT_EQ(single.readings.size(), 1u);
  EXPECT_EQ(single.readings[0].ts_ms, readings[0].ts_ms);
  EXPECT_EQ(readings_json(std::span(readings).first(1)), "[" + object + "]");
}

std::string invalid_option(const SimulatorOptions& o) {
  try {
    validate(o);
  } catch (const core::Invalid& e) {
    return e.field();
  }
  return "";
}

template <typename Change>
std::string with(SimulatorOptions o, Change change) {
  change(o);
  return invalid_option(o);
}

TEST(Simulator, HttpOptionsAreValidated) {
  SimulatorOptions ok;
  ok.factory = "acme";
  EXPECT_EQ(invalid_option(ok), "");
  EXPECT_EQ(with(ok, [](auto& o) { o.factory = "Not A Slug"; }), "--factory");
  EXPECT_EQ(with(ok, [](auto& o) { o.devices = 0; }), "--devices");
  EXPECT_EQ(with(ok, [](auto& o) { o.devices = 10'001; }), "--devices");
  EXPECT_EQ(with(ok, [](auto& o) { o.rate_hz = -1; }), "--rate");
  EXPECT_EQ(with(ok, [](auto& o) { o.rate_hz = 0; }), "");
  EXPECT_EQ(with(ok, [](auto& o) { o.transport = "carrier-pigeon"; }), "--transport");
  EXPECT_EQ(with(ok, [](auto& o) { o.url = "ftp://x"; }), "--url");
  EXPECT_EQ(with(ok, [](auto& o) { o.url = "mqtt://127.0.0.1:1883"; }), "--url");
  EXPECT_EQ(with(ok, [](auto& o) { o.duration_seconds = -2; }), "--duration");
  EXPECT_EQ(with(ok, [](auto& o) { o.batch = 5001; }), "--batch");
  EXPECT_EQ(with(ok, [](auto& o) { o.connections = 257; }), "--connections");
  EXPECT_EQ(with(ok, [](auto& o) { o.connections = 8; }), "");
  EXPECT_EQ(with(ok, [](auto& o) { o.sequence = true; }), "");
  // MQTT-only options are refused rather than silently ignored.
  EXPECT_EQ(with(ok, [](auto& o) { o.qos = 0; }), "--qos");
  EXPECT_EQ(with(ok, [](auto& o) { o.inflight = 5; }), "--inflight");
  EXPECT_EQ(with(ok, [](auto& o) { o.threads = 2; }), "--threads");
}

TEST(Simulator, MqttOptionsAreValidated) {
  SimulatorOptions ok;
  ok.factory = "acme";
  ok.transport = "mqtt";
  ok.url = "mqtt://127.0.0.1:1883";
  EXPECT_EQ(invalid_option(ok), "");
  EXPECT_EQ(with(ok, [](auto& o) { o.url = "tcp://broker.example:1884"; }), "");
  EXPECT_EQ(with(ok, [](auto& o) { o.url = "http://127.0.0.1:8000"; }), "--url");
  EXPECT_EQ(with(ok, [](auto& o) { o.url = "mqtts://broker.example:8883"; }), "--url");
  EXPECT_EQ(with(ok, [](auto& o) { o.url = "mqtt://127.0.0.1:99999"; }), "--url");
  EXPECT_EQ(with(ok, [](auto& o) { o.url = "mqtt://user:pw@127.0.0.1:1883"; }), "--url");
  EXPECT_EQ(with(ok, [](auto& o) { o.qos = 0; }), "");
  EXPECT_EQ(with(ok, [](auto& o) { o.qos = 2; }), "--qos");
  EXPECT_EQ(with(ok, [](auto& o) { o.qos = -1; }), "--qos");
  EXPECT_EQ(with(ok, [](auto& o) { o.inflight = 1000; }), "");
  EXPECT_EQ(with(ok, [](auto& o) { o.inflight = 1001; }), "--inflight");
  EXPECT_EQ(with(ok, [](auto& o) { o.inflight = -1; }), "--inflight");
  EXPECT_EQ(with(ok, [](auto& o) { o.threads = 64; }), "");
  EXPECT_EQ(with(ok, [](auto& o) { o.threads = 65; }), "--threads");
  EXPECT_EQ(with(ok, [](auto& o) { o.rate_hz = 0; }), "");
  EXPECT_EQ(with(ok, [](auto& o) { o.batch = 0; }), "--batch");
  // Every machine is its own connection: a connection count means nothing over MQTT.
  EXPECT_EQ(with(ok, [](auto& o) { o.connections = 4; }), "--connections");
}

TEST(MqttTransport, AcknowledgementsAreReadByTheirReasonCode) {
  EXPECT_EQ(classify_acknowledgement(0), Acknowledgement::accepted);
  EXPECT_EQ(classify_acknowledgement(MQTT_RC_NO_MATCHING_SUBSCRIBERS), Acknowledgement::unrouted);
  EXPECT_EQ(classify_acknowledgement(MQTT_RC_UNSPECIFIED), Acknowledgement::refused);
  EXPECT_EQ(classify_acknowledgement(MQTT_RC_NOT_AUTHORIZED), Acknowledgement::refused);
  EXPECT_EQ(classify_acknowledgement(MQTT_RC_QUOTA_EXCEEDED), Acknowledgement::refused);
  EXPECT_EQ(classify_acknowledgement(MQTT_RC_PAYLOAD_FORMAT_INVALID), Acknowledgement::refused);
}

TEST(MqttTransport, AFewNetworkThreadsCarryAllConnections) {
  EXPECT_EQ(network_threads(0, 300, 2), 2);
  EXPECT_EQ(network_threads(0, 300, 32), 4);
  EXPECT_EQ(network_threads(0, 300, 0), 1);  // unknown core count
  EXPECT_EQ(network_threads(0, 1, 8), 1);
  EXPECT_EQ(network_threads(8, 300, 2), 8);
  EXPECT_EQ(network_threads(8, 3, 2), 3);
  // Three descriptors a connection (socket and libmosquitto's socket pair) and some headroom.
  EXPECT_GE(descriptors_needed(1000), 3000u);
  EXPECT_LT(descriptors_needed(1000), 3200u);
}

}  // namespace
}  // namespace factoryops::simulator
