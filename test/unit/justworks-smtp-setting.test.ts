import type { ChildProcess } from 'node:child_process';
import { loadConfig, workerConfigSchema } from '../../src/config';
import { startServiceProcess, stopProcess } from '../support/service-process';

/**
 * SMTP_URL is a required worker setting (the Justworks hire e-mails go through it): a worker without it stops
 * at start with a message naming it, instead of failing at the first hire.
 */
describe('SMTP_URL, the worker’s SMTP server', () => {
  const started: ChildProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((child) => stopProcess(child, 'SIGKILL')));
  });

  /** Runs src/worker.ts with `env` until it exits by itself; its exit code and what it wrote to stderr. */
  async function runWorker(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
    const child = startServiceProcess('src/worker.ts', env, { captureStderr: true });
    started.push(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, stderr };
  }

  it.each([
    ['unset', { SMTP_URL: undefined }],
    ['empty', { SMTP_URL: '' }],
  ])(
    'a worker process with SMTP_URL %s exits non-zero at start, naming it and what it is for',
    async (_, env) => {
      const { code, stderr } = await runWorker(env);
      expect(code).not.toBe(0);
      expect(stderr).toContain('Invalid configuration: SMTP_URL: required: the SMTP server');
      expect(stderr).toContain('Justworks hire e-mails');
    },
  );

  it('a worker process with an SMTP_URL that is not smtp:// or smtps:// exits non-zero, without echoing it', async () => {
    const { code, stderr } = await runWorker({ SMTP_URL: 'https://mailer:s3cret-pass@mail.example.com' });
    expect(code).not.toBe(0);
    expect(stderr).toContain('SMTP_URL: must be an smtp:// or smtps:// URL');
    expect(stderr).not.toContain('s3cret-pass');
  });

  it('accepts smtp:// and smtps:// URLs, and MAIL_FROM defaults', () => {
    for (const url of ['smtp://mail.example.com:587', 'smtps://user:pass@mail.example.com']) {
      expect(loadConfig(workerConfigSchema, { SMTP_URL: url })).toMatchObject({
        SMTP_URL: url,
        MAIL_FROM: 'bgc-bridge <no-reply@bgc-bridge.local>',
      });
    }
  });
});
