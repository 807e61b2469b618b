import type { Pool } from 'pg';
import type { Logger } from '../logger';
import { PeriodicTask } from './periodic';

/** Pause between two passes: rows are kept for days, so an hour late changes nothing. */
const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
/** Rows deleted per statement, so one pass never holds many row locks or a long transaction. */
const BATCH = 1000;

export interface RetentionDeps {
  pool: Pool;
  logger: Logger;
  /**
   * How long a row is kept after it was processed (ms); at least the Lever webhooks' triggeredAt window
   * (WEBHOOK_RETENTION_MS ≥ LEVER_WEBHOOK_MAX_AGE_MS, checked by the config).
   */
  retentionMs: number;
  /** Only these connections (test stacks sharing one database); a production API handles every connection. */
  connectionIds?: ReadonlySet<string>;
}

export interface RetentionPass {
  webhookInbox: number;
  vendorCallbacks: number;
}

/**
 * The dedupe records (`webhook_inbox` deduped on Lever's token, `vendor_callbacks` on the vendor's event id) are
 * only needed while a redelivery may come: this deletes processed rows once they are older than the retention
 * period. An unprocessed row is never deleted (its work is still to be done). A Lever row also waits until its
 * `triggeredAt` is older than the retention, past the webhook window, so a replay of its token is refused by the
 * window when the row is gone; a replayed vendor callback only makes its check ask the vendor again. Every API
 * process runs it; deleting is idempotent.
 */
export class DedupeRetention extends PeriodicTask<RetentionPass> {
  constructor(private readonly deps: RetentionDeps) {
    super(RETENTION_INTERVAL_MS, deps.logger, 'dedupe retention');
  }

  /** Deletes what is past the retention; returns how many rows of each table. */
  async runOnce(): Promise<RetentionPass> {
    const connections = this.deps.connectionIds && [...this.deps.connectionIds];
    const pass = {
      webhookInbox: await this.deleteInBatches(
        `DELETE FROM webhook_inbox WHERE id IN (
           SELECT id FROM webhook_inbox
           WHERE processed_at < now() - $1 * interval '1 millisecond'
             AND triggered_at < now() - $1 * interval '1 millisecond'
             AND ($2::text[] IS NULL OR connection_id = ANY($2::text[]))
           LIMIT ${BATCH})`,
        connections,
      ),
      vendorCallbacks: await this.deleteInBatches(
        `DELETE FROM vendor_callbacks WHERE id IN (
           SELECT id FROM vendor_callbacks
           WHERE processed_at < now() - $1 * interval '1 millisecond'
             AND ($2::text[] IS NULL OR connection_id = ANY($2::text[]))
           LIMIT ${BATCH})`,
        connections,
      ),
    };
    if (pass.webhookInbox + pass.vendorCallbacks > 0)
      this.deps.logger.info(pass, 'dedupe rows past retention deleted');
    return pass;
  }

  private async deleteInBatches(sql: string, connections: string[] | undefined): Promise<number> {
    let deleted = 0;
    for (;;) {
      const result = await this.deps.pool.query(sql, [this.deps.retentionMs, connections ?? null]);
      deleted += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < BATCH) return deleted;
    }
  }
}
