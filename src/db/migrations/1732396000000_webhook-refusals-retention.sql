-- Up Migration

-- A signed Lever delivery whose content is refused (triggeredAt outside the window, data that starts nothing) is
-- still recorded, processed, with outcome refused-stale or refused-invalid: its token is used up, so the same
-- signed envelope cannot come back later with other data. `refusal` says why.
ALTER TABLE webhook_inbox ADD COLUMN refusal text;

-- The retention job (src/api/dedupe-retention.ts) deletes processed dedupe rows once they are old enough.
CREATE INDEX webhook_inbox_processed ON webhook_inbox (processed_at) WHERE processed_at IS NOT NULL;
CREATE INDEX vendor_callbacks_processed ON vendor_callbacks (processed_at) WHERE processed_at IS NOT NULL;

-- Down Migration
DROP INDEX vendor_callbacks_processed;
DROP INDEX webhook_inbox_processed;
ALTER TABLE webhook_inbox DROP COLUMN refusal;
