// Acknowledged means durable: readings are posted over HTTP while the server is killed with
// SIGKILL; a server started again on the same data directory returns every reading that was
// answered 202 before the kill (embedded engine, write-ahead log replay).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "auth_support.hpp"

namespace factoryops::testing {
namespace {

using namespace std::chrono_literals;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(IngestKill9, EveryAcknowledgedReadingSurvivesSigkill) {
  IdentityStack stack("sqlite", "kill9");
  std::string password = stack.bootstrap("plant", "owner@plant.example");
  std::string token = stack.access_token("plant", "owner@plant.example", password);
  auto created = stack.post(
      "/api/v1/devices", json_body({{"device_id", json::value("m1")}, {"name", json::value("M1")}}), token);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string key(object_of(created.body).at("api_key").as_string());
  register_secret(key);

  // Batches of 20 readings, one second apart each, starting an hour ago.
  const std::int64_t t0 = (now_ms() / 1000 - 3600) * 1000;
  std::mutex mutex;
  std::set<std::int64_t> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  const int port = stack.server().port();
  std::thread writer([&] {
    for (int batch = 0; !stop && batch < 150; ++batch) {
      std::string body = "[";
      for (int i = 0; i < 20; ++i) {
        std::int64_t ts = t0 + (batch * 20 + i) * 1000;
        body += (i ? "," : "") + std::string("{\"ts\":") + std::to_string(ts) +
                ",\"power_kw\":" + std::to_string(batch * 20 + i) + "}";
      }
      body += "]";
      HttpResponse r;
      try {
        r = http_request(port, "POST", "/api/v1/ingest",
                         {{"Authorization", "Device " + key}, {"Content-Type", "application/json"}}, body);
      } catch (const std::exception&) {
        return;  // the server is gone
      }
      if (r.status != 202) return;
      std::lock_guard lock(mutex);
      for (int i = 0; i < 20; ++i) acknowledged.insert(t0 + (batch * 20 + i) * 1000);
      ++batches;
    }
  });
  while (batches < 30) std::this_thread::sleep_for(5ms);
  stack.server().process().signal(SIGKILL);
  stop = true;
  writer.join();
  ASSERT_GE(acknowledged.size(), 600u);

  ServeOptions again;
  again.label = "kill9-restart";
  again.env = {{"FACTORYOPS_DATA_DIR", stack.server().data_dir().string()}};
  FactoryopsServer restarted(again);
  auto login = restarted.request("POST", "/api/v1/auth/login",
                                 json_body({{"factory_id", json::value("plant")},
                                            {"email", json::value("owner@plant.example")},
                                            {"password", json::value(password)}}),
                                 {{"Content-Type", "application/json"}});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string token2(object_of(login.body).at("access_token").as_string());
  register_secret(token2);
  auto r = restarted.get("/api/v1/devices/m1/telemetry?params=power_kw&interval=raw&max_points=10000&from=" +
                             std::to_string(t0) + "&to=" + std::to_string(t0 + 3'600'000),
                         bearer(token2));
  ASSERT_EQ(r.status, 200) << r.body;
  std::set<std::int64_t> stored;
  const json::object answer = object_of(r.body);
  for (const auto& p : answer.at("series").as_array().at(0).as_object().at("points").as_array()) {
    const auto& point = p.as_array();
    std::int64_t ts = point.at(0).to_number<std::int64_t>();
    stored.insert(ts);
    EXPECT_EQ(point.at(1).to_number<double>(), static_cast<double>((ts - t0) / 1000));
  }
  std::size_t missing = 0;
  for (auto ts : acknowledged) missing += stored.count(ts) == 0 ? 1 : 0;
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged readings";
}

}  // namespace
}  // namespace factoryops::testing
