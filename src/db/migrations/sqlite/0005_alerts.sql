-- Rules and alerts: the rules of each factory (their validated definition as JSON), the alerts
-- they raise (kept permanently) and the log of every notification attempt of an alert.

-- The first schema's placeholder tables, never written by any release, give way to these:
-- five severities, the rule as one validated JSON document, and alerts that outlive their
-- rule (they keep its name).
DROP TABLE alerts;
DROP TABLE rules;

CREATE TABLE rules (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  factory_id   TEXT    NOT NULL REFERENCES factories (id),
  name         TEXT    NOT NULL,
  severity     TEXT    NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
  is_enabled   INTEGER NOT NULL DEFAULT 1 CHECK (is_enabled IN (0, 1)),
  definition   TEXT    NOT NULL,
  version      INTEGER NOT NULL DEFAULT 1,
  created_by   INTEGER,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (factory_id, name)
) STRICT;

CREATE INDEX ix_rules_factory ON rules (factory_id, id);

-- open_guard is 1 while an alert is open or acknowledged and NULL once resolved: the unique
-- index then admits one unresolved alert per (rule, machine) whatever the code path or replica,
-- and any number of resolved ones (NULLs are distinct in a unique index).
CREATE TABLE alerts (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  factory_id       TEXT    NOT NULL REFERENCES factories (id),
  rule_id          INTEGER NOT NULL,
  device_id        TEXT    NOT NULL,
  rule_name        TEXT    NOT NULL,
  severity         TEXT    NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
  status           TEXT    NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  open_guard       INTEGER CHECK (open_guard = 1),
  parameter        TEXT,
  trigger_value    REAL,
  threshold        REAL,
  message          TEXT    NOT NULL DEFAULT '',
  started_at       INTEGER NOT NULL,
  last_value       REAL,
  escalated_at     INTEGER,
  acknowledged_at  INTEGER,
  acknowledged_by  INTEGER,
  ack_comment      TEXT,
  resolved_at      INTEGER,
  resolved_by      INTEGER,
  resolution       TEXT CHECK (resolution IN ('auto', 'manual')),
  resolve_comment  TEXT,
  updated_at       INTEGER NOT NULL,
  CHECK ((status = 'resolved') = (open_guard IS NULL))
) STRICT;

CREATE UNIQUE INDEX ux_alerts_unresolved ON alerts (factory_id, rule_id, device_id, open_guard);
CREATE INDEX ix_alerts_started ON alerts (factory_id, started_at, id);
CREATE INDEX ix_alerts_status ON alerts (factory_id, status, started_at);
CREATE INDEX ix_alerts_device ON alerts (factory_id, device_id, started_at);

CREATE TABLE alert_notifications (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  factory_id    TEXT    NOT NULL,
  alert_id      INTEGER NOT NULL REFERENCES alerts (id),
  event         TEXT    NOT NULL CHECK (event IN ('opened', 'escalated', 'reminder', 'resolved')),
  channel       TEXT    NOT NULL CHECK (channel IN ('email', 'whatsapp', 'in_app')),
  recipient     TEXT    NOT NULL,
  result        TEXT    NOT NULL CHECK (result IN ('sent', 'failed')),
  detail        TEXT    NOT NULL DEFAULT '',
  provider_id   TEXT,
  attempt       INTEGER NOT NULL DEFAULT 1,
  attempted_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX ix_alert_notifications_alert ON alert_notifications (factory_id, alert_id, id);
