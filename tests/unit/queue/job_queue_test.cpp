// The queue's shared policy: the retry schedule, what enqueue accepts, and error truncation.
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "queue/job_queue.hpp"
#include "queue/sql_queue.hpp"

namespace factoryops::queue {
namespace {

TEST(RetryDelay, DoublesFromTheBaseForEachFailedAttempt) {
  QueueOptions options;
  EXPECT_EQ(retry_delay_ms(options, 1), 10'000);
  EXPECT_EQ(retry_delay_ms(options, 2), 20'000);
  EXPECT_EQ(retry_delay_ms(options, 3), 40'000);
  options.retry_base = std::chrono::milliseconds(250);
  EXPECT_EQ(retry_delay_ms(options, 1), 250);
  EXPECT_EQ(retry_delay_ms(options, 3), 1000);
  // Out-of-range attempt counts stay finite instead of overflowing.
  EXPECT_EQ(retry_delay_ms(options, 0), 250);
  EXPECT_GT(retry_delay_ms(options, 1000), 0);
}

TEST(RetryPolicy, AJobRunsOnceAndIsRetriedAtMostThreeTimes) {
  EXPECT_EQ(kMaxAttempts, 4);
}

std::string refused_field(const Job& job) {
  try {
    validate_job(job);
  } catch (const core::Invalid& e) {
    return e.field();
  }
  return "";
}

TEST(ValidateJob, NamesTheFieldThatIsWrong) {
  const Job good = make_job("rule-engine", "evaluate_batch", "acme-pune", "4f1c9e", R"({"batch":[1,2]})");
  EXPECT_EQ(refused_field(good), "");

  Job bad = good;
  bad.queue = "Rule Engine";
  EXPECT_EQ(refused_field(bad), "queue");
  bad = good;
  bad.task = "evaluate batch";
  EXPECT_EQ(refused_field(bad), "task");
  bad.task = std::string(kMaxTaskLength + 1, 'a');
  EXPECT_EQ(refused_field(bad), "task");
  bad = good;
  bad.factory_id = "../other";
  EXPECT_EQ(refused_field(bad), "factory_id");
  bad = good;
  bad.request_id = "";
  EXPECT_EQ(refused_field(bad), "request_id");
  bad.request_id = std::string(129, 'a');
  EXPECT_EQ(refused_field(bad), "request_id");
  bad = good;
  bad.payload = "";
  EXPECT_EQ(refused_field(bad), "payload");
  bad.payload = R"({"a":)";
  EXPECT_EQ(refused_field(bad), "payload");
  bad.payload = "\"" + std::string(kMaxPayloadBytes, 'x') + "\"";
  EXPECT_EQ(refused_field(bad), "payload");
}

TEST(TruncateError, KeepsShortMessagesAndCutsLongOnesBetweenCharacters) {
  EXPECT_EQ(truncate_error("smtp: 421 try later"), "smtp: 421 try later");
  // "é" is two bytes; a cut at an odd byte count would split one.
  std::string long_text;
  for (std::size_t i = 0; i < kMaxErrorLength; ++i) long_text += "\xC3\xA9";
  std::string cut = truncate_error(long_text);
  EXPECT_LE(cut.size(), kMaxErrorLength);
  EXPECT_GE(cut.size(), kMaxErrorLength - 1);
  EXPECT_EQ(cut.size() % 2, 0u);
  EXPECT_EQ(cut.substr(0, 2), "\xC3\xA9");
}

}  // namespace
}  // namespace factoryops::queue
