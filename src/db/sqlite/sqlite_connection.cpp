#include "db/sqlite/sqlite_connection.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <unordered_map>

#include "core/errors.hpp"

namespace factoryops::db::sqlite {
namespace {

// Enough for every statement the repositories use; a runaway caller building SQL
// dynamically cannot grow the cache without bound.
constexpr std::size_t kStatementCacheLimit = 128;

// The start of a statement for error messages: SQL text only (parameters are bound
// separately and never appear), first line, at most 120 bytes.
std::string excerpt(std::string_view sql) {
  while (!sql.empty() &&
         (sql.front() == ' ' || sql.front() == '\n' || sql.front() == '\t' || sql.front() == '\r')) {
    sql.remove_prefix(1);
  }
  std::string_view s = sql.substr(0, 120);
  if (auto nl = s.find('\n'); nl != std::string_view::npos) s = s.substr(0, nl);
  return std::string(s) + (s.size() < sql.size() ? "…" : "");
}

[[noreturn]] void raise(int rc, const std::string& message, std::string_view sql) {
  const int primary = rc & 0xff;
  std::string what = "sqlite: " + message;
  if (!sql.empty()) what += " [in: " + excerpt(sql) + "]";
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    throw core::Conflict("duplicate key: " + message);
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    throw core::Unavailable(what + " (the database stayed locked by another writer)");
  }
  if (primary == SQLITE_CANTOPEN) throw core::Unavailable(what);
  throw DbError(what, rc);
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* handle) : Connection(Dialect::sqlite), db_(handle) {}

  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  ExecResult execute(std::string_view sql, const std::vector<Value>& params) override {
    Statement st(*this, sql, params);
    while (st.step()) {
    }
    return {sqlite3_changes64(db_), sqlite3_last_insert_rowid(db_)};
  }

  std::vector<Row> query(std::string_view sql, const std::vector<Value>& params) override {
    Statement st(*this, sql, params);
    std::vector<Row> rows;
    std::shared_ptr<std::vector<std::string>> columns;
    const int n = sqlite3_column_count(st.stmt);
    while (st.step()) {
      if (!columns) {
        columns = std::make_shared<std::vector<std::string>>();
        for (int i = 0; i < n; ++i) columns->emplace_back(sqlite3_column_name(st.stmt, i));
      }
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) values.push_back(column_value(st.stmt, i));
      rows.emplace_back(columns, std::move(values));
    }
    return rows;
  }

  void execute_script(std::string_view script) override {
    // SQLite's own parser finds statement boundaries, so triggers (BEGIN … END) and
    // semicolons inside strings are handled correctly.
    const char* pos = script.data();
    const char* end = script.data() + script.size();
    int number = 0;
    while (pos < end) {
      sqlite3_stmt* stmt = nullptr;
      const char* tail = nullptr;
      int rc = sqlite3_prepare_v2(db_, pos, static_cast<int>(end - pos), &stmt, &tail);
      std::string_view text(pos, static_cast<std::size_t>(tail - pos));
      if (rc != SQLITE_OK) {
        raise(rc, "statement " + std::to_string(number + 1) + " of the script: " + sqlite3_errmsg(db_), text);
      }
      pos = tail;
      if (stmt == nullptr) continue;  // whitespace or a comment
      ++number;
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      }
      if (rc != SQLITE_DONE) {
        std::string msg = sqlite3_errmsg(db_);
        sqlite3_finalize(stmt);
        raise(sqlite3_extended_errcode(db_), "statement " + std::to_string(number) + " of the script: " + msg,
              text);
      }
      sqlite3_finalize(stmt);
    }
  }

  bool ping() override {
    try {
      query("SELECT count(*) FROM sqlite_master", {});
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  bool broken() const override { return broken_; }

 protected:
  void execute_plain(std::string_view sql) override { execute(sql, {}); }

 private:
  // A cached prepared statement bound to one call's parameters; reset on scope exit so the
  // cache never holds a statement mid-execution (which would keep a read snapshot open).
  struct Statement {
    Statement(SqliteConnection& c, std::string_view sql_text, const std::vector<Value>& params)
        : conn(c), sql(sql_text), stmt(c.prepare(sql_text)) {
      const int expected = sqlite3_bind_parameter_count(stmt);
      if (expected != static_cast<int>(params.size())) {
        sqlite3_reset(stmt);
        throw DbError("statement expects " + std::to_string(expected) + " parameters, got " +
                      std::to_string(params.size()) + " [in: " + excerpt(sql) + "]");
      }
      for (std::size_t i = 0; i < params.size(); ++i) bind(static_cast<int>(i) + 1, params[i]);
    }
    ~Statement() {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    void bind(int index, const Value& v) {
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::nullptr_t>(v)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *i);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else {
        const auto& s = std::get<std::string>(v);
        rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) {
        sqlite3_reset(stmt);
        raise(rc, std::string("binding parameter ") + std::to_string(index) + ": " + sqlite3_errstr(rc), sql);
      }
    }

    // True while rows come back; throws on error.
    bool step() {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      const int code = sqlite3_extended_errcode(conn.db_);
      std::string msg = sqlite3_errmsg(conn.db_);
      conn.note_failure(code);
      raise(code, msg, sql);
    }

    SqliteConnection& conn;
    std::string_view sql;
    sqlite3_stmt* stmt;
  };

  sqlite3_stmt* prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                &stmt, &tail);
    if (rc != SQLITE_OK) raise(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_), sql);
    if (stmt == nullptr) throw DbError("empty SQL statement");
    for (const char* p = tail; p < sql.data() + sql.size(); ++p) {
      if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') {
        sqlite3_finalize(stmt);
        throw DbError("more than one statement in one call; use execute_script [in: " + excerpt(sql) + "]");
      }
    }
    if (cache_.size() >= kStatementCacheLimit) {
      for (auto& [text, cached] : cache_) sqlite3_finalize(cached);
      cache_.clear();
    }
    cache_.emplace(std::move(key), stmt);
    return stmt;
  }

  static Value column_value(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER: return std::int64_t{sqlite3_column_int64(stmt, i)};
      case SQLITE_FLOAT: return sqlite3_column_double(stmt, i);
      case SQLITE_TEXT: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
      }
      case SQLITE_BLOB: {
        const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt, i));
        const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
        return blob == nullptr ? std::string() : std::string(blob, size);
      }
      default: return nullptr;
    }
  }

  void note_failure(int code) {
    const int primary = code & 0xff;
    // The file went away or is damaged: drop this handle so the pool opens a fresh one.
    if (primary == SQLITE_IOERR || primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ||
        primary == SQLITE_CANTOPEN) {
      broken_ = true;
    }
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  bool broken_ = false;
};

void apply_pragma(sqlite3* db, const std::string& pragma) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, pragma.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    sqlite3_close_v2(db);
    raise(rc, "configuring the connection (" + pragma + "): " + msg, {});
  }
}

}  // namespace

std::unique_ptr<Connection> open_connection(const DatabaseUrl& url, const DatabaseOptions& options) {
  if (!url.in_memory()) {
    std::filesystem::path parent = std::filesystem::path(url.path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw core::Unavailable("sqlite: cannot create directory " + parent.string() + ": " + ec.message());
    }
  }
  sqlite3* db = nullptr;
  // NOMUTEX: the pool hands a connection to one thread at a time, so SQLite's own
  // per-connection mutex would only add cost.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(url.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    throw core::Unavailable("sqlite: cannot open " + url.path + ": " + msg);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  // WAL lets readers run beside the one writer; NORMAL sync is durable across process
  // crashes (only an OS crash can lose the last transactions), which is WAL's usual pairing.
  if (!url.in_memory()) apply_pragma(db, "PRAGMA journal_mode = WAL");
  apply_pragma(db, "PRAGMA foreign_keys = ON");
  apply_pragma(db, "PRAGMA synchronous = NORMAL");
  return std::make_unique<SqliteConnection>(db);
}

}  // namespace factoryops::db::sqlite
