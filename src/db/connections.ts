import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import {
  ashbySecretsSchema,
  ashbySettingsSchema,
  leverSecretsSchema,
  leverSettingsSchema,
  type AtsConfig,
  type Connection,
} from '../domain/connection';

const rowSchema = z.object({
  id: z.string(),
  name: z.string(),
  ats: z.enum(['lever', 'ashby']),
  vendor: z.string(),
  settings: z.object({ ats: z.unknown(), vendor: z.unknown() }),
  secrets: z.object({ ats: z.unknown(), vendor: z.unknown() }),
  created_at: z.date(),
});

function toConnection(row: unknown): Connection {
  const r = rowSchema.parse(row);
  const ats: AtsConfig =
    r.ats === 'lever'
      ? {
          kind: 'lever',
          settings: leverSettingsSchema.parse(r.settings.ats),
          secrets: leverSecretsSchema.parse(r.secrets.ats),
        }
      : {
          kind: 'ashby',
          settings: ashbySettingsSchema.parse(r.settings.ats),
          secrets: ashbySecretsSchema.parse(r.secrets.ats),
        };
  return {
    id: r.id,
    name: r.name,
    ats,
    vendor: r.vendor,
    vendorSettings: r.settings.vendor,
    vendorSecrets: r.secrets.vendor,
    createdAt: r.created_at,
  };
}

export type NewConnection = Omit<Connection, 'id' | 'createdAt'>;

export class ConnectionRepository {
  constructor(private readonly pool: Pool) {}

  async create(input: NewConnection): Promise<Connection> {
    const id = `conn_${randomBytes(12).toString('hex')}`;
    const result = await this.pool.query(
      `INSERT INTO connections (id, name, ats, vendor, settings, secrets)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [
        id,
        input.name,
        input.ats.kind,
        input.vendor,
        JSON.stringify({ ats: input.ats.settings, vendor: input.vendorSettings }),
        JSON.stringify({ ats: input.ats.secrets, vendor: input.vendorSecrets }),
      ],
    );
    return toConnection(result.rows[0]);
  }

  async find(id: string): Promise<Connection | undefined> {
    const result = await this.pool.query('SELECT * FROM connections WHERE id = $1', [id]);
    return result.rowCount === 0 ? undefined : toConnection(result.rows[0]);
  }

  async get(id: string): Promise<Connection> {
    const found = await this.find(id);
    if (found === undefined) throw new Error(`connection ${id} does not exist`);
    return found;
  }

  async list(): Promise<Connection[]> {
    const result = await this.pool.query('SELECT * FROM connections ORDER BY created_at');
    return result.rows.map(toConnection);
  }
}
