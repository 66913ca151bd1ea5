// Block codec of the embedded engine: timestamps as delta-of-delta, values as decimal-scaled
// integers (delta, zig-zag, bit-packed per frame of 64) with a Gorilla-style XOR fallback.
// Every finite double round-trips bit for bit. Pure functions; thread-safe; no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace factoryops::tsdb::embedded {

// A cursor over an encoded buffer. Decoders throw std::runtime_error on truncated input.
struct ByteReader {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::size_t pos = 0;
};

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t value);
std::uint64_t get_varint(ByteReader& in);

// The smallest d in 0..9 such that every value equals (double)m / 10^d for an integer m,
// bit for bit (so -0.0 and non-decimal values have none). nullopt when no scale fits.
std::optional<int> decimal_scale(std::span<const double> values);
double pow10(int scale);

// Strictly the encodings' inputs: timestamps in any order (blocks pass ascending ones, which
// cost about one bit each when regular); any doubles.
void encode_timestamps(std::span<const std::int64_t> timestamps, std::vector<std::uint8_t>& out);
void decode_timestamps(ByteReader& in, std::size_t count, std::vector<std::int64_t>& out);
void encode_values(std::span<const double> values, std::vector<std::uint8_t>& out);
void decode_values(ByteReader& in, std::size_t count, std::vector<double>& out);

}  // namespace factoryops::tsdb::embedded
