#include "db/url.hpp"

#include <charconv>

#include "core/errors.hpp"

namespace factoryops::db {
namespace {

constexpr std::string_view kField = "database_url";

[[noreturn]] void fail(const std::string& why) {
  throw core::Invalid(std::string(kField), why);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `part` names what is being decoded; the text itself is never echoed (it may be a password).
std::string percent_decode(std::string_view text, std::string_view part) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) fail(std::string(part) + " has an incomplete percent-escape");
    int hi = hex_digit(text[i + 1]);
    int lo = hex_digit(text[i + 2]);
    if (hi < 0 || lo < 0) fail(std::string(part) + " has an invalid percent-escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

DatabaseUrl parse_sqlite(std::string_view rest) {
  DatabaseUrl url;
  url.dialect = Dialect::sqlite;
  if (rest == ":memory:" || rest == "///:memory:") {
    url.path = ":memory:";
    return url;
  }
  if (!rest.starts_with("//")) {
    fail(
        "sqlite URL must look like sqlite:///relative/path.db, sqlite:////absolute/path.db or "
        "sqlite::memory:");
  }
  rest.remove_prefix(2);
  if (!rest.starts_with('/')) {
    fail("sqlite URL must not name a host; use sqlite:///relative/path.db or sqlite:////absolute/path.db");
  }
  rest.remove_prefix(1);
  if (rest.empty()) fail("sqlite URL has no file path");
  if (rest.find('?') != std::string_view::npos) fail("sqlite URL takes no query parameters");
  url.path = std::string(rest);
  return url;
}

DatabaseUrl parse_mysql(std::string_view rest) {
  DatabaseUrl url;
  url.dialect = Dialect::mysql;
  if (!rest.starts_with("//")) fail("mysql URL must look like mysql://user:password@host:port/database");
  rest.remove_prefix(2);

  // The last '@' ends the user info, so an unescaped '@' or '/' in a password still parses.
  auto at = rest.rfind('@');
  if (at == std::string_view::npos)
    fail("mysql URL has no user (expected mysql://user:password@host/database)");
  std::string_view userinfo = rest.substr(0, at);
  rest.remove_prefix(at + 1);
  auto colon = userinfo.find(':');
  url.user = percent_decode(userinfo.substr(0, colon), "user");
  if (colon != std::string_view::npos) url.password = percent_decode(userinfo.substr(colon + 1), "password");
  if (url.user.empty()) fail("mysql URL has an empty user");

  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) fail("mysql URL has no database name (expected …@host:port/database)");
  std::string_view hostport = rest.substr(0, slash);
  std::string_view database = rest.substr(slash + 1);

  std::string_view port_text;
  if (hostport.starts_with('[')) {
    auto close = hostport.find(']');
    if (close == std::string_view::npos) fail("mysql URL host has an unclosed '[' (IPv6 literal)");
    url.host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) fail("mysql URL host is followed by something other than ':port'");
      port_text = after.substr(1);
      if (port_text.empty()) fail("mysql URL port is empty");
    }
  } else {
    auto c = hostport.find(':');
    url.host = std::string(hostport.substr(0, c));
    if (c != std::string_view::npos) {
      port_text = hostport.substr(c + 1);
      if (port_text.empty()) fail("mysql URL port is empty");
    }
  }
  if (url.host.empty()) fail("mysql URL has an empty host");
  if (!port_text.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
      fail("mysql URL port '" + std::string(port_text) + "' is not a number between 1 and 65535");
    }
    url.port = port;
  }

  if (database.empty()) fail("mysql URL has no database name (expected …@host:port/database)");
  for (char c : database) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '$' || c == '-';
    if (!ok)
      fail("mysql URL database name '" + std::string(database) + "' may only hold letters, digits, _ $ -");
  }
  if (database.size() > 64) fail("mysql URL database name is longer than 64 characters");
  url.database = std::string(database);

  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), key);
    if (key == "socket") {
      if (value.empty()) fail("mysql URL parameter 'socket' is empty");
      url.socket = value;
    } else {
      fail("mysql URL parameter '" + std::string(key) + "' is not supported (known: socket)");
    }
  }
  return url;
}

}  // namespace

std::string DatabaseUrl::redacted() const {
  if (dialect == Dialect::sqlite) return path == ":memory:" ? "sqlite::memory:" : "sqlite:///" + path;
  std::string out = "mysql://" + user;
  if (!password.empty()) out += ":***";
  out += "@";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  out += ":" + std::to_string(port) + "/" + database;
  if (!socket.empty()) out += "?socket=" + socket;
  return out;
}

DatabaseUrl parse_database_url(std::string_view text) {
  if (text.empty()) fail("is empty (expected sqlite:///path.db or mysql://user:password@host:port/database)");
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    fail("has no scheme (expected sqlite:///path.db or mysql://user:password@host:port/database)");
  }
  std::string scheme(text.substr(0, colon));
  for (auto& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  std::string_view rest = text.substr(colon + 1);
  if (scheme == "sqlite" || scheme == "sqlite3") return parse_sqlite(rest);
  if (scheme == "mysql" || scheme == "mariadb") return parse_mysql(rest);
  // Only the scheme is echoed, and only when it looks like one: the rest may hold a password.
  bool plain = scheme.size() <= 16;
  for (char c : scheme) plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+');
  if (!plain)
    fail("has no recognisable scheme (expected sqlite:///path.db or mysql://user:password@host/db)");
  fail("scheme '" + scheme + "' is not supported (use sqlite or mysql/mariadb)");
}

}  // namespace factoryops::db
