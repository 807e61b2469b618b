import type { Pool } from 'pg';

export type DeliveryOutcome =
  'received' | 'verified' | 'ignored-event' | 'ignored-stage' | 'started' | 'already-running';

export interface InboxRow {
  id: string;
  outcome: DeliveryOutcome;
  processedAt: Date | null;
  workflowId: string | null;
}

/** The webhook inbox: every delivery is recorded before it is acknowledged, once per Lever token. */
export class WebhookInbox {
  constructor(private readonly pool: Pool) {}

  /** Records a delivery; `duplicate` is true when the same token was recorded before (a redelivery). */
  async record(delivery: {
    connectionId: string;
    source: string;
    token: string;
    event: string;
    triggeredAt: Date;
    data: unknown;
  }): Promise<{ row: InboxRow; duplicate: boolean }> {
    const inserted = await this.pool.query<Record<string, unknown>>(
      `INSERT INTO webhook_inbox (connection_id, source, token, event, triggered_at, data)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (connection_id, source, token) DO NOTHING
       RETURNING id, outcome, processed_at, workflow_id`,
      [
        delivery.connectionId,
        delivery.source,
        delivery.token,
        delivery.event,
        delivery.triggeredAt,
        JSON.stringify(delivery.data ?? null),
      ],
    );
    if (inserted.rowCount === 1) return { row: toRow(inserted.rows[0]), duplicate: false };
    const existing = await this.pool.query<Record<string, unknown>>(
      `SELECT id, outcome, processed_at, workflow_id FROM webhook_inbox
       WHERE connection_id = $1 AND source = $2 AND token = $3`,
      [delivery.connectionId, delivery.source, delivery.token],
    );
    return { row: toRow(existing.rows[0]), duplicate: true };
  }

  async markProcessed(
    id: string,
    outcome: DeliveryOutcome,
    workflow?: { workflowId: string; runId?: string },
  ) {
    await this.pool.query(
      `UPDATE webhook_inbox SET outcome = $2, workflow_id = $3, run_id = $4, processed_at = now() WHERE id = $1`,
      [id, outcome, workflow?.workflowId ?? null, workflow?.runId ?? null],
    );
  }
}

function toRow(row: Record<string, unknown> | undefined): InboxRow {
  if (row === undefined) throw new Error('webhook_inbox row vanished');
  return {
    id: String(row.id),
    outcome: row.outcome as DeliveryOutcome,
    processedAt: (row.processed_at as Date | null) ?? null,
    workflowId: (row.workflow_id as string | null) ?? null,
  };
}
