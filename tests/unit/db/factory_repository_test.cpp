#include "db/factory_repository.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "db/audit_repository.hpp"
#include "db/migrations.hpp"

namespace factoryops::db {
namespace {

TEST(Slug, AcceptsTheDocumentedAlphabet) {
  for (const std::string& ok :
       std::vector<std::string>{"a", "0", "vpc", "plant-7", "line_2-b", std::string(64, 'z')}) {
    EXPECT_TRUE(core::is_valid_slug(ok)) << ok;
  }
}

TEST(Slug, RejectsWithAReason) {
  EXPECT_EQ(core::slug_problem(""), "must not be empty");
  EXPECT_EQ(core::slug_problem(std::string(65, 'a')), "must be at most 64 characters");
  EXPECT_EQ(core::slug_problem("-abc"), "must start with a lowercase letter or a digit");
  EXPECT_EQ(core::slug_problem("_abc"), "must start with a lowercase letter or a digit");
  EXPECT_EQ(core::slug_problem("Abc"), "must start with a lowercase letter or a digit");
  for (std::string bad : {"ab c", "abC", "a/b", "a.b", "a\xc3\xa9", "a\n"}) {
    EXPECT_FALSE(core::is_valid_slug(bad)) << bad;
  }
  try {
    core::FactoryId id("Bad Id");
    FAIL();
  } catch (const core::Invalid& e) {
    EXPECT_EQ(e.field(), "factory_id");
  }
  EXPECT_THROW(core::DeviceId("x y"), core::Invalid);
  EXPECT_EQ(core::FactoryId("acme").str(), "acme");
  EXPECT_EQ(core::FactoryId("a"), core::FactoryId("a"));
  EXPECT_LT(core::FactoryId("a"), core::FactoryId("b"));
}

TEST(Timezone, PlausibleNames) {
  for (std::string ok : {"UTC", "Europe/Berlin", "America/Argentina/Salta", "Etc/GMT+5", "Asia/Kolkata"}) {
    EXPECT_TRUE(is_plausible_timezone(ok)) << ok;
  }
  for (const std::string& bad : std::vector<std::string>{"", "/etc/passwd", "Europe/../x", "Europe/",
                                                         "Europe Berlin", std::string(65, 'A')}) {
    EXPECT_FALSE(is_plausible_timezone(bad)) << bad;
  }
}

class SqliteRepositories : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = Database::open("sqlite::memory:");
    migrate(*db_);
  }
  std::unique_ptr<Database> db_;
};

TEST_F(SqliteRepositories, FactoryCreateFindList) {
  FactoryRepository factories(*db_);
  auto created = factories.create({core::FactoryId("vpc"), "VPC Plant", "Asia/Kolkata"});
  EXPECT_GT(created.created_at_ms, 1'700'000'000'000);
  EXPECT_EQ(created.updated_at_ms, created.created_at_ms);
  factories.create({core::FactoryId("acme"), "Acme"});
  auto found = factories.find(core::FactoryId("vpc"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "VPC Plant");
  EXPECT_EQ(found->timezone, "Asia/Kolkata");
  EXPECT_EQ(found->created_at_ms, created.created_at_ms);
  EXPECT_FALSE(factories.find(core::FactoryId("nope")));
  auto all = factories.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id.str(), "acme");
  EXPECT_EQ(all[0].timezone, "UTC");
  EXPECT_THROW(factories.create({core::FactoryId("vpc"), "Again"}), core::Conflict);
  EXPECT_THROW(factories.create({core::FactoryId("x"), "  "}), core::Invalid);
  EXPECT_THROW(factories.create({core::FactoryId("x"), "X", "Not a zone"}), core::Invalid);
  EXPECT_THROW(factories.create({core::FactoryId("x"), std::string(256, 'n')}), core::Invalid);
}

TEST_F(SqliteRepositories, AuditRecordAndList) {
  FactoryRepository(*db_).create({core::FactoryId("vpc"), "VPC"});
  AuditRepository audit(*db_);
  for (int i = 0; i < 5; ++i) {
    audit.record(core::FactoryId("vpc"),
                 {1, "device.create", "device", "press-" + std::to_string(i),
                  R"({"n":)" + std::to_string(i) + "}", "10.0.0.1", "req-" + std::to_string(i)});
  }
  auto page = audit.list(core::FactoryId("vpc"), {2, 0});
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].entry.resource_id, "press-4");
  EXPECT_EQ(page[1].entry.resource_id, "press-3");
  EXPECT_EQ(audit.list(core::FactoryId("vpc"), {10, 4}).size(), 1u);
  EXPECT_EQ(audit.count(core::FactoryId("vpc")), 5);
  EXPECT_THROW(audit.list(core::FactoryId("vpc"), {0, 0}), core::Invalid);
  EXPECT_THROW(audit.list(core::FactoryId("vpc"), {10, -1}), core::Invalid);
  EXPECT_THROW(audit.record(core::FactoryId("vpc"), {std::nullopt, "", "device"}), core::Invalid);
  // The factory must exist (foreign key).
  EXPECT_THROW(audit.record(core::FactoryId("ghost"), {std::nullopt, "x", "y"}), DbError);
}

}  // namespace
}  // namespace factoryops::db
