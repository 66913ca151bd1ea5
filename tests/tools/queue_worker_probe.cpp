// A worker process for the kill -9 test: runs a queue::Worker on the queue chosen by the
// configuration (make_job_queue) with one task, "record", that appends "start <job id> <pid>" and,
// once finished, "done <job id> <pid>" to a file (each line written with O_APPEND and fsync'd, so
// what a killed process wrote is on disk). A payload {"hang_on_first_attempt_ms": N} makes the
// first delivery sleep N ms, time enough to be killed mid-job. Runs until SIGTERM or SIGINT.
//
//   queue_worker_probe <database url> <redis url or ""> <queue> <visibility ms> <record file>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "core/config.hpp"
#include "core/logging.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "queue/make_job_queue.hpp"
#include "queue/worker.hpp"

namespace {

void append_line(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  const std::string text = line + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace factoryops;
  if (argc != 6) {
    std::cerr
        << "usage: queue_worker_probe <database url> <redis url> <queue> <visibility ms> <record file>\n";
    return 2;
  }
  const std::string record = argv[5];
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  log::init("queue-worker-probe", log::Level::info);
  auto database = db::Database::open(argv[1]);
  db::migrate(*database);
  core::Config config;
  config.redis_url = argv[2];
  queue::QueueOptions options = queue::queue_options(config);
  options.visibility_timeout = std::chrono::milliseconds(std::atoll(argv[4]));
  auto chosen = queue::make_job_queue(config, *database, options);

  queue::WorkerOptions worker_options;
  worker_options.queues = {argv[3]};
  worker_options.threads = 1;
  worker_options.idle_wait = std::chrono::milliseconds(50);
  queue::Worker worker(*chosen, worker_options);
  const std::string pid = std::to_string(getpid());
  worker.on("record", [&](const queue::Job& job) {
    append_line(record, "start " + job.id + " " + pid);
    auto payload = boost::json::parse(job.payload).as_object();
    if (const auto* hang = payload.if_contains("hang_on_first_attempt_ms"); hang && job.attempts == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(hang->to_number<std::int64_t>()));
    }
    append_line(record, "done " + job.id + " " + pid);
  });
  worker.start();
  int sig = 0;
  sigwait(&signals, &sig);
  worker.stop();
  return 0;
}
