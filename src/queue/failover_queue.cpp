#include "queue/failover_queue.hpp"

#include <algorithm>

#include "core/errors.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"

namespace factoryops::queue {
namespace {

// Receipts carry which queue delivered the job, so ack and fail reach the same one.
constexpr std::string_view kPrimaryTag = "p:";
constexpr std::string_view kFallbackTag = "f:";

Job tagged(Job job, std::string_view tag) {
  job.receipt = std::string(tag) + job.receipt;
  return job;
}

Job untagged(const Job& job) {
  Job out = job;
  out.receipt = job.receipt.substr(std::min<std::size_t>(2, job.receipt.size()));
  return out;
}

core::metrics::Counter& fallback_counter() {
  static auto& counter = core::metrics::Registry::global()
                             .counter("job_queue_fallback_enqueues_total",
                                      "Jobs written to the SQL queue because Redis did not answer")
                             .labels({});
  return counter;
}

}  // namespace

FailoverQueue::FailoverQueue(JobQueue& primary, JobQueue& fallback)
    : primary_(primary), fallback_(fallback) {}

FailoverQueue::FailoverQueue(std::unique_ptr<JobQueue> primary, std::unique_ptr<JobQueue> fallback)
    : owned_primary_(std::move(primary)),
      owned_fallback_(std::move(fallback)),
      primary_(*owned_primary_),
      fallback_(*owned_fallback_) {}

std::string FailoverQueue::enqueue(const Job& job) {
  validate_job(job);
  try {
    return primary_.enqueue(job);
  } catch (const core::Unavailable& e) {
    // One warning per 10 s: an outage must not flood the log with a line per job.
    const std::int64_t now = system_clock_ms();
    std::int64_t last = last_warning_ms_.load();
    if (now - last > 10'000 && last_warning_ms_.compare_exchange_strong(last, now)) {
      log::warn("job queue: primary not answering; enqueuing to the fallback",
                {{"primary", primary_.backend()}, {"fallback", fallback_.backend()}, {"error", e.what()}});
    }
  }
  std::string id = fallback_.enqueue(job);
  fallback_counter().inc();
  return id;
}

std::optional<Job> FailoverQueue::claim(std::string_view queue, std::string_view consumer) {
  const bool primary_first = (claims_.fetch_add(1) % 2) == 0;
  auto from_primary = [&]() -> std::optional<Job> {
    try {
      if (auto job = primary_.claim(queue, consumer)) return tagged(std::move(*job), kPrimaryTag);
    } catch (const core::Unavailable&) {
      // Down: what it holds waits for it; the fallback keeps being drained meanwhile.
    }
    return std::nullopt;
  };
  auto from_fallback = [&]() -> std::optional<Job> {
    if (auto job = fallback_.claim(queue, consumer)) return tagged(std::move(*job), kFallbackTag);
    return std::nullopt;
  };
  if (primary_first) {
    if (auto job = from_primary()) return job;
    return from_fallback();
  }
  if (auto job = from_fallback()) return job;
  return from_primary();
}

JobQueue& FailoverQueue::owner_of(const Job& job) {
  return job.receipt.rfind(kPrimaryTag, 0) == 0 ? primary_ : fallback_;
}

void FailoverQueue::ack(const Job& job) {
  owner_of(job).ack(untagged(job));
}

FailOutcome FailoverQueue::fail(const Job& job, std::string_view error, bool permanent) {
  return owner_of(job).fail(untagged(job), error, permanent);
}

std::vector<DeadJob> FailoverQueue::dead_letters(const DeadLetterQuery& query) {
  std::vector<DeadJob> out;
  for (JobQueue* q : {&primary_, &fallback_}) {
    try {
      auto part = q->dead_letters(query);
      out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    } catch (const core::Unavailable& e) {
      log::warn("job queue: dead letters not listed", {{"backend", q->backend()}, {"error", e.what()}});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const DeadJob& a, const DeadJob& b) { return a.died_at_ms > b.died_at_ms; });
  if (out.size() > query.limit) out.resize(query.limit);
  return out;
}

bool FailoverQueue::requeue_dead(const std::optional<core::FactoryId>& factory, std::string_view id) {
  return on_either(id,
                   [&](JobQueue& q, std::string_view dead_id) { return q.requeue_dead(factory, dead_id); });
}

bool FailoverQueue::delete_dead(const std::optional<core::FactoryId>& factory, std::string_view id) {
  return on_either(id,
                   [&](JobQueue& q, std::string_view dead_id) { return q.delete_dead(factory, dead_id); });
}

bool FailoverQueue::on_either(std::string_view id,
                              const std::function<bool(JobQueue&, std::string_view)>& action) {
  // Ids do not collide (the SQL queue's are decimal, Redis's start with a letter), so asking
  // both is safe. "Not found" is only the answer when both could answer.
  std::optional<core::Unavailable> primary_down;
  try {
    if (action(primary_, id)) return true;
  } catch (const core::Unavailable& e) {
    primary_down = e;
  }
  if (action(fallback_, id)) return true;
  if (primary_down) throw *primary_down;
  return false;
}

void FailoverQueue::retire_consumer(std::string_view queue, std::string_view consumer) noexcept {
  primary_.retire_consumer(queue, consumer);
  fallback_.retire_consumer(queue, consumer);
}

std::int64_t FailoverQueue::depth(std::string_view queue) {
  std::int64_t total = fallback_.depth(queue);
  try {
    total += primary_.depth(queue);
  } catch (const core::Unavailable&) {
    // Unknown while it is down; what the fallback holds is still worth reporting.
  }
  return total;
}

}  // namespace factoryops::queue
