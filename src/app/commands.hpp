// The commands behind the CLI, one function each. They own the process while they run
// (signal handling included) and return an exit code from app/cli.hpp.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"

namespace factoryops::app {

// Runs the given roles until SIGTERM/SIGINT, then shuts down gracefully.
int serve(const core::Config& config, const std::vector<std::string>& roles);

// Applies pending schema migrations (or, with status_only, lists them).
int migrate(const core::Config& config, bool status_only);

// Prints the effective configuration with secrets hidden.
int show_config(const core::Config& config);

}  // namespace factoryops::app
