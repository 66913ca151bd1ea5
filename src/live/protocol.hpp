// The live feed's wire protocol (docs/api-live.md): the subprotocols a client offers, the JSON
// messages it sends, the messages and close codes the server sends. Stateless free functions
// and value types; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/ids.hpp"

namespace factoryops::live {

inline constexpr std::string_view kSubprotocol = "factoryops.v1";
inline constexpr std::string_view kBearerSubprotocolPrefix = "bearer.";

// Close codes besides the standard ones (1001 going away, 1009 too big, 1013 try again later).
inline constexpr std::uint16_t kCloseUnauthorized = 4401;  // no, a bad, an expired or a revoked token
inline constexpr std::uint16_t kCloseForbidden = 4403;     // the user may no longer view machines
inline constexpr std::uint16_t kCloseTryAgainLater = 1013;
inline constexpr std::uint16_t kClosePolicyViolation = 1008;
inline constexpr std::uint16_t kCloseInternalError = 1011;

// Bounds of one subscribe or unsubscribe.
inline constexpr std::size_t kMaxListedDevices = 500;
inline constexpr std::size_t kMaxListedParams = 500;
inline constexpr std::size_t kMaxTokenBytes = 8 * 1024;

// What the Sec-WebSocket-Protocol fields offer: "factoryops.v1" and "bearer.<token>".
struct OfferedProtocols {
  bool any = false;  // some subprotocol was offered
  bool v1 = false;   // factoryops.v1 among them
  std::optional<std::string> token;
};
// `values` are the header fields' values (the header may be repeated); each is a comma list.
OfferedProtocols parse_subprotocols(std::span<const std::string_view> values);

// The devices a subscribe or unsubscribe names: every device of the factory ("*"), or a list.
struct DeviceSelection {
  bool all = false;
  std::vector<std::string> ids;  // unique, in the order given; not yet checked to exist
};

struct AuthMessage {
  std::string token;
};
struct SubscribeMessage {
  DeviceSelection devices;
  std::optional<std::vector<std::string>> params;  // nullopt: every parameter
};
struct UnsubscribeMessage {
  DeviceSelection devices;
};
struct PingMessage {};

using ClientMessage = std::variant<AuthMessage, SubscribeMessage, UnsubscribeMessage, PingMessage>;

struct ParsedMessage {
  std::optional<ClientMessage> message;
  std::string problem;  // why not, when message is empty: safe to send back to the client
};

ParsedMessage parse_client_message(std::string_view text);

// Server messages, serialized.
std::string ready_message(const core::FactoryId& factory, std::int64_t user_id, std::int64_t expires_at_ms);
std::string pong_message();
std::string error_message(std::string_view code, std::string_view message,
                          std::optional<std::string_view> device_id = std::nullopt);
std::string reading_message(std::string_view device_id, std::int64_t ts_ms,
                            std::span<const std::pair<std::string, double>> values);
std::string status_message(std::string_view device_id, bool online, std::int64_t last_seen_ms);

// RFC 3339 UTC with milliseconds: "2026-11-27T16:03:05.361Z".
std::string format_rfc3339_ms(std::int64_t epoch_ms);

}  // namespace factoryops::live
