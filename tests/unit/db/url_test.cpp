#include "db/url.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"

namespace factoryops::db {
namespace {

std::string error_of(std::string_view url) {
  try {
    parse_database_url(url);
  } catch (const core::Invalid& e) {
    EXPECT_EQ(e.field(), "database_url");
    return e.what();
  }
  ADD_FAILURE() << "no error for " << url;
  return {};
}

TEST(DatabaseUrl, SqliteRelativeAbsoluteAndMemory) {
  auto rel = parse_database_url("sqlite:///var/factoryops.db");
  EXPECT_EQ(rel.dialect, Dialect::sqlite);
  EXPECT_EQ(rel.path, "var/factoryops.db");
  EXPECT_FALSE(rel.in_memory());

  auto abs = parse_database_url("sqlite:////srv/data/fo.db");
  EXPECT_EQ(abs.path, "/srv/data/fo.db");
  EXPECT_EQ(abs.redacted(), "sqlite:////srv/data/fo.db");

  EXPECT_TRUE(parse_database_url("sqlite::memory:").in_memory());
  EXPECT_TRUE(parse_database_url("sqlite:///:memory:").in_memory());
  EXPECT_EQ(parse_database_url("SQLITE::memory:").redacted(), "sqlite::memory:");
}

TEST(DatabaseUrl, MysqlFullForm) {
  auto u = parse_database_url("mysql://fo:s3cret@db.internal:3307/factoryops");
  EXPECT_EQ(u.dialect, Dialect::mysql);
  EXPECT_EQ(u.user, "fo");
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.host, "db.internal");
  EXPECT_EQ(u.port, 3307);
  EXPECT_EQ(u.database, "factoryops");
  EXPECT_EQ(u.redacted(), "mysql://fo:***@db.internal:3307/factoryops");
}

TEST(DatabaseUrl, MariadbSchemeDefaultsAndEscapes) {
  auto u = parse_database_url("mariadb://app:p%40ss%2Fw:rd@localhost/fo_db?socket=/run/mysqld/mysqld.sock");
  EXPECT_EQ(u.dialect, Dialect::mysql);
  EXPECT_EQ(u.password, "p@ss/w:rd");
  EXPECT_EQ(u.port, 3306);
  EXPECT_EQ(u.socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(u.redacted().find("p@ss"), std::string::npos);
}

TEST(DatabaseUrl, UnescapedAtInPasswordAndIpv6Host) {
  auto u = parse_database_url("mysql://app:a@b@[::1]:3308/db");
  EXPECT_EQ(u.password, "a@b");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 3308);
  EXPECT_EQ(u.redacted(), "mysql://app:***@[::1]:3308/db");
}

TEST(DatabaseUrl, NoPasswordRedactsToPlainUser) {
  EXPECT_EQ(parse_database_url("mysql://app@h/db").redacted(), "mysql://app@h:3306/db");
}

TEST(DatabaseUrl, ErrorsNameThePartThatIsWrong) {
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("postgres://u:p@h/db").find("scheme 'postgres'"), std::string::npos);
  EXPECT_NE(error_of("just-a-path.db").find("scheme"), std::string::npos);
  EXPECT_NE(error_of("mysql://u:p@h:99999/db").find("port '99999'"), std::string::npos);
  EXPECT_NE(error_of("mysql://u:p@h:abc/db").find("port"), std::string::npos);
  EXPECT_NE(error_of("mysql://u:p@h:/db").find("port is empty"), std::string::npos);
  EXPECT_NE(error_of("mysql://u:p@h").find("database name"), std::string::npos);
  EXPECT_NE(error_of("mysql://u:p@h/").find("database name"), std::string::npos);
  EXPECT_NE(error_of("mysql://u:p@h/bad;name").find("database name"), std::string::npos);
  EXPECT_NE(error_of("mysql://h/db").find("no user"), std::string::npos);
  EXPECT_NE(error_of("mysql://:p@h/db").find("empty user"), std::string::npos);
  EXPECT_NE(error_of("mysql://u:p@/db").find("empty host"), std::string::npos);
  EXPECT_NE(error_of("mysql://u:p@h/db?sslmode=on").find("parameter 'sslmode'"), std::string::npos);
  EXPECT_NE(error_of("mysql:u:p@h/db").find("mysql://"), std::string::npos);
  EXPECT_NE(error_of("sqlite://host/x.db").find("must not name a host"), std::string::npos);
  EXPECT_NE(error_of("sqlite:///").find("no file path"), std::string::npos);
  EXPECT_NE(error_of("sqlite:x.db").find("sqlite:///"), std::string::npos);
}

TEST(DatabaseUrl, ErrorsNeverEchoThePassword) {
  for (std::string url :
       {"mysql://u:Hunter2Secret@h:0/db", "mysql://u:Hunter2Secret@h/", "mysql://u:Hunter2%zzSecret@h/db",
        "mysql://u:Hunter2Secret@h/db?x=1", "mysql://u:Hunter2Secret@[::1/db"}) {
    std::string message = error_of(url);
    EXPECT_EQ(message.find("Hunter2"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace factoryops::db
