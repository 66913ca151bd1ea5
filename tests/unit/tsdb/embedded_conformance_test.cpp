// The shared TelemetryStore conformance suite, run against the embedded engine.
#include <stdlib.h>

#include <filesystem>

#include "tsdb/store_conformance.hpp"

namespace factoryops::tsdb::conformance {
namespace {

namespace fs = std::filesystem;

// One directory for the whole run: the suite's factories have random ids, so tests may share it.
const fs::path& storage() {
  static const fs::path dir = [] {
    std::string pattern = (fs::temp_directory_path() / "tsdb-conformance-XXXXXX").string();
    fs::path made = ::mkdtemp(pattern.data());
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(storage(), ec);
    });
    return made;
  }();
  return dir;
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
