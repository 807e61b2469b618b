-- Up Migration

-- A connection over its whole life: changed (version, updated_at), paused (webhooks recorded, nothing started), deleted
-- (webhook URLs gone; running checks may still finish) and, once no check of it runs any more, its secrets erased.
-- The row itself stays: the status log and the events below refer to it for audit.
ALTER TABLE connections
  ADD COLUMN version           integer NOT NULL DEFAULT 1,
  ADD COLUMN updated_at        timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN paused_at         timestamptz,
  ADD COLUMN deleted_at        timestamptz,
  ADD COLUMN secrets_erased_at timestamptz;
UPDATE connections SET updated_at = created_at;

ALTER TABLE connections DROP CONSTRAINT connections_secrets_one_form;
ALTER TABLE connections ADD CONSTRAINT connections_secrets_one_form
  CHECK (num_nonnulls(secrets, secrets_sealed) = CASE WHEN secrets_erased_at IS NULL THEN 1 ELSE 0 END);
ALTER TABLE connections ADD CONSTRAINT connections_erased_only_when_deleted
  CHECK (secrets_erased_at IS NULL OR deleted_at IS NOT NULL);

-- Every change to a connection, by an admin or by the service: what changed (paths, and values that are not
-- secrets), when, and who (a fingerprint of the admin token, never the token). Append-only, like the status log.
CREATE TABLE connection_events (
  id             bigserial PRIMARY KEY,
  connection_id  text NOT NULL REFERENCES connections (id),
  action         text NOT NULL,
  actor          text NOT NULL,
  changes        jsonb NOT NULL DEFAULT '[]',
  detail         jsonb,
  at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connection_events_by_connection ON connection_events (connection_id, id);

CREATE FUNCTION connection_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'connection_events is append-only';
END;
$$;
CREATE TRIGGER connection_events_no_change BEFORE UPDATE OR DELETE ON connection_events
  FOR EACH ROW EXECUTE FUNCTION connection_events_are_append_only();

-- Down Migration
DROP TABLE connection_events;
DROP FUNCTION connection_events_are_append_only();
ALTER TABLE connections DROP CONSTRAINT connections_erased_only_when_deleted;
ALTER TABLE connections DROP CONSTRAINT connections_secrets_one_form;
ALTER TABLE connections ADD CONSTRAINT connections_secrets_one_form CHECK (num_nonnulls(secrets, secrets_sealed) = 1);
ALTER TABLE connections
  DROP COLUMN secrets_erased_at,
  DROP COLUMN deleted_at,
  DROP COLUMN paused_at,
  DROP COLUMN updated_at,
  DROP COLUMN version;
