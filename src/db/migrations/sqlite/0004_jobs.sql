-- Job runtime: the SQL queue (the embedded default, and the fallback while Redis is down).
-- A row is a job until it is acknowledged (then deleted) or dead-lettered (state 'dead', kept
-- with its last error until a super admin re-queues or deletes it). A pending row whose
-- claim_token is set is in flight; available_at is then the end of its visibility timeout,
-- after which another consumer may claim it again. No foreign key to factories: workers serve
-- every factory and re-check factory_id themselves; a job outliving its factory just fails.

CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  queue         TEXT    NOT NULL,
  task          TEXT    NOT NULL,
  factory_id    TEXT    NOT NULL,
  request_id    TEXT    NOT NULL,
  payload       TEXT    NOT NULL,
  state         TEXT    NOT NULL CHECK (state IN ('pending', 'dead')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  available_at  INTEGER NOT NULL,
  claim_token   TEXT,
  last_error    TEXT,
  enqueued_at   INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;

-- Claiming filters on queue and state and takes the oldest due row.
CREATE INDEX ix_jobs_claim ON jobs (queue, state, available_at, id);
-- A factory's dead letters for its super admin, newest first; and every factory's for operators.
CREATE INDEX ix_jobs_factory_dead ON jobs (factory_id, state, updated_at);
CREATE INDEX ix_jobs_state_updated ON jobs (state, updated_at);
