// Device API keys: "fo_" followed by 43 base64url characters (32 bytes from OpenSSL's CSPRNG).
// The database keeps only the SHA-256 hex digest and the first kPrefixLength characters, so a
// stolen database does not yield working keys. Stateless free functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace factoryops::devices {

constexpr std::string_view kApiKeyMarker = "fo_";
constexpr std::size_t kApiKeyRandomBytes = 32;
constexpr std::size_t kApiKeyLength = 46;  // "fo_" + 43 base64url characters, no padding
constexpr std::size_t kApiKeyPrefixLength = 8;

// A fresh key. Throws std::runtime_error if the CSPRNG cannot be seeded.
std::string generate_api_key();

// Lowercase hex SHA-256 of the key's bytes: what devices.api_key_hash stores.
std::string api_key_hash(std::string_view key);

// The first kApiKeyPrefixLength characters, shown so a person can recognise a key.
std::string api_key_prefix(std::string_view key);

// True when `key` has the shape generate_api_key() produces; a cheap filter before hashing.
bool looks_like_api_key(std::string_view key);

}  // namespace factoryops::devices
