import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { baseConfigSchema, loadConfig, requireKeys } from '../../src/config';
import { startServiceProcess, stopProcess } from '../support/service-process';

/**
 * A production host started without NODE_ENV=production used to run on the public development keys, with plain
 * Temporal payloads, after a mere warning (issue 9). The API and the worker now refuse to start without
 * SECRETS_KEYS, PAYLOAD_KEYS and REPORT_LINK_KEY unless BGC_DEVELOPMENT_KEYS=true, which production refuses.
 */
describe('the keys the API and the worker need (BGC_DEVELOPMENT_KEYS)', () => {
  const started: ChildProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((child) => stopProcess(child, 'SIGKILL')));
  });

  /** Runs an entry point with `env` until it exits by itself; its exit code and what it wrote to stderr. */
  async function run(entry: 'src/main.ts' | 'src/worker.ts', env: NodeJS.ProcessEnv) {
    const child = startServiceProcess(entry, env, { captureStderr: true });
    started.push(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, stderr };
  }

  /** Everything else each process needs, so that the keys are what is missing; no key, no switch. */
  const withoutKeys: NodeJS.ProcessEnv = {
    NODE_ENV: undefined,
    BGC_DEVELOPMENT_KEYS: undefined,
    SECRETS_KEYS: undefined,
    SECRETS_KEY_ID: undefined,
    PAYLOAD_KEYS: undefined,
    PAYLOAD_KEY_ID: undefined,
    REPORT_LINK_KEY: undefined,
    ADMIN_TOKEN: `admin-${randomBytes(12).toString('hex')}`,
    SMTP_URL: 'smtp://127.0.0.1:2525',
  };

  it.each(['src/main.ts', 'src/worker.ts'] as const)(
    '%s without keys and without the switch exits at start, naming every missing key',
    async (entry) => {
      const { code, stderr } = await run(entry, withoutKeys);
      expect(code).not.toBe(0);
      expect(stderr).toContain(
        'Invalid configuration: SECRETS_KEYS, PAYLOAD_KEYS, REPORT_LINK_KEY are not set',
      );
      expect(stderr).toContain('BGC_DEVELOPMENT_KEYS=true');
    },
  );

  it('names only what is missing, and refuses the switch in production even with every key', async () => {
    const key = () => randomBytes(32).toString('base64');
    const { code, stderr } = await run('src/worker.ts', {
      ...withoutKeys,
      SECRETS_KEYS: `k1:${key()}`,
      PAYLOAD_KEYS: `p1:${key()}`,
    });
    expect(code).not.toBe(0);
    expect(stderr).toContain('Invalid configuration: REPORT_LINK_KEY is not set');

    const production = await run('src/main.ts', {
      ...withoutKeys,
      NODE_ENV: 'production',
      // The tests let the service call the emulators over http://; production refuses that first.
      ALLOW_HTTP_URLS: 'false',
      BGC_DEVELOPMENT_KEYS: 'true',
      SECRETS_KEYS: `k1:${key()}`,
      PAYLOAD_KEYS: `p1:${key()}`,
      REPORT_LINK_KEY: key(),
    });
    expect(production.code).not.toBe(0);
    expect(production.stderr).toContain('BGC_DEVELOPMENT_KEYS: not allowed when NODE_ENV is production');
  });

  it('lets the switch stand in for every key outside production', () => {
    const config = (env: NodeJS.ProcessEnv) => loadConfig(baseConfigSchema, env);
    expect(() => requireKeys(config({ BGC_DEVELOPMENT_KEYS: 'true' }))).not.toThrow();
    expect(() => requireKeys(config({ NODE_ENV: 'test', BGC_DEVELOPMENT_KEYS: 'true' }))).not.toThrow();
    expect(() => requireKeys(config({ BGC_DEVELOPMENT_KEYS: 'false' }))).toThrow(
      'SECRETS_KEYS, PAYLOAD_KEYS, REPORT_LINK_KEY are not set',
    );
    expect(() => loadConfig(baseConfigSchema, { BGC_DEVELOPMENT_KEYS: 'maybe' })).toThrow(
      'BGC_DEVELOPMENT_KEYS',
    );
  });
});
