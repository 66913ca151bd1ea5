-- The rule engine's evaluation state per machine (durations under way, windows, open episodes),
-- saved every few seconds so a restarted engine carries on where it stopped.

CREATE TABLE rule_states (
  factory_id  TEXT    NOT NULL REFERENCES factories (id),
  device_id   TEXT    NOT NULL,
  state       TEXT    NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (factory_id, device_id)
) STRICT;
