// Remembers, for a few seconds, the claims of access tokens whose signature has been verified,
// so a client that sends the same token on every request costs one lookup instead of an HMAC
// and two JSON parses. An entry is only used with the key ring it was verified against and
// before the token's expiry. Thread-safe; one instance per authenticator.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/jwt.hpp"

namespace factoryops::auth {

inline constexpr std::chrono::milliseconds kVerifiedTokenTtl{10'000};

class VerifiedTokenCache {
 public:
  using Clock = std::chrono::steady_clock;
  using Claims = std::shared_ptr<const AccessClaims>;

  // The claims of `token` if it was verified against `ring` less than kVerifiedTokenTtl ago and
  // has not expired at `now_seconds` (seconds since the epoch); null otherwise.
  Claims find(std::string_view token, const std::shared_ptr<const KeyRing>& ring, std::int64_t now_seconds,
              Clock::time_point now) const;
  // Records claims that verify_access_token() accepted for `token` under `ring`. Entries of an
  // earlier ring are dropped: a key taken out of the ring must stop accepting its tokens at once.
  void store(std::string_view token, const std::shared_ptr<const KeyRing>& ring, Claims claims,
             Clock::time_point now);

  std::size_t size() const;

 private:
  struct Entry {
    std::string token;
    Claims claims;
    Clock::time_point expires;
  };
  // Bounds memory under a flood of distinct valid tokens; clearing costs one verification each.
  static constexpr std::size_t kCapacity = 10000;

  mutable std::mutex mutex_;
  // Kept alive so that a new ring can never be mistaken for this one by its address.
  std::shared_ptr<const KeyRing> ring_;
  // Keyed by a hash of the token; the token itself is compared in constant time, so response
  // times say nothing about how much of a guessed token matches a cached one.
  std::unordered_map<std::size_t, Entry> entries_;
};

}  // namespace factoryops::auth
