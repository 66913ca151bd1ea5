#include "queue/sql_queue.hpp"

#include <charconv>

#include "auth/crypto.hpp"
#include "core/logging.hpp"

namespace factoryops::queue {
namespace {

constexpr std::string_view kColumns =
    "id, queue, task, factory_id, request_id, payload, attempts, available_at, enqueued_at, last_error, "
    "updated_at";

// A claim scans at most this many rows that ran out of attempts before giving up for this call.
constexpr int kMaxExhaustedPerClaim = 16;

Job job_from(const db::Row& row) {
  Job job;
  job.id = std::to_string(row.get_int("id"));
  job.queue = row.get_string("queue");
  job.task = row.get_string("task");
  job.factory_id = row.get_string("factory_id");
  job.request_id = row.get_string("request_id");
  job.payload = row.get_string("payload");
  job.attempts = static_cast<int>(row.get_int("attempts"));
  job.not_before_ms = row.get_int("available_at");
  job.enqueued_at_ms = row.get_int("enqueued_at");
  job.last_error = row.get_optional_string("last_error").value_or("");
  return job;
}

std::optional<std::int64_t> parse_id(std::string_view id) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
  if (ec != std::errc{} || end != id.data() + id.size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

std::string truncate_error(std::string_view error) {
  if (error.size() <= kMaxErrorLength) return std::string(error);
  std::size_t cut = kMaxErrorLength;
  // Back off over UTF-8 continuation bytes (10xxxxxx) so the cut lands between characters.
  while (cut > 0 && (static_cast<unsigned char>(error[cut]) & 0xC0) == 0x80) --cut;
  return std::string(error.substr(0, cut));
}

SqlQueue::SqlQueue(db::Database& database, QueueOptions options)
    : database_(database), options_(std::move(options)) {
  if (!options_.clock) options_.clock = system_clock_ms;
}

std::string SqlQueue::enqueue(const Job& job) {
  validate_job(job);
  const std::int64_t now_ms = now();
  auto conn = database_.acquire();
  auto result = conn->execute(
      "INSERT INTO jobs (queue, task, factory_id, request_id, payload, state, attempts, available_at, "
      "enqueued_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
      {job.queue, job.task, job.factory_id, job.request_id, job.payload, std::max(job.not_before_ms, now_ms),
       now_ms, now_ms});
  return std::to_string(result.last_insert_id);
}

std::optional<Job> SqlQueue::claim(std::string_view queue, std::string_view consumer) {
  const std::int64_t now_ms = now();
  auto conn = database_.acquire();
  // An idle queue is the common case: a plain read answers it without taking SQLite's write
  // lock or MariaDB row locks.
  if (!conn->query_one(
          "SELECT id FROM jobs WHERE queue = ? AND state = 'pending' AND available_at <= ? LIMIT 1",
          {queue, now_ms})) {
    return std::nullopt;
  }
  // MariaDB: rows another consumer is claiming right now are skipped, not waited for.
  // SQLite: the transaction already holds the database's write lock (BEGIN IMMEDIATE).
  const std::string lock = conn->dialect() == db::Dialect::mysql ? " FOR UPDATE SKIP LOCKED" : "";
  const std::string select = "SELECT " + std::string(kColumns) +
                             " FROM jobs WHERE queue = ? AND state = 'pending' AND available_at <= ? "
                             "ORDER BY available_at, id LIMIT 1" +
                             lock;
  if (conn->dialect() == db::Dialect::mysql) {
    // Row locks only: under REPEATABLE READ the locking read also takes gap locks on the claim
    // index, which concurrent claimers moving rows within it can contend or deadlock on.
    conn->execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
  }
  db::Transaction tx(*conn);
  for (int exhausted = 0; exhausted < kMaxExhaustedPerClaim; ++exhausted) {
    auto row = conn->query_one(select, {queue, now_ms});
    if (!row) break;
    Job job = job_from(*row);
    if (job.attempts >= kMaxAttempts) {
      // Its last delivery timed out: the consumer died or hung on it every time.
      std::string error = "not acknowledged within the visibility timeout after " +
                          std::to_string(job.attempts) + " deliveries";
      if (!job.last_error.empty()) error += "; earlier: " + job.last_error;
      conn->execute(
          "UPDATE jobs SET state = 'dead', claim_token = NULL, last_error = ?, updated_at = ? WHERE id = ?",
          {truncate_error(error), now_ms, row->get_int("id")});
      log::warn("job dead-lettered: never acknowledged", {{"queue", job.queue},
                                                          {"task", job.task},
                                                          {"job_id", job.id},
                                                          {"factory_id", job.factory_id},
                                                          {"request_id", job.request_id},
                                                          {"attempts", job.attempts}});
      continue;
    }
    const std::string token = auth::random_hex(16);
    ++job.attempts;
    job.receipt = token;
    conn->execute(
        "UPDATE jobs SET attempts = ?, available_at = ?, claim_token = ?, updated_at = ? WHERE id = ?",
        {job.attempts, now_ms + options_.visibility_timeout.count(), token, now_ms, row->get_int("id")});
    tx.commit();
    log::debug("job claimed", {{"queue", job.queue}, {"job_id", job.id}, {"consumer", consumer}});
    return job;
  }
  tx.commit();
  return std::nullopt;
}

void SqlQueue::ack(const Job& job) {
  auto id = parse_id(job.id);
  if (!id) return;
  // Whoever completes the job first completes it for everyone: a consumer that was presumed
  // dead and reclaimed may still ack, and the later delivery then finds nothing to do.
  auto conn = database_.acquire();
  conn->execute("DELETE FROM jobs WHERE id = ? AND state = 'pending'", {*id});
}

FailOutcome SqlQueue::fail(const Job& job, std::string_view error, bool permanent) {
  auto id = parse_id(job.id);
  if (!id) return FailOutcome::stale;
  const std::int64_t now_ms = now();
  const bool dead = permanent || job.attempts >= kMaxAttempts;
  auto conn = database_.acquire();
  // The claim token guards against a consumer whose delivery was already reclaimed: only the
  // current holder decides what happens next.
  db::ExecResult result;
  if (dead) {
    result = conn->execute(
        "UPDATE jobs SET state = 'dead', claim_token = NULL, last_error = ?, updated_at = ? "
        "WHERE id = ? AND claim_token = ? AND state = 'pending'",
        {truncate_error(error), now_ms, *id, job.receipt});
  } else {
    result = conn->execute(
        "UPDATE jobs SET available_at = ?, claim_token = NULL, last_error = ?, updated_at = ? "
        "WHERE id = ? AND claim_token = ? AND state = 'pending'",
        {now_ms + retry_delay_ms(options_, job.attempts), truncate_error(error), now_ms, *id, job.receipt});
  }
  if (result.affected_rows == 0) return FailOutcome::stale;
  return dead ? FailOutcome::dead_lettered : FailOutcome::retry_scheduled;
}

std::vector<DeadJob> SqlQueue::dead_letters(const DeadLetterQuery& query) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM jobs WHERE state = 'dead'";
  std::vector<db::Value> params;
  if (query.factory) {
    sql = "SELECT " + std::string(kColumns) + " FROM jobs WHERE factory_id = ? AND state = 'dead'";
    params.emplace_back(query.factory->str());
  }
  if (!query.queue.empty()) {
    sql += " AND queue = ?";
    params.emplace_back(query.queue);
  }
  sql += " ORDER BY updated_at DESC, id DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(query.limit));
  auto conn = database_.acquire();
  std::vector<DeadJob> out;
  for (const auto& row : conn->query(sql, params)) {
    DeadJob dead;
    dead.job = job_from(row);
    dead.died_at_ms = row.get_int("updated_at");
    out.push_back(std::move(dead));
  }
  return out;
}

bool SqlQueue::requeue_dead(const std::optional<core::FactoryId>& factory, std::string_view id) {
  auto parsed = parse_id(id);
  if (!parsed) return false;
  const std::int64_t now_ms = now();
  // An unset factory matches every row: "? IS NULL OR factory_id = ?" keeps one statement.
  const std::optional<std::string> owner = factory ? std::optional(factory->str()) : std::nullopt;
  auto conn = database_.acquire();
  auto result = conn->execute(
      "UPDATE jobs SET state = 'pending', attempts = 0, available_at = ?, claim_token = NULL, updated_at = ? "
      "WHERE id = ? AND state = 'dead' AND (? IS NULL OR factory_id = ?)",
      {now_ms, now_ms, *parsed, owner, owner});
  return result.affected_rows > 0;
}

bool SqlQueue::delete_dead(const std::optional<core::FactoryId>& factory, std::string_view id) {
  auto parsed = parse_id(id);
  if (!parsed) return false;
  const std::optional<std::string> owner = factory ? std::optional(factory->str()) : std::nullopt;
  auto conn = database_.acquire();
  return conn->execute("DELETE FROM jobs WHERE id = ? AND state = 'dead' AND (? IS NULL OR factory_id = ?)",
                       {*parsed, owner, owner})
             .affected_rows > 0;
}

std::int64_t SqlQueue::depth(std::string_view queue) {
  auto conn = database_.acquire();
  auto row = conn->query_one("SELECT COUNT(*) AS n FROM jobs WHERE queue = ? AND state = 'pending'", {queue});
  return row ? row->get_int("n") : 0;
}

}  // namespace factoryops::queue
