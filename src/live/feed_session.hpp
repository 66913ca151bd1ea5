// FeedSession: one live-feed WebSocket client (docs/api-live.md). Authenticates the access token
// with the same Authenticator as HTTP (from the subprotocol header, or a first "auth" message
// within 5 s), re-checks it every few seconds so a deactivation takes effect, closes 4401 when
// it expires, and turns subscribe/unsubscribe/ping messages into LiveHub calls. Messages are
// handled strictly in order. Runs on its connection's strand; lives as long as the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authenticator.hpp"
#include "auth/context.hpp"
#include "core/errors.hpp"
#include "core/ids.hpp"
#include "http/websocket.hpp"
#include "live/hub.hpp"
#include "live/protocol.hpp"

namespace factoryops::core {
class BlockingPool;
}

namespace factoryops::live {

// The devices among `ids` that belong to `factory`. May block (reads the metadata store).
using DeviceLookup = std::function<std::vector<std::string>(const core::FactoryId& factory,
                                                            const std::vector<std::string>& ids)>;

struct FeedOptions {
  std::chrono::milliseconds auth_timeout{5'000};  // for the first message when no token came with the upgrade
  std::chrono::milliseconds recheck_interval{2'000};  // how soon a deactivation or role change takes effect
  std::size_t max_backlog = 64;  // messages that may wait while an earlier one is being checked
};

struct FeedDeps {
  std::shared_ptr<LiveHub> hub;
  const auth::Authenticator* authenticator = nullptr;
  core::BlockingPool* pool = nullptr;  // for authentication and device checks, which may block
  DeviceLookup devices{};
  FeedOptions options{};
};

class FeedSession : public http::WebSocketSession, public std::enable_shared_from_this<FeedSession> {
 public:
  // `header_token`: the token offered as the "bearer.<token>" subprotocol, if any.
  FeedSession(std::shared_ptr<http::WebSocket> socket, FeedDeps deps,
              std::optional<std::string> header_token);

  void on_open() override;
  void on_message(std::string_view text) override;
  void on_close() override;

 private:
  enum class State { awaiting_auth, authenticating, ready, closed };

  // What authenticating a token came to, carried from the pool back to the strand.
  struct AuthOutcome {
    std::optional<auth::FactoryContext> context;
    core::ErrorKind error = core::ErrorKind::internal;  // when no context
  };
  enum class AuthPurpose { open, renew, recheck };

  void handle(std::string_view text);
  void drain_backlog();
  void authenticate(std::string token, AuthPurpose purpose);
  void authenticated(const std::string& token, AuthPurpose purpose, const AuthOutcome& outcome);
  void start_subscribe(SubscribeMessage message);
  // `existing`: nullopt when the lookup failed.
  void finish_subscribe(const SubscribeMessage& message,
                        const std::optional<std::vector<std::string>>& existing);
  void unsubscribe(const UnsubscribeMessage& message);
  void schedule_expiry();
  void schedule_recheck();
  void send(std::string message);
  void close(std::uint16_t code, std::string reason);
  // Runs `work` on the blocking pool, then what it returns back on the connection (unless the
  // connection ended meanwhile). False when the pool is full.
  bool run_blocking(std::function<std::function<void()>()> work);

  std::shared_ptr<http::WebSocket> socket_;
  FeedDeps deps_;
  std::optional<std::string> header_token_;

  State state_ = State::awaiting_auth;
  bool busy_ = false;  // an auth or subscribe is being checked: later messages wait in order
  std::deque<std::string> backlog_;
  std::string token_;
  auth::FactoryContext context_{core::FactoryId("unknown"), 0, {}, auth::Role::admin, {}, {}};
  std::optional<ClientId> client_;
  std::uint64_t token_generation_ = 0;  // timers of an earlier token do nothing
};

}  // namespace factoryops::live
