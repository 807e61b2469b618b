import { randomBytes } from 'node:crypto';

/**
 * Fresh keys in the environment the service's config reads (src/config.ts), as production needs them: an older
 * secrets key that only decrypts and the current one, a payload key, a report link key. Processes started
 * afterwards inherit them.
 */
export function useFreshKeys(env: NodeJS.ProcessEnv = process.env): void {
  const key = () => randomBytes(32).toString('base64');
  env.SECRETS_KEYS = `previous:${key()},current:${key()}`;
  env.SECRETS_KEY_ID = 'current';
  env.PAYLOAD_KEY_ID = `test-${randomBytes(4).toString('hex')}`;
  env.PAYLOAD_KEYS = `${env.PAYLOAD_KEY_ID}:${key()}`;
  env.REPORT_LINK_KEY = key();
}
