#include "db/sql_script.hpp"

namespace factoryops::db {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::vector<std::string> split_sql_script(std::string_view script) {
  std::vector<std::string> out;
  std::string current;
  bool has_code = false;  // the current statement holds something besides comments/space
  const std::size_t n = script.size();
  auto flush = [&] {
    if (has_code) {
      std::size_t first = 0;
      while (first < current.size() && is_space(current[first])) ++first;
      std::size_t last = current.size();
      while (last > first && is_space(current[last - 1])) --last;
      out.push_back(current.substr(first, last - first));
    }
    current.clear();
    has_code = false;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const char c = script[i];
    const char next = i + 1 < n ? script[i + 1] : '\0';
    if (c == '\'' || c == '"' || c == '`') {
      // Quoted text: a doubled quote or (outside backticks) a backslash escapes.
      has_code = true;
      current += c;
      for (++i; i < n; ++i) {
        current += script[i];
        if (script[i] == '\\' && c != '`' && i + 1 < n) {
          current += script[++i];
        } else if (script[i] == c) {
          if (i + 1 < n && script[i + 1] == c) {
            current += script[++i];
          } else {
            break;
          }
        }
      }
      continue;
    }
    if ((c == '-' && next == '-' && (i + 2 >= n || is_space(script[i + 2]))) || c == '#') {
      while (i < n && script[i] != '\n') current += script[i++];
      if (i < n) current += '\n';
      continue;
    }
    if (c == '/' && next == '*') {
      current += "/*";
      for (i += 2; i < n; ++i) {
        if (script[i] == '*' && i + 1 < n && script[i + 1] == '/') {
          current += "*/";
          ++i;
          break;
        }
        current += script[i];
      }
      continue;
    }
    if (c == ';') {
      flush();
      continue;
    }
    if (!is_space(c)) has_code = true;
    current += c;
  }
  flush();
  return out;
}

}  // namespace factoryops::db
