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

// `admin create-factory`: a new tenant with an IANA time zone (checked against the system
// zoneinfo). Exit 2 naming the bad field, 1 when the id is taken.
int create_factory(const core::Config& config, const std::string& id, const std::string& name,
                   const std::string& timezone);

// `admin create-user`: the password is read from stdin when it is not a terminal, otherwise
// generated and printed once. Exit 2 naming the bad field, 1 when the email is taken.
int create_user(const core::Config& config, const std::string& factory_id, const std::string& email,
                const std::string& role, const std::string& name);

// `admin rotate-jwt-key`: appends a new signing key to the key file; running servers pick it
// up on SIGHUP or within seconds.
int rotate_jwt_key(const core::Config& config);

}  // namespace factoryops::app
