#include "queue/redis_queue.hpp"

#include <hiredis/hiredis.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <span>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "auth/crypto.hpp"
#include "core/errors.hpp"
#include "core/logging.hpp"
#include "queue/sql_queue.hpp"

namespace factoryops::queue {
namespace {

constexpr std::string_view kGroup = "workers";
constexpr std::string_view kDeadHash = "factoryops:jobs:dead";
constexpr std::string_view kDeadIndex = "factoryops:jobs:dead:index";
// Due retries moved into the stream per claim; the rest follow on the next claims.
constexpr int kPromoteBatch = 100;
// How many dead-letter ids a listing reads before filtering by queue.
constexpr int kDeadScanLimit = 10000;

std::string stream_key(std::string_view queue) {
  return "factoryops:jobs:q:" + std::string(queue);
}
std::string delayed_key(std::string_view queue) {
  return stream_key(queue) + ":delayed";
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Moves due retries from the sorted set into the stream. One script, so two consumers never
// move the same retry twice.
constexpr const char* kPromoteScript = R"(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'job', member)
  redis.call('ZREM', KEYS[1], member)
end
return #due
)";

constexpr const char* kAckScript = R"(
local n = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return n
)";

// Ends a delivery that failed: the entry leaves the stream and its successor goes to the retry
// set or the dead letters, atomically, and only while the delivery is still this consumer's
// (not reclaimed by another one after the visibility timeout).
constexpr const char* kFailScript = R"(
local owner = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #owner == 0 or owner[1][2] ~= ARGV[7] then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if ARGV[3] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
else
  redis.call('HSET', KEYS[3], ARGV[6], ARGV[4])
  redis.call('ZADD', KEYS[4], ARGV[5], ARGV[6])
end
return 1
)";

constexpr const char* kRequeueScript = R"(
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'job', ARGV[2])
return 1
)";

constexpr const char* kDeleteDeadScript = R"(
local n = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return n
)";

struct ReplyDeleter {
  void operator()(redisReply* reply) const {
    if (reply) freeReplyObject(reply);
  }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

std::string str(const redisReply* reply) {
  return reply && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS ||
                   reply->type == REDIS_REPLY_ERROR)
             ? std::string(reply->str, reply->len)
             : std::string();
}

// The stored form of a job: everything but the receipt; `attempts` counts the deliveries made
// before this entry was written.
std::string encode(const Job& job, std::int64_t died_at_ms = 0) {
  boost::json::object o;
  o["id"] = job.id;
  o["queue"] = job.queue;
  o["task"] = job.task;
  o["factory_id"] = job.factory_id;
  o["request_id"] = job.request_id;
  o["payload"] = job.payload;
  o["attempts"] = job.attempts;
  o["not_before"] = job.not_before_ms;
  o["enqueued_at"] = job.enqueued_at_ms;
  o["last_error"] = job.last_error;
  if (died_at_ms != 0) o["died_at"] = died_at_ms;
  return boost::json::serialize(o);
}

struct Decoded {
  Job job;
  std::int64_t died_at_ms = 0;
};

std::optional<Decoded> decode(std::string_view text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& o = value.get_object();
  auto get_string = [&](std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  auto get_int = [&](std::string_view key) -> std::int64_t {
    const auto* v = o.if_contains(key);
    return v && v->is_int64() ? v->get_int64() : 0;
  };
  Decoded out;
  out.job.id = get_string("id");
  out.job.queue = get_string("queue");
  out.job.task = get_string("task");
  out.job.factory_id = get_string("factory_id");
  out.job.request_id = get_string("request_id");
  out.job.payload = get_string("payload");
  out.job.attempts = static_cast<int>(get_int("attempts"));
  out.job.not_before_ms = get_int("not_before");
  out.job.enqueued_at_ms = get_int("enqueued_at");
  out.job.last_error = get_string("last_error");
  out.died_at_ms = get_int("died_at");
  return out;
}

// The value of field "job" in a stream entry reply [id, [field, value, …]].
std::optional<std::pair<std::string, std::string>> entry_of(const redisReply* entry) {
  if (!entry || entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) return std::nullopt;
  const redisReply* fields = entry->element[1];
  if (!fields || fields->type != REDIS_REPLY_ARRAY) return std::nullopt;
  for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
    if (str(fields->element[i]) == "job")
      return std::make_pair(str(entry->element[0]), str(fields->element[i + 1]));
  }
  return std::nullopt;
}

// A receipt is "<stream entry id> <consumer>": the entry to acknowledge and who holds it.
std::pair<std::string_view, std::string_view> split_receipt(std::string_view receipt) {
  auto space = receipt.find(' ');
  if (space == std::string_view::npos) return {receipt, {}};
  return {receipt.substr(0, space), receipt.substr(space + 1)};
}

}  // namespace

class RedisQueue::Connection {
 public:
  explicit Connection(redisContext* context) : context_(context) {}
  ~Connection() { redisFree(context_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one command with binary-safe arguments. An I/O failure marks the connection broken and
  // throws core::Unavailable; an error reply is returned to the caller.
  Reply command(std::initializer_list<std::string_view> args) {
    return command(std::span<const std::string_view>(args.begin(), args.size()));
  }

  Reply command(std::span<const std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (auto arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    Reply reply{static_cast<redisReply*>(
        redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()))};
    if (!reply) {
      broken_ = true;
      throw core::Unavailable(std::string("redis: ") +
                              (context_->errstr[0] ? context_->errstr : "no answer"));
    }
    return reply;
  }

  // As command(), but an error reply also throws core::Unavailable.
  Reply checked(std::initializer_list<std::string_view> args) {
    Reply reply = command(args);
    if (reply->type == REDIS_REPLY_ERROR) throw core::Unavailable("redis: " + str(reply.get()));
    return reply;
  }

  bool broken() const { return broken_; }

  // False when the server has closed the socket while the connection sat in the pool (Redis
  // restarted): checked without a round trip, so a restart does not fail the next command.
  bool still_open() const {
    char byte = 0;
    const ssize_t n = ::recv(context_->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  // Streams whose consumer group this connection has seen exist.
  std::vector<std::string> groups_known;

 private:
  redisContext* context_;
  bool broken_ = false;
};

class RedisQueue::Lease {
 public:
  Lease(RedisQueue* owner, Connection* connection) : owner_(owner), connection_(connection) {}
  ~Lease() {
    if (connection_) owner_->release(connection_, connection_->broken() || std::uncaught_exceptions() > 0);
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Connection* operator->() const { return connection_; }

 private:
  RedisQueue* owner_;
  Connection* connection_;
};

RedisQueue::RedisQueue(std::string url, QueueOptions options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = system_clock_ms;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw core::Invalid("redis_url", "expected redis://host:port/db or unix:///path");
  if (parsed->scheme() == "unix") {
    socket_path_ = parsed->path();
    if (socket_path_.empty()) throw core::Invalid("redis_url", "unix:// needs a socket path");
    return;
  }
  if (parsed->scheme() != "redis") {
    throw core::Invalid("redis_url", "the job queue speaks redis:// and unix:// (no TLS)");
  }
  host_ = std::string(parsed->encoded_host());
  if (host_.empty()) host_ = "127.0.0.1";
  if (parsed->has_port()) port_ = static_cast<int>(parsed->port_number());
  if (parsed->has_password()) password_ = parsed->password();
  std::string path = parsed->path();
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  if (!path.empty() && std::from_chars(path.data(), path.data() + path.size(), db_).ec != std::errc{}) {
    throw core::Invalid("redis_url", "the path must be a database number");
  }
}

RedisQueue::~RedisQueue() {
  for (auto* connection : idle_) delete connection;
}

RedisQueue::Lease RedisQueue::lease() {
  {
    std::lock_guard lock(mutex_);
    while (!idle_.empty()) {
      Connection* connection = idle_.back();
      idle_.pop_back();
      if (connection->still_open()) return Lease(this, connection);
      delete connection;
    }
    // While Redis is down, fail at once instead of paying a connect per call: enqueue must not
    // stall the producer, and the failover queue then goes to SQL straight away.
    if (steady_ms() < next_connect_ms_) throw core::Unavailable("redis: not answering");
  }
  const timeval connect_timeout{0, 300'000};
  redisContext* context = socket_path_.empty()
                              ? redisConnectWithTimeout(host_.c_str(), port_, connect_timeout)
                              : redisConnectUnixWithTimeout(socket_path_.c_str(), connect_timeout);
  auto refuse = [&](const std::string& why) {
    std::lock_guard lock(mutex_);
    next_connect_ms_ = steady_ms() + 500;
    return core::Unavailable("redis: " + why);
  };
  if (!context || context->err) {
    std::string why = context ? context->errstr : "out of memory";
    if (context) redisFree(context);
    throw refuse(why);
  }
  const timeval command_timeout{2, 0};
  redisSetTimeout(context, command_timeout);
  auto connection = std::make_unique<Connection>(context);
  try {
    if (!password_.empty()) connection->checked({"AUTH", password_});
    if (db_ != 0) connection->checked({"SELECT", std::to_string(db_)});
  } catch (const core::Unavailable& e) {
    throw refuse(e.what());
  }
  return Lease(this, connection.release());
}

std::string RedisQueue::autoclaim_cursor(const std::string& stream) {
  std::lock_guard lock(mutex_);
  auto it = autoclaim_cursors_.find(stream);
  return it == autoclaim_cursors_.end() || it->second.empty() ? "0-0" : it->second;
}

void RedisQueue::set_autoclaim_cursor(const std::string& stream, std::string cursor) {
  std::lock_guard lock(mutex_);
  autoclaim_cursors_[stream] = std::move(cursor);
}

void RedisQueue::release(Connection* connection, bool broken) noexcept {
  if (broken) {
    delete connection;
    return;
  }
  std::lock_guard lock(mutex_);
  idle_.push_back(connection);
}

bool RedisQueue::reachable() {
  try {
    auto c = lease();
    return str(c->checked({"PING"}).get()) == "PONG";
  } catch (const core::Unavailable&) {
    return false;
  }
}

std::string RedisQueue::enqueue(const Job& job) {
  validate_job(job);
  Job stored = job;
  stored.id = "r" + auth::random_hex(12);
  stored.attempts = 0;
  stored.last_error.clear();
  stored.enqueued_at_ms = now();
  stored.not_before_ms = std::max(job.not_before_ms, stored.enqueued_at_ms);
  const std::string text = encode(stored);
  auto c = lease();
  // No MAXLEN: trimming would drop jobs nobody has run. Acked entries are deleted instead.
  if (job.not_before_ms > stored.enqueued_at_ms) {
    c->checked({"ZADD", delayed_key(job.queue), std::to_string(stored.not_before_ms), text});
  } else {
    c->checked({"XADD", stream_key(job.queue), "*", "job", text});
  }
  return stored.id;
}

std::optional<Job> RedisQueue::claim(std::string_view queue, std::string_view consumer) {
  const std::string stream = stream_key(queue);
  auto c = lease();
  if (std::find(c->groups_known.begin(), c->groups_known.end(), stream) == c->groups_known.end()) {
    // "0": entries added before the group existed are delivered too.
    Reply r = c->command({"XGROUP", "CREATE", stream, kGroup, "0", "MKSTREAM"});
    if (r->type == REDIS_REPLY_ERROR && str(r.get()).rfind("BUSYGROUP", 0) != 0) {
      throw core::Unavailable("redis: " + str(r.get()));
    }
    c->groups_known.push_back(stream);
  }
  c->checked({"EVAL", kPromoteScript, "2", delayed_key(queue), stream, std::to_string(now()),
              std::to_string(kPromoteBatch)});

  const std::string visibility = std::to_string(options_.visibility_timeout.count());
  for (int round = 0; round < 16; ++round) {
    // A delivery idle past the visibility timeout belongs to a consumer presumed dead.
    // XAUTOCLAIM looks at a few pending entries per call; the cursor it returns makes the
    // next claim look further, so an idle entry behind many busy ones is found too.
    std::string cursor = autoclaim_cursor(stream);
    Reply reclaimed = c->command({"XAUTOCLAIM", stream, kGroup, consumer, visibility, cursor, "COUNT", "1"});
    if (reclaimed->type == REDIS_REPLY_ERROR) {
      // NOGROUP: Redis restarted without its data; the group comes back on the next claim.
      c->groups_known.clear();
      throw core::Unavailable("redis: " + str(reclaimed.get()));
    }
    if (reclaimed->type == REDIS_REPLY_ARRAY && reclaimed->elements >= 1) {
      set_autoclaim_cursor(stream, str(reclaimed->element[0]));
    }
    std::optional<std::pair<std::string, std::string>> entry;
    int deliveries = 1;
    if (reclaimed->type == REDIS_REPLY_ARRAY && reclaimed->elements >= 2 &&
        reclaimed->element[1]->type == REDIS_REPLY_ARRAY && reclaimed->element[1]->elements > 0) {
      entry = entry_of(reclaimed->element[1]->element[0]);
      if (entry) {
        Reply pending = c->checked({"XPENDING", stream, kGroup, entry->first, entry->first, "1"});
        if (pending->type == REDIS_REPLY_ARRAY && pending->elements == 1 &&
            pending->element[0]->type == REDIS_REPLY_ARRAY && pending->element[0]->elements == 4) {
          deliveries = static_cast<int>(pending->element[0]->element[3]->integer);
        }
      }
    } else {
      Reply read =
          c->checked({"XREADGROUP", "GROUP", kGroup, consumer, "COUNT", "1", "STREAMS", stream, ">"});
      if (read->type != REDIS_REPLY_ARRAY || read->elements == 0) return std::nullopt;
      const redisReply* entries = read->element[0]->element[1];
      if (entries->type != REDIS_REPLY_ARRAY || entries->elements == 0) return std::nullopt;
      entry = entry_of(entries->element[0]);
    }
    if (!entry) return std::nullopt;
    auto decoded = decode(entry->second);
    if (!decoded) {
      // Not written by this code: drop it rather than block the queue on it forever.
      log::error("job queue: unreadable stream entry removed", {{"queue", queue}, {"entry", entry->first}});
      c->checked({"EVAL", kAckScript, "1", stream, kGroup, entry->first});
      continue;
    }
    Job job = std::move(decoded->job);
    job.queue = std::string(queue);  // the stream it came from is what ack and fail address
    job.attempts += deliveries;
    job.receipt = entry->first + " " + std::string(consumer);
    if (job.attempts > kMaxAttempts) {
      const std::int64_t now_ms = now();
      Job dead = job;
      dead.attempts = job.attempts - 1;
      dead.last_error = "not acknowledged within the visibility timeout after " +
                        std::to_string(dead.attempts) + " deliveries" +
                        (job.last_error.empty() ? "" : "; earlier: " + job.last_error);
      dead.last_error = truncate_error(dead.last_error);
      c->checked({"EVAL", kFailScript, "4", stream, delayed_key(queue), kDeadHash, kDeadIndex, kGroup,
                  entry->first, "dead", encode(dead, now_ms), std::to_string(now_ms), dead.id, consumer});
      log::warn("job dead-lettered: never acknowledged", {{"queue", job.queue},
                                                          {"task", job.task},
                                                          {"job_id", job.id},
                                                          {"factory_id", job.factory_id},
                                                          {"request_id", job.request_id},
                                                          {"attempts", dead.attempts}});
      continue;
    }
    return job;
  }
  return std::nullopt;
}

void RedisQueue::ack(const Job& job) {
  auto c = lease();
  auto [entry, consumer] = split_receipt(job.receipt);
  c->checked({"EVAL", kAckScript, "1", stream_key(job.queue), kGroup, entry});
}

FailOutcome RedisQueue::fail(const Job& job, std::string_view error, bool permanent) {
  const std::int64_t now_ms = now();
  const bool dead = permanent || job.attempts >= kMaxAttempts;
  Job next = job;
  next.last_error = truncate_error(error);
  std::string score;
  std::string text;
  if (dead) {
    score = std::to_string(now_ms);
    text = encode(next, now_ms);
  } else {
    next.not_before_ms = now_ms + retry_delay_ms(options_, job.attempts);
    score = std::to_string(next.not_before_ms);
    text = encode(next);
  }
  auto c = lease();
  auto [entry, consumer] = split_receipt(job.receipt);
  Reply r = c->checked({"EVAL", kFailScript, "4", stream_key(job.queue), delayed_key(job.queue), kDeadHash,
                        kDeadIndex, kGroup, entry, dead ? "dead" : "retry", text, score, job.id, consumer});
  if (r->type != REDIS_REPLY_INTEGER || r->integer == 0) return FailOutcome::stale;
  return dead ? FailOutcome::dead_lettered : FailOutcome::retry_scheduled;
}

std::vector<DeadJob> RedisQueue::dead_letters(const DeadLetterQuery& query) {
  auto c = lease();
  Reply ids = c->checked({"ZREVRANGE", kDeadIndex, "0", std::to_string(kDeadScanLimit - 1)});
  std::vector<DeadJob> out;
  if (ids->type != REDIS_REPLY_ARRAY) return out;
  // Read in pages (one HMGET each) and filter here: dead letters are few, and this keeps one
  // index for every factory.
  constexpr std::size_t kPage = 200;
  for (std::size_t first = 0; first < ids->elements && out.size() < query.limit; first += kPage) {
    const std::size_t last = std::min<std::size_t>(ids->elements, first + kPage);
    std::vector<std::string> names;
    for (std::size_t i = first; i < last; ++i) names.push_back(str(ids->element[i]));
    std::vector<std::string_view> args = {"HMGET", kDeadHash};
    args.insert(args.end(), names.begin(), names.end());
    Reply values = c->command(std::span<const std::string_view>(args));
    if (values->type != REDIS_REPLY_ARRAY) throw core::Unavailable("redis: HMGET failed");
    for (std::size_t i = 0; i < values->elements && out.size() < query.limit; ++i) {
      auto decoded = decode(str(values->element[i]));
      if (!decoded || (!query.queue.empty() && decoded->job.queue != query.queue)) continue;
      if (query.factory && decoded->job.factory_id != query.factory->str()) continue;
      out.push_back(DeadJob{std::move(decoded->job), decoded->died_at_ms});
    }
  }
  return out;
}

bool RedisQueue::requeue_dead(const std::optional<core::FactoryId>& factory, std::string_view id) {
  auto c = lease();
  Reply value = c->checked({"HGET", kDeadHash, id});
  auto decoded = decode(str(value.get()));
  if (!decoded || (factory && decoded->job.factory_id != factory->str())) return false;
  Job job = std::move(decoded->job);
  job.attempts = 0;
  job.not_before_ms = now();
  Reply r = c->checked(
      {"EVAL", kRequeueScript, "3", kDeadHash, kDeadIndex, stream_key(job.queue), id, encode(job)});
  return r->type == REDIS_REPLY_INTEGER && r->integer == 1;
}

bool RedisQueue::delete_dead(const std::optional<core::FactoryId>& factory, std::string_view id) {
  auto c = lease();
  if (factory) {
    Reply value = c->checked({"HGET", kDeadHash, id});
    auto decoded = decode(str(value.get()));
    if (!decoded || decoded->job.factory_id != factory->str()) return false;
  }
  Reply r = c->checked({"EVAL", kDeleteDeadScript, "2", kDeadHash, kDeadIndex, id});
  return r->type == REDIS_REPLY_INTEGER && r->integer == 1;
}

void RedisQueue::retire_consumer(std::string_view queue, std::string_view consumer) noexcept {
  // One script, so no delivery can reach the consumer between the look and the removal.
  static constexpr std::string_view kRetireScript = R"(
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #pending > 0 then return -1 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
)";
  try {
    auto c = lease();
    Reply r = c->command({"EVAL", kRetireScript, "1", stream_key(queue), kGroup, consumer});
    if (r->type == REDIS_REPLY_INTEGER && r->integer < 0) {
      log::info("redis consumer kept: deliveries to it are unanswered",
                {{"queue", queue}, {"consumer", consumer}});
    }
  } catch (const std::exception& e) {
    log::warn("redis consumer not retired", {{"consumer", consumer}, {"error", std::string_view(e.what())}});
  }
}

std::int64_t RedisQueue::depth(std::string_view queue) {
  auto c = lease();
  Reply stream = c->checked({"XLEN", stream_key(queue)});
  Reply delayed = c->checked({"ZCARD", delayed_key(queue)});
  return stream->integer + delayed->integer;
}

}  // namespace factoryops::queue
