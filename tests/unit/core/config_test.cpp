#include "core/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace factoryops::core {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("factoryops-config-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::string& text) {
    auto path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }

  // Returns the key named by the ConfigError thrown while loading.
  static std::string failing_key(const EnvironmentMap& env, std::optional<std::filesystem::path> file = {}) {
    try {
      load_config(env, file);
    } catch (const ConfigError& e) {
      return e.key();
    }
    return "(no error)";
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigTest, DefaultsDescribeTheEmbeddedSetup) {
  Config c = load_config({}, std::nullopt);
  EXPECT_EQ(c.http_port, 8000);
  EXPECT_EQ(c.data_dir, "./var");
  EXPECT_EQ(c.database_url, "sqlite:///./var/factoryops.db");
  EXPECT_EQ(c.tsdb_url, "embedded:");
  EXPECT_TRUE(c.redis_url.empty());
  EXPECT_FALSE(c.production());
  EXPECT_EQ(c.jwt_secret, kDevelopmentJwtSecret);
}

TEST_F(ConfigTest, EnvironmentOverridesFileWhichOverridesDefaults) {
  auto file = write("f.toml", "http_port = 9000\ndata_dir = \"/srv/fo\"\nlog_level = \"debug\"\n");
  Config c = load_config({{"FACTORYOPS_HTTP_PORT", "9100"}}, file);
  EXPECT_EQ(c.http_port, 9100);
  EXPECT_EQ(c.data_dir, "/srv/fo");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.database_url, "sqlite:////srv/fo/factoryops.db");
}

TEST_F(ConfigTest, ConfigFileCanBeNamedByEnvironment) {
  auto file = write("g.toml", "http_port = 8123\n");
  Config c = load_config({{"FACTORYOPS_CONFIG", file.string()}}, std::nullopt);
  EXPECT_EQ(c.http_port, 8123);
}

TEST_F(ConfigTest, UnknownEnvironmentVariableIsNamed) {
  EXPECT_EQ(failing_key({{"FACTORYOPS_HTTP_PROT", "1"}}), "FACTORYOPS_HTTP_PROT");
}

TEST_F(ConfigTest, ToolVariablesAreNotConfiguration) {
  EXPECT_NO_THROW(load_config({{"FACTORYOPS_TEST_LOG_DIR", "/x"},
                               {"FACTORYOPS_E2E_URL", "y"},
                               {"FACTORYOPS_UP_MQTT_ADDRESS", "0.0.0.0"}},
                              std::nullopt));
}

TEST_F(ConfigTest, UnknownFileKeyIsNamedWithTheFile) {
  auto file = write("bad.toml", "http_port = 8000\nhttp_prot = 1\n");
  std::string key = failing_key({}, file);
  EXPECT_NE(key.find("http_prot"), std::string::npos) << key;
  EXPECT_NE(key.find("bad.toml"), std::string::npos) << key;
}

TEST_F(ConfigTest, BadValuesAreRejectedWithTheirKey) {
  EXPECT_EQ(failing_key({{"FACTORYOPS_HTTP_PORT", "eighty"}}), "FACTORYOPS_HTTP_PORT");
  EXPECT_EQ(failing_key({{"FACTORYOPS_HTTP_PORT", "70000"}}), "FACTORYOPS_HTTP_PORT");
  EXPECT_EQ(failing_key({{"FACTORYOPS_HTTP_PORT", "80x"}}), "FACTORYOPS_HTTP_PORT");
  EXPECT_EQ(failing_key({{"FACTORYOPS_ENV", "staging"}}), "FACTORYOPS_ENV");
  EXPECT_EQ(failing_key({{"FACTORYOPS_LOG_LEVEL", "loud"}}), "FACTORYOPS_LOG_LEVEL");
  EXPECT_EQ(failing_key({{"FACTORYOPS_DATABASE_URL", "postgres://x"}}), "FACTORYOPS_DATABASE_URL");
  EXPECT_EQ(failing_key({{"FACTORYOPS_DATA_DIR", ""}}), "FACTORYOPS_DATA_DIR");
}

TEST_F(ConfigTest, TypeMismatchInFileIsNamed) {
  auto file = write("t.toml", "http_port = [1, 2]\n");
  EXPECT_NE(failing_key({}, file).find("http_port"), std::string::npos);
}

TEST_F(ConfigTest, SyntaxErrorInFileNamesTheFile) {
  auto file = write("s.toml", "http_port = \n");
  EXPECT_NE(failing_key({}, file).find("s.toml"), std::string::npos);
}

TEST_F(ConfigTest, MissingFileIsAnError) {
  EXPECT_NE(failing_key({}, dir_ / "absent.toml").find("absent.toml"), std::string::npos);
}

TEST_F(ConfigTest, SecretsComeFromFiles) {
  auto secret = write("jwt", "a-very-long-secret-from-a-mounted-file-0123456789\n");
  Config c = load_config({{"FACTORYOPS_JWT_SECRET_FILE", secret.string()}}, std::nullopt);
  EXPECT_EQ(c.jwt_secret, "a-very-long-secret-from-a-mounted-file-0123456789");
}

TEST_F(ConfigTest, SecretGivenTwiceIsRejected) {
  auto secret = write("jwt2", "x");
  EXPECT_EQ(failing_key({{"FACTORYOPS_JWT_SECRET", "y"}, {"FACTORYOPS_JWT_SECRET_FILE", secret.string()}}),
            "FACTORYOPS_JWT_SECRET_FILE");
}

TEST_F(ConfigTest, FileVariantOnlyExistsForSecrets) {
  EXPECT_EQ(failing_key({{"FACTORYOPS_HTTP_PORT_FILE", "/x"}}), "FACTORYOPS_HTTP_PORT_FILE");
}

TEST_F(ConfigTest, UnreadableSecretFileIsNamed) {
  EXPECT_EQ(failing_key({{"FACTORYOPS_JWT_SECRET_FILE", (dir_ / "none").string()}}),
            "FACTORYOPS_JWT_SECRET_FILE");
}

TEST_F(ConfigTest, ProductionRefusesMissingDefaultOrShortSecrets) {
  EXPECT_EQ(failing_key({{"FACTORYOPS_ENV", "production"}}), "FACTORYOPS_JWT_SECRET");
  EXPECT_EQ(failing_key({{"FACTORYOPS_ENV", "production"}, {"FACTORYOPS_JWT_SECRET", kDevelopmentJwtSecret}}),
            "FACTORYOPS_JWT_SECRET");
  EXPECT_EQ(failing_key({{"FACTORYOPS_ENV", "production"}, {"FACTORYOPS_JWT_SECRET", "short"}}),
            "FACTORYOPS_JWT_SECRET");
  Config c = load_config(
      {{"FACTORYOPS_ENV", "production"}, {"FACTORYOPS_JWT_SECRET", "0123456789abcdef0123456789abcdef-prod"}},
      std::nullopt);
  EXPECT_TRUE(c.production());
}

TEST_F(ConfigTest, MqttKeysHaveDevelopmentDefaultsAndAreValidated) {
  Config c = load_config({}, std::nullopt);
  EXPECT_EQ(c.mqtt_username, "factoryops-telemetry");
  EXPECT_EQ(c.mqtt_password, kDevelopmentMqttPassword);
  EXPECT_EQ(c.mqtt_admin_password, kDevelopmentMqttPassword);
  EXPECT_EQ(c.mqtt_provisioning, "dynsec");
  EXPECT_TRUE(c.mqtt_auth_secret.empty());
  EXPECT_EQ(c.mqtt_group_commit_ms, 200);
  EXPECT_EQ(failing_key({{"FACTORYOPS_MQTT_PROVISIONING", "acl-files"}}), "FACTORYOPS_MQTT_PROVISIONING");
  EXPECT_EQ(failing_key({{"FACTORYOPS_MQTT_GROUP_COMMIT_MS", "5000"}}), "FACTORYOPS_MQTT_GROUP_COMMIT_MS");
  EXPECT_EQ(failing_key({{"FACTORYOPS_MQTT_USERNAME", ""}}), "FACTORYOPS_MQTT_USERNAME");
  Config prod = load_config(
      {{"FACTORYOPS_ENV", "production"}, {"FACTORYOPS_JWT_SECRET", "0123456789abcdef0123456789abcdef-prod"}},
      std::nullopt);
  EXPECT_TRUE(prod.mqtt_password.empty()) << "production never falls back to the development password";
}

TEST_F(ConfigTest, DescribeHidesSecretsAndPasswords) {
  Config c = load_config({{"FACTORYOPS_DATABASE_URL", "mysql://fo:hunter2-password@db:3306/fo"},
                          {"FACTORYOPS_JWT_SECRET", "super-secret-value-0123456789"}},
                         std::nullopt);
  for (const auto& [key, value] : describe(c)) {
    EXPECT_EQ(value.find("hunter2-password"), std::string::npos) << key;
    EXPECT_EQ(value.find("super-secret-value"), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace factoryops::core
