// Shared set-up of the identity integration tests: a factoryops server on SQLite or on a
// fresh MariaDB database, CLI calls against the same store, and small HTTP helpers that
// register every password and token they see with the log-secrets check.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cctype>
#include <memory>
#include <string>

#include "harness/factoryops.hpp"
#include "harness/mariadb.hpp"

namespace factoryops::testing {

namespace json = boost::json;

inline json::object object_of(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

inline std::string invite_token(const std::string& url) {
  auto at = url.find("token=");
  return at == std::string::npos ? std::string() : url.substr(at + 6);
}

inline std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

inline std::string json_body(std::initializer_list<std::pair<std::string, json::value>> fields) {
  json::object o;
  for (const auto& [k, v] : fields) o[k] = v;
  return json::serialize(o);
}

// One backend ("sqlite" or "mariadb") with a running server and the environment the CLI needs
// to reach the same metadata store and data directory.
class IdentityStack {
 public:
  IdentityStack(const std::string& backend, const std::string& label,
                std::map<std::string, std::string> env = {}, const std::string& roles = "api") {
    if (backend == "mariadb" && env.count("FACTORYOPS_DATABASE_URL") != 0) {
      // A database of the caller's (e.g. on a private server a test stops).
      url_ = env["FACTORYOPS_DATABASE_URL"];
      auto migrated = run_factoryops({"migrate"}, {{"FACTORYOPS_DATABASE_URL", url_}});
      if (migrated.status != 0) throw std::runtime_error("migrate failed: " + migrated.output);
    } else if (backend == "mariadb") {
      std::string db = "fo_" + label.substr(0, 50);
      for (char& c : db)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      url_ = MariaDbServer::shared().create_database(db);
      auto migrated = run_factoryops({"migrate"}, {{"FACTORYOPS_DATABASE_URL", url_}});
      if (migrated.status != 0) throw std::runtime_error("migrate failed: " + migrated.output);
      env["FACTORYOPS_DATABASE_URL"] = url_;
    }
    ServeOptions o;
    o.label = "identity-" + backend + "-" + label;
    o.env = env;
    o.roles = roles;
    server_ = std::make_unique<FactoryopsServer>(o);
    cli_env_ = {{"FACTORYOPS_DATA_DIR", server_->data_dir().string()}};
    if (!url_.empty()) cli_env_["FACTORYOPS_DATABASE_URL"] = url_;
  }

  FactoryopsServer& server() { return *server_; }
  const std::string& database_url() const { return url_; }

  RunResult cli(const std::vector<std::string>& args,
                const std::optional<std::string>& stdin_data = std::nullopt) {
    return run_factoryops(args, cli_env_, stdin_data);
  }

  // Creates a factory and its first super_admin; returns the password (registered).
  std::string bootstrap(const std::string& factory, const std::string& email) {
    auto f = cli({"admin", "create-factory", "--id", factory, "--name", "Plant " + factory, "--timezone",
                  "Asia/Kolkata"});
    if (f.status != 0) throw std::runtime_error("create-factory failed: " + f.output);
    std::string password = make_secret(24);
    auto u = cli({"admin", "create-user", "--factory", factory, "--email", email, "--role", "super_admin",
                  "--name", "Owner"},
                 password + "\n");
    if (u.status != 0) throw std::runtime_error("create-user failed: " + u.output);
    return password;
  }

  HttpResponse login(const std::string& factory, const std::string& email, const std::string& password) {
    auto r = server_->request("POST", "/api/v1/auth/login",
                              json_body({{"factory_id", json::value(factory)},
                                         {"email", json::value(email)},
                                         {"password", json::value(password)}}),
                              {{"Content-Type", "application/json"}});
    remember_tokens(r);
    return r;
  }

  // Access token of a successful login; fails the test otherwise.
  std::string access_token(const std::string& factory, const std::string& email,
                           const std::string& password) {
    auto r = login(factory, email, password);
    EXPECT_EQ(r.status, 200) << r.body;
    auto o = object_of(r.body);
    return o.contains("access_token") ? std::string(o.at("access_token").as_string()) : std::string();
  }

  HttpResponse post(const std::string& path, const std::string& body, const std::string& token = {}) {
    auto headers = token.empty() ? std::map<std::string, std::string>{{"Content-Type", "application/json"}}
                                 : bearer(token);
    auto r = server_->request("POST", path, body, headers);
    remember_tokens(r);
    return r;
  }

  static void remember_tokens(const HttpResponse& r) {
    auto o = object_of(r.body);
    for (const char* key : {"access_token", "refresh_token", "invite_url"}) {
      if (o.contains(key) && o.at(key).is_string()) register_secret(std::string(o.at(key).as_string()));
    }
    if (o.contains("invite_url") && o.at("invite_url").is_string())
      register_secret(invite_token(std::string(o.at("invite_url").as_string())));
  }

 private:
  std::string url_;
  std::unique_ptr<FactoryopsServer> server_;
  std::map<std::string, std::string> cli_env_;
};

inline std::vector<std::string> backends() {
  std::vector<std::string> out{"sqlite"};
  if (MariaDbServer::available()) out.push_back("mariadb");
  return out;
}

inline std::string backend_name(const ::testing::TestParamInfo<std::string>& param) {
  return param.param;
}

}  // namespace factoryops::testing
