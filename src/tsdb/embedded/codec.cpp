#include "tsdb/embedded/codec.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace factoryops::tsdb::embedded {
namespace {

constexpr std::array<double, 10> kPow10 = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
constexpr std::uint8_t kXorMode = 0xFF;
constexpr std::size_t kFrame = 64;
static_assert(std::endian::native == std::endian::little, "bit packing assumes little-endian loads");
// Scaled integers stay well inside int64 so deltas between two of them cannot overflow.
constexpr double kMaxScaled = 4.0e18;

std::uint64_t zigzag(std::int64_t v) {
  // The sign spread over all bits, without shifting a negative value.
  return (static_cast<std::uint64_t>(v) << 1) ^ (v < 0 ? ~std::uint64_t{0} : std::uint64_t{0});
}
std::int64_t unzigzag(std::uint64_t u) {
  return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
}
int bit_width(std::uint64_t v) {
  return static_cast<int>(std::bit_width(v));
}

[[noreturn]] void corrupt() {
  throw std::runtime_error("corrupt block");
}

// Bits are packed least significant first into little-endian bytes.
class BitWriter {
 public:
  explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  void put(std::uint64_t value, int bits) {
    if (bits == 0) return;
    if (bits > 32) {
      put(value & 0xFFFFFFFFu, 32);
      put(value >> 32, bits - 32);
      return;
    }
    value &= (std::uint64_t{1} << bits) - 1;
    acc_ |= value << filled_;
    filled_ += bits;
    while (filled_ >= 8) {
      out_.push_back(static_cast<std::uint8_t>(acc_));
      acc_ >>= 8;
      filled_ -= 8;
    }
  }
  void finish() {
    if (filled_ > 0) out_.push_back(static_cast<std::uint8_t>(acc_));
    acc_ = 0;
    filled_ = 0;
  }

 private:
  std::vector<std::uint8_t>& out_;
  std::uint64_t acc_ = 0;
  int filled_ = 0;
};

class BitReader {
 public:
  explicit BitReader(ByteReader& in) : in_(in), base_(in.data + in.pos), bytes_(in.size - in.pos) {}
  std::uint64_t get(int bits) {
    if (bits == 0) return 0;
    if (bits > 32) {
      std::uint64_t low = get(32);
      return low | (get(bits - 32) << 32);
    }
    if (bit_ + static_cast<std::size_t>(bits) > bytes_ * 8) corrupt();
    std::size_t byte = bit_ >> 3;
    std::uint64_t word = 0;
    std::size_t available = bytes_ - byte;
    if (available >= 8) {
      std::memcpy(&word, base_ + byte, 8);
    } else {
      std::memcpy(&word, base_ + byte, available);
    }
    std::uint64_t value = (word >> (bit_ & 7)) & ((std::uint64_t{1} << bits) - 1);
    bit_ += static_cast<std::size_t>(bits);
    return value;
  }
  void finish() { in_.pos += (bit_ + 7) / 8; }

 private:
  ByteReader& in_;
  const std::uint8_t* base_;
  std::size_t bytes_;
  std::size_t bit_ = 0;
};

bool scaled(double v, int d, std::int64_t& m) {
  double x = v * kPow10[static_cast<std::size_t>(d)];
  if (!(std::fabs(x) < kMaxScaled)) return false;
  m = std::llround(x);
  double back = static_cast<double>(m) / kPow10[static_cast<std::size_t>(d)];
  return std::bit_cast<std::uint64_t>(back) == std::bit_cast<std::uint64_t>(v);
}

void encode_xor(std::span<const double> values, BitWriter& bits) {
  std::uint64_t prev = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::uint64_t cur = std::bit_cast<std::uint64_t>(values[i]);
    if (i == 0) {
      bits.put(cur, 64);
    } else {
      std::uint64_t x = cur ^ prev;
      if (x == 0) {
        bits.put(0, 1);
      } else {
        int lead = std::countl_zero(x);
        int trail = std::countr_zero(x);
        int len = 64 - lead - trail;
        bits.put(1, 1);
        bits.put(static_cast<std::uint64_t>(lead), 6);
        bits.put(static_cast<std::uint64_t>(len - 1), 6);
        bits.put(x >> trail, len);
      }
    }
    prev = cur;
  }
}

void decode_xor(BitReader& bits, std::size_t count, std::vector<double>& out) {
  std::uint64_t prev = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (i == 0) {
      prev = bits.get(64);
    } else if (bits.get(1) != 0) {
      int lead = static_cast<int>(bits.get(6));
      int len = static_cast<int>(bits.get(6)) + 1;
      if (lead + len > 64) corrupt();
      prev ^= bits.get(len) << (64 - lead - len);
    }
    out.push_back(std::bit_cast<double>(prev));
  }
}

}  // namespace

double pow10(int scale) {
  return kPow10.at(static_cast<std::size_t>(scale));
}

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

std::uint64_t get_varint(ByteReader& in) {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.pos >= in.size) corrupt();
    std::uint8_t byte = in.data[in.pos++];
    value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  corrupt();
}

std::optional<int> decimal_scale(std::span<const double> values) {
  std::int64_t m = 0;
  for (int d = 0; d < static_cast<int>(kPow10.size()); ++d) {
    bool fits = true;
    for (double v : values) {
      if (!scaled(v, d, m)) {
        fits = false;
        break;
      }
    }
    if (fits) return d;
  }
  return std::nullopt;
}

// Delta-of-delta with Gorilla-like prefix classes: a regular series costs one bit per point.
void encode_timestamps(std::span<const std::int64_t> timestamps, std::vector<std::uint8_t>& out) {
  if (timestamps.empty()) return;
  put_varint(out, zigzag(timestamps[0]));
  if (timestamps.size() == 1) return;
  // Unsigned arithmetic: wrap-around is well defined and undone exactly by the decoder.
  auto delta = static_cast<std::uint64_t>(timestamps[1]) - static_cast<std::uint64_t>(timestamps[0]);
  put_varint(out, zigzag(static_cast<std::int64_t>(delta)));
  BitWriter bits(out);
  for (std::size_t i = 2; i < timestamps.size(); ++i) {
    auto next = static_cast<std::uint64_t>(timestamps[i]) - static_cast<std::uint64_t>(timestamps[i - 1]);
    std::uint64_t z = zigzag(static_cast<std::int64_t>(next - delta));
    delta = next;
    if (z == 0) {
      bits.put(0, 1);
    } else if (z < (1u << 7)) {
      bits.put(0b01, 2);
      bits.put(z, 7);
    } else if (z < (1u << 12)) {
      bits.put(0b011, 3);
      bits.put(z, 12);
    } else if (z < (1u << 20)) {
      bits.put(0b0111, 4);
      bits.put(z, 20);
    } else {
      bits.put(0b1111, 4);
      bits.put(z, 64);
    }
  }
  bits.finish();
}

void decode_timestamps(ByteReader& in, std::size_t count, std::vector<std::int64_t>& out) {
  if (count == 0) return;
  auto prev = static_cast<std::uint64_t>(unzigzag(get_varint(in)));
  out.push_back(static_cast<std::int64_t>(prev));
  if (count == 1) return;
  auto delta = static_cast<std::uint64_t>(unzigzag(get_varint(in)));
  prev += delta;
  out.push_back(static_cast<std::int64_t>(prev));
  BitReader bits(in);
  for (std::size_t i = 2; i < count; ++i) {
    std::uint64_t z = 0;
    if (bits.get(1) != 0) {
      if (bits.get(1) == 0) {
        z = bits.get(7);
      } else if (bits.get(1) == 0) {
        z = bits.get(12);
      } else if (bits.get(1) == 0) {
        z = bits.get(20);
      } else {
        z = bits.get(64);
      }
    }
    delta += static_cast<std::uint64_t>(unzigzag(z));
    prev += delta;
    out.push_back(static_cast<std::int64_t>(prev));
  }
  bits.finish();
}

// Layout: one mode byte (decimal scale 0..9, or 0xFF for XOR). Decimal mode: the first scaled
// integer as a zig-zag varint, then per frame of 64 deltas (zig-zag): the frame minimum's bit
// width (7 bits) and value, the width of (delta - minimum) (7 bits), then every delta in that width.
void encode_values(std::span<const double> values, std::vector<std::uint8_t>& out) {
  if (values.empty()) return;
  std::optional<int> scale = decimal_scale(values);
  if (!scale) {
    out.push_back(kXorMode);
    BitWriter bits(out);
    encode_xor(values, bits);
    bits.finish();
    return;
  }
  out.push_back(static_cast<std::uint8_t>(*scale));
  std::int64_t prev = 0;
  scaled(values[0], *scale, prev);
  put_varint(out, zigzag(prev));
  BitWriter bits(out);
  std::array<std::uint64_t, kFrame> frame{};
  for (std::size_t start = 1; start < values.size(); start += kFrame) {
    std::size_t n = std::min(kFrame, values.size() - start);
    std::uint64_t lo = UINT64_MAX;
    std::uint64_t hi = 0;
    for (std::size_t i = 0; i < n; ++i) {
      std::int64_t m = 0;
      scaled(values[start + i], *scale, m);
      frame[i] = zigzag(m - prev);
      prev = m;
      lo = std::min(lo, frame[i]);
      hi = std::max(hi, frame[i]);
    }
    int lo_width = bit_width(lo);
    int width = bit_width(hi - lo);
    bits.put(static_cast<std::uint64_t>(lo_width), 7);
    bits.put(lo, lo_width);
    bits.put(static_cast<std::uint64_t>(width), 7);
    for (std::size_t i = 0; i < n; ++i) bits.put(frame[i] - lo, width);
  }
  bits.finish();
}

void decode_values(ByteReader& in, std::size_t count, std::vector<double>& out) {
  if (count == 0) return;
  if (in.pos >= in.size) corrupt();
  std::uint8_t mode = in.data[in.pos++];
  if (mode == kXorMode) {
    BitReader bits(in);
    decode_xor(bits, count, out);
    bits.finish();
    return;
  }
  if (mode >= kPow10.size()) corrupt();
  double divisor = kPow10[mode];
  std::int64_t m = unzigzag(get_varint(in));
  out.push_back(static_cast<double>(m) / divisor);
  BitReader bits(in);
  for (std::size_t start = 1; start < count; start += kFrame) {
    std::size_t n = std::min(kFrame, count - start);
    int lo_width = static_cast<int>(bits.get(7));
    if (lo_width > 64) corrupt();
    std::uint64_t lo = bits.get(lo_width);
    int width = static_cast<int>(bits.get(7));
    if (width > 64) corrupt();
    for (std::size_t i = 0; i < n; ++i) {
      // Wrapping addition mirrors the encoder's subtraction.
      m = static_cast<std::int64_t>(static_cast<std::uint64_t>(m) +
                                    static_cast<std::uint64_t>(unzigzag(bits.get(width) + lo)));
      out.push_back(static_cast<double>(m) / divisor);
    }
  }
  bits.finish();
}

}  // namespace factoryops::tsdb::embedded
