// A worker process killed with SIGKILL in the middle of a job: the job is not lost, another
// worker process runs it after the visibility timeout, and it completes exactly once. Run on
// the SQL queue (SQLite file) and on Redis Streams (with the SQL fallback, as configured).
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "harness/process.hpp"
#include "harness/services.hpp"
#include "harness/wait.hpp"
#include "queue/make_job_queue.hpp"

namespace factoryops::queue {
namespace {

using testing::eventually;
using testing::Process;
using testing::ProcessOptions;
using testing::RedisServer;
using testing::TempDir;

constexpr int kVisibilityMs = 1000;

class QueueKill9 : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    database_url_ = "sqlite:///" + (dir_.path() / "jobs.db").string();
    database_ = db::Database::open(database_url_);
    db::migrate(*database_);
    if (GetParam() == "redis") {
      redis_ = std::make_unique<RedisServer>();
      config_.redis_url = redis_->url();
    }
    QueueOptions options = queue_options(config_);
    options.visibility_timeout = std::chrono::milliseconds(kVisibilityMs);
    queue_ = make_job_queue(config_, *database_, options);
  }

  std::unique_ptr<Process> start_worker(const std::string& name) {
    ProcessOptions o;
    o.argv = {FACTORYOPS_QUEUE_WORKER_PROBE, database_url_,   config_.redis_url, "notifications",
              std::to_string(kVisibilityMs), record_.string()};
    o.log_file = dir_.path() / (name + ".log");
    return std::make_unique<Process>(std::move(o));
  }

  std::vector<std::string> lines() const {
    std::ifstream in(record_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  int count(const std::string& prefix) const {
    int n = 0;
    for (const auto& line : lines()) n += line.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }

  TempDir dir_{"factoryops-queue-kill9"};
  std::filesystem::path record_ = dir_.path() / "record.txt";
  std::string database_url_;
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<RedisServer> redis_;
  core::Config config_;
  std::unique_ptr<JobQueue> queue_;
};

TEST_P(QueueKill9, AJobWhoseWorkerIsKilledCompletesOnceLater) {
  auto first = start_worker("first");
  const std::string id = queue_->enqueue(
      make_job("notifications", "record", "acme-pune", "req-kill9", R"({"hang_on_first_attempt_ms":60000})"));
  // Jobs enqueued after it, finished by the first worker before or by the second after.
  std::vector<std::string> others;
  ASSERT_TRUE(eventually([&] { return count("start " + id + " ") == 1; }, std::chrono::seconds(20)))
      << first->log();
  for (int i = 0; i < 3; ++i) {
    others.push_back(
        queue_->enqueue(make_job("notifications", "record", "acme-pune", "req-kill9-other", "{}")));
  }

  first->signal(SIGKILL);
  first->wait(std::chrono::seconds(10));
  EXPECT_EQ(count("done " + id + " "), 0) << "the job finished before the kill: the test proves nothing";

  auto second = start_worker("second");
  ASSERT_TRUE(eventually([&] { return count("done " + id + " ") >= 1; }, std::chrono::seconds(30)))
      << second->log();
  for (const auto& other : others) {
    EXPECT_TRUE(eventually([&] { return count("done " + other + " ") >= 1; }, std::chrono::seconds(10)));
  }
  // Time for a wrong second delivery to show up before counting.
  std::this_thread::sleep_for(std::chrono::milliseconds(kVisibilityMs + 500));
  second->stop();

  EXPECT_EQ(count("start " + id + " "), 2) << "delivered once to each worker";
  EXPECT_EQ(count("done " + id + " "), 1);
  for (const auto& other : others) EXPECT_EQ(count("done " + other + " "), 1) << other;
  const std::string second_pid = " " + std::to_string(second->pid());
  for (const auto& line : lines()) {
    if (line.rfind("done " + id + " ", 0) == 0) {
      EXPECT_EQ(line.substr(line.size() - second_pid.size()), second_pid);
    }
  }
  EXPECT_EQ(queue_->depth("notifications"), 0);
  EXPECT_TRUE(queue_->dead_letters(DeadLetterQuery{std::nullopt, "notifications", 10}).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, QueueKill9, ::testing::Values("sql", "redis"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace factoryops::queue
