import type { Pool } from 'pg';

/** Vendor orders, vendor callbacks and the append-only status log of checks. */
export class CheckRepository {
  constructor(private readonly pool: Pool) {}

  async recordOrder(order: {
    connectionId: string;
    vendor: string;
    externalId: string;
    workflowId: string;
    runId: string;
    packageName: string;
  }): Promise<void> {
    await this.pool.query(
      `INSERT INTO vendor_orders (connection_id, vendor, external_id, workflow_id, run_id, package_name)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [order.connectionId, order.vendor, order.externalId, order.workflowId, order.runId, order.packageName],
    );
  }

  async findOrder(connectionId: string, vendor: string, externalId: string) {
    const result = await this.pool.query<{ workflow_id: string; run_id: string }>(
      `SELECT workflow_id, run_id FROM vendor_orders WHERE connection_id = $1 AND vendor = $2 AND external_id = $3`,
      [connectionId, vendor, externalId],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : { workflowId: row.workflow_id, runId: row.run_id };
  }

  /** Records a vendor callback once per event id; `duplicate` when it was recorded before. */
  async recordCallback(callback: {
    connectionId: string;
    vendor: string;
    eventId: string;
    eventType: string;
    objectId: string;
  }): Promise<{ id: string; duplicate: boolean; processed: boolean }> {
    const inserted = await this.pool.query<{ id: string }>(
      `INSERT INTO vendor_callbacks (connection_id, vendor, event_id, event_type, object_id)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connection_id, vendor, event_id) DO NOTHING RETURNING id`,
      [callback.connectionId, callback.vendor, callback.eventId, callback.eventType, callback.objectId],
    );
    if (inserted.rows[0] !== undefined)
      return { id: String(inserted.rows[0].id), duplicate: false, processed: false };
    const existing = await this.pool.query<{ id: string; processed_at: Date | null }>(
      `SELECT id, processed_at FROM vendor_callbacks WHERE connection_id = $1 AND vendor = $2 AND event_id = $3`,
      [callback.connectionId, callback.vendor, callback.eventId],
    );
    const row = existing.rows[0];
    if (row === undefined) throw new Error('vendor_callbacks row vanished');
    return { id: String(row.id), duplicate: true, processed: row.processed_at !== null };
  }

  async markCallbackProcessed(id: string, outcome: string): Promise<void> {
    await this.pool.query(`UPDATE vendor_callbacks SET outcome = $2, processed_at = now() WHERE id = $1`, [
      id,
      outcome,
    ]);
  }

  /** Appends one status change; a retried activity writes the same (run, seq) and changes nothing. */
  async appendStatus(entry: {
    connectionId: string;
    subjectId: string;
    workflowId: string;
    runId: string;
    seq: number;
    status: string;
    detail?: string;
  }): Promise<void> {
    await this.pool.query(
      `INSERT INTO check_status_log (connection_id, subject_id, workflow_id, run_id, seq, status, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id, seq) DO NOTHING`,
      [
        entry.connectionId,
        entry.subjectId,
        entry.workflowId,
        entry.runId,
        entry.seq,
        entry.status,
        entry.detail ?? null,
      ],
    );
  }

  async statusLog(connectionId: string, subjectId: string) {
    const result = await this.pool.query<{
      run_id: string;
      seq: number;
      status: string;
      detail: string | null;
    }>(
      `SELECT run_id, seq, status, detail FROM check_status_log
       WHERE connection_id = $1 AND subject_id = $2 ORDER BY id`,
      [connectionId, subjectId],
    );
    return result.rows.map((r) => ({ runId: r.run_id, seq: r.seq, status: r.status, detail: r.detail }));
  }
}
