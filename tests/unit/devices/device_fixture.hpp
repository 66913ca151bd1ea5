// Shared set-up of the machine registry tests: a migrated SQLite database in a temporary
// directory with two factories, and caller contexts for each role.
#pragma once

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "auth/context.hpp"
#include "db/database.hpp"
#include "db/factory_repository.hpp"
#include "db/migrations.hpp"
#include "devices/device_service.hpp"

namespace factoryops::devices::testing {

class TempDirectory {
 public:
  TempDirectory() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "factoryops-devices-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDirectory() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline auth::FactoryContext context_for(std::string_view factory, auth::Role role, bool machines = false) {
  const bool owner = role == auth::Role::super_admin;
  auth::Permissions permissions;
  permissions.machines = machines;
  return auth::FactoryContext{core::FactoryId(factory),
                              owner ? 1 : 2,
                              owner ? "owner@example.com" : "admin@example.com",
                              role,
                              permissions,
                              "req-1"};
}

class DeviceDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = db::Database::open("sqlite:///" + (dir_.path() / "fo.db").string());
    db::migrate(*db_);
    db::FactoryRepository factories(*db_);
    factories.create({core::FactoryId("acme"), "Acme Metals"});
    factories.create({core::FactoryId("rival"), "Rival Plastics"});
    service_ = std::make_unique<DeviceService>(*db_);
  }

  std::int64_t audit_count(std::string_view factory, std::string_view action) {
    auto conn = db_->acquire();
    return conn
        ->query_one("SELECT COUNT(*) FROM audit_log WHERE factory_id = ? AND action = ?", {factory, action})
        ->get_int(0);
  }

  TempDirectory dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<DeviceService> service_;
  const auth::FactoryContext owner_ = context_for("acme", auth::Role::super_admin);
  const auth::FactoryContext rival_ = context_for("rival", auth::Role::super_admin);
};

}  // namespace factoryops::devices::testing
