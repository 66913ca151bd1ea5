-- Batch-1 schema (MySQL 8 / MariaDB 10.11). Same tables, columns and indexes as the SQLite
-- twin of this file; conventions:
--   * timestamps are BIGINT milliseconds since the Unix epoch, UTC (*_at columns);
--   * booleans are BOOLEAN (TINYINT(1)) 0/1; JSON documents are JSON columns;
--   * users, rules, alerts and audit_log rows have BIGINT AUTO_INCREMENT ids;
--   * every tenant table carries factory_id, referencing factories, and every secondary
--     index starts with factory_id (one documented exception: devices.api_key_hash);
--   * utf8mb4_bin collation: comparisons are byte-exact, as in SQLite.
-- DDL commits implicitly in MySQL: the runner records this file only after every
-- statement succeeded.

CREATE TABLE factories (
  id          VARCHAR(64)  NOT NULL,
  name        VARCHAR(255) NOT NULL,
  timezone    VARCHAR(64)  NOT NULL DEFAULT 'UTC',
  created_at  BIGINT       NOT NULL,
  updated_at  BIGINT       NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE users (
  id             BIGINT       NOT NULL AUTO_INCREMENT,
  factory_id     VARCHAR(64)  NOT NULL,
  email          VARCHAR(320) NOT NULL,
  name           VARCHAR(255) NOT NULL DEFAULT '',
  password_hash  VARCHAR(255) NULL,
  role           VARCHAR(16)  NOT NULL,
  permissions    JSON         NOT NULL DEFAULT ('{}'),
  is_active      BOOLEAN      NOT NULL DEFAULT 1,
  token_version  BIGINT       NOT NULL DEFAULT 0,
  last_login_at  BIGINT       NULL,
  created_at     BIGINT       NOT NULL,
  updated_at     BIGINT       NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ux_users_email (factory_id, email),
  CONSTRAINT ck_users_role CHECK (role IN ('super_admin', 'admin')),
  CONSTRAINT ck_users_active CHECK (is_active IN (0, 1)),
  CONSTRAINT fk_users_factory FOREIGN KEY (factory_id) REFERENCES factories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE devices (
  factory_id      VARCHAR(64)  NOT NULL,
  device_id       VARCHAR(64)  NOT NULL,
  name            VARCHAR(255) NOT NULL,
  type            VARCHAR(64)  NOT NULL DEFAULT '',
  location        VARCHAR(255) NULL,
  line            VARCHAR(255) NULL,
  rated_power_kw  DOUBLE       NULL,
  metadata        JSON         NOT NULL DEFAULT ('{}'),
  api_key_hash    CHAR(64)     NOT NULL,
  api_key_prefix  VARCHAR(16)  NOT NULL,
  is_enabled      BOOLEAN      NOT NULL DEFAULT 1,
  status          VARCHAR(16)  NOT NULL DEFAULT 'unknown',
  last_seen_at    BIGINT       NULL,
  created_at      BIGINT       NOT NULL,
  updated_at      BIGINT       NOT NULL,
  PRIMARY KEY (factory_id, device_id),
  -- Device authentication looks a key up before it knows the factory, hence a global index.
  UNIQUE KEY ux_devices_api_key_hash (api_key_hash),
  KEY ix_devices_status (factory_id, status),
  CONSTRAINT ck_devices_enabled CHECK (is_enabled IN (0, 1)),
  CONSTRAINT ck_devices_status CHECK (status IN ('unknown', 'online', 'offline')),
  CONSTRAINT fk_devices_factory FOREIGN KEY (factory_id) REFERENCES factories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE device_parameters (
  factory_id       VARCHAR(64)  NOT NULL,
  device_id        VARCHAR(64)  NOT NULL,
  parameter_key    VARCHAR(255) NOT NULL,
  display_name     VARCHAR(255) NULL,
  unit             VARCHAR(32)  NULL,
  data_type        VARCHAR(16)  NOT NULL DEFAULT 'number',
  is_kpi_selected  BOOLEAN      NOT NULL DEFAULT 1,
  first_seen_at    BIGINT       NOT NULL,
  last_seen_at     BIGINT       NOT NULL,
  PRIMARY KEY (factory_id, device_id, parameter_key),
  CONSTRAINT ck_device_parameters_kpi CHECK (is_kpi_selected IN (0, 1)),
  CONSTRAINT fk_device_parameters_device FOREIGN KEY (factory_id, device_id)
    REFERENCES devices (factory_id, device_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE rules (
  id                      BIGINT       NOT NULL AUTO_INCREMENT,
  factory_id              VARCHAR(64)  NOT NULL,
  name                    VARCHAR(255) NOT NULL,
  description             TEXT         NULL,
  severity                VARCHAR(16)  NOT NULL,
  scope                   JSON         NOT NULL DEFAULT ('{}'),
  conditions              JSON         NOT NULL,
  duration_seconds        BIGINT       NOT NULL DEFAULT 0,
  clear_duration_seconds  BIGINT       NOT NULL DEFAULT 0,
  hysteresis              DOUBLE       NOT NULL DEFAULT 0,
  cooldown_seconds        BIGINT       NOT NULL DEFAULT 0,
  schedule                JSON         NULL,
  channels                JSON         NOT NULL DEFAULT ('[]'),
  is_enabled              BOOLEAN      NOT NULL DEFAULT 1,
  created_by              BIGINT       NULL,
  created_at              BIGINT       NOT NULL,
  updated_at              BIGINT       NOT NULL,
  deleted_at              BIGINT       NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ux_rules_factory_id (factory_id, id),
  KEY ix_rules_enabled (factory_id, is_enabled),
  CONSTRAINT ck_rules_severity CHECK (severity IN ('info', 'warning', 'critical')),
  CONSTRAINT ck_rules_enabled CHECK (is_enabled IN (0, 1)),
  CONSTRAINT fk_rules_factory FOREIGN KEY (factory_id) REFERENCES factories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE alerts (
  id               BIGINT       NOT NULL AUTO_INCREMENT,
  factory_id       VARCHAR(64)  NOT NULL,
  rule_id          BIGINT       NOT NULL,
  device_id        VARCHAR(64)  NOT NULL,
  severity         VARCHAR(16)  NOT NULL,
  status           VARCHAR(16)  NOT NULL DEFAULT 'open',
  trigger_value    DOUBLE       NULL,
  threshold        DOUBLE       NULL,
  message          TEXT         NOT NULL,
  started_at       BIGINT       NOT NULL,
  acknowledged_at  BIGINT       NULL,
  acknowledged_by  BIGINT       NULL,
  ack_comment      TEXT         NULL,
  resolved_at      BIGINT       NULL,
  resolved_by      BIGINT       NULL,
  -- 1 while the alert is open or acknowledged, NULL once resolved: NULLs never collide in
  -- a UNIQUE index, so ux_alerts_open allows one active alert per (rule, device).
  open_key         TINYINT      NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ux_alerts_open (factory_id, rule_id, device_id, open_key),
  KEY ix_alerts_status (factory_id, status, started_at),
  KEY ix_alerts_started (factory_id, started_at),
  KEY ix_alerts_device (factory_id, device_id, started_at),
  CONSTRAINT ck_alerts_severity CHECK (severity IN ('info', 'warning', 'critical')),
  CONSTRAINT ck_alerts_status CHECK (status IN ('open', 'acknowledged', 'resolved')),
  CONSTRAINT ck_alerts_open_key
    CHECK ((status = 'resolved' AND open_key IS NULL) OR (status <> 'resolved' AND open_key = 1)),
  CONSTRAINT fk_alerts_factory FOREIGN KEY (factory_id) REFERENCES factories (id),
  CONSTRAINT fk_alerts_rule FOREIGN KEY (factory_id, rule_id) REFERENCES rules (factory_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE audit_log (
  id             BIGINT       NOT NULL AUTO_INCREMENT,
  factory_id     VARCHAR(64)  NOT NULL,
  user_id        BIGINT       NULL,
  action         VARCHAR(64)  NOT NULL,
  resource_type  VARCHAR(64)  NOT NULL,
  resource_id    VARCHAR(255) NULL,
  details        JSON         NOT NULL DEFAULT ('{}'),
  ip             VARCHAR(45)  NULL,
  request_id     VARCHAR(64)  NULL,
  created_at     BIGINT       NOT NULL,
  PRIMARY KEY (id),
  KEY ix_audit_created (factory_id, created_at),
  KEY ix_audit_user (factory_id, user_id, created_at),
  CONSTRAINT fk_audit_factory FOREIGN KEY (factory_id) REFERENCES factories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
