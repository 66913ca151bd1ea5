#include "db/value.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "db/dialect.hpp"
#include "db/sql_script.hpp"

namespace factoryops::db {
namespace {

Row make_row() {
  auto columns = std::make_shared<std::vector<std::string>>(
      std::vector<std::string>{"id", "ratio", "name", "missing", "flag"});
  return Row(columns, {std::int64_t{7}, 0.5, std::string("press"), nullptr, std::int64_t{1}});
}

TEST(Param, ConvertsCommonTypes) {
  EXPECT_EQ(std::get<std::int64_t>(Param(42).value()), 42);
  EXPECT_EQ(std::get<std::int64_t>(Param(std::uint16_t{9}).value()), 9);
  EXPECT_EQ(std::get<std::int64_t>(Param(true).value()), 1);
  EXPECT_EQ(std::get<std::int64_t>(Param(false).value()), 0);
  EXPECT_EQ(std::get<double>(Param(2.5).value()), 2.5);
  EXPECT_EQ(std::get<std::string>(Param("abc").value()), "abc");
  EXPECT_EQ(std::get<std::string>(Param(std::string_view("sv")).value()), "sv");
  EXPECT_TRUE(std::holds_alternative<std::nullptr_t>(Param(nullptr).value()));
  EXPECT_TRUE(std::holds_alternative<std::nullptr_t>(Param(std::nullopt).value()));
  EXPECT_TRUE(std::holds_alternative<std::nullptr_t>(Param(std::optional<std::string>()).value()));
  EXPECT_EQ(std::get<std::int64_t>(Param(std::optional<int>(5)).value()), 5);
}

TEST(Row, TypedGettersByIndexAndName) {
  Row row = make_row();
  EXPECT_EQ(row.get_int(0), 7);
  EXPECT_EQ(row.get_int("id"), 7);
  EXPECT_EQ(row.get_double("ratio"), 0.5);
  EXPECT_EQ(row.get_double("id"), 7.0);  // integers widen to double
  EXPECT_EQ(row.get_string("name"), "press");
  EXPECT_TRUE(row.is_null("missing"));
  EXPECT_EQ(row.get_optional_string("missing"), std::nullopt);
  EXPECT_EQ(row.get_optional_int("id"), 7);
  EXPECT_TRUE(row.get_bool("flag"));
  EXPECT_EQ(row.get_optional_bool("missing"), std::nullopt);
  EXPECT_EQ(row.size(), 5u);
}

TEST(Row, MismatchErrorsNameTheColumn) {
  Row row = make_row();
  try {
    row.get_int("name");
    FAIL() << "no error";
  } catch (const DbError& e) {
    EXPECT_STREQ(e.what(), "column 'name': expected integer, got text");
  }
  EXPECT_THROW(row.get_string("id"), DbError);
  EXPECT_THROW(row.get_int("missing"), DbError);  // NULL where a value is required
  EXPECT_THROW(row.get_bool("id"), DbError);      // 7 is not a boolean
  EXPECT_THROW(row.get_int("nope"), DbError);
  EXPECT_THROW(row.at(99), DbError);
}

TEST(SqlScript, SplitsOnSemicolonsOutsideQuotesAndComments) {
  auto parts = split_sql_script(
      "-- leading comment; with a semicolon\n"
      "CREATE TABLE a (x TEXT DEFAULT 'a;b');\n"
      "/* block; comment */ INSERT INTO a VALUES ('it''s; fine');\n"
      "INSERT INTO a VALUES (\"q;\\\"x\");  # trailing; comment\n"
      "SELECT `we;ird`\n"
      ";;  \n-- only a comment\n");
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0], "-- leading comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT 'a;b')");
  EXPECT_EQ(parts[1], "/* block; comment */ INSERT INTO a VALUES ('it''s; fine')");
  EXPECT_EQ(parts[2], "INSERT INTO a VALUES (\"q;\\\"x\")");
  EXPECT_EQ(parts[3], "# trailing; comment\nSELECT `we;ird`");
}

TEST(SqlScript, EmptyAndCommentOnlyScripts) {
  EXPECT_TRUE(split_sql_script("").empty());
  EXPECT_TRUE(split_sql_script("  -- nothing\n/* at all */ ; ").empty());
  EXPECT_EQ(split_sql_script("SELECT 1").size(), 1u);
  EXPECT_EQ(split_sql_script("SELECT 1 --not-a-comment-without-space")[0],
            "SELECT 1 --not-a-comment-without-space");
}

TEST(Dialect, UpsertAndInsertIfAbsentText) {
  EXPECT_EQ(dialect_name(Dialect::sqlite), "sqlite");
  EXPECT_EQ(dialect_name(Dialect::mysql), "mysql");
  EXPECT_EQ(upsert_sql(Dialect::sqlite, "t", {"k", "v"}, {"k"}, {"v"}),
            "INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v");
  EXPECT_EQ(upsert_sql(Dialect::mysql, "t", {"k", "v"}, {"k"}, {"v"}),
            "INSERT INTO t (k, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)");
  EXPECT_EQ(insert_if_absent_sql(Dialect::sqlite, "t", {"a", "b"}, {"a"}),
            "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO NOTHING");
  EXPECT_EQ(insert_if_absent_sql(Dialect::mysql, "t", {"a", "b"}, {"a"}),
            "INSERT IGNORE INTO t (a, b) VALUES (?, ?)");
}

}  // namespace
}  // namespace factoryops::db
