-- Up Migration

-- A signed Lever delivery whose content is refused (triggeredAt outside the window, data that starts nothing) is
-- still recorded, processed, with outcome refused-stale or refused-invalid: its token is used up, so the same
-- signed envelope cannot come back later with other data. `refusal` says why.
ALTER TABLE webhook_inbox ADD COLUMN refusal text;

-- The retention job (src/api/dedupe-retention.ts) deletes processed dedupe rows once they are old enough.
CREATE INDEX webhook_inbox_processed ON webhook_inbox (processed_at) WHERE processed_at IS NOT NULL;
CREATE INDEX vendor_callbacks_processed ON vendor_callbacks (processed_at) WHERE processed_at IS NOT NULL;
-- The job runs in the API, as the runtime role: it may delete from these two tables, and only these.
GRANT DELETE ON webhook_inbox, vendor_callbacks TO bgc_runtime;

-- Down Migration
REVOKE DELETE ON webhook_inbox, vendor_callbacks FROM bgc_runtime;
DROP INDEX vendor_callbacks_processed;
DROP INDEX webhook_inbox_processed;
ALTER TABLE webhook_inbox DROP COLUMN refusal;
