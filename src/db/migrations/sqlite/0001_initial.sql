-- Batch-1 schema (SQLite). Conventions, shared with the MySQL twin of this file:
--   * timestamps are INTEGER milliseconds since the Unix epoch, UTC (*_at columns);
--   * booleans are INTEGER 0/1; JSON documents are TEXT checked by json_valid();
--   * users, rules, alerts and audit_log rows have INTEGER auto-increment ids;
--   * every tenant table carries factory_id, referencing factories, and every secondary
--     index starts with factory_id (one documented exception: devices.api_key_hash).
-- STRICT tables reject values of the wrong type, as MySQL's strict mode does.

CREATE TABLE factories (
  id          TEXT    NOT NULL PRIMARY KEY,
  name        TEXT    NOT NULL,
  timezone    TEXT    NOT NULL DEFAULT 'UTC',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  factory_id     TEXT    NOT NULL REFERENCES factories (id),
  email          TEXT    NOT NULL,
  name           TEXT    NOT NULL DEFAULT '',
  password_hash  TEXT,
  role           TEXT    NOT NULL CHECK (role IN ('super_admin', 'admin')),
  permissions    TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(permissions)),
  is_active      INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  token_version  INTEGER NOT NULL DEFAULT 0,
  last_login_at  INTEGER,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  UNIQUE (factory_id, email)
) STRICT;

CREATE TABLE devices (
  factory_id      TEXT    NOT NULL REFERENCES factories (id),
  device_id       TEXT    NOT NULL,
  name            TEXT    NOT NULL,
  type            TEXT    NOT NULL DEFAULT '',
  location        TEXT,
  line            TEXT,
  rated_power_kw  REAL,
  metadata        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  api_key_hash    TEXT    NOT NULL,
  api_key_prefix  TEXT    NOT NULL,
  is_enabled      INTEGER NOT NULL DEFAULT 1 CHECK (is_enabled IN (0, 1)),
  status          TEXT    NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown', 'online', 'offline')),
  last_seen_at    INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (factory_id, device_id)
) STRICT;

-- Device authentication looks a key up before it knows the factory, hence a global index.
CREATE UNIQUE INDEX ux_devices_api_key_hash ON devices (api_key_hash);
CREATE INDEX ix_devices_status ON devices (factory_id, status);

CREATE TABLE device_parameters (
  factory_id       TEXT    NOT NULL,
  device_id        TEXT    NOT NULL,
  parameter_key    TEXT    NOT NULL,
  display_name     TEXT,
  unit             TEXT,
  data_type        TEXT    NOT NULL DEFAULT 'number',
  is_kpi_selected  INTEGER NOT NULL DEFAULT 1 CHECK (is_kpi_selected IN (0, 1)),
  first_seen_at    INTEGER NOT NULL,
  last_seen_at     INTEGER NOT NULL,
  PRIMARY KEY (factory_id, device_id, parameter_key),
  FOREIGN KEY (factory_id, device_id) REFERENCES devices (factory_id, device_id) ON DELETE CASCADE
) STRICT;

CREATE TABLE rules (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  factory_id              TEXT    NOT NULL REFERENCES factories (id),
  name                    TEXT    NOT NULL,
  description             TEXT,
  severity                TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  scope                   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(scope)),
  conditions              TEXT    NOT NULL CHECK (json_valid(conditions)),
  duration_seconds        INTEGER NOT NULL DEFAULT 0,
  clear_duration_seconds  INTEGER NOT NULL DEFAULT 0,
  hysteresis              REAL    NOT NULL DEFAULT 0,
  cooldown_seconds        INTEGER NOT NULL DEFAULT 0,
  schedule                TEXT    CHECK (schedule IS NULL OR json_valid(schedule)),
  channels                TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(channels)),
  is_enabled              INTEGER NOT NULL DEFAULT 1 CHECK (is_enabled IN (0, 1)),
  created_by              INTEGER,
  created_at              INTEGER NOT NULL,
  updated_at              INTEGER NOT NULL,
  deleted_at              INTEGER,
  UNIQUE (factory_id, id)
) STRICT;

CREATE INDEX ix_rules_enabled ON rules (factory_id, is_enabled);

CREATE TABLE alerts (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  factory_id       TEXT    NOT NULL REFERENCES factories (id),
  rule_id          INTEGER NOT NULL,
  device_id        TEXT    NOT NULL,
  severity         TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  status           TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
  trigger_value    REAL,
  threshold        REAL,
  message          TEXT    NOT NULL,
  started_at       INTEGER NOT NULL,
  acknowledged_at  INTEGER,
  acknowledged_by  INTEGER,
  ack_comment      TEXT,
  resolved_at      INTEGER,
  resolved_by      INTEGER,
  -- 1 while the alert is open or acknowledged, NULL once resolved: NULLs never collide in
  -- a UNIQUE index, so ux_alerts_open allows one active alert per (rule, device).
  open_key         INTEGER,
  CHECK ((status = 'resolved' AND open_key IS NULL) OR (status <> 'resolved' AND open_key = 1)),
  FOREIGN KEY (factory_id, rule_id) REFERENCES rules (factory_id, id)
) STRICT;

CREATE UNIQUE INDEX ux_alerts_open ON alerts (factory_id, rule_id, device_id, open_key);
CREATE INDEX ix_alerts_status ON alerts (factory_id, status, started_at);
CREATE INDEX ix_alerts_started ON alerts (factory_id, started_at);
CREATE INDEX ix_alerts_device ON alerts (factory_id, device_id, started_at);

CREATE TABLE audit_log (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  factory_id     TEXT    NOT NULL REFERENCES factories (id),
  user_id        INTEGER,
  action         TEXT    NOT NULL,
  resource_type  TEXT    NOT NULL,
  resource_id    TEXT,
  details        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
  ip             TEXT,
  request_id     TEXT,
  created_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX ix_audit_created ON audit_log (factory_id, created_at);
CREATE INDEX ix_audit_user ON audit_log (factory_id, user_id, created_at);
