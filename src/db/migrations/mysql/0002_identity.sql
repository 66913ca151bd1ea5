-- Identity (MySQL 8 / MariaDB 10.11): refresh-token families, invitations and failed-login
-- attempts. Same tables and indexes as the SQLite twin of this file; see it for the reasons
-- behind the two global indexes.

CREATE TABLE refresh_tokens (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  factory_id  VARCHAR(64)  NOT NULL,
  user_id     BIGINT       NOT NULL,
  family_id   CHAR(32)     NOT NULL,
  token_hash  CHAR(64)     NOT NULL,
  expires_at  BIGINT       NOT NULL,
  used_at     BIGINT       NULL,
  revoked_at  BIGINT       NULL,
  created_at  BIGINT       NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ux_refresh_tokens_hash (token_hash),
  KEY ix_refresh_tokens_family (factory_id, family_id),
  KEY ix_refresh_tokens_user (factory_id, user_id),
  CONSTRAINT fk_refresh_tokens_factory FOREIGN KEY (factory_id) REFERENCES factories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE invitations (
  id           BIGINT       NOT NULL AUTO_INCREMENT,
  factory_id   VARCHAR(64)  NOT NULL,
  email        VARCHAR(320) NOT NULL,
  role         VARCHAR(16)  NOT NULL,
  permissions  JSON         NOT NULL DEFAULT ('{}'),
  token_hash   CHAR(64)     NOT NULL,
  invited_by   BIGINT       NULL,
  expires_at   BIGINT       NOT NULL,
  accepted_at  BIGINT       NULL,
  created_at   BIGINT       NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ux_invitations_hash (token_hash),
  KEY ix_invitations_email (factory_id, email),
  CONSTRAINT ck_invitations_role CHECK (role IN ('super_admin', 'admin')),
  CONSTRAINT fk_invitations_factory FOREIGN KEY (factory_id) REFERENCES factories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE login_failures (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  factory_id  VARCHAR(64)  NOT NULL,
  email       VARCHAR(320) NOT NULL,
  ip          VARCHAR(45)  NOT NULL,
  created_at  BIGINT       NOT NULL,
  PRIMARY KEY (id),
  KEY ix_login_failures_account (factory_id, email, created_at),
  KEY ix_login_failures_ip (ip, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
