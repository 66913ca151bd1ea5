-- Identity (SQLite): refresh-token families, invitations and failed-login attempts. Same
-- conventions as 0001_initial; the MySQL twin of this file has the same tables and indexes.

-- Refresh tokens are stored as SHA-256 digests only. A refresh looks its token up before it
-- knows the factory, hence the global unique index on token_hash (like devices.api_key_hash).
CREATE TABLE refresh_tokens (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  factory_id  TEXT    NOT NULL REFERENCES factories (id),
  user_id     INTEGER NOT NULL,
  family_id   TEXT    NOT NULL,
  token_hash  TEXT    NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  revoked_at  INTEGER,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX ux_refresh_tokens_hash ON refresh_tokens (token_hash);
CREATE INDEX ix_refresh_tokens_family ON refresh_tokens (factory_id, family_id);
CREATE INDEX ix_refresh_tokens_user ON refresh_tokens (factory_id, user_id);

-- One-time invitations; accepting one creates the user. Looked up by token digest.
CREATE TABLE invitations (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  factory_id   TEXT    NOT NULL REFERENCES factories (id),
  email        TEXT    NOT NULL,
  role         TEXT    NOT NULL CHECK (role IN ('super_admin', 'admin')),
  permissions  TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(permissions)),
  token_hash   TEXT    NOT NULL,
  invited_by   INTEGER,
  expires_at   INTEGER NOT NULL,
  accepted_at  INTEGER,
  created_at   INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX ux_invitations_hash ON invitations (token_hash);
CREATE INDEX ix_invitations_email ON invitations (factory_id, email);

-- Failed sign-ins, counted per (factory, email) and per client address over a sliding
-- window. factory_id is whatever the client sent (the factory may not exist), so there is no
-- foreign key, and the per-address index cannot start with it.
CREATE TABLE login_failures (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  factory_id  TEXT    NOT NULL,
  email       TEXT    NOT NULL,
  ip          TEXT    NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX ix_login_failures_account ON login_failures (factory_id, email, created_at);
CREATE INDEX ix_login_failures_ip ON login_failures (ip, created_at);
