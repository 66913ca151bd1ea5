// Request ids: accept a caller's X-Request-ID when it is a sane token, otherwise make one.
// Stateless functions, thread-safe (the generator is per thread).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace factoryops::http {

inline constexpr std::size_t kMaxRequestIdLength = 128;

// 1..128 characters of [A-Za-z0-9._:-].
bool is_valid_request_id(std::string_view id);

// 32 lowercase hex digits (128 random bits).
std::string generate_request_id();

// The client's id when valid, else a fresh one.
std::string request_id_from(std::optional<std::string_view> header_value);

}  // namespace factoryops::http
