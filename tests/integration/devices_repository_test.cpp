// The machine registry's SQL on both engines: the same service calls against SQLite and a
// real MariaDB, where collation, LIKE escaping and JSON columns differ.
#include <gtest/gtest.h>

#include "auth/context.hpp"
#include "db/database.hpp"
#include "db/factory_repository.hpp"
#include "db/migrations.hpp"
#include "devices/device_service.hpp"
#include "harness/mariadb.hpp"
#include "harness/process.hpp"

namespace factoryops::testing {
namespace {

auth::FactoryContext owner_of(std::string_view factory) {
  return auth::FactoryContext{core::FactoryId(factory), 1,  "owner@example.com",
                              auth::Role::super_admin,  {}, "req"};
}

class DevicesOnBothEngines : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static int counter = 0;
    std::string url = GetParam() == "mariadb"
                          ? MariaDbServer::shared().create_database("fo_devices_" + std::to_string(++counter))
                          : "sqlite:///" + (dir_.path() / "fo.db").string();
    db_ = db::Database::open(url);
    db::migrate(*db_);
    db::FactoryRepository factories(*db_);
    factories.create({core::FactoryId("acme"), "Acme Metals"});
    factories.create({core::FactoryId("rival"), "Rival Plastics"});
    service_ = std::make_unique<devices::DeviceService>(*db_);
  }

  devices::DeviceWithKey add(const auth::FactoryContext& ctx, const std::string& id, const std::string& name,
                             const std::string& line) {
    devices::NewDevice d;
    d.device_id = id;
    d.name = name;
    d.line = line;
    d.metadata_json = R"({"vendor":"Schneider","model":"PM5560","ct_ratio":200})";
    return service_->create(ctx, d);
  }

  TempDir dir_{"factoryops-devices-it"};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<devices::DeviceService> service_;
};

TEST_P(DevicesOnBothEngines, SearchIsCaseInsensitiveAndTreatsWildcardsLiterally) {
  auto acme = owner_of("acme");
  add(acme, "press-1", "Hydraulic Press", "l1");
  add(acme, "press_2", "Press 100%", "l1");
  add(acme, "chiller-1", "Chiller", "l2");
  add(owner_of("rival"), "press-9", "Rival Press", "l1");

  devices::DeviceFilter f;
  f.search = "PRESS";
  auto page = service_->list(acme, f);
  EXPECT_EQ(page.total, 2);
  f.search = "100%";
  EXPECT_EQ(service_->list(acme, f).total, 1);
  f.search = "_";
  EXPECT_EQ(service_->list(acme, f).total, 1) << "an underscore must match itself only";
  devices::DeviceFilter by_line;
  by_line.line = "l1";
  EXPECT_EQ(service_->list(acme, by_line).total, 2);
}

TEST_P(DevicesOnBothEngines, KeysRotateAndTenantsStayApart) {
  auto acme = owner_of("acme");
  auto created = add(acme, "meter-1", "Main incomer", "l1");
  auto owner = service_->repository().find_by_api_key(created.api_key);
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->factory_id.str(), "acme");
  auto rotated = service_->rotate_key(acme, "meter-1");
  EXPECT_FALSE(service_->repository().find_by_api_key(created.api_key).has_value());
  EXPECT_TRUE(service_->repository().find_by_api_key(rotated.api_key).has_value());

  EXPECT_THROW(service_->get(owner_of("rival"), "meter-1"), core::NotFound);
  EXPECT_THROW(service_->remove(owner_of("rival"), "meter-1"), core::NotFound);
  add(owner_of("rival"), "meter-1", "Same id, other factory", "l1");
  EXPECT_EQ(service_->get(acme, "meter-1").name, "Main incomer");
  EXPECT_THROW(add(acme, "meter-1", "Duplicate", "l1"), core::Conflict);
}

TEST_P(DevicesOnBothEngines, MetadataAndParametersRoundTrip) {
  auto acme = owner_of("acme");
  add(acme, "meter-2", "Feeder 2", "l1");
  auto got = service_->get(acme, "meter-2");
  ASSERT_TRUE(got.metadata_json.has_value());
  EXPECT_NE(got.metadata_json->find("PM5560"), std::string::npos);
  service_->repository().upsert_parameter(core::FactoryId("acme"), core::DeviceId("meter-2"), "voltage.l1",
                                          "number", 1700000000000);
  auto params = service_->parameters(acme, "meter-2");
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].parameter_key, "voltage.l1");
  EXPECT_TRUE(params[0].is_kpi_selected);
  service_->remove(acme, "meter-2");
  EXPECT_THROW(service_->parameters(acme, "meter-2"), core::NotFound);
}

INSTANTIATE_TEST_SUITE_P(Engines, DevicesOnBothEngines, ::testing::Values("sqlite", "mariadb"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace factoryops::testing
