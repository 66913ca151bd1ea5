// The rules table: a factory's rules stored as their validated JSON definition, with name,
// severity and enabled copied into columns for listing and the (factory, name) unique key.
// Every function takes the FactoryId first and every statement filters by it. Functions taking
// a Connection run inside the caller's transaction; the others borrow a pooled connection.
// Thread-safe; the Database must outlive the repository.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "db/database.hpp"
#include "rules/rule.hpp"

namespace factoryops::rules {

// A rule as stored: the definition plus what the server keeps about it.
struct StoredRule {
  core::FactoryId factory_id;
  Rule rule{};               // rule.id is the row's id
  std::int64_t version = 1;  // 1 when created, +1 per update
  std::optional<std::int64_t> created_by{};
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

struct RulePage {
  std::vector<StoredRule> items;
  std::int64_t total = 0;  // all rules of the factory, ignoring limit and offset
};

class RuleRepository {
 public:
  explicit RuleRepository(db::Database& db) : db_(db) {}

  // Stores `stored` (rule.id and version are ignored) and returns the new id. core::Conflict
  // when the factory already has a rule of that name.
  static std::int64_t insert(const core::FactoryId& factory_id, db::Connection& conn,
                             const StoredRule& stored);

  std::optional<StoredRule> find(const core::FactoryId& factory_id, std::int64_t id);
  static std::optional<StoredRule> find(const core::FactoryId& factory_id, db::Connection& conn,
                                        std::int64_t id);

  // Ordered by name, then id. Limits are the caller's to check.
  RulePage list(const core::FactoryId& factory_id, std::int64_t limit, std::int64_t offset);
  // Every rule of the factory, ordered by id (the rule engine loads these).
  std::vector<StoredRule> list_all(const core::FactoryId& factory_id);

  // Replaces the definition (and its columns) of rule `rule.id`, bumps version and sets
  // updated_at. false when there is no such rule; core::Conflict when the new name is taken.
  static bool update(const core::FactoryId& factory_id, db::Connection& conn, const Rule& rule,
                     std::int64_t updated_at_ms);

  // false when there is no such rule.
  static bool remove(const core::FactoryId& factory_id, db::Connection& conn, std::int64_t id);

 private:
  db::Database& db_;
};

}  // namespace factoryops::rules
