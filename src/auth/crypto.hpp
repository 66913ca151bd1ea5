// Small cryptographic helpers shared by the identity code: random tokens, base64url,
// SHA-256 digests and constant-time comparison (OpenSSL). Stateless, thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace factoryops::auth {

// `bytes` bytes from the OS CSPRNG. Throws std::runtime_error if none can be had.
std::string random_bytes(std::size_t bytes);
// base64url without padding of `bytes` random bytes (32 bytes -> 43 characters).
std::string random_token(std::size_t bytes = 32);
// Lowercase hex of `bytes` random bytes.
std::string random_hex(std::size_t bytes);

std::string base64url_encode(std::string_view data);
// nullopt for characters outside the base64url alphabet or an impossible length.
std::optional<std::string> base64url_decode(std::string_view text);

// Lowercase hex SHA-256 of `data`: how opaque tokens are stored.
std::string sha256_hex(std::string_view data);
// Raw HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Compares without revealing where the inputs first differ.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace factoryops::auth
