// Password hashing (bcrypt through libcrypt, passlib-compatible) and the password policy.
// Stateless free functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace factoryops::auth {

inline constexpr int kBcryptCost = 12;
inline constexpr std::size_t kMinPasswordChars = 12;
// bcrypt ignores everything past 72 bytes; longer passwords are refused rather than truncated.
inline constexpr std::size_t kMaxPasswordBytes = 72;

// A new "$2b$12$…" hash with a random salt.
std::string hash_password(std::string_view password);

// True when `password` matches `hash` ("$2a$", "$2b$" or "$2y$"). False for a malformed hash.
bool verify_password(std::string_view password, std::string_view hash);

// Runs one bcrypt verification against a fixed hash of the same cost, so a sign-in for an
// unknown account takes as long as one with a wrong password.
void burn_password_check(std::string_view password);

// Why `password` is not acceptable for the account (email, factory), or nullopt. The reason
// never quotes the password.
std::optional<std::string> password_problem(std::string_view password, std::string_view email,
                                            std::string_view factory_id);

// A strong random password (24 characters) for `admin create-user` when none is given.
std::string generate_password();

}  // namespace factoryops::auth
