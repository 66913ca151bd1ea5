-- The rule engine's evaluation state per machine (MySQL 8 / MariaDB 10.11): same table as the
-- SQLite twin of this file.

CREATE TABLE rule_states (
  factory_id  VARCHAR(64) NOT NULL,
  device_id   VARCHAR(64) NOT NULL,
  state       MEDIUMTEXT  NOT NULL,
  updated_at  BIGINT      NOT NULL,
  PRIMARY KEY (factory_id, device_id),
  CONSTRAINT fk_rule_states_factory FOREIGN KEY (factory_id) REFERENCES factories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
