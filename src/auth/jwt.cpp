#include "auth/jwt.hpp"

#include <boost/json.hpp>

#include <stdexcept>

#include "auth/crypto.hpp"
#include "core/ids.hpp"

namespace factoryops::auth {
namespace json = boost::json;
namespace {

std::optional<json::object> decode_object(std::string_view part) {
  auto raw = base64url_decode(part);
  if (!raw) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*raw, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}

std::optional<std::string> string_claim(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().as_string());
}

std::optional<std::int64_t> int_claim(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64() && it->value().as_uint64() <= INT64_MAX)
    return static_cast<std::int64_t>(it->value().as_uint64());
  return std::nullopt;
}

VerifiedToken reject(std::string why) {
  return VerifiedToken{std::nullopt, std::move(why)};
}

}  // namespace

bool is_valid_kid(std::string_view kid) {
  if (kid.empty() || kid.size() > 64) return false;
  for (char c : kid) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

KeyRing::KeyRing(std::vector<SigningKey> keys) : keys_(std::move(keys)) {
  if (keys_.empty()) throw std::invalid_argument("the key ring is empty");
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (!is_valid_kid(keys_[i].kid))
      throw std::invalid_argument("key " + std::to_string(i + 1) + ": bad kid");
    if (keys_[i].secret.empty())
      throw std::invalid_argument("key '" + keys_[i].kid + "': the secret is empty");
    for (std::size_t j = 0; j < i; ++j) {
      if (keys_[j].kid == keys_[i].kid)
        throw std::invalid_argument("kid '" + keys_[i].kid + "' appears twice");
    }
  }
}

const SigningKey* KeyRing::find(std::string_view kid) const {
  for (const auto& key : keys_) {
    if (key.kid == kid) return &key;
  }
  return nullptr;
}

std::vector<SigningKey> parse_key_file(std::string_view text) {
  std::vector<SigningKey> keys;
  std::size_t start = 0;
  int line_no = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    std::size_t space = line.find_first_of(" \t");
    std::string where = "line " + std::to_string(line_no);
    if (space == std::string_view::npos) throw std::invalid_argument(where + ": expected 'kid secret'");
    std::string_view kid = line.substr(0, space);
    std::string_view secret = line.substr(space);
    while (!secret.empty() && (secret.front() == ' ' || secret.front() == '\t')) secret.remove_prefix(1);
    if (!is_valid_kid(kid))
      throw std::invalid_argument(where + ": kid must be 1-64 characters of A-Z a-z 0-9 . _ -");
    if (secret.find_first_of(" \t") != std::string_view::npos)
      throw std::invalid_argument(where + ": the secret must not contain spaces");
    for (const auto& k : keys) {
      if (k.kid == kid) throw std::invalid_argument(where + ": kid '" + std::string(kid) + "' appears twice");
    }
    keys.push_back(SigningKey{std::string(kid), std::string(secret)});
  }
  return keys;
}

std::string sign_access_token(const KeyRing& ring, const AccessClaims& c) {
  const SigningKey& key = ring.signing();
  json::object header;
  header["alg"] = "HS256";
  header["typ"] = "JWT";
  header["kid"] = key.kid;
  json::object payload;
  payload["sub"] = std::to_string(c.user_id);
  payload["factory_id"] = c.factory_id;
  payload["factory_slug"] = c.factory_id;
  payload["role"] = role_name(c.role);
  payload["exp"] = c.expires_at;
  payload["iat"] = c.issued_at;
  payload["jti"] = c.jti;
  payload["tv"] = c.token_version;
  std::string signing_input =
      base64url_encode(json::serialize(header)) + "." + base64url_encode(json::serialize(payload));
  return signing_input + "." + base64url_encode(hmac_sha256(key.secret, signing_input));
}

VerifiedToken verify_access_token(const KeyRing& ring, std::string_view token, std::int64_t now) {
  if (token.size() > 4096) return reject("token too long");
  std::size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return reject("not a JWT");
  std::size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return reject("not a JWT");

  // The header decides nothing on its own: only HS256 with a known kid gets as far as
  // signature verification, so "alg":"none" or an RS256 header can never be honoured.
  auto header = decode_object(token.substr(0, dot1));
  if (!header) return reject("malformed header");
  auto alg = string_claim(*header, "alg");
  if (!alg || *alg != "HS256") return reject("algorithm not accepted");
  auto kid = string_claim(*header, "kid");
  if (!kid) return reject("no kid");
  const SigningKey* key = ring.find(*kid);
  if (key == nullptr) return reject("unknown kid");

  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!signature) return reject("malformed signature");
  std::string expected = hmac_sha256(key->secret, token.substr(0, dot2));
  if (!constant_time_equals(expected, *signature)) return reject("bad signature");

  auto payload = decode_object(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return reject("malformed payload");
  AccessClaims c;
  auto sub = string_claim(*payload, "sub");
  auto factory = string_claim(*payload, "factory_id");
  auto slug = string_claim(*payload, "factory_slug");
  auto role = string_claim(*payload, "role");
  auto exp = int_claim(*payload, "exp");
  auto iat = int_claim(*payload, "iat");
  auto jti = string_claim(*payload, "jti");
  auto tv = int_claim(*payload, "tv");
  if (!sub || !factory || !role || !exp || !iat || !jti || !tv) return reject("missing claims");
  if (sub->empty() || sub->size() > 18 || sub->find_first_not_of("0123456789") != std::string::npos)
    return reject("bad sub");
  if (!core::is_valid_slug(*factory) || (slug && *slug != *factory)) return reject("bad factory_id");
  auto parsed_role = parse_role(*role);
  if (!parsed_role) return reject("bad role");
  if (*exp <= now) return reject("expired");
  if (*iat > now + kClockSkewSeconds) return reject("issued in the future");
  if (auto nbf = int_claim(*payload, "nbf"); nbf && *nbf > now + kClockSkewSeconds)
    return reject("not yet valid");
  if (payload->contains("nbf") && !int_claim(*payload, "nbf")) return reject("bad nbf");
  c.user_id = std::stoll(*sub);
  c.factory_id = *factory;
  c.role = *parsed_role;
  c.issued_at = *iat;
  c.expires_at = *exp;
  c.jti = *jti;
  c.token_version = *tv;
  return VerifiedToken{std::move(c), {}};
}

}  // namespace factoryops::auth
