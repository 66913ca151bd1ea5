#include "queue/job_queue.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "db/clock.hpp"
#include "http/request_id.hpp"

namespace factoryops::queue {

Job make_job(std::string_view queue, std::string_view task, std::string_view factory_id,
             std::string_view request_id, std::string payload) {
  Job job;
  job.queue = queue;
  job.task = task;
  job.factory_id = factory_id;
  job.request_id = request_id;
  job.payload = std::move(payload);
  return job;
}

std::string_view fail_outcome_name(FailOutcome outcome) {
  switch (outcome) {
    case FailOutcome::retry_scheduled: return "retried";
    case FailOutcome::dead_lettered: return "dead";
    case FailOutcome::stale: return "stale";
  }
  return "unknown";
}

std::int64_t system_clock_ms() {
  return db::now_ms();
}

std::int64_t retry_delay_ms(const QueueOptions& options, int attempts) {
  // attempts is at least 1 here; the shift is capped so a misconfigured count cannot overflow.
  const int exponent = std::clamp(attempts - 1, 0, 20);
  return options.retry_base.count() * (std::int64_t{1} << exponent);
}

void validate_job(const Job& job) {
  core::validate_slug("queue", job.queue);
  if (job.task.empty() || job.task.size() > kMaxTaskLength) {
    throw core::Invalid("task", "must be 1 to " + std::to_string(kMaxTaskLength) + " characters");
  }
  for (char c : job.task) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) throw core::Invalid("task", "may contain only a-z, 0-9, '_', '-' and '.'");
  }
  core::validate_slug("factory_id", job.factory_id);
  if (!http::is_valid_request_id(job.request_id)) {
    throw core::Invalid("request_id", "must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':', '-'");
  }
  if (job.payload.size() > kMaxPayloadBytes) {
    throw core::Invalid("payload", "is larger than " + std::to_string(kMaxPayloadBytes) + " bytes");
  }
  boost::system::error_code ec;
  boost::json::parse(job.payload, ec);
  if (ec) throw core::Invalid("payload", "is not a JSON document");
}

}  // namespace factoryops::queue
