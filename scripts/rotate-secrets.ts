/**
 * `npm run rotate-secrets`: re-encrypts every connection's secrets with the current key (SECRETS_KEY_ID), and
 * seals those still in plain text (written before encryption at rest). Idempotent: connections already sealed
 * with the current key are left alone, so a second run reports 0.
 *
 * Rotation: add the new key to SECRETS_KEYS everywhere (old keys still decrypt), make it SECRETS_KEY_ID, run
 * this, then drop the old key from SECRETS_KEYS.
 */
import { baseConfigSchema, loadConfig } from '../src/config';
import { ConnectionRepository } from '../src/db/connections';
import { createPool } from '../src/db/pool';
import { checkRuntimeDatabase } from '../src/db/runtime-database';
import { secretBoxFromConfig } from '../src/db/secret-box';

async function main(): Promise<void> {
  const config = loadConfig(baseConfigSchema);
  const box = secretBoxFromConfig(config);
  if (box.development) console.warn('SECRETS_KEYS is not set: sealing with the development key');
  const pool = createPool(config.DATABASE_URL);
  try {
    // It runs as the service's role (DATABASE_URL), like the API: the schema must be migrated already.
    await checkRuntimeDatabase(pool, {
      production: config.NODE_ENV === 'production',
      warn: (message) => console.warn(message),
    });
    const { resealed, total } = await new ConnectionRepository(pool, box).resealAll();
    console.log(`re-encrypted ${resealed} of ${total} connections with key "${box.currentKeyId}"`);
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
