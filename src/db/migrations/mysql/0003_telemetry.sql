-- Telemetry (MySQL 8 / MariaDB 10.11): per-factory retention overrides and the last rejected
-- payloads of each device. Same tables and indexes as the SQLite twin of this file.

ALTER TABLE factories ADD COLUMN raw_retention_days INT NULL,
  ADD COLUMN rollup_retention_days INT NULL,
  ADD CONSTRAINT ck_factories_raw_retention CHECK (raw_retention_days BETWEEN 183 AND 366),
  ADD CONSTRAINT ck_factories_rollup_retention CHECK (rollup_retention_days BETWEEN 730 AND 1826);

CREATE TABLE ingest_rejections (
  id            BIGINT        NOT NULL AUTO_INCREMENT,
  factory_id    VARCHAR(64)   NOT NULL,
  device_id     VARCHAR(64)   NOT NULL,
  received_at   BIGINT        NOT NULL,
  reason        VARCHAR(255)  NOT NULL,
  payload_head  VARCHAR(2048) NOT NULL,
  PRIMARY KEY (id),
  KEY ix_ingest_rejections_device (factory_id, device_id, id),
  CONSTRAINT fk_ingest_rejections_device FOREIGN KEY (factory_id, device_id)
    REFERENCES devices (factory_id, device_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
