// The shared TelemetryStore conformance suite, run against the embedded engine.
#include <stdlib.h>

#include <filesystem>

#include "tsdb/store_conformance.hpp"

namespace factoryops::tsdb::conformance {
namespace {

namespace fs = std::filesystem;

// One directory for the whole run: the suite's factories have random ids, so tests may share it.
// Removed at exit; every store is closed by then (each test closes its own).
class Storage {
 public:
  Storage() {
    std::string pattern = (fs::temp_directory_path() / "tsdb-conformance-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~Storage() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const fs::path& storage() {
  static const Storage dir;
  return dir.path();
}

std::unique_ptr<TelemetryStore> open_store() {
  EmbeddedOptions options;
  options.directory = storage();
  options.timezone_of = conformance_timezone_of;
  return open_embedded_store(options);
}

INSTANTIATE_TEST_SUITE_P(Embedded, TelemetryStoreConformance,
                         ::testing::Values(StoreConformanceParam{"embedded", open_store, open_store}),
                         conformance_param_name);

}  // namespace
}  // namespace factoryops::tsdb::conformance
