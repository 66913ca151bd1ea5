#include "tsdb/embedded/codec.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "tsdb/embedded/blocks.hpp"

namespace factoryops::tsdb::embedded {
namespace {

std::vector<std::int64_t> round_trip_ts(const std::vector<std::int64_t>& ts, std::size_t* bytes = nullptr) {
  std::vector<std::uint8_t> out;
  encode_timestamps(ts, out);
  out.push_back(0xAB);  // a following section must start where the decoder stops
  if (bytes) *bytes = out.size() - 1;
  ByteReader in{out.data(), out.size(), 0};
  std::vector<std::int64_t> back;
  decode_timestamps(in, ts.size(), back);
  EXPECT_EQ(in.pos, out.size() - 1);
  return back;
}

std::vector<double> round_trip_values(const std::vector<double>& values, std::size_t* bytes = nullptr) {
  std::vector<std::uint8_t> out;
  encode_values(values, out);
  out.push_back(0xAB);
  if (bytes) *bytes = out.size() - 1;
  ByteReader in{out.data(), out.size(), 0};
  std::vector<double> back;
  decode_values(in, values.size(), back);
  EXPECT_EQ(in.pos, out.size() - 1);
  return back;
}

void expect_bit_equal(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(std::bit_cast<std::uint64_t>(a[i]), std::bit_cast<std::uint64_t>(b[i]))
        << "at " << i << ": " << a[i];
  }
}

TEST(EmbeddedCodec, RegularTimestampsCostAboutOneBitEach) {
  std::vector<std::int64_t> ts;
  for (std::int64_t i = 0; i < 7200; ++i) ts.push_back(1'780'000'000'000 + i * 1000);
  std::size_t bytes = 0;
  EXPECT_EQ(round_trip_ts(ts, &bytes), ts);
  EXPECT_LE(static_cast<double>(bytes) / 7200.0, 0.2);
}

TEST(EmbeddedCodec, IrregularAndExtremeTimestampsRoundTrip) {
  std::mt19937_64 rng(7);
  std::vector<std::int64_t> ts = {-5,
                                  0,
                                  3,
                                  1'000'000,
                                  1'000'001,
                                  1'000'000'000'000,
                                  std::numeric_limits<std::int64_t>::max(),
                                  std::numeric_limits<std::int64_t>::min(),
                                  17};
  for (int i = 0; i < 500; ++i) ts.push_back(static_cast<std::int64_t>(rng()));
  EXPECT_EQ(round_trip_ts(ts), ts);
  EXPECT_EQ(round_trip_ts({42}), std::vector<std::int64_t>{42});
  EXPECT_TRUE(round_trip_ts({}).empty());
}

TEST(EmbeddedCodec, DecimalScaleIsTheSmallestExactOne) {
  EXPECT_EQ(decimal_scale(std::vector<double>{1, 2, 3}), 0);
  EXPECT_EQ(decimal_scale(std::vector<double>{230.2, 229.9}), 1);
  EXPECT_EQ(decimal_scale(std::vector<double>{0.912, 1}), 3);
  EXPECT_EQ(decimal_scale(std::vector<double>{0.1 + 0.2}), std::nullopt);
  EXPECT_EQ(decimal_scale(std::vector<double>{-0.0}), std::nullopt);
}

TEST(EmbeddedCodec, NoisyVoltageFitsInOneAndAHalfBytes) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 0.4);
  std::vector<double> values;
  for (int i = 0; i < 7200; ++i) values.push_back(std::round((230.0 + noise(rng)) * 10) / 10);
  std::size_t bytes = 0;
  expect_bit_equal(round_trip_values(values, &bytes), values);
  EXPECT_LE(static_cast<double>(bytes) / 7200.0, 1.5);
}

TEST(EmbeddedCodec, CountersAndConstantsAreSmall) {
  std::vector<double> counter;
  std::vector<double> constant(1000, 0.912);
  double energy = 12345.678;
  for (int i = 0; i < 1000; ++i) {
    energy += 0.003 + (i % 3) * 0.001;
    counter.push_back(std::round(energy * 1000) / 1000);
  }
  std::size_t bytes = 0;
  expect_bit_equal(round_trip_values(counter, &bytes), counter);
  EXPECT_LE(bytes, 450u);  // deltas of 3..5 thousandths: three bits each
  expect_bit_equal(round_trip_values(constant, &bytes), constant);
  EXPECT_LE(bytes, 60u);
}

TEST(EmbeddedCodec, EveryFiniteDoubleRoundTripsExactly) {
  std::mt19937_64 rng(3);
  std::vector<double> values = {0.0,
                                -0.0,
                                std::numeric_limits<double>::denorm_min(),
                                -std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::max(),
                                -std::numeric_limits<double>::max(),
                                9007199254740993.0,
                                std::ldexp(1.0, 62),
                                std::ldexp(1.0, 63),
                                -std::ldexp(3.0, 70),
                                1e300,
                                0.1 + 0.2,
                                230.2};
  for (int i = 0; i < 2000; ++i) {
    double v = std::bit_cast<double>(rng());
    if (std::isfinite(v)) values.push_back(v);
  }
  expect_bit_equal(round_trip_values(values), values);
  // Mixed decimal data with one non-decimal value, and integers beyond 2^53 alone.
  std::vector<double> mixed = {230.1, 230.2, 1.0 / 3.0, 229.8};
  expect_bit_equal(round_trip_values(mixed), mixed);
  std::vector<double> big = {9007199254740992.0, 9007199254740994.0, 1e18, -1e18, 4e18, 5e18};
  expect_bit_equal(round_trip_values(big), big);
  std::vector<double> one = {-0.0};
  expect_bit_equal(round_trip_values(one), one);
}

TEST(EmbeddedCodec, TruncatedInputIsRejected) {
  std::vector<double> values = {1.5, 2.5, 3.25, 1e-300};
  std::vector<std::uint8_t> out;
  encode_values(values, out);
  out.resize(out.size() / 2);
  ByteReader in{out.data(), out.size(), 0};
  std::vector<double> back;
  EXPECT_THROW(decode_values(in, values.size(), back), std::runtime_error);
}

TEST(EmbeddedBlocks, MinuteSummariesAreExact) {
  Columns points;
  for (std::int64_t i = 0; i < 150; ++i) {
    points.ts.push_back(60'000 * 10 + i * 1000);
    points.values.push_back(static_cast<double>(i % 7) / 10.0);
  }
  std::vector<Summary> summaries = minute_summaries(points);
  ASSERT_EQ(summaries.size(), 3u);
  EXPECT_EQ(summaries[0].start, 600'000);
  EXPECT_EQ(summaries[0].count, 60);
  EXPECT_EQ(summaries[2].count, 30);
  EXPECT_EQ(summaries[0].first, 0.0);
  EXPECT_EQ(summaries[0].last, 0.3);  // i = 59
  EXPECT_EQ(summaries[0].min, 0.0);
  EXPECT_EQ(summaries[0].max, 0.6);
  // 0+…+0.6 repeated: 8 full cycles of 2.1 plus 0.0..0.3 = 17.4, rounded once from the exact sum.
  EXPECT_EQ(summaries[0].sum, 17.4);
  std::vector<std::uint8_t> blob = encode_rollup_block(summaries);
  std::vector<Summary> back;
  decode_rollup_block(blob, back);
  ASSERT_EQ(back.size(), summaries.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].start, summaries[i].start);
    EXPECT_EQ(back[i].count, summaries[i].count);
    EXPECT_EQ(back[i].sum, summaries[i].sum);
    EXPECT_EQ(back[i].first, summaries[i].first);
    EXPECT_EQ(back[i].last, summaries[i].last);
  }
  Columns decoded;
  decode_raw_block(encode_raw_block(points), decoded);
  EXPECT_EQ(decoded.ts, points.ts);
  EXPECT_EQ(decoded.values, points.values);
}

}  // namespace
}  // namespace factoryops::tsdb::embedded
