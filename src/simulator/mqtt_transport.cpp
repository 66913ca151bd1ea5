#include "simulator/mqtt_transport.hpp"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "core/errors.hpp"
#include "db/clock.hpp"
#include "mqtt/client.hpp"
#include "mqtt/topics.hpp"

namespace factoryops::simulator {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kKeepaliveSeconds = 30;
// A connection that has not been answered by then is given up and tried again.
constexpr auto kConnectTimeout = std::chrono::seconds(10);
// At the end, how long machines wait for the acknowledgements of what they sent…
constexpr auto kDrainTimeout = std::chrono::seconds(5);
// …and then for the broker to take their "offline" status and their DISCONNECT.
constexpr auto kGoodbyeTimeout = std::chrono::seconds(3);
constexpr auto kReconnectMin = std::chrono::milliseconds(1000);
constexpr auto kReconnectMax = std::chrono::milliseconds(30'000);
// The longest a network thread sleeps in poll(): how late it notices the end of the run.
constexpr auto kPollCap = std::chrono::milliseconds(100);

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

// A disconnect "reason" is a libmosquitto error below 128 and an MQTT 5 reason code from the
// broker's DISCONNECT (e.g. 0x98 administrative action) above.
std::string disconnect_text(int rc) {
  return rc >= 0x80 ? mosquitto_reason_string(rc) : mosquitto_strerror(rc);
}

std::string error_text(int rc) {
  return rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc);
}

Clock::duration jittered(std::chrono::milliseconds base) {
  thread_local std::mt19937 random{std::random_device{}()};
  // 1x .. 2x the base, so machines that lost the broker together do not return together.
  std::uniform_int_distribution<long> spread(0, base.count());
  return base + std::chrono::milliseconds(spread(random));
}

struct Pacing {
  int qos = 1;
  std::size_t window = kDefaultInflight;
  bool as_fast_as_possible = false;
  Clock::duration interval{};  // between messages of one machine, when paced
};

// One simulated device and its connection. Lives on one network thread; libmosquitto calls
// back on that thread, from inside loop_read/loop_write/publish/disconnect.
class Machine {
 public:
  enum class State { waiting, connecting, online, leaving, gone };

  Machine(const DeviceCredentials& credentials, const core::FactoryId& factory, MachineFeed feed,
          const mqtt::BrokerAddress& broker, const Pacing& pacing, RunStats& stats, Clock::time_point start)
      : due_(start),
        credentials_(credentials),
        broker_(broker),
        pacing_(pacing),
        stats_(stats),
        feed_(std::move(feed)),
        telemetry_topic_(
            mqtt::device_topic(factory, core::DeviceId(credentials.device_id), mqtt::TopicKind::telemetry)),
        status_topic_(
            mqtt::device_topic(factory, core::DeviceId(credentials.device_id), mqtt::TopicKind::status)) {
    const std::string client_id = "sim/" + factory.str() + "/" + credentials.device_id;
    handle_ = mosquitto_new(client_id.c_str(), true, this);
    if (handle_ == nullptr) throw core::Unavailable("cannot create an MQTT client (out of memory)");
    mosquitto_int_option(handle_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(handle_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_int_option(handle_, MOSQ_OPT_SEND_MAXIMUM,
                         static_cast<int>(std::max<std::size_t>(pacing.window, 1)));
    // The device's API key is its MQTT username; the password repeats it.
    mosquitto_username_pw_set(handle_, credentials.api_key.c_str(), credentials.api_key.c_str());
    static constexpr char kOffline[] = "offline";
    mosquitto_will_set(handle_, status_topic_.c_str(), static_cast<int>(sizeof kOffline - 1), kOffline, 1,
                       true);
    mosquitto_connect_v5_callback_set(handle_,
                                      [](mosquitto*, void* self, int rc, int, const mosquitto_property*) {
                                        static_cast<Machine*>(self)->connected(rc);
                                      });
    mosquitto_disconnect_v5_callback_set(handle_,
                                         [](mosquitto*, void* self, int rc, const mosquitto_property*) {
                                           static_cast<Machine*>(self)->disconnected(rc);
                                         });
    mosquitto_publish_v5_callback_set(
        handle_, [](mosquitto*, void* self, int mid, int reason, const mosquitto_property*) {
          static_cast<Machine*>(self)->acknowledged(mid, reason);
        });
  }
  ~Machine() { mosquitto_destroy(handle_); }
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  State state() const { return state_; }
  const std::string& device_id() const { return credentials_.device_id; }

  // What is due now: connect, publish, or take leave once the run is over (`producing` false).
  void step(Clock::time_point now, bool producing, Clock::time_point drain_deadline) {
    switch (state_) {
      case State::waiting:
        if (!producing) {
          state_ = State::gone;
        } else if (now >= reconnect_at_) {
          connect(now);
        }
        break;
      case State::connecting:
        if (!producing) {
          // Never answered: nothing to say goodbye to.
          state_ = State::gone;
        } else if (now - connect_started_ > kConnectTimeout) {
          lost(now, "the broker did not answer the connection within " +
                        std::to_string(std::chrono::seconds(kConnectTimeout).count()) + " s");
        }
        break;
      case State::online:
        if (producing) {
          publish_due(now);
        } else if (pending_.empty() || now >= drain_deadline) {
          say_goodbye(now);
        }
        break;
      case State::leaving:
        if (status_mid_ == 0 && !disconnect_sent_) {
          disconnect_sent_ = true;
          // Writes DISCONNECT at once when it can; disconnected(0) follows, possibly from inside.
          if (mosquitto_disconnect(handle_) != MOSQ_ERR_SUCCESS) {
            set_counted_online(false);
            state_ = State::gone;
          }
        }
        if (state_ == State::leaving && now >= goodbye_deadline_) {
          stats_.error(device_id() + ": the broker did not take the goodbye within " +
                       std::to_string(std::chrono::seconds(kGoodbyeTimeout).count()) + " s");
          set_counted_online(false);
          state_ = State::gone;
        }
        break;
      case State::gone: break;
    }
  }

  // When step() next has something to do on its own (no network event needed).
  Clock::time_point wake_at(Clock::time_point now) const {
    switch (state_) {
      case State::waiting: return reconnect_at_;
      case State::online:
        if (pending_.size() >= pacing_.window) return Clock::time_point::max();
        return pacing_.as_fast_as_possible ? now : due_;
      default: return Clock::time_point::max();
    }
  }

  // Only a connection being made or in use is watched; a given-up one waits for its reconnect.
  int socket() const {
    bool live = state_ == State::connecting || state_ == State::online || state_ == State::leaving;
    return live ? mosquitto_socket(handle_) : -1;
  }
  bool wants_write() const { return mosquitto_want_write(handle_); }
  // Errors end up in disconnected(), which libmosquitto calls before it returns them.
  void readable() { mosquitto_loop_read(handle_, 1); }
  void writable() { mosquitto_loop_write(handle_, 1); }
  void keepalive() {
    if (state_ == State::connecting || state_ == State::online || state_ == State::leaving)
      mosquitto_loop_misc(handle_);
  }

  // The end: what was sent but never acknowledged is counted as failed.
  void settle() {
    if (!pending_.empty()) {
      stats_.error(device_id() + ": " + std::to_string(pending_.size()) + " messages left unacknowledged",
                   pending_.size());
      pending_.clear();
    }
  }

 private:
  struct Pending {
    std::size_t readings = 0;
    std::size_t values = 0;
  };

  void connect(Clock::time_point now) {
    connect_started_ = now;
    state_ = State::connecting;
    refusal_.clear();
    int rc = ever_connected_attempt_
                 ? mosquitto_reconnect_async(handle_)
                 : mosquitto_connect_async(handle_, broker_.host.c_str(), broker_.port, kKeepaliveSeconds);
    ever_connected_attempt_ = true;
    if (rc != MOSQ_ERR_SUCCESS) {
      lost(now,
           "cannot connect to " + broker_.host + ":" + std::to_string(broker_.port) + ": " + error_text(rc));
    }
  }

  void connected(int reason) {
    if (reason != 0) {
      // The broker closes the connection next; disconnected() reports it with this reason.
      refusal_ = "the broker refused the connection: " + std::string(mosquitto_reason_string(reason));
      return;
    }
    state_ = State::online;
    set_counted_online(true);
    backoff_ = kReconnectMin;
    // Inside a callback the message is queued; the network thread writes it next.
    static constexpr char kOnline[] = "online";
    int mid = 0;
    if (mosquitto_publish(handle_, &mid, status_topic_.c_str(), static_cast<int>(sizeof kOnline - 1), kOnline,
                          1, true) == MOSQ_ERR_SUCCESS) {
      status_mid_ = mid;
    }
  }

  void disconnected(int rc) {
    set_counted_online(false);
    if (state_ == State::leaving || state_ == State::gone) {
      state_ = State::gone;
      return;
    }
    if (state_ == State::waiting) return;  // already counted as lost
    lost(Clock::now(), refusal_.empty() ? "connection lost: " + disconnect_text(rc) : refusal_);
  }

  void set_counted_online(bool online) {
    if (online != counted_online_) stats_.connected += online ? 1 : -1;
    counted_online_ = online;
  }

  void lost(Clock::time_point now, const std::string& why) {
    stats_.error(device_id() + ": " + why);
    // QoS 1 messages in flight are sent again after reconnecting; QoS 0 ones are gone.
    if (pacing_.qos == 0 && !pending_.empty()) {
      stats_.errors += pending_.size();
      pending_.clear();
    }
    status_mid_ = 0;
    state_ = State::waiting;
    reconnect_at_ = now + jittered(backoff_);
    backoff_ = std::min(backoff_ * 2, kReconnectMax);
  }

  void publish_due(Clock::time_point now) {
    // At most a window's worth per call: QoS 0 messages are acknowledged as they are written, so
    // without this bound a fast socket would keep one machine here forever.
    for (std::size_t sent = 0; sent < pacing_.window && pending_.size() < pacing_.window; ++sent) {
      if (!pacing_.as_fast_as_possible && due_ > now) break;
      std::size_t values = feed_.next(readings_, db::now_ms());
      payload_ = payload_json(readings_);
      if (!publish(payload_, {readings_.size(), values})) break;
      if (!pacing_.as_fast_as_possible) due_ += pacing_.interval;
    }
  }

  bool publish(const std::string& payload, Pending what) {
    publishing_ = what;
    publishing_mid_ = 0;
    acknowledged_inline_ = false;
    in_publish_ = true;
    int rc = mosquitto_publish(handle_, &publishing_mid_, telemetry_topic_.c_str(),
                               static_cast<int>(payload.size()), payload.data(), pacing_.qos, false);
    in_publish_ = false;
    if (rc != MOSQ_ERR_SUCCESS) {
      stats_.error(device_id() + ": publish failed: " + error_text(rc));
      return false;
    }
    if (!acknowledged_inline_) pending_.emplace(publishing_mid_, what);
    return state_ == State::online;
  }

  void acknowledged(int mid, int reason) {
    if (mid == status_mid_ && mid != 0) {
      status_mid_ = 0;
      if (classify_acknowledgement(reason) == Acknowledgement::refused)
        stats_.error(device_id() + ": the broker refused its status: " + mosquitto_reason_string(reason));
      return;
    }
    Pending what;
    if (auto found = pending_.find(mid); found != pending_.end()) {
      what = found->second;
      pending_.erase(found);
    } else if (in_publish_ && mid == publishing_mid_) {
      // A QoS 0 message written out before mosquitto_publish returned.
      what = publishing_;
      acknowledged_inline_ = true;
    } else {
      return;
    }
    switch (classify_acknowledgement(reason)) {
      case Acknowledgement::unrouted: stats_.unrouted++; [[fallthrough]];
      case Acknowledgement::accepted:
        stats_.messages++;
        stats_.readings += what.readings;
        stats_.values += what.values;
        break;
      case Acknowledgement::refused:
        stats_.refused++;
        stats_.echo(device_id() + ": the broker refused a message: " + mosquitto_reason_string(reason));
        break;
    }
  }

  void say_goodbye(Clock::time_point now) {
    state_ = State::leaving;
    goodbye_deadline_ = now + kGoodbyeTimeout;
    static constexpr char kOffline[] = "offline";
    int mid = 0;
    int rc = mosquitto_publish(handle_, &mid, status_topic_.c_str(), static_cast<int>(sizeof kOffline - 1),
                               kOffline, 1, true);
    status_mid_ = rc == MOSQ_ERR_SUCCESS ? mid : 0;
  }

  // Paced runs catch up after an outage (at most a window at a time), so readings keep the
  // wall clock's spacing; the first is due at the start of the run.
  Clock::time_point due_;
  const DeviceCredentials& credentials_;
  const mqtt::BrokerAddress& broker_;
  const Pacing& pacing_;
  RunStats& stats_;
  MachineFeed feed_;
  const std::string telemetry_topic_;
  const std::string status_topic_;
  mosquitto* handle_ = nullptr;

  State state_ = State::waiting;
  bool ever_connected_attempt_ = false;
  bool disconnect_sent_ = false;
  std::string refusal_;
  Clock::time_point reconnect_at_{};
  Clock::time_point connect_started_{};
  Clock::time_point goodbye_deadline_{};
  bool counted_online_ = false;
  std::chrono::milliseconds backoff_ = kReconnectMin;

  std::unordered_map<int, Pending> pending_;  // telemetry messages awaiting their acknowledgement
  int status_mid_ = 0;                        // the status message awaiting its acknowledgement
  Pending publishing_{};
  int publishing_mid_ = 0;
  bool in_publish_ = false;
  bool acknowledged_inline_ = false;
  std::vector<tsdb::Reading> readings_;
  std::string payload_;
};

// One network thread: drives its machines until the run is over and each has left.
void network_loop(std::vector<std::unique_ptr<Machine>>& machines, const RunControl& control) {
  std::vector<pollfd> fds;
  std::vector<Machine*> owners;
  fds.reserve(machines.size());
  owners.reserve(machines.size());
  auto drain_deadline = Clock::time_point::max();
  auto last_keepalive = Clock::now();
  while (true) {
    const auto now = Clock::now();
    const bool producing = !control.over();
    if (!producing && drain_deadline == Clock::time_point::max()) drain_deadline = now + kDrainTimeout;
    fds.clear();
    owners.clear();
    auto wake = now + kPollCap;
    bool all_gone = true;
    for (auto& machine : machines) {
      machine->step(now, producing, drain_deadline);
      if (machine->state() == Machine::State::gone) continue;
      all_gone = false;
      wake = std::min(wake, machine->wake_at(now));
      int fd = machine->socket();
      if (fd < 0) continue;
      fds.push_back({fd, static_cast<short>(POLLIN | (machine->wants_write() ? POLLOUT : 0)), 0});
      owners.push_back(machine.get());
    }
    if (all_gone) break;
    auto timeout =
        std::chrono::ceil<std::chrono::milliseconds>(std::max(wake - now, Clock::duration::zero()));
    int ready = ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
    if (ready > 0) {
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) owners[i]->readable();
        // Reading may have closed the socket (and a reconnect opened another).
        if ((fds[i].revents & POLLOUT) != 0 && owners[i]->socket() == fds[i].fd) owners[i]->writable();
      }
    }
    if (Clock::now() - last_keepalive >= std::chrono::seconds(1)) {
      for (auto& machine : machines) machine->keepalive();
      last_keepalive = Clock::now();
    }
  }
  for (auto& machine : machines) machine->settle();
}

}  // namespace

Acknowledgement classify_acknowledgement(int reason) {
  if (reason >= 0x80) return Acknowledgement::refused;
  if (reason == MQTT_RC_NO_MATCHING_SUBSCRIBERS) return Acknowledgement::unrouted;
  return Acknowledgement::accepted;
}

int network_threads(int requested, int machines, unsigned hardware_threads) {
  int threads = requested > 0 ? requested : std::clamp(static_cast<int>(hardware_threads), 1, 4);
  return std::max(1, std::min(threads, machines));
}

std::size_t descriptors_needed(int machines) {
  return static_cast<std::size_t>(machines) * 3 + 64;
}

void ensure_descriptors(int machines) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const auto needed = static_cast<rlim_t>(descriptors_needed(machines));
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= needed) return;
  if (limit.rlim_cur == RLIM_INFINITY) return;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
    throw core::Invalid("--devices", std::to_string(machines) + " MQTT connections need " +
                                         std::to_string(needed) + " open files, but the limit is " +
                                         std::to_string(limit.rlim_max) +
                                         " (ulimit -Hn); use fewer machines");
  }
  limit.rlim_cur = needed;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
    throw core::Invalid("--devices", std::to_string(machines) + " MQTT connections need " +
                                         std::to_string(needed) +
                                         " open files; raising the limit failed: " + std::strerror(errno));
}

void run_mqtt(const SimulatorOptions& options, const std::vector<DeviceCredentials>& devices,
              const core::FactoryId& factory, const RunControl& control, RunStats& stats) {
  init_library();
  const mqtt::BrokerAddress broker = mqtt::parse_broker_url(options.url, "--url");
  Pacing pacing;
  pacing.qos = options.qos;
  pacing.window = static_cast<std::size_t>(options.inflight > 0 ? options.inflight : kDefaultInflight);
  pacing.as_fast_as_possible = options.rate_hz == 0;
  if (options.rate_hz > 0)
    pacing.interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options.batch / options.rate_hz));

  const int threads =
      network_threads(options.threads, static_cast<int>(devices.size()), std::thread::hardware_concurrency());
  std::vector<std::vector<std::unique_ptr<Machine>>> shares(static_cast<std::size_t>(threads));
  const FeedOptions feed = feed_options(options);
  const std::int64_t start_ms = db::now_ms();
  const auto started = Clock::now();
  for (std::size_t i = 0; i < devices.size(); ++i) {
    shares[i % shares.size()].push_back(std::make_unique<Machine>(
        devices[i], factory, MachineFeed(feed, i, start_ms), broker, pacing, stats, started));
  }
  std::vector<std::thread> workers;
  for (auto& share : shares) workers.emplace_back([&share, &control] { network_loop(share, control); });
  for (auto& worker : workers) worker.join();
}

}  // namespace factoryops::simulator
