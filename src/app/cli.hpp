// The factoryops command line (serve, migrate, admin, version). Parses arguments, loads the
// configuration, and runs one command. Exit codes: 0 success, 1 runtime failure,
// 2 bad command line or configuration.
#pragma once

namespace factoryops::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int run_cli(int argc, char** argv);

}  // namespace factoryops::app
