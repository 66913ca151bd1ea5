#include "http/static_files.hpp"

#include <array>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "core/errors.hpp"
#include "http/error_mapper.hpp"

namespace factoryops::http {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";

std::string lower_extension(std::string_view file_name) {
  auto slash = file_name.rfind('/');
  auto base = slash == std::string_view::npos ? file_name : file_name.substr(slash + 1);
  auto dot = base.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string ext(base.substr(dot + 1));
  for (auto& c : ext) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return ext;
}

bool has_extension(std::string_view relative) {
  auto slash = relative.rfind('/');
  auto base = slash == std::string_view::npos ? relative : relative.substr(slash + 1);
  return base.find('.') != std::string_view::npos;
}

}  // namespace

std::optional<std::string> safe_relative_path(std::string_view raw_path) {
  if (raw_path.empty() || raw_path.front() != '/') return std::nullopt;
  auto decoded = percent_decode(raw_path);
  if (!decoded) return std::nullopt;
  std::string out;
  std::string_view rest(*decoded);
  while (!rest.empty()) {
    auto slash = rest.find('/');
    auto segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    // Empty segments ("//") collapse, so "//etc/passwd" stays below the root.
    if (segment.empty()) continue;
    if (segment == "." || segment == "..") return std::nullopt;
    for (char c : segment) {
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    }
    if (!out.empty()) out += '/';
    out += segment;
  }
  return out;
}

std::string_view content_type_for(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kTypes{{
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"txt", "text/plain; charset=utf-8"},
      {"xml", "application/xml"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},
  }};
  auto ext = lower_extension(file_name);
  for (const auto& [key, type] : kTypes) {
    if (key == ext) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(fs::path root, bool spa_fallback, std::size_t cache_limit_bytes)
    : root_(std::move(root)), spa_fallback_(spa_fallback), cache_limit_(cache_limit_bytes) {}

std::string StaticFiles::canonical_root() {
  // Resolved on first use, not in the constructor: the web app may be built after the server starts.
  std::lock_guard lock(mutex_);
  if (canonical_root_.empty()) {
    std::error_code ec;
    auto canonical = fs::canonical(root_, ec);
    if (!ec) canonical_root_ = canonical.string();
  }
  return canonical_root_;
}

bool StaticFiles::has_index() const {
  std::error_code ec;
  return fs::is_regular_file(root_ / "index.html", ec);
}

bool StaticFiles::inside_root(const fs::path& file, const std::string& root) const {
  // Symbolic links inside the directory must not lead out of it.
  std::error_code ec;
  auto canonical = fs::canonical(file, ec).string();
  return !ec && !root.empty() && canonical.size() > root.size() && canonical.starts_with(root) &&
         canonical[root.size()] == '/';
}

std::shared_ptr<const std::string> StaticFiles::read(const fs::path& file) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec) return nullptr;
  auto mtime = fs::last_write_time(file, ec);
  if (ec) return nullptr;
  const auto key = file.string();
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.size == size && it->second.mtime == mtime) return it->second.data;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return nullptr;
  auto data = std::make_shared<const std::string>(std::istreambuf_iterator<char>(in),
                                                  std::istreambuf_iterator<char>());
  if (data->size() <= kMaxCachedFile) {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      cached_bytes_ -= it->second.data->size();
      cache_.erase(it);
    }
    // A built SPA is a few MiB; if a directory is much larger, start over rather than track use.
    if (cached_bytes_ + data->size() > cache_limit_) {
      cache_.clear();
      cached_bytes_ = 0;
    }
    cache_.emplace(key, CachedFile{mtime, data->size(), data});
    cached_bytes_ += data->size();
  }
  return data;
}

Response StaticFiles::file_response(const fs::path& file, std::string_view relative) {
  auto data = read(file);
  if (!data) return error_response(core::ErrorKind::not_found, "no such file", "");
  auto response = Response::text(200, *data, content_type_for(relative));
  if (relative.starts_with("assets/")) {
    // Vite puts a content hash in every file name under assets/: a changed file is a new URL.
    response.headers.set("Cache-Control", kImmutable);
  } else if (relative.ends_with(".html")) {
    response.headers.set("Cache-Control", "no-cache");
  } else {
    response.headers.set("Cache-Control", "public, max-age=3600");
  }
  return response;
}

Response StaticFiles::serve(std::string_view raw_path, std::string_view request_id) {
  auto not_found = [&] { return error_response(core::ErrorKind::not_found, "no such resource", request_id); };

  std::optional<std::string> relative;
  if (raw_path == "/api/docs" || raw_path == "/api/docs/") {
    relative = "api-docs/index.html";
  } else {
    relative = safe_relative_path(raw_path);
  }
  if (!relative) return not_found();
  if (relative->empty()) {
    if (!has_index()) {
      return error_response(core::ErrorKind::not_found,
                            "the web app is not built: build frontend/ (make build) to serve it here",
                            request_id);
    }
    relative = "index.html";
  }

  const auto root = canonical_root();
  if (root.empty()) return not_found();
  std::error_code ec;
  fs::path file = root_ / *relative;
  if (fs::is_directory(file, ec)) {
    *relative += "/index.html";
    file = root_ / *relative;
  }
  if (fs::is_regular_file(file, ec)) {
    if (!inside_root(file, root)) return not_found();
    auto response = file_response(file, *relative);
    if (response.status == 200) return response;
    return not_found();
  }
  // A path without a file extension is a client-side route of the SPA: the app's router draws it.
  if (spa_fallback_ && !has_extension(*relative) && has_index()) {
    auto response = file_response(root_ / "index.html", "index.html");
    if (response.status == 200) return response;
  }
  return not_found();
}

}  // namespace factoryops::http
