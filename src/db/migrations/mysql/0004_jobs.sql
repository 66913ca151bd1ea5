-- Job runtime (MySQL 8 / MariaDB 10.11): the SQL queue. Same table and indexes as the SQLite
-- twin of this file, which explains the states and columns.

CREATE TABLE jobs (
  id            BIGINT        NOT NULL AUTO_INCREMENT,
  queue         VARCHAR(64)   NOT NULL,
  task          VARCHAR(128)  NOT NULL,
  factory_id    VARCHAR(64)   NOT NULL,
  request_id    VARCHAR(128)  NOT NULL,
  payload       MEDIUMTEXT    NOT NULL,
  state         VARCHAR(16)   NOT NULL,
  attempts      INT           NOT NULL DEFAULT 0,
  available_at  BIGINT        NOT NULL,
  claim_token   VARCHAR(64)   NULL,
  last_error    VARCHAR(2000) NULL,
  enqueued_at   BIGINT        NOT NULL,
  updated_at    BIGINT        NOT NULL,
  PRIMARY KEY (id),
  KEY ix_jobs_claim (queue, state, available_at, id),
  KEY ix_jobs_factory_dead (factory_id, state, updated_at),
  KEY ix_jobs_state_updated (state, updated_at),
  CONSTRAINT ck_jobs_state CHECK (state IN ('pending', 'dead'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
