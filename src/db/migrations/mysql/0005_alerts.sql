-- Rules and alerts (MySQL 8 / MariaDB 10.11): same tables and indexes as the SQLite twin of
-- this file. open_guard is 1 while an alert is unresolved and NULL once resolved, so the unique
-- key admits one unresolved alert per (rule, machine) and any number of resolved ones.

-- The first schema's placeholder tables, never written by any release, give way to these:
-- five severities, the rule as one validated JSON document, and alerts that outlive their
-- rule (they keep its name).
DROP TABLE alerts;
DROP TABLE rules;

CREATE TABLE rules (
  id           BIGINT        NOT NULL AUTO_INCREMENT,
  factory_id   VARCHAR(64)   NOT NULL,
  name         VARCHAR(120)  NOT NULL,
  severity     VARCHAR(16)   NOT NULL,
  is_enabled   TINYINT       NOT NULL DEFAULT 1,
  definition   MEDIUMTEXT    NOT NULL,
  version      BIGINT        NOT NULL DEFAULT 1,
  created_by   BIGINT        NULL,
  created_at   BIGINT        NOT NULL,
  updated_at   BIGINT        NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ux_rules_name (factory_id, name),
  KEY ix_rules_factory (factory_id, id),
  CONSTRAINT fk_rules_factory FOREIGN KEY (factory_id) REFERENCES factories (id),
  CONSTRAINT ck_rules_severity CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
  CONSTRAINT ck_rules_enabled CHECK (is_enabled IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE alerts (
  id               BIGINT        NOT NULL AUTO_INCREMENT,
  factory_id       VARCHAR(64)   NOT NULL,
  rule_id          BIGINT        NOT NULL,
  device_id        VARCHAR(64)   NOT NULL,
  rule_name        VARCHAR(120)  NOT NULL,
  severity         VARCHAR(16)   NOT NULL,
  status           VARCHAR(16)   NOT NULL,
  open_guard       TINYINT       NULL,
  parameter        VARCHAR(255)  NULL,
  trigger_value    DOUBLE        NULL,
  threshold        DOUBLE        NULL,
  message          VARCHAR(1024) NOT NULL DEFAULT '',
  started_at       BIGINT        NOT NULL,
  last_value       DOUBLE        NULL,
  escalated_at     BIGINT        NULL,
  acknowledged_at  BIGINT        NULL,
  acknowledged_by  BIGINT        NULL,
  ack_comment      VARCHAR(1024) NULL,
  resolved_at      BIGINT        NULL,
  resolved_by      BIGINT        NULL,
  resolution       VARCHAR(16)   NULL,
  resolve_comment  VARCHAR(1024) NULL,
  updated_at       BIGINT        NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ux_alerts_unresolved (factory_id, rule_id, device_id, open_guard),
  KEY ix_alerts_started (factory_id, started_at, id),
  KEY ix_alerts_status (factory_id, status, started_at),
  KEY ix_alerts_device (factory_id, device_id, started_at),
  CONSTRAINT fk_alerts_factory FOREIGN KEY (factory_id) REFERENCES factories (id),
  CONSTRAINT ck_alerts_severity CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
  CONSTRAINT ck_alerts_status CHECK (status IN ('open', 'acknowledged', 'resolved')),
  CONSTRAINT ck_alerts_guard CHECK (open_guard = 1),
  CONSTRAINT ck_alerts_resolution CHECK (resolution IN ('auto', 'manual')),
  CONSTRAINT ck_alerts_guard_status CHECK ((status = 'resolved') = (open_guard IS NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE alert_notifications (
  id            BIGINT        NOT NULL AUTO_INCREMENT,
  factory_id    VARCHAR(64)   NOT NULL,
  alert_id      BIGINT        NOT NULL,
  event         VARCHAR(16)   NOT NULL,
  channel       VARCHAR(16)   NOT NULL,
  recipient     VARCHAR(320)  NOT NULL,
  result        VARCHAR(16)   NOT NULL,
  detail        VARCHAR(1024) NOT NULL DEFAULT '',
  provider_id   VARCHAR(255)  NULL,
  attempt       INT           NOT NULL DEFAULT 1,
  attempted_at  BIGINT        NOT NULL,
  PRIMARY KEY (id),
  KEY ix_alert_notifications_alert (factory_id, alert_id, id),
  CONSTRAINT fk_alert_notifications_alert FOREIGN KEY (alert_id) REFERENCES alerts (id),
  CONSTRAINT ck_alert_notifications_event CHECK (event IN ('opened', 'escalated', 'reminder', 'resolved')),
  CONSTRAINT ck_alert_notifications_channel CHECK (channel IN ('email', 'whatsapp', 'in_app')),
  CONSTRAINT ck_alert_notifications_result CHECK (result IN ('sent', 'failed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
