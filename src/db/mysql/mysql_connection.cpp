#include "db/mysql/mysql_connection.hpp"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "core/errors.hpp"
#include "db/sql_script.hpp"

namespace factoryops::db::mysql {
namespace {

// Strict mode turns silent truncation and bad values into errors, as SQLite STRICT tables
// do; UTC keeps NOW()-style expressions consistent (we store epoch milliseconds anyway).
constexpr const char* kSessionSetup =
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', "
    "time_zone = '+00:00'";

// Initial buffer for a text column; longer values are fetched again at their full length.
constexpr unsigned long kInitialTextBuffer = 256;

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

bool is_connection_error(unsigned code) {
  switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_COMMANDS_OUT_OF_SYNC:
    case ER_CON_COUNT_ERROR:
    case ER_SERVER_SHUTDOWN:
    case ER_CONNECTION_KILLED:
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT: the server closed an idle connection
      return true;
    default: return false;
  }
}

bool is_duplicate_key(unsigned code) {
  return code == ER_DUP_ENTRY || code == ER_DUP_ENTRY_WITH_KEY_NAME || code == ER_DUP_KEY;
}

// Server messages quote offending values ("Duplicate entry 'x' for key …", "Incorrect
// integer value: 'x' for column …"). Parameters can hold secrets, so quoted text after
// "entry " or "value: " is dropped from anything we rethrow.
std::string scrub_values(std::string message) {
  for (std::string_view marker : {"entry '", "value: '"}) {
    std::size_t from = 0;
    while ((from = message.find(marker, from)) != std::string::npos) {
      const std::size_t open = from + marker.size() - 1;
      std::size_t close = message.find("' ", open + 1);
      if (close == std::string::npos) close = message.rfind('\'');
      if (close == std::string::npos || close <= open) break;
      message.replace(open, close - open + 1, "(value hidden)");
      from = open;
    }
  }
  return message;
}

class MysqlConnection final : public Connection {
 public:
  explicit MysqlConnection(MYSQL* handle) : Connection(Dialect::mysql), db_(handle) {}
  ~MysqlConnection() override { mysql_close(db_); }

  ExecResult execute(std::string_view sql, const std::vector<Value>& params) override {
    Statement st(*this, sql, params);
    st.run(nullptr);
    return {static_cast<std::int64_t>(mysql_stmt_affected_rows(st.stmt)),
            static_cast<std::int64_t>(mysql_stmt_insert_id(st.stmt))};
  }

  std::vector<Row> query(std::string_view sql, const std::vector<Value>& params) override {
    Statement st(*this, sql, params);
    std::vector<Row> rows;
    st.run(&rows);
    return rows;
  }

  void execute_script(std::string_view script) override {
    const auto statements = split_sql_script(script);
    for (std::size_t i = 0; i < statements.size(); ++i) {
      const std::string& sql = statements[i];
      if (mysql_real_query(db_, sql.data(), sql.size()) != 0) {
        fail(mysql_errno(db_), mysql_error(db_), sql,
             "statement " + std::to_string(i + 1) + " of the script: ");
      }
      // Drain any result set so the connection is ready for the next statement.
      if (MYSQL_RES* res = mysql_store_result(db_)) mysql_free_result(res);
      if (mysql_errno(db_) != 0) fail(mysql_errno(db_), mysql_error(db_), sql, {});
    }
  }

  bool ping() override {
    if (broken_) return false;
    if (mysql_ping(db_) == 0) return true;
    broken_ = true;
    return false;
  }

  bool broken() const override { return broken_; }

 protected:
  void execute_plain(std::string_view sql) override {
    if (mysql_real_query(db_, sql.data(), sql.size()) != 0) fail(mysql_errno(db_), mysql_error(db_), sql, {});
  }

 private:
  [[noreturn]] void fail(unsigned code, const char* driver_message, std::string_view sql,
                         const std::string& prefix) {
    std::string message = scrub_values(driver_message != nullptr ? driver_message : "unknown error");
    if (is_connection_error(code)) {
      broken_ = true;
      throw core::Unavailable("mysql: connection lost (" + std::to_string(code) + "): " + message);
    }
    if (is_duplicate_key(code)) throw core::Conflict("duplicate key: " + message);
    std::string what = "mysql error " + std::to_string(code) + ": " + prefix + message;
    if (!sql.empty()) what += " [in: " + excerpt(sql) + "]";
    throw DbError(what, static_cast<int>(code));
  }

  // One prepared statement, closed on scope exit. Parameter storage lives here because
  // MYSQL_BIND points into it until execution finishes.
  struct Statement {
    Statement(MysqlConnection& c, std::string_view sql_text, const std::vector<Value>& params)
        : conn(c), sql(sql_text), owner(mysql_stmt_init(c.db_)), stmt(owner.get()) {
      if (stmt == nullptr) c.fail(mysql_errno(c.db_), mysql_error(c.db_), sql, {});
      if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0) stmt_fail();
      const unsigned long expected = mysql_stmt_param_count(stmt);
      if (expected != params.size()) {
        throw DbError("statement expects " + std::to_string(expected) + " parameters, got " +
                      std::to_string(params.size()) + " [in: " + excerpt(sql) + "]");
      }
      if (params.empty()) return;
      binds.resize(params.size());
      ints.resize(params.size());
      doubles.resize(params.size());
      lengths.resize(params.size());
      for (std::size_t i = 0; i < params.size(); ++i) {
        MYSQL_BIND& b = binds[i];
        std::memset(&b, 0, sizeof b);
        const Value& v = params[i];
        if (std::holds_alternative<std::nullptr_t>(v)) {
          b.buffer_type = MYSQL_TYPE_NULL;
        } else if (const auto* iv = std::get_if<std::int64_t>(&v)) {
          ints[i] = *iv;
          b.buffer_type = MYSQL_TYPE_LONGLONG;
          b.buffer = &ints[i];
        } else if (const auto* dv = std::get_if<double>(&v)) {
          doubles[i] = *dv;
          b.buffer_type = MYSQL_TYPE_DOUBLE;
          b.buffer = &doubles[i];
        } else {
          const auto& s = std::get<std::string>(v);
          lengths[i] = s.size();
          b.buffer_type = MYSQL_TYPE_STRING;
          b.buffer = const_cast<char*>(s.data());
          b.buffer_length = s.size();
          b.length = &lengths[i];
        }
      }
      if (mysql_stmt_bind_param(stmt, binds.data()) != 0) stmt_fail();
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    [[noreturn]] void stmt_fail() {
      const unsigned code = mysql_stmt_errno(stmt);
      std::string message = mysql_stmt_error(stmt);
      conn.fail(code, message.c_str(), sql, {});
    }

    // Executes; when `rows` is given, collects the result set into it (otherwise any
    // result set is read and dropped).
    void run(std::vector<Row>* rows) {
      if (mysql_stmt_execute(stmt) != 0) stmt_fail();
      MYSQL_RES* meta = mysql_stmt_result_metadata(stmt);
      if (meta == nullptr) return;
      struct MetaGuard {
        MYSQL_RES* res;
        ~MetaGuard() { mysql_free_result(res); }
      } guard{meta};

      const unsigned n = mysql_num_fields(meta);
      MYSQL_FIELD* fields = mysql_fetch_fields(meta);
      auto columns = std::make_shared<std::vector<std::string>>();
      std::vector<MYSQL_BIND> out(n);
      std::vector<std::int64_t> out_ints(n);
      std::vector<double> out_doubles(n);
      std::vector<std::vector<char>> out_text(n);
      std::vector<unsigned long> out_lengths(n);
      std::vector<my_bool> out_null(n);
      for (unsigned i = 0; i < n; ++i) {
        columns->emplace_back(fields[i].name, fields[i].name_length);
        MYSQL_BIND& b = out[i];
        std::memset(&b, 0, sizeof b);
        b.is_null = &out_null[i];
        b.length = &out_lengths[i];
        switch (fields[i].type) {
          case MYSQL_TYPE_TINY:
          case MYSQL_TYPE_SHORT:
          case MYSQL_TYPE_INT24:
          case MYSQL_TYPE_LONG:
          case MYSQL_TYPE_LONGLONG:
          case MYSQL_TYPE_YEAR:
            b.buffer_type = MYSQL_TYPE_LONGLONG;
            b.buffer = &out_ints[i];
            b.is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
            break;
          case MYSQL_TYPE_FLOAT:
          case MYSQL_TYPE_DOUBLE:
            b.buffer_type = MYSQL_TYPE_DOUBLE;
            b.buffer = &out_doubles[i];
            break;
          default:
            // Text, JSON, DECIMAL, dates, blobs: fetched as bytes.
            out_text[i].resize(kInitialTextBuffer);
            b.buffer_type = MYSQL_TYPE_STRING;
            b.buffer = out_text[i].data();
            b.buffer_length = kInitialTextBuffer;
            break;
        }
      }
      if (mysql_stmt_bind_result(stmt, out.data()) != 0) stmt_fail();
      // Buffer the whole result client-side so the connection is free again right away.
      if (mysql_stmt_store_result(stmt) != 0) stmt_fail();

      while (true) {
        const int rc = mysql_stmt_fetch(stmt);
        if (rc == MYSQL_NO_DATA) break;
        if (rc == 1) stmt_fail();
        if (rows == nullptr) continue;
        std::vector<Value> values;
        values.reserve(n);
        for (unsigned i = 0; i < n; ++i) {
          if (out_null[i]) {
            values.emplace_back(nullptr);
          } else if (out[i].buffer_type == MYSQL_TYPE_LONGLONG) {
            values.emplace_back(out_ints[i]);
          } else if (out[i].buffer_type == MYSQL_TYPE_DOUBLE) {
            values.emplace_back(out_doubles[i]);
          } else if (out_lengths[i] <= out[i].buffer_length) {
            values.emplace_back(std::string(out_text[i].data(), out_lengths[i]));
          } else {
            // Truncated (rc == MYSQL_DATA_TRUNCATED): fetch this column again at full size.
            std::string full(out_lengths[i], '\0');
            MYSQL_BIND again;
            std::memset(&again, 0, sizeof again);
            unsigned long got = 0;
            again.buffer_type = MYSQL_TYPE_STRING;
            again.buffer = full.data();
            again.buffer_length = out_lengths[i];
            again.length = &got;
            if (mysql_stmt_fetch_column(stmt, &again, i, 0) != 0) stmt_fail();
            full.resize(std::min<unsigned long>(got, out_lengths[i]));
            values.emplace_back(std::move(full));
          }
        }
        rows->emplace_back(columns, std::move(values));
      }
    }

    struct Closer {
      void operator()(MYSQL_STMT* s) const { mysql_stmt_close(s); }
    };

    MysqlConnection& conn;
    std::string_view sql;
    std::unique_ptr<MYSQL_STMT, Closer> owner;  // closes the statement even if the constructor throws
    MYSQL_STMT* stmt;
    std::vector<MYSQL_BIND> binds;
    std::vector<std::int64_t> ints;
    std::vector<double> doubles;
    std::vector<unsigned long> lengths;
  };

  MYSQL* db_;
  bool broken_ = false;
};

unsigned seconds_at_least_one(std::chrono::milliseconds ms) {
  return static_cast<unsigned>(std::max<std::int64_t>(1, (ms.count() + 999) / 1000));
}

}  // namespace

std::unique_ptr<Connection> open_connection(const DatabaseUrl& url, const DatabaseOptions& options) {
  // mysql_library_init is not thread-safe; mysql_init would call it implicitly on first use,
  // possibly from two pool threads at once.
  static std::once_flag library_once;
  std::call_once(library_once, [] { mysql_library_init(0, nullptr, nullptr); });

  MYSQL* db = mysql_init(nullptr);
  if (db == nullptr) throw core::Unavailable("mysql: out of memory creating a connection");
  const unsigned connect_timeout = seconds_at_least_one(options.connect_timeout);
  const unsigned read_timeout = seconds_at_least_one(options.read_timeout);
  const unsigned write_timeout = seconds_at_least_one(options.write_timeout);
  mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
  mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &write_timeout);
  // No silent reconnects: a reconnect would lose session state (open transaction, locks)
  // without the caller knowing. A lost connection is reported and the pool replaces it.
  my_bool reconnect = 0;
  mysql_options(db, MYSQL_OPT_RECONNECT, &reconnect);
  mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  mysql_options(db, MYSQL_INIT_COMMAND, kSessionSetup);
  // "localhost" would otherwise mean the default Unix socket; the URL says TCP unless it
  // names a socket.
  unsigned protocol = url.socket.empty() ? MYSQL_PROTOCOL_TCP : MYSQL_PROTOCOL_SOCKET;
  mysql_options(db, MYSQL_OPT_PROTOCOL, &protocol);

  // CLIENT_FOUND_ROWS: UPDATE reports matched rows, as SQLite does, so "0 rows" reliably
  // means "not found" in both dialects.
  if (mysql_real_connect(db, url.host.c_str(), url.user.c_str(), url.password.c_str(), url.database.c_str(),
                         static_cast<unsigned>(url.port), url.socket.empty() ? nullptr : url.socket.c_str(),
                         CLIENT_FOUND_ROWS) == nullptr) {
    std::string message = scrub_values(mysql_error(db));
    const unsigned code = mysql_errno(db);
    mysql_close(db);
    throw core::Unavailable("mysql: cannot connect to " + url.redacted() + " (" + std::to_string(code) +
                            "): " + message);
  }
  return std::make_unique<MysqlConnection>(db);
}

}  // namespace factoryops::db::mysql
