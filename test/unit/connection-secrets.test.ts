import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, type Pool } from 'pg';
import { ConnectionRepository, type NewConnection } from '../../src/db/connections';
import { localRuntimeDatabaseUrl } from '../../src/db/local-runtime-role';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { SecretBox } from '../../src/db/secret-box';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/**
 * Connection secrets at rest, on a database of its own: rotation re-encrypts every row, which the other test
 * files (sharing the run's database and keys) must not see.
 */
describe('connection secrets encrypted at rest', () => {
  // Owned by the run's migration role, which this test also uses for rows the service's role may not write.
  const url = new URL(process.env.MIGRATION_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bgc_test');
  const dbName = `bgc_secrets_${process.pid}`;
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  let pool: Pool;

  const keys = {
    k1: { id: 'k1', key: randomBytes(32) },
    k2: { id: 'k2', key: randomBytes(32) },
    k3: { id: 'k3', key: randomBytes(32) },
  };
  const envKeys = (...ids: (keyof typeof keys)[]) =>
    ids.map((id) => `${id}:${keys[id].key.toString('base64')}`).join(',');

  function input(): { connection: NewConnection; secrets: string[] } {
    const s = {
      leverKey: `lever-key-${randomBytes(8).toString('hex')}`,
      signatureToken: `sig-${randomBytes(8).toString('hex')}`,
      certnKey: `certn-key-${randomBytes(8).toString('hex')}`,
      webhookSecret: `whsec-${randomBytes(8).toString('hex')}`,
    };
    return {
      connection: {
        name: 'Acme',
        ats: {
          kind: 'lever',
          settings: { apiBaseUrl: 'https://api.lever.co/v1', triggerStageId: 'stage-1' },
          secrets: { apiKey: s.leverKey, signatureToken: s.signatureToken },
        },
        vendor: 'certn',
        vendorSettings: { apiBaseUrl: 'https://api.certn.co', packages: [] },
        vendorSecrets: { apiKey: s.certnKey, webhookSecret: s.webhookSecret },
      },
      secrets: Object.values(s),
    };
  }

  const rawRows = async () =>
    (
      await pool.query<{ id: string; row: string; kid: string | null; plain: boolean }>(
        `SELECT id, row_to_json(c)::text AS row, secrets_sealed->>'kid' AS kid, secrets IS NOT NULL AS plain
           FROM connections c ORDER BY created_at`,
      )
    ).rows;

  beforeAll(async () => {
    await migrate(databaseUrl);
    pool = createPool(databaseUrl);
  });
  afterAll(async () => {
    await pool?.end();
    const admin = new Client({ connectionString: databaseUrl.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  });

  it('stores only the sealed envelope, reads it back, and rotates every row (legacy plain text too) once', async () => {
    const first = new ConnectionRepository(pool, new SecretBox([keys.k1], 'k1'));
    const a = input();
    const created = await first.create(a.connection, { actor: 'test' });
    expect(created.ats.secrets).toEqual(a.connection.ats.secrets);
    expect(created.vendorSecrets).toEqual(a.connection.vendorSecrets);

    const [row] = await rawRows();
    expect(row).toMatchObject({ id: created.id, kid: 'k1', plain: false });
    for (const secret of a.secrets) expect(row?.row).not.toContain(secret);
    expect((await first.get(created.id)).ats.secrets).toEqual(a.connection.ats.secrets);

    // A row written before encryption at rest: plain `secrets`, still readable until it is sealed.
    const b = input();
    const legacyId = `conn_legacy_${randomBytes(4).toString('hex')}`;
    await pool.query(
      `INSERT INTO connections (id, name, ats, vendor, settings, secrets) VALUES ($1, 'Legacy', 'lever', 'certn', $2, $3)`,
      [
        legacyId,
        JSON.stringify({ ats: b.connection.ats.settings, vendor: b.connection.vendorSettings }),
        JSON.stringify({ ats: b.connection.ats.secrets, vendor: b.connection.vendorSecrets }),
      ],
    );
    expect((await first.get(legacyId)).vendorSecrets).toEqual(b.connection.vendorSecrets);

    // Rotation: k2 becomes current, k1 still decrypts.
    const rotated = new ConnectionRepository(pool, new SecretBox([keys.k1, keys.k2], 'k2'));
    expect(await rotated.resealAll()).toEqual({ resealed: 2, total: 2 });
    expect((await rawRows()).map((r) => [r.kid, r.plain])).toEqual([
      ['k2', false],
      ['k2', false],
    ]);
    for (const r of await rawRows())
      for (const secret of [...a.secrets, ...b.secrets]) expect(r.row).not.toContain(secret);
    expect(await rotated.resealAll()).toEqual({ resealed: 0, total: 2 }); // idempotent

    // Only k2 is needed now; k1 alone no longer opens anything, and says why.
    const onlyK2 = new ConnectionRepository(pool, new SecretBox([keys.k2], 'k2'));
    expect((await onlyK2.get(created.id)).ats.secrets).toEqual(a.connection.ats.secrets);
    expect((await onlyK2.get(legacyId)).ats.secrets).toEqual(b.connection.ats.secrets);
    await expect(first.get(created.id)).rejects.toThrow(
      `the secrets of connection ${created.id} cannot be decrypted: sealed with key "k2", which is not in SECRETS_KEYS`,
    );

    // An envelope copied onto another row does not open there (bound to the connection id).
    await pool.query(
      'UPDATE connections SET secrets_sealed = (SELECT secrets_sealed FROM connections WHERE id = $1) WHERE id = $2',
      [created.id, legacyId],
    );
    await expect(onlyK2.get(legacyId)).rejects.toThrow(/does not decrypt with key "k2"/);
    await pool.query('DELETE FROM connections WHERE id = $1', [legacyId]);
  });

  it('refuses a row with neither or both forms of secrets', async () => {
    const insert = (secrets: string | null, sealed: string | null) =>
      pool.query(
        `INSERT INTO connections (id, name, ats, vendor, settings, secrets, secrets_sealed)
         VALUES ($1, 'Bad', 'lever', 'certn', '{}', $2, $3)`,
        [`conn_bad_${randomBytes(4).toString('hex')}`, secrets, sealed],
      );
    await expect(insert(null, null)).rejects.toThrow(/connections_secrets_one_form/);
    const sealed = JSON.stringify(new SecretBox([keys.k1], 'k1').seal({ ats: {}, vendor: {} }, 'x'));
    await expect(insert('{"ats":{},"vendor":{}}', sealed)).rejects.toThrow(/connections_secrets_one_form/);
    await expect(insert(null, '{"ct":"plain"}')).rejects.toThrow(/connections_secrets_sealed_envelope/);
  });

  it('npm run rotate-secrets re-encrypts with SECRETS_KEY_ID, then has nothing left to do', async () => {
    // As the service's role, like the API and the worker.
    const runtimeUrl = await localRuntimeDatabaseUrl(databaseUrl);
    const rotate = (secretsKeys: string, currentKeyId: string) =>
      promisify(execFile)(process.execPath, [TSX, 'scripts/rotate-secrets.ts'], {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: runtimeUrl,
          SECRETS_KEYS: secretsKeys,
          SECRETS_KEY_ID: currentKeyId,
        },
      });
    const total = (await rawRows()).length;
    expect(total).toBeGreaterThan(0);
    expect((await rotate(envKeys('k2', 'k3'), 'k3')).stdout.trim()).toBe(
      `re-encrypted ${total} of ${total} connections with key "k3"`,
    );
    expect(new Set((await rawRows()).map((r) => r.kid))).toEqual(new Set(['k3']));
    expect((await rotate(envKeys('k2', 'k3'), 'k3')).stdout.trim()).toBe(
      `re-encrypted 0 of ${total} connections with key "k3"`,
    );
    const onlyK3 = new ConnectionRepository(pool, new SecretBox([keys.k3], 'k3'));
    expect(await onlyK3.list()).toHaveLength(total);

    // Without the key the rows are sealed with, nothing changes and the message says which key is missing.
    await expect(rotate(envKeys('k1'), 'k1')).rejects.toMatchObject({
      stderr: expect.stringContaining('sealed with key "k3", which is not in SECRETS_KEYS') as unknown,
    });
    expect(new Set((await rawRows()).map((r) => r.kid))).toEqual(new Set(['k3']));
  });
});
