#include "auth/password.hpp"

#include <crypt.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <stdexcept>
#include <unordered_set>

#include "auth/crypto.hpp"
#include "core/resources.hpp"

namespace factoryops::auth {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

const std::unordered_set<std::string>& common_passwords() {
  static const std::unordered_set<std::string> kList = [] {
    std::unordered_set<std::string> set;
    auto text = core::find_resource("auth/common_passwords.txt");
    if (!text) return set;
    std::size_t start = 0;
    while (start < text->size()) {
      std::size_t end = text->find('\n', start);
      if (end == std::string_view::npos) end = text->size();
      std::string_view line = text->substr(start, end - start);
      if (!line.empty() && line.front() != '#') set.insert(lower(line));
      start = end + 1;
    }
    return set;
  }();
  return kList;
}

// "aaaaaaaaaaaa", "abcabcabcabc", "121212121212": a unit of at most four characters repeated.
bool is_repetition(std::string_view p) {
  for (std::size_t unit = 1; unit <= 4 && unit < p.size(); ++unit) {
    bool repeats = true;
    for (std::size_t i = unit; i < p.size() && repeats; ++i) repeats = p[i] == p[i - unit];
    if (repeats) return true;
  }
  return false;
}

// "abcdefghijkl", "123456789012" (wrapping 9 -> 0), "zyxwvutsrqpo": each character one
// step from the previous, in one direction.
bool is_sequence(std::string_view p) {
  auto step = [](char a, char b) {
    if (std::isdigit(static_cast<unsigned char>(a)) && std::isdigit(static_cast<unsigned char>(b))) {
      return ((b - a) % 10 + 10) % 10 == 1 ? 1 : ((a - b) % 10 + 10) % 10 == 1 ? -1 : 0;
    }
    char la = static_cast<char>(std::tolower(static_cast<unsigned char>(a)));
    char lb = static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
    return lb - la == 1 ? 1 : la - lb == 1 ? -1 : 0;
  };
  if (p.size() < 2) return false;
  int direction = step(p[0], p[1]);
  if (direction == 0) return false;
  for (std::size_t i = 2; i < p.size(); ++i) {
    if (step(p[i - 1], p[i]) != direction) return false;
  }
  return true;
}

struct CryptData {
  struct crypt_data data {};
};

std::optional<std::string> run_crypt(std::string_view password, const std::string& setting) {
  std::string phrase(password);
  auto data = std::make_unique<CryptData>();
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), &data->data, sizeof(data->data));
  if (out == nullptr || out[0] == '*') return std::nullopt;
  return std::string(out);
}

}  // namespace

std::string hash_password(std::string_view password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  std::string salt = random_bytes(16);
  if (crypt_gensalt_rn("$2b$", kBcryptCost, salt.data(), static_cast<int>(salt.size()), setting,
                       sizeof(setting)) == nullptr) {
    throw std::runtime_error("cannot create a bcrypt salt");
  }
  auto hash = run_crypt(password, setting);
  if (!hash) throw std::runtime_error("bcrypt hashing failed");
  return *hash;
}

bool verify_password(std::string_view password, std::string_view hash) {
  if (hash.size() < 7 ||
      !(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$"))) {
    return false;
  }
  auto computed = run_crypt(password, std::string(hash));
  return computed && constant_time_equals(*computed, hash);
}

void burn_password_check(std::string_view password) {
  // A cost-12 hash of a random password nobody kept: a constant, so even the first unknown
  // account costs exactly one verification.
  static constexpr std::string_view kDummy = "$2b$12$QvxGJ1xCk8hmCYa.Qc5te.LddWCKSXJxMK99Rff8A8rKPlGvlYuPC";
  (void)verify_password(password, kDummy);
}

std::optional<std::string> password_problem(std::string_view password, std::string_view email,
                                            std::string_view factory_id) {
  if (utf8_length(password) < kMinPasswordChars) {
    return "must be at least " + std::to_string(kMinPasswordChars) + " characters long";
  }
  if (password.size() > kMaxPasswordBytes) {
    return "must be at most " + std::to_string(kMaxPasswordBytes) + " bytes long";
  }
  if (password.find('\0') != std::string_view::npos) return "must not contain NUL characters";
  if (is_repetition(password)) return "must not be one character or a short pattern repeated";
  if (is_sequence(password)) return "must not be a run of consecutive characters";
  std::string p = lower(password);
  const auto& common = common_passwords();
  if (common.count(p) != 0) return "is too common; choose a less predictable password";
  // "password2024!" is as guessable as "password": strip trailing digits and symbols.
  std::string base = p;
  while (!base.empty() && !std::isalpha(static_cast<unsigned char>(base.back()))) base.pop_back();
  if (base.size() >= 4 && common.count(base) != 0) return "is a common password with digits or symbols added";
  std::string local = lower(email.substr(0, email.find('@')));
  if (local.size() >= 3 && p.find(local) != std::string::npos) return "must not contain your email address";
  std::string factory = lower(factory_id);
  if (factory.size() >= 3 && p.find(factory) != std::string::npos) return "must not contain the factory id";
  return std::nullopt;
}

std::string generate_password() {
  // 18 random bytes -> 24 base64url characters, about 144 bits.
  return random_token(18);
}

}  // namespace factoryops::auth
