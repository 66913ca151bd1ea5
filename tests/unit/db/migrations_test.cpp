#include "db/migrations.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "core/errors.hpp"

namespace factoryops::db {
namespace {

class SqliteMigrations : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "factoryops-mig-unit-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    url_ = "sqlite:///" + (dir_ / "fo.db").string();
    db_ = Database::open(url_);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<Database> db_;
};

TEST(EmbeddedMigrations, BothDialectsShipTheSameVersions) {
  auto sqlite = embedded_migrations(Dialect::sqlite);
  auto mysql = embedded_migrations(Dialect::mysql);
  ASSERT_FALSE(sqlite.empty());
  ASSERT_EQ(sqlite.size(), mysql.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(sqlite[i].version, mysql[i].version);
    EXPECT_EQ(sqlite[i].name, mysql[i].name);
  }
  EXPECT_EQ(sqlite[0].name, "0001_initial");
  EXPECT_EQ(sqlite[0].version, 1);
  EXPECT_EQ(migration_checksum(sqlite[0]).size(), 64u);
}

TEST_F(SqliteMigrations, MigrateAppliesOnceAndIsThenANoOp) {
  auto status = migration_status(*db_);
  ASSERT_FALSE(status.empty());
  EXPECT_EQ(status[0].state, MigrationState::pending);

  auto first = migrate(*db_);
  EXPECT_EQ(first.front(), "0001_initial");
  EXPECT_TRUE(migrate(*db_).empty());
  for (const auto& s : migration_status(*db_)) {
    EXPECT_EQ(s.state, MigrationState::applied) << s.name;
    EXPECT_TRUE(s.applied_at_ms.has_value());
  }
  auto conn = db_->acquire();
  for (std::string table :
       {"factories", "users", "devices", "device_parameters", "rules", "alerts", "audit_log"}) {
    EXPECT_TRUE(conn->query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", {table}))
        << table;
  }
}

TEST_F(SqliteMigrations, ChangedMigrationIsRefusedByName) {
  std::vector<Migration> set = {{1, "0001_a", "CREATE TABLE a (x INTEGER);"}};
  migrate(*db_, set);
  set[0].sql = "CREATE TABLE a (x INTEGER, y INTEGER);";
  set.push_back({2, "0002_b", "CREATE TABLE b (x INTEGER);"});
  try {
    migrate(*db_, set);
    FAIL() << "no error";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("0001_a was modified"), std::string::npos) << e.what();
  }
  // Nothing after the bad one ran.
  auto conn = db_->acquire();
  EXPECT_FALSE(conn->query_one("SELECT 1 FROM sqlite_master WHERE name = 'b'"));
  auto status = migration_status(*db_, set);
  EXPECT_EQ(status[0].state, MigrationState::changed);
  EXPECT_EQ(status[1].state, MigrationState::pending);
}

TEST_F(SqliteMigrations, FailedMigrationRollsBackCompletely) {
  std::vector<Migration> set = {
      {1, "0001_a", "CREATE TABLE a (x INTEGER);"},
      {2, "0002_bad", "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);"}};
  try {
    migrate(*db_, set);
    FAIL() << "no error";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("0002_bad failed"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("rolled back"), std::string::npos) << e.what();
  }
  auto status = migration_status(*db_, set);
  EXPECT_EQ(status[0].state, MigrationState::applied);
  EXPECT_EQ(status[1].state, MigrationState::pending);
  auto conn = db_->acquire();
  EXPECT_FALSE(conn->query_one("SELECT 1 FROM sqlite_master WHERE name = 'b'"));
  set[1].sql = "CREATE TABLE b (x INTEGER);";
  EXPECT_EQ(migrate(*db_, set), std::vector<std::string>{"0002_bad"});
}

TEST_F(SqliteMigrations, UnknownRecordedVersionIsReported) {
  std::vector<Migration> newer = {{1, "0001_a", "CREATE TABLE a (x INTEGER);"},
                                  {2, "0002_b", "CREATE TABLE b (x INTEGER);"}};
  migrate(*db_, newer);
  newer.pop_back();
  auto status = migration_status(*db_, newer);
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[1].state, MigrationState::unknown);
  EXPECT_EQ(migration_state_name(status[1].state), "unknown");
  EXPECT_TRUE(migrate(*db_, newer).empty());
}

TEST_F(SqliteMigrations, OutOfOrderMigrationListIsRejected) {
  std::vector<Migration> set = {{2, "0002_b", "SELECT 1;"}, {1, "0001_a", "SELECT 1;"}};
  EXPECT_THROW(migrate(*db_, set), MigrationError);
}

TEST_F(SqliteMigrations, ConcurrentMigrationsApplyEachVersionOnce) {
  // Separate Database objects behave like separate processes: own connections, own pool.
  std::vector<Migration> set;
  for (int v = 1; v <= 6; ++v) {
    set.push_back(
        {v, "000" + std::to_string(v) + "_t", "CREATE TABLE t" + std::to_string(v) + " (x INTEGER);"});
  }
  constexpr int kRunners = 4;
  std::vector<std::size_t> applied(kRunners);
  std::vector<std::thread> threads;
  for (int r = 0; r < kRunners; ++r) {
    threads.emplace_back([&, r] {
      try {
        auto db = Database::open(url_);
        applied[static_cast<std::size_t>(r)] = migrate(*db, set).size();
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::size_t total = 0;
  for (auto n : applied) total += n;
  EXPECT_EQ(total, set.size());
  auto conn = db_->acquire();
  EXPECT_EQ(conn->query_one("SELECT COUNT(*) FROM schema_migrations")->get_int(0), 6);
}

}  // namespace
}  // namespace factoryops::db
