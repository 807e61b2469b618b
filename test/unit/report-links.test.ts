import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { apiConfigSchema, loadConfig, workerConfigSchema } from '../../src/config';
import {
  ReportLinkKey,
  ReportLinks,
  reportLinkKeyFromConfig,
  reportLinksFromConfig,
} from '../../src/report-links';

const keyBytes = randomBytes(32);
const key = new ReportLinkKey(keyBytes);

describe('report link tokens', () => {
  const token = key.token('conn_a', 'report-1');

  it('match only the connection and report they were made for', () => {
    expect(key.matches('conn_a', 'report-1', token)).toBe(true);
    expect(key.matches('conn_b', 'report-1', token)).toBe(false);
    expect(key.matches('conn_a', 'report-2', token)).toBe(false);
    // The two ids cannot be shifted into each other.
    expect(key.token('conn_a/', 'report-1')).not.toBe(key.token('conn_a', '/report-1'));
    expect(
      key.matches('conn_a', 'report-1', new ReportLinkKey(randomBytes(32)).token('conn_a', 'report-1')),
    ).toBe(false);
  });

  it('refuse a tampered, shortened, extended or empty token', () => {
    const flipped = `${token[0] === 'A' ? 'B' : 'A'}${token.slice(1)}`;
    for (const bad of [flipped, token.slice(0, -1), `${token}A`, '', token.toUpperCase(), ' '.repeat(43)]) {
      expect({ bad, ok: key.matches('conn_a', 'report-1', bad) }).toEqual({ bad, ok: false });
    }
  });

  it('never show the key when logged or serialized', () => {
    const shown = `${JSON.stringify({ key })} ${inspect(key)}`;
    expect(shown).not.toContain(keyBytes.toString('base64'));
    expect(shown).not.toContain(keyBytes.toString('hex'));
  });
});

describe('report links', () => {
  it('point at the API with the ids percent-encoded and the token as a query parameter', () => {
    const links = new ReportLinks('https://bgc.example.com/base/', key);
    const url = new URL(links.url('conn_a', 'report 1/x'));
    expect(url.origin + url.pathname).toBe('https://bgc.example.com/base/reports/conn_a/report%201%2Fx');
    expect(url.searchParams.get('token')).toBe(key.token('conn_a', 'report 1/x'));
    expect([...url.searchParams.keys()]).toEqual(['token']);
  });
});

describe('REPORT_LINK_KEY and PUBLIC_BASE_URL', () => {
  const encoded = keyBytes.toString('base64');
  const env = { ADMIN_TOKEN: 'x'.repeat(16) };
  /** What a worker needs besides the variables under test. */
  const workerEnv = { SMTP_URL: 'smtp://127.0.0.1:2525' };

  it('takes base64 of at least 32 bytes and names the variable, never the value, when it is wrong', () => {
    expect(loadConfig(apiConfigSchema, { ...env, REPORT_LINK_KEY: encoded }).REPORT_LINK_KEY).toEqual(
      keyBytes,
    );
    const longer = randomBytes(64).toString('base64');
    expect(
      loadConfig(workerConfigSchema, { ...workerEnv, REPORT_LINK_KEY: longer }).REPORT_LINK_KEY,
    ).toHaveLength(64);
    expect(
      loadConfig(workerConfigSchema, { ...workerEnv, REPORT_LINK_KEY: '' }).REPORT_LINK_KEY,
    ).toBeUndefined();
    for (const bad of [randomBytes(16).toString('base64'), 'not base64 at all!', `${encoded}$`]) {
      let message = '';
      try {
        loadConfig(workerConfigSchema, { ...workerEnv, REPORT_LINK_KEY: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain('REPORT_LINK_KEY');
      expect(message).not.toContain(bad);
    }
  });

  it('is required; only BGC_DEVELOPMENT_KEYS outside production lets a public development key stand in', () => {
    expect(() => reportLinkKeyFromConfig({ NODE_ENV: 'production', REPORT_LINK_KEY: undefined })).toThrow(
      /REPORT_LINK_KEY is required in production/,
    );
    expect(() =>
      reportLinkKeyFromConfig({
        NODE_ENV: 'production',
        BGC_DEVELOPMENT_KEYS: true,
        REPORT_LINK_KEY: undefined,
      }),
    ).toThrow(/REPORT_LINK_KEY is required in production/);
    expect(() => reportLinkKeyFromConfig({ NODE_ENV: 'development', REPORT_LINK_KEY: undefined })).toThrow(
      /REPORT_LINK_KEY is required unless BGC_DEVELOPMENT_KEYS=true/,
    );
    const dev = reportLinkKeyFromConfig({
      NODE_ENV: 'development',
      BGC_DEVELOPMENT_KEYS: true,
      REPORT_LINK_KEY: undefined,
    });
    expect(dev.development).toBe(true);
    // The same in every process, so a link the worker wrote opens on the API.
    expect(dev.token('c', 'r')).toBe(
      reportLinkKeyFromConfig({
        NODE_ENV: 'test',
        BGC_DEVELOPMENT_KEYS: true,
        REPORT_LINK_KEY: undefined,
      }).token('c', 'r'),
    );
    const real = reportLinkKeyFromConfig({ NODE_ENV: 'production', REPORT_LINK_KEY: keyBytes });
    expect(real.development).toBe(false);
    expect(real.token('c', 'r')).toBe(key.token('c', 'r'));
    expect(real.token('c', 'r')).not.toBe(dev.token('c', 'r'));
  });

  it('gives the worker links under PUBLIC_BASE_URL, required in production; elsewhere none without it', () => {
    const worker = (NODE_ENV: 'production' | 'development', PUBLIC_BASE_URL?: string) =>
      reportLinksFromConfig({ NODE_ENV, REPORT_LINK_KEY: keyBytes, PUBLIC_BASE_URL });
    expect(() => worker('production')).toThrow(/PUBLIC_BASE_URL/);
    expect(worker('development')).toBeUndefined();
    expect(worker('production', 'https://bgc.example.com')?.url('c', 'r')).toBe(
      `https://bgc.example.com/reports/c/r?token=${key.token('c', 'r')}`,
    );
    expect(() =>
      reportLinksFromConfig({
        NODE_ENV: 'production',
        REPORT_LINK_KEY: undefined,
        PUBLIC_BASE_URL: 'https://x.test',
      }),
    ).toThrow(/REPORT_LINK_KEY/);
    expect(
      loadConfig(workerConfigSchema, { ...workerEnv, PUBLIC_BASE_URL: 'https://bgc.example.com' })
        .PUBLIC_BASE_URL,
    ).toBe('https://bgc.example.com');
    expect(() =>
      loadConfig(workerConfigSchema, { ...workerEnv, PUBLIC_BASE_URL: 'javascript:alert(1)' }),
    ).toThrow(/PUBLIC_BASE_URL/);
  });
});
