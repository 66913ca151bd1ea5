#include "http/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace factoryops::http {
namespace {
namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("factoryops-static-" + std::to_string(std::random_device{}()));
    write_file(root_ / "dist" / "index.html", "<html>app</html>");
    write_file(root_ / "dist" / "assets" / "index-abc123.js", "console.log(1)");
    write_file(root_ / "dist" / "favicon.svg", "<svg/>");
    write_file(root_ / "dist" / "api-docs" / "index.html", "<html>docs</html>");
    write_file(root_ / "secret.txt", "outside");
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
};

TEST(SafeRelativePath, RejectsEverythingThatCouldLeaveTheRoot) {
  EXPECT_EQ(safe_relative_path("/"), "");
  EXPECT_EQ(safe_relative_path("/assets/a.js"), "assets/a.js");
  EXPECT_EQ(safe_relative_path("//etc/passwd"), "etc/passwd");
  EXPECT_EQ(safe_relative_path("/a%20b.txt"), "a b.txt");
  EXPECT_FALSE(safe_relative_path("/../secret.txt"));
  EXPECT_FALSE(safe_relative_path("/assets/../../secret.txt"));
  EXPECT_FALSE(safe_relative_path("/%2e%2e/secret.txt"));
  EXPECT_FALSE(safe_relative_path("/%2E%2E%2Fsecret.txt"));
  EXPECT_FALSE(safe_relative_path("/./index.html"));
  EXPECT_FALSE(safe_relative_path("/..%5csecret.txt"));
  EXPECT_FALSE(safe_relative_path("/a%00b"));
  EXPECT_FALSE(safe_relative_path("/a%0ab"));
  EXPECT_FALSE(safe_relative_path("relative"));
  EXPECT_FALSE(safe_relative_path("/%zz"));
}

TEST(ContentType, ByExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("assets/index-abc.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("font.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("x.json"), "application/json");
  EXPECT_EQ(content_type_for("README"), "application/octet-stream");
  EXPECT_EQ(content_type_for("dir.v2/file"), "application/octet-stream");
}

TEST_F(StaticFilesTest, ServesFilesWithCachingHeaders) {
  StaticFiles files(root_ / "dist", true);
  auto asset = files.serve("/assets/index-abc123.js", "r");
  EXPECT_EQ(asset.status, 200);
  EXPECT_EQ(asset.body, "console.log(1)");
  EXPECT_EQ(asset.headers.get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(asset.headers.get("Cache-Control"), "public, max-age=31536000, immutable");

  auto index = files.serve("/", "r");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<html>app</html>");
  EXPECT_EQ(index.headers.get("Cache-Control"), "no-cache");
}

TEST_F(StaticFilesTest, FallsBackToIndexForClientRoutesOnly) {
  StaticFiles files(root_ / "dist", true);
  auto route = files.serve("/devices/press-1", "r");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, "<html>app</html>");
  EXPECT_EQ(files.serve("/assets/missing-123.js", "r").status, 404);

  StaticFiles strict(root_ / "dist", false);
  EXPECT_EQ(strict.serve("/devices/press-1", "r").status, 404);
}

TEST_F(StaticFilesTest, NeverEscapesTheRoot) {
  StaticFiles files(root_ / "dist", true);
  EXPECT_EQ(files.serve("/../secret.txt", "r").status, 404);
  EXPECT_EQ(files.serve("/%2e%2e/secret.txt", "r").status, 404);
  EXPECT_EQ(files.serve("/assets/%2e%2e/%2e%2e/secret.txt", "r").status, 404);
  fs::create_symlink(root_ / "secret.txt", root_ / "dist" / "link.txt");
  EXPECT_EQ(files.serve("/link.txt", "r").status, 404);
}

TEST_F(StaticFilesTest, ServesApiDocsAndDirectoryIndexes) {
  StaticFiles files(root_ / "dist", true);
  EXPECT_EQ(files.serve("/api/docs", "r").body, "<html>docs</html>");
  EXPECT_EQ(files.serve("/api-docs/", "r").body, "<html>docs</html>");
}

TEST_F(StaticFilesTest, PicksUpChangedFiles) {
  StaticFiles files(root_ / "dist", true);
  EXPECT_EQ(files.serve("/favicon.svg", "r").body, "<svg/>");
  write_file(root_ / "dist" / "favicon.svg", "<svg>v2</svg>");
  EXPECT_EQ(files.serve("/favicon.svg", "r").body, "<svg>v2</svg>");
}

TEST_F(StaticFilesTest, SaysWhenTheAppIsNotBuilt) {
  fs::create_directories(root_ / "empty");
  StaticFiles files(root_ / "empty", true);
  auto response = files.serve("/", "rid");
  EXPECT_EQ(response.status, 404);
  EXPECT_NE(response.body.find("not built"), std::string::npos);
  EXPECT_NE(response.body.find("rid"), std::string::npos);
  StaticFiles missing(root_ / "does-not-exist", true);
  EXPECT_EQ(missing.serve("/", "r").status, 404);
}

}  // namespace
}  // namespace factoryops::http
