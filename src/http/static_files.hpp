// Serves the built web app (frontend/dist) and the API reference page from one directory, with
// the SPA fallback to index.html for client-side routes. Thread-safe (the file cache has one
// mutex); reads files, so call it from the blocking pool. Lives as long as the Server.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "http/types.hpp"

namespace factoryops::http {

// The decoded path below the static root for a raw request path, without a leading '/':
// "/assets/a.js" -> "assets/a.js", "/" -> "". nullopt for anything that could leave the root:
// "." or ".." segments (also percent-encoded), backslashes, NUL or control bytes, bad escapes.
std::optional<std::string> safe_relative_path(std::string_view raw_path);

// Content-Type by file extension; application/octet-stream when unknown.
std::string_view content_type_for(std::string_view file_name);

class StaticFiles {
 public:
  // Files up to kMaxCachedFile bytes are kept in memory (until their size or mtime changes),
  // up to `cache_limit_bytes` in total.
  static constexpr std::size_t kMaxCachedFile = 4 * 1024 * 1024;

  StaticFiles(std::filesystem::path root, bool spa_fallback,
              std::size_t cache_limit_bytes = 64 * 1024 * 1024);

  // The response to GET `raw_path` (the encoded path, no query): the file, index.html for a
  // client route, or a JSON 404 carrying `request_id`. "/api/docs" serves api-docs/index.html.
  Response serve(std::string_view raw_path, std::string_view request_id);

  bool has_index() const;

 private:
  struct CachedFile {
    std::filesystem::file_time_type mtime;
    std::uintmax_t size = 0;
    std::shared_ptr<const std::string> data;
  };

  std::shared_ptr<const std::string> read(const std::filesystem::path& file);
  Response file_response(const std::filesystem::path& file, std::string_view relative);
  bool inside_root(const std::filesystem::path& file, const std::string& root) const;
  std::string canonical_root();

  std::filesystem::path root_;
  std::string canonical_root_;  // guarded by mutex_
  bool spa_fallback_;
  std::size_t cache_limit_;
  std::mutex mutex_;
  std::map<std::string, CachedFile> cache_;
  std::size_t cached_bytes_ = 0;
};

}  // namespace factoryops::http
