// The work of one /internal/mqtt/authn or /authz answer on a warm key cache, in process: the
// route's network-thread attempt (secret check, JSON body, cache lookup, decision, counter,
// JSON answer) timed call by call, so the figures are the handler's own p50/p99 without the
// socket and HTTP parsing that bench/mqtt_auth.sh measures end to end. Reference: the same
// request refused at the secret check (the least work a request can cost).
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

#include "api/mqtt_auth_routes.hpp"
#include "devices/api_key.hpp"
#include "http/router.hpp"

namespace {
namespace fo = factoryops;
namespace json = boost::json;

constexpr const char* kSecret = "bench-broker-secret-of-some-length-0123456789";

struct Fixture {
  std::string key = fo::devices::generate_api_key();
  fo::ingest::DeviceKeyCache keys{[this](std::string_view k) -> std::optional<fo::devices::KeyOwner> {
    if (k != key) return std::nullopt;
    return fo::devices::KeyOwner{fo::core::FactoryId("acme"), fo::core::DeviceId("press-1"), true};
  }};
  fo::http::Router router;

  Fixture() {
    fo::api::register_mqtt_auth_routes(router, {.keys = &keys,
                                                .secret = kSecret,
                                                .telemetry_username = "factoryops-telemetry",
                                                .telemetry_password = "telemetry-password"});
    keys.find(key);  // warm
  }

  fo::http::Request request(const std::string& path, std::string body, const std::string& secret) const {
    fo::http::Request r;
    r.method = "POST";
    r.target = path;
    r.path = path;
    r.headers.set("Content-Type", "application/json");
    r.headers.set("Authorization", "Bearer " + secret);
    r.body = std::move(body);
    r.request_id = "bench";
    return r;
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// Runs the route's network-thread attempt once per iteration and reports p50/p99 in µs.
void run(benchmark::State& state, const std::string& path, const std::string& body, const std::string& secret,
         int expected_status) {
  auto& f = fixture();
  auto match = f.router.match("POST", path);
  const auto& attempt = match.options->io_attempt;
  auto request = f.request(path, body, secret);
  std::vector<double> micros;
  micros.reserve(1 << 20);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    std::optional<fo::http::Response> answer;
    try {
      answer = attempt(request);
    } catch (const std::exception&) {
      answer.emplace();  // the server maps the exception the same way
      answer->status = 401;
    }
    const auto stop = std::chrono::steady_clock::now();
    if (!answer || answer->status != expected_status) {
      state.SkipWithError("unexpected answer (cache not warm?)");
      break;
    }
    benchmark::DoNotOptimize(answer->body.data());
    if (micros.size() < micros.capacity())
      micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  if (micros.empty()) return;
  std::sort(micros.begin(), micros.end());
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[micros.size() * 99 / 100];
}

void BM_AuthnWarmDevice(benchmark::State& state) {
  const auto& key = fixture().key;
  run(state, "/internal/mqtt/authn",
      json::serialize(json::object{
          {"username", key}, {"password", key}, {"clientid", "press-1"}, {"peerhost", "10.0.0.7"}}),
      kSecret, 200);
}

void BM_AuthzWarmDevicePublish(benchmark::State& state) {
  const auto& key = fixture().key;
  run(state, "/internal/mqtt/authz",
      json::serialize(json::object{{"username", key},
                                   {"clientid", "press-1"},
                                   {"peerhost", "10.0.0.7"},
                                   {"action", "publish"},
                                   {"topic", "factories/acme/devices/press-1/telemetry"}}),
      kSecret, 200);
}

void BM_RefusedAtTheSecret(benchmark::State& state) {
  run(state, "/internal/mqtt/authn", R"({"username":"x","password":""})", "wrong", 401);
}

}  // namespace

BENCHMARK(BM_AuthnWarmDevice);
BENCHMARK(BM_AuthzWarmDevicePublish);
BENCHMARK(BM_RefusedAtTheSecret);
