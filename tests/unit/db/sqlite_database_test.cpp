// The SQL layer on SQLite files in temporary directories (no servers). The same behaviours
// run against MariaDB in tests/integration/db_repository_test.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numbers>
#include <thread>

#include "core/errors.hpp"
#include "db/database.hpp"
#include "db/dialect.hpp"

namespace factoryops::db {
namespace {

class TempDirectory {
 public:
  TempDirectory() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "factoryops-db-unit-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDirectory() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class SqliteDatabase : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = Database::open("sqlite:///" + (dir_.path() / "nested" / "dir" / "fo.db").string(), options());
    auto conn = db_->acquire();
    conn->execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, d REAL, s TEXT, b BLOB, u TEXT UNIQUE)");
  }
  virtual DatabaseOptions options() { return {}; }

  TempDirectory dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(SqliteDatabase, OpensWithWalForeignKeysAndBusyTimeout) {
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "nested" / "dir" / "fo.db"));
  EXPECT_EQ(db_->dialect(), Dialect::sqlite);
  EXPECT_EQ(db_->backend_name(), "sqlite");
  auto conn = db_->acquire();
  EXPECT_EQ(conn->query_one("PRAGMA journal_mode")->get_string(0), "wal");
  EXPECT_EQ(conn->query_one("PRAGMA foreign_keys")->get_int(0), 1);
  EXPECT_EQ(conn->query_one("PRAGMA busy_timeout")->get_int(0), 5000);
  EXPECT_EQ(conn->query_one("PRAGMA synchronous")->get_int(0), 1);  // NORMAL
}

TEST_F(SqliteDatabase, ValuesRoundTripExactly) {
  // -0.0 is left out on purpose: SQLite stores whole REAL values as integers, so it reads
  // back as +0.0 (equal by ==, not bit-exact).
  auto conn = db_->acquire();
  const double doubles[] = {
      0.1, -2.5e-300, 1.7976931348623157e308, 4.9406564584124654e-324, std::numbers::pi, 1e15 + 0.5};
  const std::int64_t ints[] = {std::numeric_limits<std::int64_t>::min(),
                               std::numeric_limits<std::int64_t>::max(), 0, -1};
  std::string utf8 = "Δ µ 温度 🏭 \"quoted\" 'single' \\ back";
  std::string with_nul("a\0b\0c", 5);
  std::string long_text(70 * 1024 + 3, 'x');
  for (std::size_t i = 0; i < long_text.size(); i += 997) long_text[i] = static_cast<char>('a' + i % 26);

  std::int64_t id = 0;
  for (double d : doubles) conn->execute("INSERT INTO t (id, d) VALUES (?, ?)", {++id, d});
  for (std::int64_t v : ints) conn->execute("INSERT INTO t (id, i) VALUES (?, ?)", {++id, v});
  conn->execute("INSERT INTO t (id, s) VALUES (?, ?)", {++id, utf8});
  conn->execute("INSERT INTO t (id, s) VALUES (?, ?)", {++id, with_nul});
  conn->execute("INSERT INTO t (id, s) VALUES (?, ?)", {++id, long_text});
  conn->execute("INSERT INTO t (id, s, i, d) VALUES (?, ?, ?, ?)",
                {++id, nullptr, std::nullopt, std::nullopt});

  auto rows = conn->query("SELECT id, i, d, s FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(id));
  std::size_t r = 0;
  for (double d : doubles) {
    double got = rows[r++].get_double("d");
    EXPECT_EQ(std::memcmp(&got, &d, sizeof d), 0) << d;  // bit-exact
  }
  for (std::int64_t v : ints) EXPECT_EQ(rows[r++].get_int("i"), v);
  EXPECT_EQ(rows[r++].get_string("s"), utf8);
  EXPECT_EQ(rows[r++].get_string("s"), with_nul);
  EXPECT_EQ(rows[r++].get_string("s"), long_text);
  const Row& nulls = rows[r];
  EXPECT_TRUE(nulls.is_null("s"));
  EXPECT_TRUE(nulls.is_null("i"));
  EXPECT_TRUE(nulls.is_null("d"));
}

TEST_F(SqliteDatabase, ExecuteReportsAffectedRowsAndLastInsertId) {
  auto conn = db_->acquire();
  auto first = conn->execute("INSERT INTO t (s) VALUES (?)", {"a"});
  auto second = conn->execute("INSERT INTO t (s) VALUES (?)", {"b"});
  EXPECT_EQ(first.affected_rows, 1);
  EXPECT_EQ(second.last_insert_id, first.last_insert_id + 1);
  EXPECT_EQ(conn->execute("UPDATE t SET i = 1").affected_rows, 2);
  // Matched rows, even when nothing changes (MySQL connections use CLIENT_FOUND_ROWS to agree).
  EXPECT_EQ(conn->execute("UPDATE t SET i = 1 WHERE s = ?", {"a"}).affected_rows, 1);
  EXPECT_EQ(conn->execute("DELETE FROM t WHERE s = ?", {"zzz"}).affected_rows, 0);
  EXPECT_FALSE(conn->query_one("SELECT s FROM t WHERE s = ?", {"zzz"}).has_value());
}

TEST_F(SqliteDatabase, TransactionRollsBackUnlessCommitted) {
  auto conn = db_->acquire();
  {
    Transaction tx(*conn);
    conn->execute("INSERT INTO t (s) VALUES ('rolled back')");
  }
  EXPECT_FALSE(conn->in_transaction());
  EXPECT_EQ(conn->query_one("SELECT COUNT(*) FROM t")->get_int(0), 0);
  try {
    Transaction tx(*conn);
    conn->execute("INSERT INTO t (s) VALUES ('also rolled back')");
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(conn->query_one("SELECT COUNT(*) FROM t")->get_int(0), 0);
  {
    Transaction tx(*conn);
    conn->execute("INSERT INTO t (s) VALUES ('kept')");
    tx.commit();
  }
  EXPECT_EQ(conn->query_one("SELECT COUNT(*) FROM t")->get_int(0), 1);
}

TEST_F(SqliteDatabase, ConnectionReturnedWithOpenTransactionIsRolledBack) {
  {
    auto conn = db_->acquire();
    conn->begin();
    conn->execute("INSERT INTO t (s) VALUES ('abandoned')");
  }
  auto conn = db_->acquire();
  EXPECT_FALSE(conn->in_transaction());
  EXPECT_EQ(conn->query_one("SELECT COUNT(*) FROM t")->get_int(0), 0);
}

TEST_F(SqliteDatabase, UniqueViolationIsConflictWithoutTheValue) {
  auto conn = db_->acquire();
  conn->execute("INSERT INTO t (u) VALUES (?)", {"secret-value-123"});
  try {
    conn->execute("INSERT INTO t (u) VALUES (?)", {"secret-value-123"});
    FAIL() << "no conflict";
  } catch (const core::Conflict& e) {
    EXPECT_EQ(std::string(e.what()).find("secret-value-123"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("t.u"), std::string::npos) << e.what();
  }
  EXPECT_THROW(conn->execute("INSERT INTO t (id) VALUES (1), (1)"), core::Conflict);
}

TEST_F(SqliteDatabase, OtherErrorsAreDbErrorsNamingTheStatement) {
  auto conn = db_->acquire();
  try {
    conn->execute("INSERT INTO missing_table (x) VALUES (?)", {"password=hunter2"});
    FAIL();
  } catch (const DbError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("no such table: missing_table"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }
  EXPECT_THROW(conn->execute("INSERT INTO t (s) VALUES (?)", {}), DbError);          // too few
  EXPECT_THROW(conn->execute("INSERT INTO t (s) VALUES (?)", {"a", "b"}), DbError);  // too many
  EXPECT_THROW(conn->execute("SELECT 1; SELECT 2"), DbError);                        // use execute_script
  // The connection stays usable after errors.
  EXPECT_EQ(conn->query_one("SELECT 1 + ?", {1})->get_int(0), 2);
}

TEST_F(SqliteDatabase, ScriptsRunStatementByStatementAndReportTheFailingOne) {
  auto conn = db_->acquire();
  conn->execute_script("CREATE TABLE s1 (x TEXT); INSERT INTO s1 VALUES ('a;b'); -- comment\n");
  EXPECT_EQ(conn->query_one("SELECT x FROM s1")->get_string(0), "a;b");
  try {
    conn->execute_script("INSERT INTO s1 VALUES ('ok');\nINSERT INTO nowhere VALUES (1);");
    FAIL();
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("statement 2"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteDatabase, ForeignKeysAreEnforced) {
  auto conn = db_->acquire();
  conn->execute_script(
      "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
      "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id));");
  EXPECT_THROW(conn->execute("INSERT INTO child (parent_id) VALUES (42)"), DbError);
}

TEST_F(SqliteDatabase, UpsertAndInsertIfAbsentHelpers) {
  auto conn = db_->acquire();
  conn->execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  const auto upsert = upsert_sql(db_->dialect(), "kv", {"k", "v"}, {"k"}, {"v"});
  EXPECT_GT(conn->execute(upsert, {"a", 1}).affected_rows, 0);
  EXPECT_GT(conn->execute(upsert, {"a", 2}).affected_rows, 0);
  EXPECT_EQ(conn->query_one("SELECT v FROM kv WHERE k = 'a'")->get_int(0), 2);
  const auto ignore = insert_if_absent_sql(db_->dialect(), "kv", {"k", "v"}, {"k"});
  EXPECT_EQ(conn->execute(ignore, {"b", 1}).affected_rows, 1);
  EXPECT_EQ(conn->execute(ignore, {"b", 5}).affected_rows, 0);
  EXPECT_EQ(conn->query_one("SELECT v FROM kv WHERE k = 'b'")->get_int(0), 1);
}

TEST_F(SqliteDatabase, PoolSerialisesWritersFromManyThreads) {
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kWritesPerThread; ++i) {
          auto conn = db_->acquire();
          if (i % 2 == 0) {
            conn->execute("INSERT INTO t (i, s) VALUES (?, ?)", {t, "plain"});
          } else {
            Transaction tx(*conn);
            auto n = conn->query_one("SELECT COUNT(*) FROM t WHERE i = ?", {t})->get_int(0);
            conn->execute("INSERT INTO t (i, s, d) VALUES (?, ?, ?)", {t, "tx", static_cast<double>(n)});
            tx.commit();
          }
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto conn = db_->acquire();
  EXPECT_EQ(conn->query_one("SELECT COUNT(*) FROM t")->get_int(0), kThreads * kWritesPerThread);
  EXPECT_LE(db_->open_connections(), db_->options().pool_size);
}

class SmallPool : public SqliteDatabase {
 protected:
  DatabaseOptions options() override {
    DatabaseOptions o;
    o.pool_size = 2;
    o.acquire_timeout = std::chrono::milliseconds(200);
    return o;
  }
};

TEST_F(SmallPool, AcquireTimesOutAsUnavailableWhenAllConnectionsAreBusy) {
  auto a = db_->acquire();
  auto b = db_->acquire();
  const auto began = std::chrono::steady_clock::now();
  EXPECT_THROW(db_->acquire(), core::Unavailable);
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(190));
  EXPECT_EQ(db_->open_connections(), 2u);
}

TEST_F(SmallPool, AcquireWaitsForAReleasedConnection) {
  auto a = std::make_unique<PooledConnection>(db_->acquire());
  auto b = db_->acquire();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    a.reset();
  });
  EXPECT_NO_THROW(db_->acquire(std::chrono::seconds(5)));
  releaser.join();
}

TEST(SqliteOpen, InMemoryDatabaseUsesOneConnection) {
  DatabaseOptions o;
  o.pool_size = 4;
  auto db = Database::open("sqlite::memory:", o);
  EXPECT_EQ(db->options().pool_size, 1u);
  {
    auto conn = db->acquire();
    conn->execute("CREATE TABLE m (x INTEGER)");
    conn->execute("INSERT INTO m VALUES (1)");
  }
  EXPECT_EQ(db->acquire()->query_one("SELECT x FROM m")->get_int(0), 1);
  EXPECT_TRUE(db->ping());
  EXPECT_EQ(db->redacted_url(), "sqlite::memory:");
}

TEST(SqliteOpen, UnopenablePathIsUnavailable) {
  EXPECT_THROW(Database::open("sqlite:////proc/self/not-a-dir/fo.db"), core::Unavailable);
}

TEST(SqliteOpen, BadUrlIsInvalid) {
  EXPECT_THROW(Database::open("sqlite://host/fo.db"), core::Invalid);
  DatabaseOptions o;
  o.pool_size = 0;
  EXPECT_THROW(Database::open("sqlite::memory:", o), core::Invalid);
}

}  // namespace
}  // namespace factoryops::db
