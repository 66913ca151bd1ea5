// Runs every payload under tests/fixtures/payloads through the parser and compares the outcome
// with tests/fixtures/payloads/expected.json, so a firmware developer's bad payload can be
// added as a file with its expected result.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ingest/payload.hpp"

namespace factoryops::ingest {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

// The fixtures live in the source tree; tests may run from the build tree.
fs::path fixtures_dir() {
  fs::path from_source = fs::path(__FILE__).parent_path() / ".." / ".." / "fixtures" / "payloads";
  if (fs::exists(from_source / "expected.json")) return from_source;
  for (fs::path dir = fs::current_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / "tests/fixtures/payloads/expected.json")) return dir / "tests/fixtures/payloads";
    if (dir == dir.parent_path()) break;
  }
  return from_source;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(PayloadFixtures, EveryFixtureHasTheExpectedOutcome) {
  const fs::path dir = fixtures_dir();
  ASSERT_TRUE(fs::exists(dir / "expected.json")) << dir;
  const json::value manifest = json::parse(read_file(dir / "expected.json"));
  const std::int64_t now_ms = manifest.at("now_ms").to_number<std::int64_t>();
  const auto& expected = manifest.at("payloads").as_object();

  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "expected.json" || entry.path().extension() != ".json") continue;
    const auto* want = expected.if_contains(name);
    if (want == nullptr) {
      ADD_FAILURE() << name << " has no entry in expected.json";
      continue;
    }
    SCOPED_TRACE(name);
    auto parsed = parse_payload(read_file(entry.path()), now_ms);
    std::vector<std::string> reasons;
    std::size_t accepted = parsed.readings.size();
    std::size_t rejected = parsed.rejected_readings.size();
    if (parsed.message_rejection) {
      rejected = 1;
      reasons.emplace_back(reason_name(parsed.message_rejection->reason));
    }
    for (const auto& issue : parsed.rejected_readings) reasons.emplace_back(reason_name(issue.reason));
    for (const auto& issue : parsed.dropped_fields) reasons.emplace_back(reason_name(issue.reason));
    std::string outcome = accepted == 0 ? "rejected" : (reasons.empty() ? "accepted" : "partial");

    EXPECT_EQ(outcome, want->at("outcome").as_string());
    EXPECT_EQ(accepted, want->at("accepted").to_number<std::size_t>());
    EXPECT_EQ(rejected, want->at("rejected").to_number<std::size_t>());
    EXPECT_EQ(parsed.dropped_fields.size(), want->at("dropped_fields").to_number<std::size_t>());
    std::vector<std::string> want_reasons;
    for (const auto& r : want->at("reasons").as_array()) want_reasons.emplace_back(r.as_string());
    EXPECT_EQ(reasons, want_reasons);
    ++checked;
  }
  EXPECT_EQ(checked, expected.size()) << "expected.json names files that do not exist";
  EXPECT_GE(checked, 20u);
}

}  // namespace
}  // namespace factoryops::ingest
