-- Up Migration

-- Lever allows 10 requests/s per API key, whichever process sends them: every API and worker process reserves
-- the slot of each Lever request here first (src/integrations/lever/shared-rate-limit.ts), one row per API key.
-- `key_id` is apiKeyId(): a SHA-256 prefix of the key, never the key. `tat` is the key's theoretical arrival time
-- (GCRA): the next slot is `GREATEST(tat, now) + interval - burst * interval`, on PostgreSQL's clock, so all
-- processes share one clock. Unlogged: the rows change on every Lever request and are worth nothing after a crash
-- (PostgreSQL then empties the table, and the limit starts again from a full burst).
CREATE UNLOGGED TABLE lever_rate_limits (
  key_id text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{32}$'),
  tat timestamptz NOT NULL
);

-- The API and the worker reserve slots (INSERT … ON CONFLICT DO UPDATE); nothing deletes: one small row per key.
GRANT SELECT, INSERT, UPDATE ON lever_rate_limits TO bgc_runtime;

-- Down Migration
REVOKE ALL ON lever_rate_limits FROM bgc_runtime;
DROP TABLE lever_rate_limits;
