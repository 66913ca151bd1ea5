#include "http/request_id.hpp"

#include <cstdint>
#include <random>

namespace factoryops::http {

bool is_valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string generate_request_id() {
  // Ids only need to be unique, not secret: a per-thread generator seeded once avoids a
  // random_device read (a syscall) per request.
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t bits = engine();
    for (int i = 0; i < 16; ++i) {
      id[static_cast<std::size_t>(half * 16 + i)] = kHex[bits & 0xf];
      bits >>= 4;
    }
  }
  return id;
}

std::string request_id_from(std::optional<std::string_view> header_value) {
  if (header_value && is_valid_request_id(*header_value)) return std::string(*header_value);
  return generate_request_id();
}

}  // namespace factoryops::http
