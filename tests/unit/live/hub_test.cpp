// LiveHub with recording outboxes and a clock the test moves: coalescing to one update per
// 100 ms per series with the newest value winning, factory isolation, subscriptions and
// parameter filters, status messages, and a client that cannot keep up being dropped (1013)
// while publish goes on for everyone else.
#include "live/hub.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "live/protocol.hpp"

namespace factoryops::live {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = LiveHub::Clock;

// Records what the hub queues; refuses once `capacity` messages wait (a client that stopped reading).
class RecordingOutbox : public Outbox {
 public:
  explicit RecordingOutbox(std::size_t capacity = 1'000'000, std::function<Clock::time_point()> clock = {})
      : capacity_(capacity), clock_(std::move(clock)) {}
  bool push(std::string message) override {
    std::lock_guard lock(mutex_);
    ++attempts_;
    if (messages_.size() >= capacity_) return false;
    messages_.push_back(std::move(message));
    if (clock_) sent_at_.push_back(clock_());
    return true;
  }
  std::vector<Clock::time_point> sent_at() const {
    std::lock_guard lock(mutex_);
    return sent_at_;
  }
  void close(std::uint16_t code, std::string reason) override {
    std::lock_guard lock(mutex_);
    close_code_ = code;
    close_reason_ = std::move(reason);
  }

  std::vector<json::object> objects() const {
    std::lock_guard lock(mutex_);
    std::vector<json::object> out;
    for (const auto& m : messages_) out.push_back(json::parse(m).as_object());
    return out;
  }
  std::vector<json::object> readings() const {
    std::vector<json::object> out;
    for (auto& o : objects())
      if (o.at("type") == "reading") out.push_back(std::move(o));
    return out;
  }
  std::size_t attempts() const {
    std::lock_guard lock(mutex_);
    return attempts_;
  }
  std::uint16_t close_code() const {
    std::lock_guard lock(mutex_);
    return close_code_;
  }
  std::string close_reason() const {
    std::lock_guard lock(mutex_);
    return close_reason_;
  }

 private:
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::function<Clock::time_point()> clock_;
  std::vector<std::string> messages_;
  std::vector<Clock::time_point> sent_at_;
  std::size_t attempts_ = 0;
  std::uint16_t close_code_ = 0;
  std::string close_reason_;
};

tsdb::DeviceBatch batch(const std::string& factory, const std::string& device, std::int64_t ts,
                        std::vector<tsdb::Field> fields) {
  return tsdb::DeviceBatch{
      core::FactoryId(factory), core::DeviceId(device), {tsdb::Reading{ts, std::move(fields)}}};
}

std::vector<core::DeviceId> ids(std::initializer_list<const char*> names) {
  std::vector<core::DeviceId> out;
  for (const char* n : names) out.emplace_back(n);
  return out;
}

class LiveHubTest : public ::testing::Test {
 protected:
  LiveHub::Options options() {
    LiveHub::Options o;
    o.flush_thread = false;
    o.clock = [this] { return now_; };
    o.metrics = &metrics_;
    return o;
  }
  double metric(const std::string& line_start) const {
    const std::string text = metrics_.expose();
    auto at = text.find("\n" + line_start + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + line_start.size() + 2));
  }

  core::metrics::Registry metrics_;
  Clock::time_point now_ = Clock::time_point(std::chrono::hours(1));
};

TEST_F(LiveHubTest, CoalescesEachSeriesToAtMostTenUpdatesPerSecondAndTheNewestValueWins) {
  LiveHub hub(options());
  auto outbox = std::make_shared<RecordingOutbox>(1'000'000, [this] { return now_; });
  auto client = hub.add_client(core::FactoryId("alpha"), outbox);
  hub.subscribe(client, std::nullopt, std::nullopt);

  // 200 readings a second for two seconds, each with new values.
  std::int64_t ts = 1'700'000'000'000;
  for (int i = 0; i < 400; ++i) {
    hub.publish(batch("alpha", "press-1", ts, {{"power_kw", static_cast<double>(i)}, {"rpm", 1000.0 + i}}));
    hub.flush_due();
    now_ += 5ms;
    ts += 5;
  }
  now_ += 200ms;
  hub.flush_due();

  const auto readings = outbox->readings();
  const auto sent_at = outbox->sent_at();
  ASSERT_EQ(readings.size(), sent_at.size());
  // The first update goes at once, then one per 100 ms: about 20 in two seconds, never more.
  EXPECT_GE(readings.size(), 19u);
  EXPECT_LE(readings.size(), 21u);
  for (std::size_t i = 1; i < sent_at.size(); ++i) {
    EXPECT_GE(sent_at[i] - sent_at[i - 1], 100ms) << "two updates of a series within 100 ms";
  }
  for (std::size_t i = 0; i + 10 < sent_at.size(); ++i) {
    EXPECT_GE(sent_at[i + 10] - sent_at[i], 1000ms) << "more than 10 updates within one second";
  }
  std::int64_t previous_ts = 0;
  for (const auto& r : readings) {
    EXPECT_EQ(r.at("device_id"), "press-1");
    // Both metrics of one flush share one message.
    EXPECT_EQ(r.at("values").as_object().size(), 2u) << json::serialize(r);
    EXPECT_GT(r.at("ts").as_int64(), previous_ts);
    previous_ts = r.at("ts").as_int64();
  }
  // The newest value is delivered in the end, not a stale one.
  EXPECT_EQ(readings.back().at("values").at("power_kw").to_number<double>(), 399.0);
  EXPECT_EQ(readings.back().at("values").at("rpm").to_number<double>(), 1399.0);
  EXPECT_EQ(readings.back().at("ts").as_int64(), ts - 5);
}

TEST_F(LiveHubTest, ValuesWithinOneIntervalCollapseToTheLatest) {
  LiveHub hub(options());
  auto outbox = std::make_shared<RecordingOutbox>();
  auto client = hub.add_client(core::FactoryId("alpha"), outbox);
  hub.subscribe(client, ids({"press-1"}), std::nullopt);

  hub.publish(batch("alpha", "press-1", 1000, {{"power_kw", 1}}));
  now_ += 10ms;
  hub.publish(batch("alpha", "press-1", 1010, {{"power_kw", 2}}));
  now_ += 10ms;
  hub.publish(batch("alpha", "press-1", 1020, {{"power_kw", 3}}));
  hub.flush_due();
  ASSERT_EQ(outbox->readings().size(), 1u) << "the second value must wait for the interval";
  now_ += 80ms;
  hub.flush_due();
  auto readings = outbox->readings();
  ASSERT_EQ(readings.size(), 2u);
  EXPECT_EQ(readings[0].at("values").at("power_kw").to_number<double>(), 1.0);
  EXPECT_EQ(readings[1].at("values").at("power_kw").to_number<double>(), 3.0);
  EXPECT_EQ(readings[1].at("ts").as_int64(), 1020);

  // One batch holding a backlog (several readings) delivers the newest reading only.
  now_ += 100ms;
  tsdb::DeviceBatch backlog{core::FactoryId("alpha"), core::DeviceId("press-1"), {}};
  for (int i = 0; i < 5; ++i) backlog.readings.push_back({2000 + i, {{"power_kw", 10.0 + i}}});
  std::swap(backlog.readings[0], backlog.readings[4]);  // out of order on purpose
  hub.publish(backlog);
  readings = outbox->readings();
  ASSERT_EQ(readings.size(), 3u);
  EXPECT_EQ(readings[2].at("ts").as_int64(), 2004);
  EXPECT_EQ(readings[2].at("values").at("power_kw").to_number<double>(), 14.0);

  // A late point older than what the client already has is history, not news.
  now_ += 100ms;
  hub.publish(batch("alpha", "press-1", 1500, {{"power_kw", -1}}));
  hub.flush_due();
  EXPECT_EQ(outbox->readings().size(), 3u);
}

TEST_F(LiveHubTest, SeriesAreLimitedSeparately) {
  LiveHub hub(options());
  auto outbox = std::make_shared<RecordingOutbox>();
  auto client = hub.add_client(core::FactoryId("alpha"), outbox);
  hub.subscribe(client, std::nullopt, std::nullopt);
  hub.publish(batch("alpha", "press-1", 1000, {{"power_kw", 1}}));
  now_ += 10ms;
  // Another device and a new metric of the same device are separate series: not held back.
  hub.publish(batch("alpha", "press-2", 1010, {{"power_kw", 5}}));
  hub.publish(batch("alpha", "press-1", 1010, {{"voltage", 230}}));
  auto readings = outbox->readings();
  ASSERT_EQ(readings.size(), 3u);
  EXPECT_EQ(readings[1].at("device_id"), "press-2");
  EXPECT_EQ(readings[2].at("values").as_object().size(), 1u);
  EXPECT_EQ(readings[2].at("values").at("voltage").to_number<double>(), 230.0);
}

TEST_F(LiveHubTest, AFactorysDataNeverReachesAnotherFactorysClients) {
  LiveHub hub(options());
  auto alpha = std::make_shared<RecordingOutbox>();
  auto beta = std::make_shared<RecordingOutbox>();
  auto alpha_client = hub.add_client(core::FactoryId("alpha"), alpha);
  auto beta_client = hub.add_client(core::FactoryId("beta"), beta);
  hub.subscribe(alpha_client, std::nullopt, std::nullopt);
  // Beta names a device id that alpha also has: it is still only beta's own device.
  hub.subscribe(beta_client, ids({"press-1"}), std::nullopt);

  hub.publish(batch("alpha", "press-1", 1000, {{"power_kw", 11}}));
  hub.publish_status(core::FactoryId("alpha"), core::DeviceId("press-1"), false, 1000);
  EXPECT_EQ(beta->attempts(), 0u);
  ASSERT_EQ(alpha->objects().size(), 2u);

  hub.publish(batch("beta", "press-1", 1000, {{"power_kw", 22}}));
  ASSERT_EQ(beta->readings().size(), 1u);
  EXPECT_EQ(beta->readings()[0].at("values").at("power_kw").to_number<double>(), 22.0);
  EXPECT_EQ(alpha->readings().size(), 1u);
  EXPECT_EQ(alpha->readings()[0].at("values").at("power_kw").to_number<double>(), 11.0);
}

TEST_F(LiveHubTest, SubscriptionsSelectDevicesAndParameters) {
  LiveHub hub(options());
  auto outbox = std::make_shared<RecordingOutbox>();
  auto client = hub.add_client(core::FactoryId("alpha"), outbox);

  hub.publish(batch("alpha", "press-1", 1000, {{"power_kw", 1}}));
  EXPECT_EQ(outbox->attempts(), 0u) << "nothing before a subscribe";

  hub.subscribe(client, ids({"press-1"}), std::vector<std::string>{"power_kw"});
  hub.publish(batch("alpha", "press-1", 2000, {{"power_kw", 2}, {"rpm", 1450}}));
  hub.publish(batch("alpha", "press-2", 2000, {{"power_kw", 3}}));
  auto readings = outbox->readings();
  ASSERT_EQ(readings.size(), 1u);
  EXPECT_EQ(json::serialize(readings[0]),
            R"({"type":"reading","device_id":"press-1","ts":2000,"values":{"power_kw":2}})");

  // Naming the device again replaces its parameter list; "*" adds every other device.
  now_ += 1s;
  hub.subscribe(client, ids({"press-1"}), std::vector<std::string>{"rpm"});
  hub.subscribe(client, std::nullopt, std::vector<std::string>{"power_kw"});
  hub.publish(batch("alpha", "press-1", 3000, {{"power_kw", 4}, {"rpm", 1500}}));
  hub.publish(batch("alpha", "press-2", 3000, {{"power_kw", 5}, {"rpm", 900}}));
  readings = outbox->readings();
  ASSERT_EQ(readings.size(), 3u);
  EXPECT_EQ(readings[1].at("values").as_object().size(), 2u) << "press-1: rpm by name, power_kw by '*'";
  EXPECT_EQ(json::serialize(readings[2].at("values")), R"({"power_kw":5})");

  // Unsubscribing a device drops its own subscription; "*" ends everything.
  now_ += 1s;
  hub.unsubscribe(client, ids({"press-1"}));
  hub.publish(batch("alpha", "press-1", 4000, {{"power_kw", 6}, {"rpm", 1600}}));
  readings = outbox->readings();
  ASSERT_EQ(readings.size(), 4u);
  EXPECT_EQ(json::serialize(readings[3].at("values")), R"({"power_kw":6})");
  hub.unsubscribe(client, std::nullopt);
  now_ += 1s;
  hub.publish(batch("alpha", "press-1", 5000, {{"power_kw", 7}}));
  hub.publish_status(core::FactoryId("alpha"), core::DeviceId("press-1"), true, 5000);
  hub.flush_due();
  EXPECT_EQ(outbox->objects().size(), 4u);
}

TEST_F(LiveHubTest, PendingValuesOfAnUnsubscribedSeriesAreNotSentLater) {
  LiveHub hub(options());
  auto outbox = std::make_shared<RecordingOutbox>();
  auto client = hub.add_client(core::FactoryId("alpha"), outbox);
  hub.subscribe(client, std::nullopt, std::nullopt);
  hub.publish(batch("alpha", "press-1", 1000, {{"power_kw", 1}}));
  now_ += 10ms;
  hub.publish(batch("alpha", "press-1", 1010, {{"power_kw", 2}}));
  hub.unsubscribe(client, std::nullopt);
  now_ += 1s;
  hub.flush_due();
  EXPECT_EQ(outbox->readings().size(), 1u);
}

TEST_F(LiveHubTest, StatusChangesGoToSubscribersOfTheDeviceAtOnce) {
  LiveHub hub(options());
  auto outbox = std::make_shared<RecordingOutbox>();
  auto other = std::make_shared<RecordingOutbox>();
  auto client = hub.add_client(core::FactoryId("alpha"), outbox);
  auto other_client = hub.add_client(core::FactoryId("alpha"), other);
  hub.subscribe(client, ids({"press-1"}), std::vector<std::string>{"power_kw"});
  hub.subscribe(other_client, ids({"press-2"}), std::nullopt);

  hub.publish_status(core::FactoryId("alpha"), core::DeviceId("press-1"), true, 1'764'259'385'361);
  hub.publish_status(core::FactoryId("alpha"), core::DeviceId("press-1"), false, 1'764'259'386'000);
  auto messages = outbox->objects();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(
      json::serialize(messages[0]),
      R"({"type":"status","device_id":"press-1","online":true,"last_seen_at":"2025-11-27T16:03:05.361Z"})");
  EXPECT_EQ(messages[1].at("online"), false);
  EXPECT_EQ(other->attempts(), 0u);
}

TEST_F(LiveHubTest, AClientThatCannotKeepUpIsDroppedAndOthersCarryOn) {
  LiveHub hub(options());
  auto slow = std::make_shared<RecordingOutbox>(5);
  auto healthy = std::make_shared<RecordingOutbox>();
  auto slow_client = hub.add_client(core::FactoryId("alpha"), slow);
  auto healthy_client = hub.add_client(core::FactoryId("alpha"), healthy);
  hub.subscribe(slow_client, std::nullopt, std::nullopt);
  hub.subscribe(healthy_client, std::nullopt, std::nullopt);
  EXPECT_EQ(metric("live_clients_connected"), 2);

  // Twenty devices: twenty messages at once, more than the slow client's queue holds.
  for (int device = 0; device < 20; ++device) {
    hub.publish(batch("alpha", "press-" + std::to_string(device), 1000, {{"power_kw", 1.0 * device}}));
  }
  EXPECT_EQ(slow->close_code(), kCloseTryAgainLater);
  EXPECT_EQ(slow->close_reason(), "too slow");
  EXPECT_EQ(hub.client_count(), 1u);
  EXPECT_EQ(metric("live_clients_dropped_total"), 1);
  EXPECT_EQ(metric("live_clients_connected"), 1);
  EXPECT_EQ(healthy->readings().size(), 20u);

  // Once dropped the slow client is never tried again; its own messages are refused too.
  const auto attempts = slow->attempts();
  now_ += 1s;
  hub.publish(batch("alpha", "press-1", 2000, {{"power_kw", 2}}));
  EXPECT_EQ(slow->attempts(), attempts);
  EXPECT_FALSE(hub.send(slow_client, pong_message()));
  EXPECT_EQ(healthy->readings().size(), 21u);
  EXPECT_EQ(metric("live_messages_sent_total"), 5 + 21);
  hub.remove_client(slow_client);  // the session's own cleanup after the drop is harmless
  EXPECT_EQ(metric("live_clients_connected"), 1);
}

TEST_F(LiveHubTest, ManyOverflowingClientsDoNotSlowPublishDown) {
  // Each client takes one message, then reports a full queue.
  class TakesOne : public Outbox {
   public:
    bool push(std::string) override { return calls_++ == 0; }
    void close(std::uint16_t, std::string) override {}

   private:
    int calls_ = 0;
  };
  LiveHub hub(options());
  for (int i = 0; i < 200; ++i) {
    auto client = hub.add_client(core::FactoryId("alpha"), std::make_shared<TakesOne>());
    hub.subscribe(client, std::nullopt, std::nullopt);
  }
  auto healthy = std::make_shared<RecordingOutbox>();
  hub.subscribe(hub.add_client(core::FactoryId("alpha"), healthy), std::nullopt, std::nullopt);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000; ++i) {
    hub.publish(batch("alpha", "press-" + std::to_string(i), 1000 + i, {{"power_kw", 1.0 * i}}));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(hub.client_count(), 1u) << "every client but the healthy one was dropped";
  EXPECT_EQ(healthy->readings().size(), 2000u);
  EXPECT_EQ(metric("live_clients_dropped_total"), 200);
}

TEST_F(LiveHubTest, TheFlushThreadSendsPendingValuesOnItsOwn) {
  LiveHub::Options o;
  o.metrics = &metrics_;
  LiveHub hub(o);
  auto outbox = std::make_shared<RecordingOutbox>();
  auto client = hub.add_client(core::FactoryId("alpha"), outbox);
  hub.subscribe(client, std::nullopt, std::nullopt);
  hub.publish(batch("alpha", "press-1", 1000, {{"power_kw", 1}}));
  hub.publish(batch("alpha", "press-1", 1001, {{"power_kw", 2}}));
  ASSERT_EQ(outbox->readings().size(), 1u);
  for (int i = 0; i < 100 && outbox->readings().size() < 2; ++i) std::this_thread::sleep_for(10ms);
  auto readings = outbox->readings();
  ASSERT_EQ(readings.size(), 2u);
  EXPECT_EQ(readings[1].at("values").at("power_kw").to_number<double>(), 2.0);
}

}  // namespace
}  // namespace factoryops::live
