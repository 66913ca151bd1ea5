// DeviceService and DeviceRepository on a migrated SQLite database: validation, tenancy,
// keys, paging and audit.
#include "devices/device_service.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/errors.hpp"
#include "device_fixture.hpp"
#include "devices/api_key.hpp"

namespace factoryops::devices {
namespace {

using testing::context_for;
using DeviceServiceTest = testing::DeviceDatabaseTest;

NewDevice compressor(std::string id = "compressor-1") {
  NewDevice d;
  d.device_id = std::move(id);
  d.name = "Compressor 1";
  d.type = "compressor";
  d.location = "Hall B";
  d.line = "Line 2";
  d.rated_power_kw = 75.0;
  d.metadata_json = R"({"vendor":"Atlas"})";
  return d;
}

template <typename F>
std::string invalid_field(F&& f) {
  try {
    f();
  } catch (const core::Invalid& e) {
    return e.field();
  }
  return "<no error>";
}

TEST_F(DeviceServiceTest, CreateStoresTheDeviceAndOnlyTheKeyDigest) {
  auto created = service_->create(owner_, compressor());
  EXPECT_EQ(created.device.device_id.str(), "compressor-1");
  EXPECT_EQ(created.device.api_key_prefix, created.api_key.substr(0, 8));
  EXPECT_TRUE(looks_like_api_key(created.api_key));

  auto stored = service_->get(owner_, "compressor-1");
  EXPECT_EQ(stored.name, "Compressor 1");
  EXPECT_EQ(stored.type, "compressor");
  EXPECT_EQ(stored.rated_power_kw, 75.0);
  EXPECT_EQ(stored.metadata_json, R"({"vendor":"Atlas"})");
  EXPECT_EQ(stored.status, "unknown");
  EXPECT_TRUE(stored.is_enabled);
  EXPECT_GT(stored.created_at_ms, 0);

  auto conn = db_->acquire();
  auto row = conn->query_one("SELECT api_key_hash FROM devices WHERE factory_id = 'acme'");
  EXPECT_EQ(row->get_string(0), api_key_hash(created.api_key));
  // The key itself appears nowhere, not even in the audit trail.
  for (const char* sql :
       {"SELECT COUNT(*) FROM devices WHERE api_key_hash = ? OR name = ? OR metadata = ?",
        "SELECT COUNT(*) FROM audit_log WHERE details LIKE ? OR details LIKE ? OR details LIKE ?"}) {
    std::string like = "%" + created.api_key + "%";
    EXPECT_EQ(conn->query_one(sql, {like, like, like})->get_int(0), 0) << sql;
  }
  EXPECT_EQ(audit_count("acme", "device.created"), 1);
}

TEST_F(DeviceServiceTest, OptionalFieldsMayBeAbsent) {
  NewDevice d;
  d.device_id = "m1";
  d.name = "Mill";
  d.type = "";
  auto created = service_->create(owner_, d);
  auto stored = service_->get(owner_, "m1");
  EXPECT_FALSE(stored.type);
  EXPECT_FALSE(stored.location);
  EXPECT_FALSE(stored.rated_power_kw);
  EXPECT_FALSE(stored.metadata_json);
}

TEST_F(DeviceServiceTest, EveryBadFieldIsNamed) {
  auto with = [&](auto change) {
    NewDevice d = compressor();
    change(d);
    return invalid_field([&] { service_->create(owner_, d); });
  };
  EXPECT_EQ(with([](NewDevice& d) { d.device_id = "Bad Id"; }), "device_id");
  EXPECT_EQ(with([](NewDevice& d) { d.device_id = ""; }), "device_id");
  EXPECT_EQ(with([](NewDevice& d) { d.device_id = std::string(65, 'a'); }), "device_id");
  EXPECT_EQ(with([](NewDevice& d) { d.name = "  "; }), "name");
  EXPECT_EQ(with([](NewDevice& d) { d.name = std::string(121, 'n'); }), "name");
  EXPECT_EQ(with([](NewDevice& d) { d.type = std::string(kMaxTypeChars + 1, 't'); }), "type");
  EXPECT_EQ(with([](NewDevice& d) { d.location = std::string(121, 'l'); }), "location");
  EXPECT_EQ(with([](NewDevice& d) { d.line = std::string(121, 'l'); }), "line");
  EXPECT_EQ(with([](NewDevice& d) { d.rated_power_kw = -1; }), "rated_power_kw");
  EXPECT_EQ(with([](NewDevice& d) { d.rated_power_kw = std::numeric_limits<double>::infinity(); }),
            "rated_power_kw");
  EXPECT_EQ(with([](NewDevice& d) { d.rated_power_kw = std::nan(""); }), "rated_power_kw");
  EXPECT_EQ(with([](NewDevice& d) { d.metadata_json = "[1,2]"; }), "metadata");
  EXPECT_EQ(
      with([](NewDevice& d) { d.metadata_json = R"({"x":")" + std::string(kMaxMetadataBytes, 'x') + "\"}"; }),
      "metadata");
  // 120 characters of multi-byte text are still 120 characters.
  NewDevice wide = compressor("wide");
  std::string name;
  for (int i = 0; i < 120; ++i) name += "\xc3\xa9";
  wide.name = name;
  EXPECT_NO_THROW(service_->create(owner_, wide));
  // Nothing half-written by the rejected attempts.
  EXPECT_EQ(service_->list(owner_, {}).total, 1);
  EXPECT_EQ(audit_count("acme", "device.created"), 1);
}

TEST_F(DeviceServiceTest, DuplicateIdConflictsWithinAFactoryOnly) {
  service_->create(owner_, compressor());
  EXPECT_THROW(service_->create(owner_, compressor()), core::Conflict);
  EXPECT_NO_THROW(service_->create(rival_, compressor()));
  EXPECT_EQ(service_->list(owner_, {}).total, 1);
  EXPECT_EQ(service_->list(rival_, {}).total, 1);
  EXPECT_EQ(audit_count("acme", "device.created"), 1);
}

TEST_F(DeviceServiceTest, AnotherFactorysDeviceIsNotFound) {
  service_->create(owner_, compressor());
  EXPECT_THROW(service_->get(rival_, "compressor-1"), core::NotFound);
  EXPECT_THROW(service_->update(rival_, "compressor-1", {.name = "Stolen"}), core::NotFound);
  EXPECT_THROW(service_->rotate_key(rival_, "compressor-1"), core::NotFound);
  EXPECT_THROW(service_->parameters(rival_, "compressor-1"), core::NotFound);
  EXPECT_THROW(service_->update_parameter(rival_, "compressor-1", "power", {.unit = "kW"}), core::NotFound);
  EXPECT_THROW(service_->remove(rival_, "compressor-1"), core::NotFound);
  EXPECT_EQ(service_->list(rival_, {}).total, 0);
  auto still = service_->get(owner_, "compressor-1");
  EXPECT_EQ(still.name, "Compressor 1");
  EXPECT_EQ(audit_count("rival", "device.updated") + audit_count("rival", "device.deleted") +
                audit_count("rival", "device.key_rotated"),
            0);
}

TEST_F(DeviceServiceTest, UpdateChangesOnlyTheGivenFieldsAndBumpsUpdatedAt) {
  auto created = service_->create(owner_, compressor());
  DeviceColumns changes;
  changes.name = "Compressor One";
  changes.location = std::optional<std::string>{};  // clear
  changes.rated_power_kw = std::optional<double>{90.5};
  changes.metadata_json = std::optional<std::string>{};
  changes.is_enabled = false;
  auto updated = service_->update(owner_, "compressor-1", changes);
  EXPECT_EQ(updated.name, "Compressor One");
  EXPECT_FALSE(updated.location);
  EXPECT_EQ(updated.line, "Line 2");
  EXPECT_EQ(updated.type, "compressor");
  EXPECT_EQ(updated.rated_power_kw, 90.5);
  EXPECT_FALSE(updated.metadata_json);
  EXPECT_FALSE(updated.is_enabled);
  EXPECT_GE(updated.updated_at_ms, created.device.updated_at_ms);
  EXPECT_EQ(updated.created_at_ms, created.device.created_at_ms);
  EXPECT_EQ(audit_count("acme", "device.updated"), 1);

  EXPECT_EQ(invalid_field([&] { service_->update(owner_, "compressor-1", {.name = ""}); }), "name");
  DeviceColumns bad_power;
  bad_power.rated_power_kw = std::optional<double>{-3};
  EXPECT_EQ(invalid_field([&] { service_->update(owner_, "compressor-1", bad_power); }), "rated_power_kw");
  EXPECT_EQ(service_->get(owner_, "compressor-1").rated_power_kw, 90.5);
  EXPECT_THROW(service_->update(owner_, "nope", {.name = "x"}), core::NotFound);
}

TEST_F(DeviceServiceTest, RotateKeyInvalidatesTheOldKey) {
  auto created = service_->create(owner_, compressor());
  auto& repo = service_->repository();
  auto owner = repo.find_by_api_key(created.api_key);
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->factory_id.str(), "acme");
  EXPECT_EQ(owner->device_id.str(), "compressor-1");
  EXPECT_TRUE(owner->is_enabled);

  auto rotated = service_->rotate_key(owner_, "compressor-1");
  EXPECT_NE(rotated.api_key, created.api_key);
  EXPECT_EQ(rotated.device.api_key_prefix, rotated.api_key.substr(0, 8));
  EXPECT_FALSE(repo.find_by_api_key(created.api_key));
  ASSERT_TRUE(repo.find_by_api_key(rotated.api_key));
  EXPECT_EQ(audit_count("acme", "device.key_rotated"), 1);

  service_->update(owner_, "compressor-1", {.is_enabled = false});
  EXPECT_FALSE(repo.find_by_api_key(rotated.api_key)->is_enabled);
  EXPECT_FALSE(repo.find_by_api_key("fo_short"));
  EXPECT_FALSE(repo.find_by_api_key(generate_api_key()));
}

TEST_F(DeviceServiceTest, DeleteRemovesTheDeviceItsParametersAndItsKey) {
  auto created = service_->create(owner_, compressor());
  service_->repository().upsert_parameter(core::FactoryId("acme"), core::DeviceId("compressor-1"), "power",
                                          "number", 1000);
  service_->remove(owner_, "compressor-1");
  EXPECT_THROW(service_->get(owner_, "compressor-1"), core::NotFound);
  EXPECT_FALSE(service_->repository().find_by_api_key(created.api_key));
  auto conn = db_->acquire();
  EXPECT_EQ(conn->query_one("SELECT COUNT(*) FROM device_parameters")->get_int(0), 0);
  EXPECT_EQ(audit_count("acme", "device.deleted"), 1);
  EXPECT_THROW(service_->remove(owner_, "compressor-1"), core::NotFound);
  // The id can be registered again.
  EXPECT_NO_THROW(service_->create(owner_, compressor()));
}

TEST_F(DeviceServiceTest, ListPagesSearchesAndFilters) {
  for (int i = 0; i < 12; ++i) {
    NewDevice d;
    d.device_id = "pump-" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    d.name = i % 2 == 0 ? "Cooling Pump" : "Feed pump";
    d.type = i % 3 == 0 ? "pump" : "motor";
    d.line = i < 6 ? "L1" : "L2";
    d.location = "Hall A";
    service_->create(owner_, d);
  }
  NewDevice odd;
  odd.device_id = "oven_1";
  odd.name = "Oven 100%";
  service_->create(owner_, odd);
  service_->create(rival_, compressor("pump-99"));

  auto page = service_->list(owner_, {.limit = 5, .offset = 0});
  EXPECT_EQ(page.total, 13);
  ASSERT_EQ(page.items.size(), 5U);
  EXPECT_EQ(page.items[0].device_id.str(), "oven_1");
  EXPECT_EQ(page.items[1].device_id.str(), "pump-00");
  page = service_->list(owner_, {.limit = 5, .offset = 10});
  ASSERT_EQ(page.items.size(), 3U);
  EXPECT_EQ(page.items[2].device_id.str(), "pump-11");

  EXPECT_EQ(service_->list(owner_, {.search = "COOLING"}).total, 6);
  EXPECT_EQ(service_->list(owner_, {.search = "PuMp-1"}).total, 2);
  // Wildcards in the search text are literal characters.
  EXPECT_EQ(service_->list(owner_, {.search = "%"}).total, 1);
  EXPECT_EQ(service_->list(owner_, {.search = "n_1"}).total, 1);
  EXPECT_EQ(service_->list(owner_, {.search = "p_mp"}).total, 0);

  EXPECT_EQ(service_->list(owner_, {.type = "pump"}).total, 4);
  EXPECT_EQ(service_->list(owner_, {.type = "pump", .line = "L2"}).total, 2);
  EXPECT_EQ(service_->list(owner_, {.location = "Hall A"}).total, 12);
  EXPECT_EQ(service_->list(owner_, {.status = "unknown"}).total, 13);
  EXPECT_EQ(service_->list(owner_, {.status = "online"}).total, 0);
  auto filtered = service_->list(owner_, {.limit = 1, .search = "feed", .line = "L2"});
  EXPECT_EQ(filtered.total, 3);
  ASSERT_EQ(filtered.items.size(), 1U);
  EXPECT_EQ(filtered.items[0].device_id.str(), "pump-07");

  EXPECT_EQ(invalid_field([&] { service_->list(owner_, {.limit = 0}); }), "limit");
  EXPECT_EQ(invalid_field([&] { service_->list(owner_, {.limit = 501}); }), "limit");
  EXPECT_EQ(invalid_field([&] { service_->list(owner_, {.offset = -1}); }), "offset");
  EXPECT_EQ(invalid_field([&] { service_->list(owner_, {.status = "broken"}); }), "status");
}

TEST_F(DeviceServiceTest, ParametersAreListedAndEdited) {
  service_->create(owner_, compressor());
  auto& repo = service_->repository();
  core::FactoryId acme("acme");
  core::DeviceId id("compressor-1");
  repo.upsert_parameter(acme, id, "power", "number", 1000);
  repo.upsert_parameter(acme, id, "running", "bool", 1000);
  repo.upsert_parameter(acme, id, "power", "number", 5000);

  auto params = service_->parameters(owner_, "compressor-1");
  ASSERT_EQ(params.size(), 2U);
  EXPECT_EQ(params[0].parameter_key, "power");
  EXPECT_EQ(params[0].first_seen_at_ms, 1000);
  EXPECT_EQ(params[0].last_seen_at_ms, 5000);
  EXPECT_TRUE(params[0].is_kpi_selected);
  EXPECT_EQ(params[1].data_type, "bool");

  auto edited =
      service_->update_parameter(owner_, "compressor-1", "power",
                                 {.display_name = "Active power", .unit = "kW", .is_kpi_selected = false});
  EXPECT_EQ(edited.display_name, "Active power");
  EXPECT_EQ(edited.unit, "kW");
  EXPECT_FALSE(edited.is_kpi_selected);
  // Ingestion seeing the key again keeps what a person chose.
  repo.upsert_parameter(acme, id, "power", "number", 9000);
  auto again = service_->parameters(owner_, "compressor-1");
  EXPECT_EQ(again[0].display_name, "Active power");
  EXPECT_FALSE(again[0].is_kpi_selected);
  EXPECT_EQ(again[0].last_seen_at_ms, 9000);

  EXPECT_THROW(service_->update_parameter(owner_, "compressor-1", "missing", {.unit = "V"}), core::NotFound);
  EXPECT_EQ(invalid_field([&] {
              service_->update_parameter(owner_, "compressor-1", "power", {.unit = std::string(33, 'u')});
            }),
            "unit");
  EXPECT_EQ(invalid_field([&] {
              service_->update_parameter(owner_, "compressor-1", "power",
                                         {.display_name = std::string(121, 'd')});
            }),
            "display_name");
  EXPECT_THROW(service_->parameters(owner_, "nope"), core::NotFound);
}

TEST_F(DeviceServiceTest, AdminNeedsTheMachinesPermissionToWrite) {
  auto viewer = context_for("acme", auth::Role::admin, false);
  auto manager = context_for("acme", auth::Role::admin, true);
  EXPECT_THROW(service_->create(viewer, compressor()), core::Forbidden);
  service_->create(manager, compressor());
  EXPECT_EQ(service_->list(viewer, {}).total, 1);
  EXPECT_THROW(service_->rotate_key(viewer, "compressor-1"), core::Forbidden);
  EXPECT_THROW(service_->remove(viewer, "compressor-1"), core::Forbidden);
}

}  // namespace
}  // namespace factoryops::devices
