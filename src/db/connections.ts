import { randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { atsKinds, atsModuleFor } from '../ats';
import type { Connection, ConnectionSummary } from '../ats/connection';
import type { ConnectionLifecycle } from '../domain/connection';
import { inTransaction } from './pool';
import { sealedEnvelopeSchema, type SecretBox, type SealedEnvelope } from './secret-box';

/** What `secrets_sealed` holds once decrypted (and `secrets` held in plain text before it existed). */
const secretsSchema = z.object({ ats: z.unknown(), vendor: z.unknown() });
type Secrets = z.infer<typeof secretsSchema>;

const rowSchema = z.object({
  id: z.string(),
  name: z.string(),
  ats: z.enum(atsKinds),
  vendor: z.string(),
  settings: z.object({ ats: z.unknown(), vendor: z.unknown() }),
  /** Plain text, only in rows written before secrets were encrypted and not yet sealed (rotate-secrets). */
  secrets: secretsSchema.nullable(),
  secrets_sealed: sealedEnvelopeSchema.nullable(),
  created_at: z.date(),
  version: z.number().int(),
  updated_at: z.date(),
  paused_at: z.date().nullable(),
  deleted_at: z.date().nullable(),
  secrets_erased_at: z.date().nullable(),
});
type Row = z.infer<typeof rowSchema>;

function lifecycleOf(r: Row): ConnectionLifecycle {
  return {
    status: r.deleted_at !== null ? 'deleted' : r.paused_at !== null ? 'paused' : 'active',
    version: r.version,
    updatedAt: r.updated_at,
    pausedAt: r.paused_at,
    deletedAt: r.deleted_at,
    secretsErasedAt: r.secrets_erased_at,
  };
}

function summaryOf(r: Row): ConnectionSummary {
  return {
    id: r.id,
    name: r.name,
    ats: { kind: r.ats, settings: atsModuleFor(r.ats).settingsSchema.parse(r.settings.ats) },
    vendor: r.vendor,
    vendorSettings: r.settings.vendor,
    createdAt: r.created_at,
    lifecycle: lifecycleOf(r),
  };
}

function toConnection(r: Row, secrets: Secrets): Connection {
  const ats = atsModuleFor(r.ats).config(r.settings.ats, secrets.ats);
  return { ...summaryOf(r), ats, vendorSecrets: secrets.vendor };
}

export type NewConnection = Pick<Connection, 'name' | 'ats' | 'vendor' | 'vendorSettings' | 'vendorSecrets'>;

/** What an admin (or the service itself) did to a connection. */
export type ConnectionAction =
  'created' | 'updated' | 'paused' | 'resumed' | 'deleted' | 'workflows-cancelled' | 'secrets-erased';

/** One changed setting: its values when it is not a secret, only the fact that it changed when it is. */
export type SettingChange = { path: string; from: unknown; to: unknown } | { path: string; secret: true };

export interface ConnectionEvent {
  id: string;
  at: Date;
  action: ConnectionAction;
  /** `admin:<token fingerprint>` or `service`. */
  actor: string;
  changes: SettingChange[];
  detail: unknown;
}

/** An event about to be appended: who did it, and what changed when the action alone does not say. */
export interface EventInput {
  actor: string;
  changes?: SettingChange[];
  detail?: unknown;
}

const eventRowSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  at: z.date(),
  action: z.string(),
  actor: z.string(),
  changes: z.array(z.unknown()),
  detail: z.unknown(),
});

/** A connection as the public routes read it: without its secrets, and with them unless they were erased. */
export interface ConnectionLookup {
  summary: ConnectionSummary;
  connection: Connection | undefined;
}

/** Why an activity cannot use a connection any more: it is not there, or it was deleted and its secrets erased. */
export class ConnectionUnavailable extends Error {
  override readonly name = 'ConnectionUnavailable';
}

/**
 * Connections in PostgreSQL. Their secrets (ATS and vendor API keys, signature tokens, callback and partner
 * secrets) are stored only encrypted, in `secrets_sealed` (see secret-box.ts), bound to the connection id. The
 * box comes from the constructor; without one it is read from the environment (SECRETS_KEYS, SECRETS_KEY_ID).
 * Every change is appended to `connection_events` in the same transaction.
 */
export class ConnectionRepository {
  private readonly changeListeners = new Set<(id: string) => void>();

  /** `box` seals and opens the secrets: the entry points make it from their configuration (secretBoxFromConfig). */
  constructor(
    private readonly pool: Pool,
    private readonly box: SecretBox,
  ) {}

  /** Calls `listener` with the id of each connection this repository changed, once the change is committed. */
  onChange(listener: (id: string) => void): void {
    this.changeListeners.add(listener);
  }

  private changed<T>(id: string, result: T): T {
    for (const listener of this.changeListeners) listener(id);
    return result;
  }

  async create(input: NewConnection, event: EventInput): Promise<Connection> {
    const id = `conn_${randomBytes(12).toString('hex')}`;
    const secrets: Secrets = { ats: input.ats.secrets, vendor: input.vendorSecrets };
    const created = await inTransaction(this.pool, async (client) => {
      const result = await client.query(
        `INSERT INTO connections (id, name, ats, vendor, settings, secrets_sealed)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [
          id,
          input.name,
          input.ats.kind,
          input.vendor,
          JSON.stringify({ ats: input.ats.settings, vendor: input.vendorSettings }),
          JSON.stringify(this.box.seal(secrets, id)),
        ],
      );
      await appendEvent(client, id, 'created', event);
      return this.fromRow(result.rows[0]);
    });
    return this.changed(id, created);
  }

  /** The connection with its secrets, or undefined when there is none or its secrets were erased. */
  async find(id: string): Promise<Connection | undefined> {
    return (await this.lookup(id))?.connection;
  }

  async get(id: string): Promise<Connection> {
    const found = await this.find(id);
    if (found === undefined)
      throw new ConnectionUnavailable(`connection ${id} does not exist or was deleted`);
    return found;
  }

  /** The connection without its secrets (nothing is decrypted), deleted ones included. */
  async findSummary(id: string): Promise<ConnectionSummary | undefined> {
    const result = await this.pool.query('SELECT * FROM connections WHERE id = $1', [id]);
    return result.rowCount === 0 ? undefined : summaryOf(rowSchema.parse(result.rows[0]));
  }

  /**
   * `findSummary` and `find` in one read: the connection without its secrets (deleted ones included) and, unless
   * they were erased, with them; undefined when there is no such connection.
   */
  async lookup(id: string): Promise<ConnectionLookup | undefined> {
    const result = await this.pool.query('SELECT * FROM connections WHERE id = $1', [id]);
    if (result.rowCount === 0) return undefined;
    const row = rowSchema.parse(result.rows[0]);
    return {
      summary: summaryOf(row),
      connection: row.secrets_erased_at === null ? toConnection(row, this.secretsOf(row)) : undefined,
    };
  }

  /** Every connection whose secrets are still there, decrypted. */
  async list(): Promise<Connection[]> {
    const result = await this.pool.query(
      'SELECT * FROM connections WHERE secrets_erased_at IS NULL ORDER BY created_at',
    );
    return result.rows.map((row) => this.fromRow(row));
  }

  async summaries(options: { includeDeleted: boolean }): Promise<ConnectionSummary[]> {
    const result = await this.pool.query(
      `SELECT * FROM connections WHERE $1 OR deleted_at IS NULL ORDER BY created_at, id`,
      [options.includeDeleted],
    );
    return result.rows.map((row) => summaryOf(rowSchema.parse(row)));
  }

  /**
   * Replaces the settings and secrets of a connection that is not deleted, if it is still at `expectedVersion`
   * (else `conflict`: somebody changed it meanwhile; read it again and retry).
   */
  async update(
    id: string,
    expectedVersion: number,
    next: NewConnection,
    event: EventInput,
  ): Promise<Connection | 'conflict'> {
    const secrets: Secrets = { ats: next.ats.secrets, vendor: next.vendorSecrets };
    const updated = await inTransaction(this.pool, async (client) => {
      const result = await client.query(
        `UPDATE connections SET name = $2, settings = $3, secrets_sealed = $4, secrets = NULL,
           version = version + 1, updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL AND version = $5 RETURNING *`,
        [
          id,
          next.name,
          JSON.stringify({ ats: next.ats.settings, vendor: next.vendorSettings }),
          JSON.stringify(this.box.seal(secrets, id)),
          expectedVersion,
        ],
      );
      if (result.rowCount === 0) return 'conflict';
      await appendEvent(client, id, 'updated', event);
      return this.fromRow(result.rows[0]);
    });
    return this.changed(id, updated);
  }

  /**
   * Pauses or resumes a connection that is not deleted. `changed` is false when it already was in that state
   * (nothing is written then); undefined when there is no such connection or it was deleted.
   */
  async setPaused(
    id: string,
    paused: boolean,
    event: EventInput,
  ): Promise<{ connection: ConnectionSummary; changed: boolean } | undefined> {
    const outcome = await inTransaction(this.pool, async (client) => {
      const result = await client.query(
        `UPDATE connections SET paused_at = CASE WHEN $2 THEN now() END, version = version + 1, updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL AND (paused_at IS NULL) = $2 RETURNING *`,
        [id, paused],
      );
      if (result.rowCount === 1) {
        await appendEvent(client, id, paused ? 'paused' : 'resumed', event);
        return { connection: summaryOf(rowSchema.parse(result.rows[0])), changed: true };
      }
      const current = await client.query('SELECT * FROM connections WHERE id = $1 AND deleted_at IS NULL', [
        id,
      ]);
      return current.rowCount === 0
        ? undefined
        : { connection: summaryOf(rowSchema.parse(current.rows[0])), changed: false };
    });
    return this.changed(id, outcome);
  }

  /** Marks a connection deleted; false when there is none or it already was. Its secrets stay until erased. */
  async markDeleted(id: string, event: EventInput): Promise<boolean> {
    const deleted = await inTransaction(this.pool, async (client) => {
      const result = await client.query(
        `UPDATE connections SET deleted_at = now(), version = version + 1, updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL`,
        [id],
      );
      if (result.rowCount === 0) return false;
      await appendEvent(client, id, 'deleted', event);
      return true;
    });
    return this.changed(id, deleted);
  }

  /** Erases the secrets of a deleted connection (once); true when this call erased them. */
  async eraseSecrets(id: string, event: EventInput): Promise<boolean> {
    const erased = await inTransaction(this.pool, async (client) => {
      const result = await client.query(
        `UPDATE connections SET secrets = NULL, secrets_sealed = NULL, secrets_erased_at = now()
         WHERE id = $1 AND deleted_at IS NOT NULL AND secrets_erased_at IS NULL`,
        [id],
      );
      if (result.rowCount === 0) return false;
      await appendEvent(client, id, 'secrets-erased', event);
      return true;
    });
    return this.changed(id, erased);
  }

  /** Deleted connections whose secrets still wait for their last running check to end. */
  async awaitingErasure(connectionIds?: readonly string[]): Promise<string[]> {
    const result = await this.pool.query<{ id: string }>(
      `SELECT id FROM connections WHERE deleted_at IS NOT NULL AND secrets_erased_at IS NULL
         AND ($1::text[] IS NULL OR id = ANY($1::text[]))
       ORDER BY deleted_at`,
      [connectionIds ?? null],
    );
    return result.rows.map((r) => r.id);
  }

  async recordEvent(id: string, action: ConnectionAction, event: EventInput): Promise<void> {
    await appendEvent(this.pool, id, action, event);
  }

  /** The connection's events, oldest first. */
  async events(id: string): Promise<ConnectionEvent[]> {
    const result = await this.pool.query(
      `SELECT id, at, action, actor, changes, detail FROM connection_events WHERE connection_id = $1 ORDER BY id`,
      [id],
    );
    return result.rows.map((raw) => {
      const row = eventRowSchema.parse(raw);
      return { ...row, action: row.action as ConnectionAction, changes: row.changes as SettingChange[] };
    });
  }

  /**
   * Key rotation: re-encrypts with the current key every connection sealed with another key, and seals those
   * still in plain text (written before encryption). Idempotent: a second run finds nothing to do. One
   * transaction, rows locked, so concurrent runs and the running service never see a half-rotated row.
   */
  async resealAll(): Promise<{ resealed: number; total: number }> {
    return inTransaction(this.pool, async (client) => {
      const total = Number(
        (
          await client.query<{ n: string }>(
            'SELECT count(*) AS n FROM connections WHERE secrets_erased_at IS NULL',
          )
        ).rows[0]?.n ?? 0,
      );
      const stale = await client.query(
        `SELECT * FROM connections
          WHERE secrets_erased_at IS NULL
            AND (secrets_sealed IS NULL OR secrets_sealed->>'kid' IS DISTINCT FROM $1)
          ORDER BY created_at FOR UPDATE`,
        [this.box.currentKeyId],
      );
      for (const raw of stale.rows) {
        const row = rowSchema.parse(raw);
        const sealed = this.box.seal(this.secretsOf(row), row.id);
        await client.query('UPDATE connections SET secrets_sealed = $2, secrets = NULL WHERE id = $1', [
          row.id,
          JSON.stringify(sealed),
        ]);
      }
      return { resealed: stale.rows.length, total };
    });
  }

  private fromRow(raw: unknown): Connection {
    const row = rowSchema.parse(raw);
    return toConnection(row, this.secretsOf(row));
  }

  private secretsOf(row: Row): Secrets {
    if (row.secrets_sealed === null) {
      if (row.secrets === null) throw new ConnectionUnavailable(`connection ${row.id} has no secrets`);
      return row.secrets;
    }
    return secretsSchema.parse(this.open(row.id, row.secrets_sealed));
  }

  private open(id: string, envelope: SealedEnvelope): unknown {
    try {
      return this.box.open(envelope, id);
    } catch (err) {
      throw new Error(`the secrets of connection ${id} cannot be decrypted: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

async function appendEvent(
  db: Pool | PoolClient,
  connectionId: string,
  action: ConnectionAction,
  event: EventInput,
): Promise<void> {
  await db.query(
    `INSERT INTO connection_events (connection_id, action, actor, changes, detail) VALUES ($1, $2, $3, $4, $5)`,
    [
      connectionId,
      action,
      event.actor,
      JSON.stringify(event.changes ?? []),
      event.detail === undefined ? null : JSON.stringify(event.detail),
    ],
  );
}
