// The product version, set by CMake from project(VERSION). Thread-safe, static storage.
#pragma once

#include <string_view>

namespace factoryops::core {
std::string_view version();
}  // namespace factoryops::core
