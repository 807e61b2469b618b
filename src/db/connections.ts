import { randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import {
  ashbySecretsSchema,
  ashbySettingsSchema,
  leverSecretsSchema,
  leverSettingsSchema,
  type AtsConfig,
  type Connection,
} from '../domain/connection';
import { SecretBox, secretBoxFromEnv, sealedEnvelopeSchema, type SealedEnvelope } from './secret-box';

/** What `secrets_sealed` holds once decrypted (and `secrets` held in plain text before it existed). */
const secretsSchema = z.object({ ats: z.unknown(), vendor: z.unknown() });
type Secrets = z.infer<typeof secretsSchema>;

const rowSchema = z.object({
  id: z.string(),
  name: z.string(),
  ats: z.enum(['lever', 'ashby']),
  vendor: z.string(),
  settings: z.object({ ats: z.unknown(), vendor: z.unknown() }),
  /** Plain text, only in rows written before secrets were encrypted and not yet sealed (rotate-secrets). */
  secrets: secretsSchema.nullable(),
  secrets_sealed: sealedEnvelopeSchema.nullable(),
  created_at: z.date(),
});
type Row = z.infer<typeof rowSchema>;

function toConnection(r: Row, secrets: Secrets): Connection {
  const ats: AtsConfig =
    r.ats === 'lever'
      ? {
          kind: 'lever',
          settings: leverSettingsSchema.parse(r.settings.ats),
          secrets: leverSecretsSchema.parse(secrets.ats),
        }
      : {
          kind: 'ashby',
          settings: ashbySettingsSchema.parse(r.settings.ats),
          secrets: ashbySecretsSchema.parse(secrets.ats),
        };
  return {
    id: r.id,
    name: r.name,
    ats,
    vendor: r.vendor,
    vendorSettings: r.settings.vendor,
    vendorSecrets: secrets.vendor,
    createdAt: r.created_at,
  };
}

export type NewConnection = Omit<Connection, 'id' | 'createdAt'>;

/**
 * Connections in PostgreSQL. Their secrets (ATS and vendor API keys, signature tokens, callback and partner
 * secrets) are stored only encrypted, in `secrets_sealed` (see secret-box.ts), bound to the connection id. The
 * box comes from the constructor; without one it is read from the environment (SECRETS_KEYS, SECRETS_KEY_ID).
 */
export class ConnectionRepository {
  private readonly box: SecretBox;

  constructor(
    private readonly pool: Pool,
    box?: SecretBox,
  ) {
    this.box = box ?? secretBoxFromEnv();
  }

  async create(input: NewConnection): Promise<Connection> {
    const id = `conn_${randomBytes(12).toString('hex')}`;
    const secrets: Secrets = { ats: input.ats.secrets, vendor: input.vendorSecrets };
    const result = await this.pool.query(
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
    return this.fromRow(result.rows[0]);
  }

  async find(id: string): Promise<Connection | undefined> {
    const result = await this.pool.query('SELECT * FROM connections WHERE id = $1', [id]);
    return result.rowCount === 0 ? undefined : this.fromRow(result.rows[0]);
  }

  async get(id: string): Promise<Connection> {
    const found = await this.find(id);
    if (found === undefined) throw new Error(`connection ${id} does not exist`);
    return found;
  }

  async list(): Promise<Connection[]> {
    const result = await this.pool.query('SELECT * FROM connections ORDER BY created_at');
    return result.rows.map((row) => this.fromRow(row));
  }

  /**
   * Key rotation: re-encrypts with the current key every connection sealed with another key, and seals those
   * still in plain text (written before encryption). Idempotent: a second run finds nothing to do. One
   * transaction, rows locked, so concurrent runs and the running service never see a half-rotated row.
   */
  async resealAll(): Promise<{ resealed: number; total: number }> {
    const client: PoolClient = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const total = Number(
        (await client.query<{ n: string }>('SELECT count(*) AS n FROM connections')).rows[0]?.n ?? 0,
      );
      const stale = await client.query(
        `SELECT * FROM connections
          WHERE secrets_sealed IS NULL OR secrets_sealed->>'kid' IS DISTINCT FROM $1
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
      await client.query('COMMIT');
      return { resealed: stale.rows.length, total };
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  }

  private fromRow(raw: unknown): Connection {
    const row = rowSchema.parse(raw);
    return toConnection(row, this.secretsOf(row));
  }

  private secretsOf(row: Row): Secrets {
    if (row.secrets_sealed === null) {
      if (row.secrets === null) throw new Error(`connection ${row.id} has no secrets`);
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
