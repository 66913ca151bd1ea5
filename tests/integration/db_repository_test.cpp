// The SQL layer, the migrations and the repositories against both backends: every
// parameterised test body runs once on a SQLite file and once on a real MariaDB server
// (tests/harness/mariadb.hpp), proving that one code path serves both dialects.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <limits>
#include <numbers>
#include <optional>
#include <thread>

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "db/audit_repository.hpp"
#include "db/database.hpp"
#include "db/dialect.hpp"
#include "db/factory_repository.hpp"
#include "db/migrations.hpp"
#include "harness/mariadb.hpp"
#include "harness/process.hpp"

namespace factoryops::db {
namespace {

using testing::MariaDbServer;
using testing::TempDir;

// A fresh, empty database of the parameter's backend for each test.
class Backend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = fresh_url();
    db_ = Database::open(url_);
  }

  bool mysql() const { return GetParam() == "mysql"; }

  std::string fresh_url() {
    static std::atomic<int> counter{0};
    if (!mysql()) {
      dir_.emplace("factoryops-db-it");
      return "sqlite:///" + (dir_->path() / "fo.db").string();
    }
    if (!MariaDbServer::available()) {
      ADD_FAILURE() << "mariadbd / mariadb-install-db not installed (run make setup)";
      throw std::runtime_error("no MariaDB");
    }
    return MariaDbServer::shared().create_database("fo_it_" + std::to_string(++counter));
  }

  // DDL is the one place where the dialects need their own text.
  void create_scratch_table() {
    auto conn = db_->acquire();
    conn->execute(
        mysql() ? "CREATE TABLE scratch (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, i BIGINT, d DOUBLE, "
                  "s LONGTEXT, u VARCHAR(100) UNIQUE) DEFAULT CHARSET=utf8mb4"
                : "CREATE TABLE scratch (id INTEGER PRIMARY KEY AUTOINCREMENT, i INTEGER, d REAL, s TEXT, "
                  "u TEXT UNIQUE)");
  }

  std::optional<TempDir> dir_;
  std::string url_;
  std::unique_ptr<Database> db_;
};

std::string backend_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

class DbLayer : public Backend {};
class DbMigration : public Backend {};
class DbRepository : public Backend {
 protected:
  void SetUp() override {
    Backend::SetUp();
    migrate(*db_);
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, DbLayer, ::testing::Values("sqlite", "mysql"), backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, DbMigration, ::testing::Values("sqlite", "mysql"), backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, DbRepository, ::testing::Values("sqlite", "mysql"), backend_name);

TEST_P(DbLayer, ReportsItsBackendAndAnswersPing) {
  EXPECT_EQ(db_->backend_name(), GetParam());
  EXPECT_TRUE(db_->ping());
  if (mysql()) {
    EXPECT_EQ(db_->redacted_url().find(MariaDbServer::shared().password()), std::string::npos);
    EXPECT_NE(db_->redacted_url().find(":***@"), std::string::npos);
  }
}

TEST_P(DbLayer, ValuesRoundTripExactly) {
  create_scratch_table();
  auto conn = db_->acquire();
  const std::vector<double> doubles = {
      0.1, -2.5e-300, 1.7976931348623157e308, 4.9406564584124654e-324, std::numbers::pi, 1e15 + 0.5};
  const std::vector<std::int64_t> ints = {std::numeric_limits<std::int64_t>::min(),
                                          std::numeric_limits<std::int64_t>::max(), 0, -1};
  const std::vector<std::string> texts = {"Δ µ 温度 🏭 \"q\" 'single' \\ back", std::string("a\0b\0c", 5), "",
                                          std::string(200 * 1024 + 7, 'y') + "end"};
  for (double d : doubles) conn->execute("INSERT INTO scratch (d) VALUES (?)", {d});
  for (auto i : ints) conn->execute("INSERT INTO scratch (i) VALUES (?)", {i});
  for (const auto& s : texts) conn->execute("INSERT INTO scratch (s) VALUES (?)", {s});
  conn->execute("INSERT INTO scratch (i, d, s) VALUES (?, ?, ?)",
                {nullptr, std::nullopt, std::optional<int>()});

  auto rows = conn->query("SELECT i, d, s FROM scratch ORDER BY id");
  ASSERT_EQ(rows.size(), doubles.size() + ints.size() + texts.size() + 1);
  std::size_t r = 0;
  for (double d : doubles) {
    double got = rows[r++].get_double("d");
    EXPECT_EQ(std::memcmp(&got, &d, sizeof d), 0) << d;
  }
  for (auto i : ints) EXPECT_EQ(rows[r++].get_int("i"), i);
  for (const auto& s : texts) EXPECT_EQ(rows[r++].get_string("s"), s) << s.size();
  EXPECT_TRUE(rows[r].is_null("i"));
  EXPECT_TRUE(rows[r].is_null("d"));
  EXPECT_TRUE(rows[r].is_null("s"));
  // Long text next to other long values in one row (several truncated columns at once).
  auto two = conn->query_one("SELECT s, s AS again FROM scratch WHERE s LIKE ?", {"yyy%"});
  ASSERT_TRUE(two);
  EXPECT_EQ(two->get_string("again").size(), texts[3].size());
}

TEST_P(DbLayer, AffectedRowsMeanMatchedRowsInBothDialects) {
  create_scratch_table();
  auto conn = db_->acquire();
  auto a = conn->execute("INSERT INTO scratch (i) VALUES (?)", {1});
  auto b = conn->execute("INSERT INTO scratch (i) VALUES (?)", {1});
  EXPECT_EQ(a.affected_rows, 1);
  EXPECT_GT(a.last_insert_id, 0);
  EXPECT_EQ(b.last_insert_id, a.last_insert_id + 1);
  EXPECT_EQ(conn->execute("UPDATE scratch SET i = ? WHERE id = ?", {1, a.last_insert_id}).affected_rows, 1);
  EXPECT_EQ(conn->execute("UPDATE scratch SET i = ? WHERE i = ?", {2, 1}).affected_rows, 2);
  EXPECT_EQ(conn->execute("DELETE FROM scratch WHERE id = ?", {-5}).affected_rows, 0);
}

TEST_P(DbLayer, TransactionRollsBackUnlessCommitted) {
  create_scratch_table();
  auto conn = db_->acquire();
  {
    Transaction tx(*conn);
    conn->execute("INSERT INTO scratch (i) VALUES (1)");
  }
  EXPECT_EQ(conn->query_one("SELECT COUNT(*) AS n FROM scratch")->get_int("n"), 0);
  {
    Transaction tx(*conn);
    conn->execute("INSERT INTO scratch (i) VALUES (2)");
    tx.commit();
  }
  EXPECT_EQ(conn->query_one("SELECT COUNT(*) AS n FROM scratch")->get_int("n"), 1);
}

TEST_P(DbLayer, UniqueViolationIsConflictWithoutTheValue) {
  create_scratch_table();
  auto conn = db_->acquire();
  conn->execute("INSERT INTO scratch (u) VALUES (?)", {"tok-Very-Secret"});
  try {
    conn->execute("INSERT INTO scratch (u) VALUES (?)", {"tok-Very-Secret"});
    FAIL() << "no conflict";
  } catch (const core::Conflict& e) {
    EXPECT_EQ(std::string(e.what()).find("Very-Secret"), std::string::npos) << e.what();
  }
  // The connection is still good after the error.
  EXPECT_EQ(conn->query_one("SELECT COUNT(*) FROM scratch")->get_int(0), 1);
}

TEST_P(DbLayer, OtherErrorsAreDbErrors) {
  auto conn = db_->acquire();
  EXPECT_THROW(conn->query("SELECT * FROM no_such_table WHERE x = ?", {1}), DbError);
  EXPECT_THROW(conn->query("SELECT ?", {}), DbError);
  EXPECT_EQ(conn->query_one("SELECT ? + 1", {41})->get_int(0), 42);
}

TEST_P(DbLayer, UpsertAndInsertIfAbsentHelpers) {
  auto conn = db_->acquire();
  conn->execute(mysql() ? "CREATE TABLE kv (k VARCHAR(64) PRIMARY KEY, v BIGINT NOT NULL)"
                        : "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  const auto upsert = upsert_sql(db_->dialect(), "kv", {"k", "v"}, {"k"}, {"v"});
  EXPECT_GT(conn->execute(upsert, {"a", 1}).affected_rows, 0);
  EXPECT_GT(conn->execute(upsert, {"a", 2}).affected_rows, 0);
  EXPECT_EQ(conn->query_one("SELECT v FROM kv WHERE k = ?", {"a"})->get_int(0), 2);
  const auto ignore = insert_if_absent_sql(db_->dialect(), "kv", {"k", "v"}, {"k"});
  EXPECT_EQ(conn->execute(ignore, {"b", 1}).affected_rows, 1);
  EXPECT_EQ(conn->execute(ignore, {"b", 9}).affected_rows, 0);
  EXPECT_EQ(conn->query_one("SELECT v FROM kv WHERE k = ?", {"b"})->get_int(0), 1);
}

TEST_P(DbLayer, PoolOfThreadsWritesConcurrently) {
  create_scratch_table();
  constexpr int kThreads = 6;
  constexpr int kWrites = 30;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kWrites; ++i) {
          auto conn = db_->acquire();
          Transaction tx(*conn);
          conn->execute("INSERT INTO scratch (i, s) VALUES (?, ?)", {t, "w"});
          tx.commit();
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(db_->acquire()->query_one("SELECT COUNT(*) FROM scratch")->get_int(0), kThreads * kWrites);
  EXPECT_LE(db_->open_connections(), db_->options().pool_size);
}

TEST_P(DbMigration, MigrateTwiceIsANoOp) {
  EXPECT_EQ(migration_status(*db_).front().state, MigrationState::pending);
  auto applied = migrate(*db_);
  ASSERT_FALSE(applied.empty());
  EXPECT_EQ(applied.front(), "0001_initial");
  EXPECT_TRUE(migrate(*db_).empty());
  for (const auto& s : migration_status(*db_)) EXPECT_EQ(s.state, MigrationState::applied) << s.name;
  auto conn = db_->acquire();
  for (std::string table :
       {"factories", "users", "devices", "device_parameters", "rules", "alerts", "audit_log"}) {
    EXPECT_EQ(conn->query_one("SELECT COUNT(*) FROM " + table)->get_int(0), 0) << table;
  }
  EXPECT_EQ(
      conn->query_one("SELECT COUNT(*) FROM schema_migrations WHERE applied_at IS NOT NULL")->get_int(0),
      static_cast<std::int64_t>(applied.size()));
}

TEST_P(DbMigration, ChangedMigrationIsRefusedByName) {
  std::vector<Migration> set = {{1, "0001_a", "CREATE TABLE a (x INTEGER);"}};
  migrate(*db_, set);
  set[0].sql += "\nCREATE TABLE a2 (x INTEGER);";
  try {
    migrate(*db_, set);
    FAIL() << "no error";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("0001_a was modified"), std::string::npos) << e.what();
  }
  EXPECT_EQ(migration_status(*db_, set).front().state, MigrationState::changed);
}

TEST_P(DbMigration, FailedMigrationIsRolledBackOrReportedHalfApplied) {
  std::vector<Migration> set = {
      {1, "0001_a", "CREATE TABLE a (x INTEGER);"},
      {2, "0002_b", "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);"}};
  EXPECT_THROW(migrate(*db_, set), MigrationError);
  auto conn = db_->acquire();
  if (mysql()) {
    // MySQL committed CREATE TABLE b on its own: the runner must say so, not retry blindly.
    EXPECT_EQ(migration_status(*db_, set)[1].state, MigrationState::half_applied);
    try {
      migrate(*db_, set);
      FAIL() << "half-applied migration not detected";
    } catch (const MigrationError& e) {
      EXPECT_NE(std::string(e.what()).find("0002_b (version 2) was started but never finished"),
                std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("DELETE FROM schema_migrations WHERE version = 2"),
                std::string::npos);
    }
    // The operator's repair, as the message describes it.
    conn->execute("DROP TABLE b");
    conn->execute("DELETE FROM schema_migrations WHERE version = ?", {2});
  } else {
    EXPECT_EQ(migration_status(*db_, set)[1].state, MigrationState::pending);
  }
  EXPECT_EQ(migration_status(*db_, set)[0].state, MigrationState::applied);
  set[1].sql = "CREATE TABLE b (x INTEGER);";
  EXPECT_EQ(migrate(*db_, set), std::vector<std::string>{"0002_b"});
}

TEST_P(DbMigration, ConcurrentMigrateAppliesEachVersionOnce) {
  constexpr int kRunners = 3;
  std::atomic<std::size_t> total{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < kRunners; ++r) {
    // Separate Database objects: separate connections, like separate processes.
    threads.emplace_back([&] {
      try {
        auto db = Database::open(url_);
        total += migrate(*db).size();
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(total.load(), embedded_migrations(db_->dialect()).size());
  for (const auto& s : migration_status(*db_)) EXPECT_EQ(s.state, MigrationState::applied) << s.name;
}

TEST_P(DbRepository, FactoriesCreateFindListAndConflict) {
  FactoryRepository factories(*db_);
  auto created = factories.create({core::FactoryId("vpc"), "VPC — Plant Ω", "Asia/Kolkata"});
  factories.create({core::FactoryId("acme"), "Acme"});
  auto found = factories.find(core::FactoryId("vpc"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "VPC — Plant Ω");
  EXPECT_EQ(found->timezone, "Asia/Kolkata");
  EXPECT_EQ(found->created_at_ms, created.created_at_ms);
  EXPECT_FALSE(factories.find(core::FactoryId("ghost")));
  auto all = factories.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id.str(), "acme");
  EXPECT_EQ(all[1].id.str(), "vpc");
  try {
    factories.create({core::FactoryId("vpc"), "Again"});
    FAIL();
  } catch (const core::Conflict& e) {
    EXPECT_STREQ(e.what(), "factory 'vpc' already exists");
  }
}

TEST_P(DbRepository, AuditListIsPagedNewestFirstAndPerFactory) {
  FactoryRepository factories(*db_);
  factories.create({core::FactoryId("a"), "A"});
  factories.create({core::FactoryId("b"), "B"});
  AuditRepository audit(*db_);
  for (int i = 0; i < 7; ++i) {
    audit.record(core::FactoryId("a"), {.user_id = 1,
                                        .action = "device.create",
                                        .resource_type = "device",
                                        .resource_id = "d" + std::to_string(i),
                                        .details_json = R"({"i":)" + std::to_string(i) + "}",
                                        .ip = "192.0.2.1",
                                        .request_id = "r" + std::to_string(i)});
  }
  audit.record(core::FactoryId("b"), {.action = "user.login", .resource_type = "user"});
  auto page1 = audit.list(core::FactoryId("a"), {.limit = 3, .offset = 0});
  auto page3 = audit.list(core::FactoryId("a"), {.limit = 3, .offset = 6});
  ASSERT_EQ(page1.size(), 3u);
  EXPECT_EQ(page1[0].entry.resource_id, "d6");
  EXPECT_EQ(page1[2].entry.resource_id, "d4");
  ASSERT_EQ(page3.size(), 1u);
  EXPECT_EQ(page3[0].entry.resource_id, "d0");
  EXPECT_EQ(page3[0].entry.request_id, "r0");
  EXPECT_EQ(page3[0].entry.ip, "192.0.2.1");
  EXPECT_EQ(page3[0].entry.user_id, 1);
  auto b = audit.list(core::FactoryId("b"));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].entry.action, "user.login");
  EXPECT_EQ(b[0].entry.user_id, std::nullopt);
  EXPECT_EQ(b[0].factory_id.str(), "b");
  EXPECT_EQ(audit.count(core::FactoryId("a")), 7);
  EXPECT_EQ(audit.count(core::FactoryId("b")), 1);

  // Inside the caller's transaction: rolled back with it.
  {
    auto conn = db_->acquire();
    Transaction tx(*conn);
    AuditRepository::record(*conn, core::FactoryId("b"), {.action = "x", .resource_type = "y"});
  }
  EXPECT_EQ(audit.count(core::FactoryId("b")), 1);
}

// Both factories hold rows with the same natural keys; queries scoped by factory_id must
// never return the other factory's rows, and the schema must refuse cross-factory links.
TEST_P(DbRepository, TenantScopedQueriesNeverReturnAnotherFactorysRows) {
  FactoryRepository factories(*db_);
  factories.create({core::FactoryId("north"), "North"});
  factories.create({core::FactoryId("south"), "South"});
  auto conn = db_->acquire();
  std::int64_t rule_of[2] = {0, 0};
  const std::string ids[2] = {"north", "south"};
  for (int f = 0; f < 2; ++f) {
    const std::string& id = ids[f];
    conn->execute(
        "INSERT INTO devices (factory_id, device_id, name, metadata, api_key_hash, api_key_prefix, "
        "created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        {id, "press-1", "Press of " + id, "{}", std::string(63, 'a') + std::to_string(f), "fo_" + id, 1, 1});
    conn->execute(
        "INSERT INTO device_parameters (factory_id, device_id, parameter_key, first_seen_at, last_seen_at) "
        "VALUES (?, "
        "?, ?, ?, ?)",
        {id, "press-1", "power_kw", 1, 1});
    rule_of[f] = conn->execute(
                         "INSERT INTO rules (factory_id, name, severity, definition, created_at, updated_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         {id, "High power", "critical", R"({"conditions":[]})", 1, 1})
                     .last_insert_id;
    conn->execute(
        "INSERT INTO alerts (factory_id, rule_id, device_id, rule_name, severity, status, message, "
        "started_at, "
        "open_guard, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {id, rule_of[f], "press-1", "High power", "critical", "open", "power high at " + id, 2, 1, 2});
    conn->execute(
        "INSERT INTO users (factory_id, email, role, permissions, created_at, updated_at) VALUES (?, ?, ?, "
        "?, ?, ?)",
        {id, "ops@example.com", "admin", "{}", 1, 1});
    AuditRepository::record(*conn, core::FactoryId(id), {.action = "seed", .resource_type = "factory"});
  }

  for (int f = 0; f < 2; ++f) {
    const std::string& id = ids[f];
    for (std::string table : {"devices", "device_parameters", "rules", "alerts", "users", "audit_log"}) {
      auto rows = conn->query("SELECT factory_id FROM " + table + " WHERE factory_id = ?", {id});
      ASSERT_EQ(rows.size(), 1u) << table;
      EXPECT_EQ(rows[0].get_string(0), id) << table;
    }
    auto device =
        conn->query_one("SELECT name FROM devices WHERE factory_id = ? AND device_id = ?", {id, "press-1"});
    EXPECT_EQ(device->get_string(0), "Press of " + id);
    // Looking up the other factory's rule id through this factory finds nothing.
    EXPECT_FALSE(
        conn->query_one("SELECT id FROM rules WHERE factory_id = ? AND id = ?", {id, rule_of[1 - f]}));
    auto audit = AuditRepository(*db_).list(core::FactoryId(id));
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_EQ(audit[0].factory_id.str(), id);
  }
  // An alert belongs to a factory that exists.
  EXPECT_THROW(
      conn->execute("INSERT INTO alerts (factory_id, rule_id, device_id, rule_name, severity, status, "
                    "message, started_at, open_guard, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    {"nowhere", rule_of[0], "press-9", "r", "info", "open", "x", 3, 1, 3}),
      DbError);
  // The same e-mail may exist once per factory, not twice in one.
  EXPECT_THROW(
      conn->execute("INSERT INTO users (factory_id, email, role, permissions, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    {"north", "ops@example.com", "admin", "{}", 1, 1}),
      core::Conflict);
  // Device API keys are unique across all factories.
  EXPECT_THROW(conn->execute("INSERT INTO devices (factory_id, device_id, name, metadata, api_key_hash, "
                             "api_key_prefix, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             {"south", "press-2", "P2", "{}", std::string(63, 'a') + "0", "fo_x", 1, 1}),
               core::Conflict);
}

TEST_P(DbRepository, AtMostOneActiveAlertPerRuleAndDevice) {
  FactoryRepository(*db_).create({core::FactoryId("f1"), "F1"});
  auto conn = db_->acquire();
  auto rule = conn->execute(
                      "INSERT INTO rules (factory_id, name, severity, definition, created_at, updated_at) "
                      "VALUES (?, ?, ?, ?, ?, ?)",
                      {"f1", "r", "warning", "{}", 1, 1})
                  .last_insert_id;
  const std::string insert_open =
      "INSERT INTO alerts (factory_id, rule_id, device_id, rule_name, severity, status, message, started_at, "
      "open_guard, updated_at) VALUES (?, ?, ?, 'r', ?, 'open', 'm', ?, 1, 1)";
  auto first = conn->execute(insert_open, {"f1", rule, "d1", "warning", 1}).last_insert_id;
  EXPECT_THROW(conn->execute(insert_open, {"f1", rule, "d1", "warning", 2}), core::Conflict);
  EXPECT_NO_THROW(conn->execute(insert_open, {"f1", rule, "d2", "warning", 2}));
  // Acknowledged is still active.
  conn->execute(
      "UPDATE alerts SET status = 'acknowledged', acknowledged_at = ? WHERE factory_id = ? AND id = ?",
      {3, "f1", first});
  EXPECT_THROW(conn->execute(insert_open, {"f1", rule, "d1", "warning", 4}), core::Conflict);
  // A resolved alert must clear open_guard (CHECK), and then a new one may open.
  EXPECT_THROW(
      conn->execute("UPDATE alerts SET status = 'resolved' WHERE factory_id = ? AND id = ?", {"f1", first}),
      DbError);
  conn->execute(
      "UPDATE alerts SET status = 'resolved', resolved_at = ?, open_guard = NULL WHERE factory_id = ? AND id "
      "= "
      "?",
      {5, "f1", first});
  auto second = conn->execute(insert_open, {"f1", rule, "d1", "warning", 6}).last_insert_id;
  conn->execute("UPDATE alerts SET status = 'resolved', open_guard = NULL WHERE factory_id = ? AND id = ?",
                {"f1", second});
  EXPECT_EQ(
      conn->query_one("SELECT COUNT(*) FROM alerts WHERE factory_id = ? AND status = 'resolved'", {"f1"})
          ->get_int(0),
      2);
}

TEST_P(DbRepository, SchemaRejectsBadEnumsAndInvalidJson) {
  FactoryRepository(*db_).create({core::FactoryId("f1"), "F1"});
  auto conn = db_->acquire();
  const std::string insert_user =
      "INSERT INTO users (factory_id, email, role, permissions, created_at, updated_at) VALUES (?, ?, ?, ?, "
      "?, ?)";
  EXPECT_THROW(conn->execute(insert_user, {"f1", "a@x", "root", "{}", 1, 1}), DbError);
  EXPECT_THROW(conn->execute(insert_user, {"f1", "b@x", "admin", "{not json", 1, 1}), DbError);
  EXPECT_THROW(conn->execute(insert_user, {"nowhere", "c@x", "admin", "{}", 1, 1}), DbError);
  conn->execute(insert_user, {"f1", "ok@x", "super_admin", R"({"rules":["create"]})", 1, 1});
  auto user = conn->query_one(
      "SELECT is_active, token_version, last_login_at, name FROM users WHERE factory_id = ? AND email = ?",
      {"f1", "ok@x"});
  ASSERT_TRUE(user);
  EXPECT_TRUE(user->get_bool("is_active"));
  EXPECT_EQ(user->get_int("token_version"), 0);
  EXPECT_FALSE(user->get_optional_int("last_login_at"));
  EXPECT_EQ(user->get_string("name"), "");
}

// --- MariaDB only: behaviour when the server goes away -------------------------------------

TEST(DbMariaDbOutage, PingTurnsFalseQuicklyAndThePoolRecoversAfterRestart) {
  ASSERT_TRUE(MariaDbServer::available());
  auto server = MariaDbServer::start();
  std::cout << "[ info ] private MariaDB: install + first start took " << server->startup_time().count()
            << " ms\n";
  auto db = Database::open(server->url());
  migrate(*db);
  EXPECT_TRUE(db->ping());
  { auto conn = db->acquire(); }  // leave one idle connection in the pool

  server->stop();
  auto began = std::chrono::steady_clock::now();
  EXPECT_FALSE(db->ping());
  auto took = std::chrono::steady_clock::now() - began;
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  began = std::chrono::steady_clock::now();
  EXPECT_FALSE(db->ping());
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(2500));

  // The idle connection is dead: using it reports Unavailable and it is discarded ...
  {
    auto conn = db->acquire();
    EXPECT_THROW(conn->query("SELECT 1"), core::Unavailable);
    EXPECT_TRUE(conn->broken());
  }
  EXPECT_EQ(db->open_connections(), 0u);
  // ... and new connections fail fast while the server is down.
  began = std::chrono::steady_clock::now();
  EXPECT_THROW(db->acquire(), core::Unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(2500));

  server->restart();
  std::cout << "[ info ] private MariaDB: restart took " << server->startup_time().count() << " ms\n";
  EXPECT_TRUE(db->ping());
  EXPECT_EQ(db->acquire()->query_one("SELECT COUNT(*) FROM factories")->get_int(0), 0);

  // A health connection left over from before a quick restart is replaced within one ping.
  server->restart();
  EXPECT_TRUE(db->ping());
}

TEST(DbMariaDbOutage, WrongPasswordIsUnavailableAndNeverEchoed) {
  ASSERT_TRUE(MariaDbServer::available());
  auto& server = MariaDbServer::shared();
  const std::string bad =
      "mysql://factoryops:Wrong-Pass-123@127.0.0.1:" + std::to_string(server.port()) + "/factoryops_test";
  auto db = Database::open(bad);  // lazy: no connection yet
  EXPECT_FALSE(db->ping());
  try {
    db->acquire();
    FAIL() << "connected with a wrong password";
  } catch (const core::Unavailable& e) {
    EXPECT_EQ(std::string(e.what()).find("Wrong-Pass-123"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1045"), std::string::npos) << e.what();
  }
  std::cout << "[ info ] shared MariaDB: start " << server.startup_time().count()
            << " ms incl. mariadb-install-db\n";
}

TEST(DbMariaDbOutage, UnreachablePortFailsWithinTheConnectTimeout) {
  const int port = testing::free_port();  // nothing listens here
  auto db = Database::open("mysql://u:p@127.0.0.1:" + std::to_string(port) + "/db");
  auto began = std::chrono::steady_clock::now();
  EXPECT_FALSE(db->ping());
  EXPECT_THROW(db->acquire(), core::Unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(2500));
}

}  // namespace
}  // namespace factoryops::db
