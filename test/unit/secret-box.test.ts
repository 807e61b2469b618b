import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { baseConfigSchema, loadConfig } from '../../src/config';
import { SecretBox, SecretBoxError, secretBoxFromConfig, secretBoxFromEnv } from '../../src/db/secret-box';

const key = () => randomBytes(32);
const b64 = (bytes: Buffer) => bytes.toString('base64');
const secrets = {
  ats: { apiKey: 'lever-key-123', signatureToken: 'sig-456' },
  vendor: { apiKey: 'vendor-789' },
};

describe('SecretBox (AES-256-GCM envelopes)', () => {
  const k1 = { id: 'k1', key: key() };
  const k2 = { id: 'k2', key: key() };

  it('seals to a versioned envelope that names the key and holds no plain text, and opens it again', () => {
    const box = new SecretBox([k1], 'k1');
    const sealed = box.seal(secrets, 'conn_1');
    expect(sealed).toEqual({
      v: 1,
      alg: 'A256GCM',
      kid: 'k1',
      iv: expect.any(String) as unknown,
      tag: expect.any(String) as unknown,
      ct: expect.any(String) as unknown,
    });
    expect(Buffer.from(sealed.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(sealed.tag, 'base64')).toHaveLength(16);
    for (const text of ['lever-key-123', 'sig-456', 'vendor-789']) {
      expect(JSON.stringify(sealed)).not.toContain(text);
      expect(JSON.stringify(sealed)).not.toContain(b64(Buffer.from(text)));
    }
    expect(box.open(sealed, 'conn_1')).toEqual(secrets);
    // A fresh IV each time: the same value never seals to the same ciphertext.
    expect(box.seal(secrets, 'conn_1').ct).not.toBe(sealed.ct);
  });

  it('refuses an envelope of another context (row), a tampered one, and one under an unknown key', () => {
    const box = new SecretBox([k1], 'k1');
    const sealed = box.seal(secrets, 'conn_1');
    expect(() => box.open(sealed, 'conn_2')).toThrow(SecretBoxError);
    const ct = Buffer.from(sealed.ct, 'base64');
    ct[0] = (ct[0] ?? 0) ^ 1;
    expect(() => box.open({ ...sealed, ct: b64(ct) }, 'conn_1')).toThrow(SecretBoxError);
    expect(() => box.open({ ...sealed, kid: 'k2' }, 'conn_1')).toThrow(
      /key "k2", which is not in SECRETS_KEYS/,
    );
    // The same id with different key material does not open it either.
    expect(() => new SecretBox([{ id: 'k1', key: key() }], 'k1').open(sealed, 'conn_1')).toThrow(
      /does not decrypt with key "k1"/,
    );
  });

  it('rotates: any known key decrypts, the current one encrypts', () => {
    const old = new SecretBox([k1], 'k1').seal(secrets, 'conn_1');
    const rotated = new SecretBox([k1, k2], 'k2');
    expect(rotated.isCurrent(old)).toBe(false);
    expect(rotated.open(old, 'conn_1')).toEqual(secrets);
    const resealed = rotated.seal(rotated.open(old, 'conn_1'), 'conn_1');
    expect(resealed.kid).toBe('k2');
    expect(rotated.isCurrent(resealed)).toBe(true);
    expect(new SecretBox([k2], 'k2').open(resealed, 'conn_1')).toEqual(secrets);
  });

  it('never shows key material when logged or serialized', () => {
    const box = new SecretBox([k1, k2], 'k2');
    for (const shown of [inspect(box, { depth: 10, showHidden: true }), JSON.stringify(box)]) {
      expect(shown).toContain('k2');
      for (const k of [k1, k2]) {
        expect(shown).not.toContain(b64(k.key));
        expect(shown).not.toContain(k.key.toString('hex'));
      }
    }
  });
});

describe('SECRETS_KEYS / SECRETS_KEY_ID configuration', () => {
  const a = b64(key());
  const b = b64(key());
  const config = (env: Record<string, string>) => loadConfig(baseConfigSchema, env);

  it('reads comma-separated id:base64 keys and the current id', () => {
    const parsed = config({ SECRETS_KEYS: `old:${a}, new:${b}`, SECRETS_KEY_ID: 'new' });
    expect(parsed.SECRETS_KEYS?.map((k) => k.id)).toEqual(['old', 'new']);
    const box = secretBoxFromConfig(parsed);
    expect([box.currentKeyId, box.keyIds, box.development]).toEqual(['new', ['old', 'new'], false]);
    // One key: it is the current one.
    expect(secretBoxFromConfig(config({ SECRETS_KEYS: `only:${a}` })).currentKeyId).toBe('only');
  });

  it('rejects malformed keys with a message naming the variable, never the key material', () => {
    const short = b64(randomBytes(16));
    for (const [value, message] of [
      [`k1:${short}`, /SECRETS_KEYS: key "k1" must be 32 random bytes/],
      [`k1${a}`, /SECRETS_KEYS: entry 1 is not id:base64/],
      [`k1:${a},k1:${b}`, /SECRETS_KEYS: key id "k1" is given twice/],
      [`k 1:${a}`, /SECRETS_KEYS: entry 1 is not id:base64/],
      [`k1:${a.slice(0, -2)}!!`, /SECRETS_KEYS: key "k1" must be 32 random bytes/],
    ] as const) {
      let error: unknown;
      try {
        config({ SECRETS_KEYS: value });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(message);
      for (const material of [a, b, short]) expect((error as Error).message).not.toContain(material);
    }
  });

  it('needs SECRETS_KEY_ID to name one of several keys', () => {
    expect(() => secretBoxFromConfig(config({ SECRETS_KEYS: `k1:${a},k2:${b}` }))).toThrow(
      /SECRETS_KEY_ID: required when SECRETS_KEYS has several keys/,
    );
    expect(() => secretBoxFromConfig(config({ SECRETS_KEYS: `k1:${a}`, SECRETS_KEY_ID: 'k9' }))).toThrow(
      /SECRETS_KEY_ID: "k9" is not an id in SECRETS_KEYS \(k1\)/,
    );
  });

  it('stops without keys with a clear message; only BGC_DEVELOPMENT_KEYS outside production lets the development key in', () => {
    expect(() => secretBoxFromConfig(config({ NODE_ENV: 'production' }))).toThrow(
      /^Invalid configuration: SECRETS_KEYS is required in production/,
    );
    expect(() => secretBoxFromEnv({ NODE_ENV: 'production', BGC_DEVELOPMENT_KEYS: 'true' })).toThrow(
      /SECRETS_KEYS is required in production/,
    );
    // A production host without NODE_ENV=production no longer gets the public key silently.
    for (const env of [
      {},
      { NODE_ENV: 'development' },
      { NODE_ENV: 'test', BGC_DEVELOPMENT_KEYS: 'false' },
    ]) {
      expect(() => secretBoxFromEnv(env)).toThrow(
        /^Invalid configuration: SECRETS_KEYS is required unless BGC_DEVELOPMENT_KEYS=true/,
      );
    }
    const dev = secretBoxFromConfig(config({ NODE_ENV: 'development', BGC_DEVELOPMENT_KEYS: 'true' }));
    expect([dev.development, dev.currentKeyId]).toEqual([true, 'dev']);
    // Stable across processes, so a development database stays readable after a restart.
    const sealed = dev.seal(secrets, 'conn_1');
    expect(secretBoxFromEnv({ BGC_DEVELOPMENT_KEYS: 'true' }).open(sealed, 'conn_1')).toEqual(secrets);
    expect(() =>
      secretBoxFromConfig(config({ NODE_ENV: 'test', BGC_DEVELOPMENT_KEYS: 'true', SECRETS_KEY_ID: 'k1' })),
    ).toThrow(/SECRETS_KEY_ID is set but SECRETS_KEYS is not/);
  });
});
