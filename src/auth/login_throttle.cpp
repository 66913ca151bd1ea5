#include "auth/login_throttle.hpp"

#include <algorithm>

#include "db/clock.hpp"

namespace factoryops::auth {

std::optional<std::int64_t> retry_after_seconds(std::vector<std::int64_t> failures, std::int64_t now_ms,
                                                std::int64_t window_ms, std::size_t limit) {
  std::erase_if(failures, [&](std::int64_t t) { return t <= now_ms - window_ms || t > now_ms; });
  if (limit == 0) return 1;
  if (failures.size() < limit) return std::nullopt;
  std::sort(failures.begin(), failures.end(), std::greater<>());
  // Attempts are allowed again once fewer than `limit` failures remain in the window, i.e.
  // when the limit-th newest one expires.
  std::int64_t frees_at = failures[limit - 1] + window_ms;
  std::int64_t wait_ms = frees_at - now_ms;
  return std::max<std::int64_t>(1, (wait_ms + 999) / 1000);
}

std::optional<std::int64_t> LoginThrottle::blocked_for(const std::string& factory_id,
                                                       const std::string& email, const std::string& address) {
  std::int64_t now = db::now_ms();
  std::int64_t since = now - limits_.window_ms;
  auto conn = db_.acquire();
  auto collect = [](const std::vector<db::Row>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& row : rows) out.push_back(row.get_int(0));
    return out;
  };
  auto account = collect(conn->query(
      "SELECT created_at FROM login_failures WHERE factory_id = ? AND email = ? AND created_at > ? "
      "ORDER BY created_at DESC LIMIT ?",
      {factory_id, email, since, static_cast<std::int64_t>(limits_.per_account)}));
  auto by_account = retry_after_seconds(std::move(account), now, limits_.window_ms, limits_.per_account);
  auto by_address = retry_after_seconds(
      collect(conn->query("SELECT created_at FROM login_failures WHERE ip = ? AND created_at > ? "
                          "ORDER BY created_at DESC LIMIT ?",
                          {address, since, static_cast<std::int64_t>(limits_.per_address)})),
      now, limits_.window_ms, limits_.per_address);
  if (by_account && by_address) return std::max(*by_account, *by_address);
  return by_account ? by_account : by_address;
}

void LoginThrottle::record_failure(const std::string& factory_id, const std::string& email,
                                   const std::string& address) {
  std::int64_t now = db::now_ms();
  auto conn = db_.acquire();
  conn->execute("INSERT INTO login_failures (factory_id, email, ip, created_at) VALUES (?, ?, ?, ?)",
                {factory_id, email, address, now});
  // Expired rows are pruned as new ones arrive, along the same indexes, so the table stays small.
  conn->execute("DELETE FROM login_failures WHERE factory_id = ? AND email = ? AND created_at <= ?",
                {factory_id, email, now - limits_.window_ms});
  conn->execute("DELETE FROM login_failures WHERE ip = ? AND created_at <= ?",
                {address, now - limits_.window_ms});
}

void LoginThrottle::clear(const std::string& factory_id, const std::string& email) {
  auto conn = db_.acquire();
  conn->execute("DELETE FROM login_failures WHERE factory_id = ? AND email = ?", {factory_id, email});
}

}  // namespace factoryops::auth
