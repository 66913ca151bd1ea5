// Runs jobs: N threads claim from one or more named queues, check the job's factory_id and
// request_id, dispatch on its task name to a registered handler, then ack or fail it (retry with
// backoff, or dead-letter). Handlers must be idempotent: delivery is at-least-once. Every line the
// worker logs carries factory_id and request_id; celery_task_duration_seconds{task} records each
// run. Register handlers before start(); start/stop from one owner thread; the Worker must not
// outlive its JobQueue and stops (waiting for running handlers) when destroyed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "queue/job_queue.hpp"

namespace factoryops::queue {

// Throws to fail the attempt. core::Invalid means retrying cannot help (bad payload, unknown
// device): the job is dead-lettered at once. Anything else is retried with backoff.
using Handler = std::function<void(const Job&)>;

struct WorkerOptions {
  std::vector<std::string> queues;  // claimed round-robin
  int threads = 2;
  // Pause after a round that found every queue empty (or the backend down).
  std::chrono::milliseconds idle_wait{200};
  std::string name;  // consumer name prefix; default "<hostname>-<pid>"
};

class Worker {
 public:
  Worker(JobQueue& queue, WorkerOptions options);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Registers the handler of `task` (replacing any earlier one). Before start() only.
  void on(std::string task, Handler handler);

  void start();
  // Stops claiming, waits for the handlers that are running, joins the threads. Idempotent.
  void stop();

  // Claims one job of `queue` and runs it on the calling thread; false when none was due.
  // What the threads do, exposed for tests and single-threaded tools.
  bool run_one(std::string_view queue, std::string_view consumer);

 private:
  void loop(int index);
  void process(Job job);

  JobQueue& queue_;
  WorkerOptions options_;
  std::map<std::string, Handler, std::less<>> handlers_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;  // guards stopping_ (with wake_)
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace factoryops::queue
