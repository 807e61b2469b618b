-- Up Migration

-- The inbox relay (src/api/inbox-relay.ts) starts the workflows of deliveries that were recorded but could not be
-- started when they arrived (Temporal unreachable). A row is due when next_attempt_at has passed: the webhook
-- handler holds a fresh row for a short while, the relay leases the rows it works on, and a start that failed for
-- a reason of its own backs off. attempts and last_error tell operators what went wrong.
ALTER TABLE webhook_inbox
  ADD COLUMN attempts         integer NOT NULL DEFAULT 0,
  ADD COLUMN last_error       text,
  ADD COLUMN last_attempt_at  timestamptz,
  ADD COLUMN next_attempt_at  timestamptz NOT NULL DEFAULT now();

-- Down Migration
ALTER TABLE webhook_inbox
  DROP COLUMN next_attempt_at,
  DROP COLUMN last_attempt_at,
  DROP COLUMN last_error,
  DROP COLUMN attempts;
