import type { Pool } from 'pg';
import { z } from 'zod';

export type DeliveryOutcome =
  | 'received'
  | 'verified'
  | 'ignored-event'
  | 'ignored-stage'
  | 'started'
  | 'already-running'
  /** The delivery would have started a workflow, but its connection was paused. */
  | 'paused'
  /** The connection was deleted before the delivery's workflow could be started. */
  | 'connection-deleted'
  /** The ATS cancelled what the delivery started before its workflow was started (Ashby: assessment.cancel). */
  | 'cancelled'
  /** Signed, but its triggeredAt is outside the accepted window (see README, Security): refused, token used up. */
  | 'refused-stale'
  /** Signed, but its envelope or data cannot be acted on: refused, token used up. */
  | 'refused-invalid';

export type RefusedOutcome = Extract<DeliveryOutcome, `refused-${string}`>;

export const isRefused = (outcome: DeliveryOutcome): outcome is RefusedOutcome =>
  outcome.startsWith('refused-');

export interface InboxRow {
  id: string;
  outcome: DeliveryOutcome;
  processedAt: Date | null;
  workflowId: string | null;
  /** Failed start attempts so far. */
  attempts: number;
}

/** A recorded delivery whose workflow is still to be started, as the relay leases it. */
export interface PendingDelivery {
  id: string;
  connectionId: string;
  /** The ATS that sent it (`lever`, `ashby`): whose module decides what it starts. */
  source: string;
  event: string;
  data: unknown;
  /** Failed start attempts so far. */
  attempts: number;
  receivedAt: Date;
}

/**
 * How long a fresh delivery belongs to the request that recorded it (which tries to start its workflow at once);
 * only after that may the relay take it, e.g. when the API process died between recording and starting.
 */
export const HANDLER_HOLD_MS = 30_000;

const pendingRowSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  connection_id: z.string(),
  source: z.string(),
  event: z.string(),
  data: z.unknown(),
  attempts: z.number().int(),
  received_at: z.date(),
});

/**
 * The webhook inbox: every delivery is recorded before it is acknowledged, once per Lever token. A row stays
 * unprocessed (`processed_at IS NULL`) until what it asked for is done; the relay finishes those the request
 * could not (see src/api/inbox-relay.ts).
 */
export class WebhookInbox {
  constructor(private readonly pool: Pool) {}

  /**
   * Records a delivery; `duplicate` is true when the same token was recorded before (a redelivery). A new row is
   * held for the recording request for `holdMs` before the relay may take it. `db`: a transaction the row is to
   * commit with (Ashby's assessment and its start), else the pool.
   */
  async record(
    delivery: {
      connectionId: string;
      source: string;
      token: string;
      event: string;
      triggeredAt: Date;
      data: unknown;
    },
    holdMs = HANDLER_HOLD_MS,
    db: Pick<Pool, 'query'> = this.pool,
  ): Promise<{ row: InboxRow; duplicate: boolean }> {
    const inserted = await db.query<Record<string, unknown>>(
      `INSERT INTO webhook_inbox (connection_id, source, token, event, triggered_at, data, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + $7 * interval '1 millisecond')
       ON CONFLICT (connection_id, source, token) DO NOTHING
       RETURNING id, outcome, processed_at, workflow_id, attempts`,
      [
        delivery.connectionId,
        delivery.source,
        delivery.token,
        delivery.event,
        delivery.triggeredAt,
        JSON.stringify(delivery.data ?? null),
        holdMs,
      ],
    );
    if (inserted.rowCount === 1) return { row: toRow(inserted.rows[0]), duplicate: false };
    const existing = await db.query<Record<string, unknown>>(
      `SELECT id, outcome, processed_at, workflow_id, attempts FROM webhook_inbox
       WHERE connection_id = $1 AND source = $2 AND token = $3`,
      [delivery.connectionId, delivery.source, delivery.token],
    );
    return { row: toRow(existing.rows[0]), duplicate: true };
  }

  /**
   * Records a signed delivery whose content is refused, already processed and without its data, so its token
   * is used up: a later delivery with the same token is a duplicate. An earlier row of the token stays as it is.
   */
  async recordRefused(delivery: {
    connectionId: string;
    source: string;
    token: string;
    event: string;
    triggeredAt: Date;
    outcome: RefusedOutcome;
    refusal: string;
  }): Promise<void> {
    await this.pool.query(
      `INSERT INTO webhook_inbox
         (connection_id, source, token, event, triggered_at, data, outcome, refusal, processed_at)
       VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, now())
       ON CONFLICT (connection_id, source, token) DO NOTHING`,
      [
        delivery.connectionId,
        delivery.source,
        delivery.token,
        delivery.event,
        delivery.triggeredAt,
        delivery.outcome,
        delivery.refusal.slice(0, 2000),
      ],
    );
  }

  /**
   * Marks a delivery done. The first to finish a row wins (the request and the relay may race on it, or a cancel);
   * the outcome the row has then.
   */
  async markProcessed(
    id: string,
    outcome: DeliveryOutcome,
    workflow?: { workflowId: string; runId?: string },
  ): Promise<DeliveryOutcome> {
    // One round trip: the row as this statement left it, or (processed before) as it was.
    const result = await this.pool.query<{ outcome: DeliveryOutcome }>(
      `WITH done AS (
         UPDATE webhook_inbox
         SET outcome = $2, workflow_id = $3, run_id = $4, processed_at = now(), last_attempt_at = now()
         WHERE id = $1 AND processed_at IS NULL
         RETURNING outcome
       )
       SELECT outcome FROM (
         SELECT outcome, 0 AS pick FROM done UNION ALL SELECT outcome, 1 FROM webhook_inbox WHERE id = $1
       ) AS rows ORDER BY pick LIMIT 1`,
      [id, outcome, workflow?.workflowId ?? null, workflow?.runId ?? null],
    );
    return result.rows[0]?.outcome ?? outcome;
  }

  /** `markProcessed` for many rows in one statement (rows processed meanwhile are left as they are). */
  async markProcessedMany(
    rows: readonly { id: string; outcome: DeliveryOutcome; workflowId?: string; runId?: string }[],
  ): Promise<void> {
    if (rows.length === 0) return;
    await this.pool.query(
      `UPDATE webhook_inbox AS w
       SET outcome = v.outcome, workflow_id = v.workflow_id, run_id = v.run_id, processed_at = now(),
           last_attempt_at = now()
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS v (id, outcome, workflow_id, run_id)
       WHERE w.id = v.id AND w.processed_at IS NULL`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.outcome),
        rows.map((r) => r.workflowId ?? null),
        rows.map((r) => r.runId ?? null),
      ],
    );
  }

  /**
   * Marks the unprocessed row of one recorded start `cancelled`, so that nobody starts it any more; false when
   * there is none (never recorded, or already started or processed).
   */
  async cancelPending(connectionId: string, source: string, token: string): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE webhook_inbox SET outcome = 'cancelled', processed_at = now(), last_attempt_at = now()
       WHERE connection_id = $1 AND source = $2 AND token = $3 AND processed_at IS NULL`,
      [connectionId, source, token],
    );
    return result.rowCount === 1;
  }

  /** A start attempt failed: counts it, keeps the error and makes the row due again in `retryInMs`. */
  async recordFailure(id: string, error: string, retryInMs: number): Promise<void> {
    await this.pool.query(
      `UPDATE webhook_inbox SET attempts = attempts + 1, last_error = $2, last_attempt_at = now(),
         next_attempt_at = now() + $3 * interval '1 millisecond'
       WHERE id = $1 AND processed_at IS NULL`,
      [id, error.slice(0, 2000), Math.max(0, Math.round(retryInMs))],
    );
  }

  /**
   * Leases up to `limit` due unprocessed deliveries of `source`, oldest first: they are not due again for
   * `leaseMs`, so nobody else takes them meanwhile. `FOR UPDATE SKIP LOCKED` lets several relays claim at once
   * without waiting for or double-claiming each other's rows. `connectionIds` narrows it to some connections
   * (test stacks sharing one database).
   */
  async claimDue(options: {
    /** One source or several (`webhook_inbox.source`: the ATS kind). */
    source: string | readonly string[];
    limit: number;
    leaseMs: number;
    connectionIds?: readonly string[];
  }): Promise<PendingDelivery[]> {
    const claimed = await this.pool.query<Record<string, unknown>>(
      `UPDATE webhook_inbox AS i SET next_attempt_at = now() + $3 * interval '1 millisecond'
       FROM (
         SELECT id FROM webhook_inbox
         WHERE processed_at IS NULL AND source = ANY($1::text[]) AND next_attempt_at <= now()
           AND ($4::text[] IS NULL OR connection_id = ANY($4::text[]))
         ORDER BY received_at, id
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       ) AS due
       WHERE i.id = due.id
       RETURNING i.id, i.connection_id, i.source, i.event, i.data, i.attempts, i.received_at`,
      [
        typeof options.source === 'string' ? [options.source] : options.source,
        options.limit,
        options.leaseMs,
        options.connectionIds ?? null,
      ],
    );
    return claimed.rows
      .map((row) => {
        const r = pendingRowSchema.parse(row);
        return {
          id: r.id,
          connectionId: r.connection_id,
          source: r.source,
          event: r.event,
          data: r.data,
          attempts: r.attempts,
          receivedAt: r.received_at,
        };
      })
      .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || Number(a.id) - Number(b.id));
  }

  /** Gives back leased deliveries that were not attempted: due again at once. */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(
      `UPDATE webhook_inbox SET next_attempt_at = now() WHERE id = ANY($1::bigint[]) AND processed_at IS NULL`,
      [ids],
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
    attempts: Number(row.attempts ?? 0),
  };
}
