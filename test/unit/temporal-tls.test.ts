import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { baseConfigSchema, loadConfig } from '../../src/config';
import { temporalTls } from '../../src/temporal/connection';
import { SERVER_NAME, testCertificates } from '../support/tls-certificates';

/** TEMPORAL_TLS_* (README, Security): validated at start, never echoed; mTLS itself in test/e2e/temporal-mtls.test.ts. */
describe('TEMPORAL_TLS_* settings', () => {
  let dir: string;
  let certs: ReturnType<typeof testCertificates>;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bgc-tls-settings-'));
    certs = testCertificates(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const tlsOf = (env: NodeJS.ProcessEnv) => temporalTls(loadConfig(baseConfigSchema, env));
  const text = (file: string) => readFileSync(file, 'utf8');

  it('is plain gRPC unless TEMPORAL_TLS or a TEMPORAL_TLS_* setting is given (empty means unset)', () => {
    expect(tlsOf({})).toBeUndefined();
    expect(tlsOf({ TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: '', TEMPORAL_TLS_CA: '' })).toBeUndefined();
    expect(tlsOf({ TEMPORAL_TLS: 'true' })).toEqual({});
    expect(tlsOf({ TEMPORAL_TLS_SERVER_NAME: SERVER_NAME })).toEqual({ serverNameOverride: SERVER_NAME });
  });

  it('reads the certificate, key and CA from PEM text or a file path', () => {
    const fromFiles = tlsOf({
      TEMPORAL_TLS_CERT: certs.api.cert,
      TEMPORAL_TLS_KEY: certs.api.key,
      TEMPORAL_TLS_CA: certs.ca.cert,
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    });
    const fromText = tlsOf({
      TEMPORAL_TLS_CERT: text(certs.api.cert),
      TEMPORAL_TLS_KEY: text(certs.api.key),
      TEMPORAL_TLS_CA: text(certs.ca.cert),
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    });
    expect(fromFiles).toEqual(fromText);
    expect(Buffer.from(fromFiles?.clientCertPair?.crt ?? []).toString()).toBe(text(certs.api.cert));
    expect(Buffer.from(fromFiles?.clientCertPair?.key ?? []).toString()).toBe(text(certs.api.key));
    expect(Buffer.from(fromFiles?.serverRootCACertificate ?? []).toString()).toBe(text(certs.ca.cert));
    expect(fromFiles?.serverNameOverride).toBe(SERVER_NAME);
  });

  it('stops at start on a missing file, a file of the wrong kind, half a pair or a key of another certificate, never quoting a key', () => {
    const key = text(certs.api.key);
    const failure = (env: NodeJS.ProcessEnv): string => {
      try {
        tlsOf(env);
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(failure({ TEMPORAL_TLS_CERT: path.join(dir, 'missing.pem') })).toContain(
      'TEMPORAL_TLS_CERT: neither PEM text nor the path of a readable certificate file',
    );
    expect(failure({ TEMPORAL_TLS_CERT: certs.api.key })).toContain(
      'TEMPORAL_TLS_CERT: does not hold a PEM certificate',
    );
    const garbled = key.replace(/\n[A-Za-z0-9+/]{8}/, '\nAAAAAAAA');
    const garbledFailure = failure({ TEMPORAL_TLS_KEY: garbled });
    expect(garbledFailure).toContain('TEMPORAL_TLS_KEY: does not hold a PEM private key');
    expect(garbledFailure).not.toContain(garbled.split('\n')[1]);
    expect(failure({ TEMPORAL_TLS_CERT: certs.api.cert })).toContain(
      'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together',
    );
    const mismatch = failure({ TEMPORAL_TLS_CERT: certs.api.cert, TEMPORAL_TLS_KEY: certs.worker.key });
    expect(mismatch).toContain('is TEMPORAL_TLS_KEY the key of TEMPORAL_TLS_CERT?');
    expect(mismatch).not.toContain(text(certs.worker.key).split('\n')[1]);
  });
});
