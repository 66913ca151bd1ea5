#include "live/feed_session.hpp"

#include <algorithm>
#include <utility>

#include "core/logging.hpp"
#include "core/thread_pool.hpp"
#include "http/types.hpp"

namespace factoryops::live {
namespace {

// The hub's view of the connection: the socket's own bounded queue.
class SocketOutbox final : public Outbox {
 public:
  explicit SocketOutbox(std::shared_ptr<http::WebSocket> socket) : socket_(std::move(socket)) {}
  bool push(std::string message) override { return socket_->send(std::move(message)); }
  void close(std::uint16_t code, std::string reason) override { socket_->close(code, std::move(reason)); }

 private:
  std::shared_ptr<http::WebSocket> socket_;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The Authenticator reads HTTP credentials: present the token as a bearer token of a request
// that otherwise looks like the upgrade (same peer, same request id).
http::Request token_request(const http::Request& upgrade, const std::string& token) {
  http::Request request;
  request.method = "GET";
  request.target = upgrade.path;
  request.path = upgrade.path;
  request.route_template = upgrade.route_template;
  request.headers.set("Authorization", "Bearer " + token);
  request.remote_address = upgrade.remote_address;
  request.request_id = upgrade.request_id;
  return request;
}

// An id as the client sent it, short enough to echo back (cut on a UTF-8 character boundary).
std::string shown(const std::string& id) {
  if (id.size() <= core::kMaxSlugLength) return id;
  std::size_t end = core::kMaxSlugLength;
  while (end > 0 && (static_cast<unsigned char>(id[end]) & 0xC0) == 0x80) --end;
  return id.substr(0, end) + "…";
}

}  // namespace

FeedSession::FeedSession(std::shared_ptr<http::WebSocket> socket, FeedDeps deps,
                         std::optional<std::string> header_token)
    : socket_(std::move(socket)), deps_(std::move(deps)), header_token_(std::move(header_token)) {}

void FeedSession::on_open() {
  if (header_token_) {
    std::string token = std::move(*header_token_);
    header_token_.reset();
    authenticate(std::move(token), AuthPurpose::open);
    return;
  }
  state_ = State::awaiting_auth;
  std::weak_ptr<FeedSession> weak = weak_from_this();
  socket_->post(
      [weak] {
        auto self = weak.lock();
        if (self && self->state_ == State::awaiting_auth) {
          self->close(kCloseUnauthorized, R"(authentication timeout: send {"type":"auth","token":…} first)");
        }
      },
      deps_.options.auth_timeout);
}

void FeedSession::on_message(std::string_view text) {
  if (state_ == State::closed) return;
  if (busy_) {
    if (backlog_.size() >= deps_.options.max_backlog) {
      close(kClosePolicyViolation, "too many messages waiting for an answer");
      return;
    }
    backlog_.emplace_back(text);
    return;
  }
  handle(text);
}

void FeedSession::on_close() {
  state_ = State::closed;
  backlog_.clear();
  if (client_) {
    deps_.hub->remove_client(*client_);
    client_.reset();
  }
}

void FeedSession::handle(std::string_view text) {
  auto parsed = parse_client_message(text);
  if (state_ == State::awaiting_auth) {
    auto* auth = parsed.message ? std::get_if<AuthMessage>(&*parsed.message) : nullptr;
    if (auth == nullptr) {
      close(kCloseUnauthorized, R"(authentication required: the first message must be {"type":"auth",…})");
      return;
    }
    authenticate(std::move(auth->token), AuthPurpose::open);
    return;
  }
  if (!parsed.message) {
    send(error_message("invalid_message", parsed.problem));
    return;
  }
  auto& message = *parsed.message;
  if (auto* auth = std::get_if<AuthMessage>(&message)) {
    authenticate(std::move(auth->token), AuthPurpose::renew);
  } else if (auto* subscribe = std::get_if<SubscribeMessage>(&message)) {
    start_subscribe(std::move(*subscribe));
  } else if (auto* unsubscribe_message = std::get_if<UnsubscribeMessage>(&message)) {
    unsubscribe(*unsubscribe_message);
  } else {
    send(pong_message());
  }
}

void FeedSession::drain_backlog() {
  while (!busy_ && state_ != State::closed && !backlog_.empty()) {
    std::string text = std::move(backlog_.front());
    backlog_.pop_front();
    handle(text);
  }
}

bool FeedSession::run_blocking(std::function<std::function<void()>()> work) {
  auto socket = socket_;
  return deps_.pool->try_submit([socket, work = std::move(work)] {
    std::function<void()> done;
    {
      log::RequestIdScope scope(socket->request().request_id);
      done = work();
    }
    socket->post(std::move(done));
  });
}

void FeedSession::authenticate(std::string token, AuthPurpose purpose) {
  if (purpose != AuthPurpose::recheck) busy_ = true;
  if (purpose == AuthPurpose::open) state_ = State::authenticating;
  http::Request request = token_request(socket_->request(), token);
  // A user row in memory answers on this thread; otherwise the blocking pool reads the store.
  try {
    auto context = deps_.authenticator->authenticate_from_memory(request);
    if (context) {
      authenticated(token, purpose, AuthOutcome{std::move(context)});
      return;
    }
  } catch (const core::Error& e) {
    authenticated(token, purpose, AuthOutcome{std::nullopt, e.kind()});
    return;
  }
  auto self = shared_from_this();
  const auth::Authenticator* authenticator = deps_.authenticator;
  const bool queued = run_blocking([self, authenticator, request, token, purpose]() -> std::function<void()> {
    AuthOutcome outcome;
    try {
      outcome.context = authenticator->authenticate(request);
    } catch (const core::Error& e) {
      outcome.error = e.kind();
    } catch (const std::exception& e) {
      log::error("live feed authentication failed", {{"error", e.what()}});
    }
    return [self, token, purpose, outcome] { self->authenticated(token, purpose, outcome); };
  });
  if (queued) return;
  if (purpose == AuthPurpose::recheck) {
    schedule_recheck();
    return;
  }
  close(kCloseTryAgainLater, "server busy, try again");
}

void FeedSession::authenticated(const std::string& token, AuthPurpose purpose, const AuthOutcome& outcome) {
  if (state_ == State::closed) return;
  if (purpose != AuthPurpose::recheck) busy_ = false;
  if (purpose == AuthPurpose::recheck && token != token_) {
    // A renewal replaced the token while this check ran; the next check looks at the new one.
    schedule_recheck();
    return;
  }
  if (!outcome.context) {
    if (outcome.error == core::ErrorKind::unauthorized) {
      if (purpose != AuthPurpose::recheck) {
        close(kCloseUnauthorized, "invalid or expired access token");
      } else if (context_.expires_at > 0 && now_ms() >= context_.expires_at * 1000) {
        close(kCloseUnauthorized, "token expired");
      } else {
        close(kCloseUnauthorized, "access revoked: sign in again");
      }
    } else if (outcome.error == core::ErrorKind::forbidden) {
      close(kCloseForbidden, "forbidden");
    } else if (purpose == AuthPurpose::recheck) {
      schedule_recheck();  // the store is unavailable: keep the connection, check again later
    } else {
      close(kCloseTryAgainLater, "authentication is unavailable, try again");
    }
    return;
  }
  const auth::FactoryContext& context = *outcome.context;
  if (!context.can(auth::Action::view_machines)) {
    close(kCloseForbidden, "forbidden: this user may not view machines");
    return;
  }
  if (purpose != AuthPurpose::open &&
      (context.factory_id != context_.factory_id || context.user_id != context_.user_id)) {
    close(kCloseUnauthorized, "the new token belongs to another user");
    return;
  }
  if (purpose == AuthPurpose::recheck) {
    context_ = context;
    schedule_recheck();
    return;
  }

  token_ = token;
  context_ = context;
  ++token_generation_;
  schedule_expiry();
  if (purpose == AuthPurpose::open) {
    client_ = deps_.hub->add_client(context_.factory_id, std::make_shared<SocketOutbox>(socket_));
    state_ = State::ready;
    schedule_recheck();
    log::info("live feed ready", {{"factory_id", context_.factory_id.str()}, {"user_id", context_.user_id}});
  }
  send(ready_message(context_.factory_id, context_.user_id, context_.expires_at * 1000));
  drain_backlog();
}

void FeedSession::schedule_expiry() {
  if (context_.expires_at <= 0) return;
  const std::uint64_t generation = token_generation_;
  const std::int64_t expires_ms = context_.expires_at * 1000;
  std::weak_ptr<FeedSession> weak = weak_from_this();
  socket_->post(
      [weak, generation, expires_ms] {
        auto self = weak.lock();
        if (!self || self->state_ == State::closed || generation != self->token_generation_) return;
        // The timer runs on the steady clock, the token on the wall clock: check before closing.
        if (now_ms() < expires_ms) {
          self->schedule_expiry();
          return;
        }
        self->close(kCloseUnauthorized, "token expired");
      },
      std::chrono::milliseconds(std::max<std::int64_t>(0, expires_ms - now_ms())));
}

void FeedSession::schedule_recheck() {
  std::weak_ptr<FeedSession> weak = weak_from_this();
  socket_->post(
      [weak] {
        auto self = weak.lock();
        if (self && self->state_ == State::ready) self->authenticate(self->token_, AuthPurpose::recheck);
      },
      deps_.options.recheck_interval);
}

void FeedSession::start_subscribe(SubscribeMessage message) {
  if (message.devices.all) {
    deps_.hub->subscribe(*client_, std::nullopt, message.params);
    return;
  }
  busy_ = true;
  auto self = shared_from_this();
  const bool queued = run_blocking(
      [self, lookup = deps_.devices, factory = context_.factory_id, message]() -> std::function<void()> {
        std::optional<std::vector<std::string>> existing;
        try {
          existing = lookup(factory, message.devices.ids);
        } catch (const std::exception& e) {
          log::warn("live feed could not check machines", {{"error", e.what()}});
        }
        return [self, message, existing] { self->finish_subscribe(message, existing); };
      });
  if (!queued) {
    busy_ = false;
    send(error_message("unavailable", "the server is busy: send the subscribe again shortly"));
  }
}

void FeedSession::finish_subscribe(const SubscribeMessage& message,
                                   const std::optional<std::vector<std::string>>& existing) {
  busy_ = false;
  if (state_ != State::ready) return;
  if (!existing) {
    send(error_message("unavailable", "machines could not be checked: send the subscribe again shortly"));
    drain_backlog();
    return;
  }
  std::vector<core::DeviceId> found;
  for (const auto& id : message.devices.ids) {
    // Another factory's machine is exactly as unknown as one that does not exist.
    if (std::find(existing->begin(), existing->end(), id) != existing->end() && core::is_valid_slug(id)) {
      found.emplace_back(id);
    } else {
      send(error_message("not_found", "machine '" + shown(id) + "' not found", shown(id)));
    }
  }
  if (!found.empty() && state_ == State::ready) deps_.hub->subscribe(*client_, found, message.params);
  drain_backlog();
}

void FeedSession::unsubscribe(const UnsubscribeMessage& message) {
  if (message.devices.all) {
    deps_.hub->unsubscribe(*client_, std::nullopt);
    return;
  }
  std::vector<core::DeviceId> ids;
  for (const auto& id : message.devices.ids) {
    if (core::is_valid_slug(id)) ids.emplace_back(id);
  }
  deps_.hub->unsubscribe(*client_, ids);
}

void FeedSession::send(std::string message) {
  if (!client_ || state_ == State::closed) return;
  // The hub closes (1013) a client whose queue is full.
  if (!deps_.hub->send(*client_, std::move(message))) state_ = State::closed;
}

void FeedSession::close(std::uint16_t code, std::string reason) {
  if (state_ == State::closed) return;
  state_ = State::closed;
  backlog_.clear();
  if (client_) deps_.hub->remove_client(*client_);
  socket_->close(code, std::move(reason));
}

}  // namespace factoryops::live
