-- Telemetry: per-factory retention overrides (NULL = the configured default) and the last
-- rejected payloads of each device, so a firmware developer can see why a message was refused.

ALTER TABLE factories ADD COLUMN raw_retention_days INTEGER CHECK (raw_retention_days BETWEEN 183 AND 366);
ALTER TABLE factories ADD COLUMN rollup_retention_days INTEGER CHECK (rollup_retention_days BETWEEN 730 AND 1826);

-- At most 20 rows per device are kept (older ones are deleted when a new one is recorded).
CREATE TABLE ingest_rejections (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  factory_id    TEXT    NOT NULL,
  device_id     TEXT    NOT NULL,
  received_at   INTEGER NOT NULL,
  reason        TEXT    NOT NULL,
  payload_head  TEXT    NOT NULL,
  FOREIGN KEY (factory_id, device_id) REFERENCES devices (factory_id, device_id) ON DELETE CASCADE
) STRICT;

CREATE INDEX ix_ingest_rejections_device ON ingest_rejections (factory_id, device_id, id);
