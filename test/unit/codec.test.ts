import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import express from 'express';
import fc from 'fast-check';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { codecRouter, type CodecRouterDeps } from '../../src/api/codec-router';
import { notFoundHandler, problemHandler } from '../../src/api/problem';
import { apiConfigSchema, baseConfigSchema, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { listen } from '../../sandbox/kit';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  type PayloadKey,
} from '../../src/temporal/codec';
import { createDataConverter } from '../../src/temporal/data-converter';

const newKey = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const CANDIDATE = { name: 'Grace Hopper-Codec', email: 'grace.codec@example.com', tags: ['Referral-Codec'] };

async function encodeOne(codec: AesGcmPayloadCodec, value: unknown): Promise<Payload> {
  const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
  if (!encoded) throw new Error('nothing encoded');
  return encoded;
}
async function decodeOne(codec: AesGcmPayloadCodec, payload: Payload): Promise<unknown> {
  const [decoded] = await codec.decode([payload]);
  if (!decoded) throw new Error('nothing decoded');
  return defaultPayloadConverter.fromPayload(decoded);
}
/** A copy of the payload with one byte of its data flipped. */
function flipped(payload: Payload, index: number): Payload {
  const data = Buffer.from(payload.data ?? []);
  const at = (index + data.length) % data.length;
  data[at] = (data[at] ?? 0) ^ 0x01;
  return { metadata: payload.metadata, data };
}

describe('AesGcmPayloadCodec', () => {
  const current = newKey('k2');
  const codec = new AesGcmPayloadCodec([newKey('k1'), current], 'k2');

  it('round-trips payloads, metadata included', async () => {
    const payloads: Payload[] = [
      defaultPayloadConverter.toPayload(CANDIDATE),
      defaultPayloadConverter.toPayload(undefined),
      defaultPayloadConverter.toPayload(new Uint8Array([0, 1, 2, 255])),
      {
        metadata: { encoding: Buffer.from('json/plain'), 'x-extra': Buffer.from([0, 255]) },
        data: Buffer.from('1'),
      },
    ];
    const decoded = await codec.decode(await codec.encode(payloads));
    expect(decoded.map((p) => ({ metadata: p.metadata, data: Buffer.from(p.data ?? []) }))).toEqual(
      payloads.map((p) => ({ metadata: p.metadata, data: Buffer.from(p.data ?? []) })),
    );
    expect(defaultPayloadConverter.fromPayload(decoded[0]!)).toEqual(CANDIDATE);
  });

  it('round-trips any bytes and any JSON value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.jsonValue(), async (bytes, value) => {
        const [a, b] = await codec.decode(
          await codec.encode([
            { metadata: { encoding: Buffer.from('binary/plain') }, data: bytes },
            defaultPayloadConverter.toPayload(value),
          ]),
        );
        expect(Buffer.from(a?.data ?? [])).toEqual(Buffer.from(bytes));
        expect(defaultPayloadConverter.fromPayload(b!)).toEqual(JSON.parse(JSON.stringify(value)) as unknown);
      }),
      { numRuns: 200 },
    );
  });

  it('stores only the encoding and the current key id as metadata, and no plaintext', async () => {
    const encoded = await encodeOne(codec, CANDIDATE);
    expect(Object.keys(encoded.metadata ?? {}).sort()).toEqual([KEY_ID_METADATA, 'encoding'].sort());
    expect(text(encoded.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded.metadata?.[KEY_ID_METADATA])).toBe('k2');
    const stored = Buffer.from(encoded.data ?? []);
    for (const secret of [CANDIDATE.name, CANDIDATE.email, CANDIDATE.tags[0]!, 'json/plain']) {
      expect(stored.includes(Buffer.from(secret))).toBe(false);
      expect(stored.toString('base64').includes(Buffer.from(secret).toString('base64'))).toBe(false);
    }
    // A fresh IV per payload: the same value never encrypts to the same bytes.
    const again = await encodeOne(codec, CANDIDATE);
    expect(Buffer.from(again.data ?? []).equals(stored)).toBe(false);
    expect(stored.subarray(0, 12).equals(Buffer.from(again.data ?? []).subarray(0, 12))).toBe(false);
  });

  it('refuses a payload whose IV, ciphertext or tag was altered', async () => {
    const encoded = await encodeOne(codec, CANDIDATE);
    const length = encoded.data?.length ?? 0;
    for (const index of [0, 11, 12, Math.floor(length / 2), length - 17, length - 1]) {
      await expect(codec.decode([flipped(encoded, index)])).rejects.toThrow(/failed authentication/);
    }
    const truncated = { metadata: encoded.metadata, data: Buffer.from(encoded.data ?? []).subarray(0, 20) };
    await expect(codec.decode([truncated])).rejects.toThrow(PayloadDecryptionError);
  });

  it('refuses a payload whose key id was swapped for another known key', async () => {
    const encoded = await encodeOne(codec, CANDIDATE);
    const swapped = { ...encoded, metadata: { ...encoded.metadata, [KEY_ID_METADATA]: Buffer.from('k1') } };
    await expect(codec.decode([swapped])).rejects.toThrow(/failed authentication/);
  });

  it('decodes with any configured key after a rotation and encodes with the new current one', async () => {
    const old = newKey('2024-01');
    const beforeRotation = new AesGcmPayloadCodec([old], '2024-01');
    const written = await encodeOne(beforeRotation, CANDIDATE);

    const rotated = new AesGcmPayloadCodec([old, newKey('2025-06')], '2025-06');
    expect(await decodeOne(rotated, written)).toEqual(CANDIDATE);
    const rewritten = await encodeOne(rotated, CANDIDATE);
    expect(text(rewritten.metadata?.[KEY_ID_METADATA])).toBe('2025-06');
    expect(await decodeOne(rotated, rewritten)).toEqual(CANDIDATE);
    // The old key alone cannot read what the new key wrote.
    await expect(beforeRotation.decode([rewritten])).rejects.toThrow(/"2025-06", which is not configured/);
  });

  it('names an unknown key id, and refuses an encrypted payload without one', async () => {
    const other = new AesGcmPayloadCodec([newKey('elsewhere')], 'elsewhere');
    const encoded = await encodeOne(other, CANDIDATE);
    const failure = codec.decode([encoded]);
    await expect(failure).rejects.toThrow(PayloadDecryptionError);
    await expect(failure).rejects.toThrow(/key "elsewhere", which is not configured \(known: k1, k2\)/);
    const anonymous = { data: encoded.data, metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING) } };
    await expect(codec.decode([anonymous])).rejects.toThrow(/carries no encryption-key-id/);
  });

  it('refuses a payload that is not encrypted (forged without the keys), unless plaintext is allowed', async () => {
    const plain = defaultPayloadConverter.toPayload({ connectionId: 'conn_forged', subjectId: 'opp_forged' });
    const refused = codec.decode([await encodeOne(codec, CANDIDATE), plain]);
    await expect(refused).rejects.toThrow(PayloadDecryptionError);
    await expect(refused).rejects.toThrow(/not encrypted with a configured key/);
    await expect(codec.decode([{ metadata: {}, data: Buffer.from('1') }])).rejects.toThrow(/not encrypted/);
    // PAYLOAD_ALLOW_PLAINTEXT: histories written before encryption was turned on.
    const migrating = new AesGcmPayloadCodec([current], 'k2', { allowPlaintext: true });
    expect(await migrating.decode([plain])).toEqual([plain]);
    expect(await decodeOne(migrating, await encodeOne(migrating, CANDIDATE))).toEqual(CANDIDATE);
    expect(migrating.toJSON()).toEqual({ currentKeyId: 'k2', keyIds: ['k2'], allowPlaintext: true });
  });

  it('never shows its keys when inspected or serialized (the SDK logs worker options at debug level)', () => {
    const shown = [
      inspect({ dataConverter: { payloadCodecs: [codec] } }, { depth: 10, showHidden: true }),
      inspect(codec, { customInspect: false, showHidden: true }),
      JSON.stringify({ payloadCodecs: [codec] }),
      String(Object.values(codec)),
    ].join('\n');
    expect(shown).toContain('k2');
    for (const needle of [
      Buffer.from(current.key.subarray(0, 6))
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1 '),
      Buffer.from(current.key).toString('base64'),
      [...current.key.subarray(0, 6)].join(','),
    ]) {
      expect(shown).not.toContain(needle);
    }
  });

  it('refuses keys that are not 32 bytes, duplicate ids and an unknown current key', () => {
    expect(() => new AesGcmPayloadCodec([{ id: 'short', key: randomBytes(16) }], 'short')).toThrow(
      /"short" has 16 bytes; AES-256 needs exactly 32/,
    );
    expect(() => new AesGcmPayloadCodec([current, current], 'k2')).toThrow(/given twice/);
    expect(() => new AesGcmPayloadCodec([current], 'k3')).toThrow(/"k3" is not among the keys \(k2\)/);
  });
});

describe('payload encryption settings', () => {
  const key = () => randomBytes(32).toString('base64');

  it('reads PAYLOAD_KEYS and PAYLOAD_KEY_ID, and explains a wrong key length without showing the key', () => {
    const config = loadConfig(baseConfigSchema, {
      PAYLOAD_KEYS: `a:${key()}, b:${key()}`,
      PAYLOAD_KEY_ID: 'b',
    });
    expect(config.PAYLOAD_KEYS?.map((k) => [k.id, k.key.length])).toEqual([
      ['a', 32],
      ['b', 32],
    ]);
    const short = randomBytes(24).toString('base64');
    expect(() => loadConfig(baseConfigSchema, { PAYLOAD_KEYS: `a:${short}` })).toThrow(
      'PAYLOAD_KEYS: key "a" is 24 bytes; AES-256 needs exactly 32',
    );
    expect(() => loadConfig(baseConfigSchema, { PAYLOAD_KEYS: `a:${short}` })).not.toThrow(short);
    expect(() => loadConfig(baseConfigSchema, { PAYLOAD_KEYS: 'no-colon' })).toThrow(
      'PAYLOAD_KEYS: entry 1 is not id:base64key',
    );
    expect(() => loadConfig(baseConfigSchema, { PAYLOAD_KEYS: 'a:not base64!' })).toThrow('is not base64');
    expect(() => loadConfig(baseConfigSchema, { PAYLOAD_KEYS: `a:${key()},a:${key()}` })).toThrow(
      'key id "a" is given twice',
    );
    expect(() => loadConfig(baseConfigSchema, { PAYLOAD_KEY_ID: 'a,b' })).toThrow('PAYLOAD_KEY_ID');
    // Empty (docker-compose's ${VAR:-}) means unset.
    expect(
      loadConfig(baseConfigSchema, { PAYLOAD_KEYS: '', PAYLOAD_KEY_ID: '' }).PAYLOAD_KEYS,
    ).toBeUndefined();
  });

  it('makes createDataConverter refuse to run without keys unless BGC_DEVELOPMENT_KEYS, and a current key it cannot find', () => {
    const converter = (env: NodeJS.ProcessEnv) => createDataConverter(loadConfig(baseConfigSchema, env));
    expect(() => converter({ NODE_ENV: 'production' })).toThrow(
      'Invalid configuration: PAYLOAD_KEYS is required in production',
    );
    for (const NODE_ENV of ['development', 'test', undefined]) {
      expect(() => converter({ NODE_ENV })).toThrow(
        'Invalid configuration: PAYLOAD_KEYS is required unless BGC_DEVELOPMENT_KEYS=true',
      );
    }
    expect(converter({ NODE_ENV: 'development', BGC_DEVELOPMENT_KEYS: 'true' }).payloadCodecs).toEqual([]);
    expect(() => converter({ NODE_ENV: 'production', BGC_DEVELOPMENT_KEYS: 'true' })).toThrow(
      'PAYLOAD_KEYS is required in production',
    );
    expect(() => converter({ PAYLOAD_KEY_ID: 'a' })).toThrow('PAYLOAD_KEY_ID is set but PAYLOAD_KEYS is not');
    expect(() => converter({ PAYLOAD_KEYS: `a:${key()},b:${key()}` })).toThrow(
      'PAYLOAD_KEY_ID: required when PAYLOAD_KEYS holds several keys',
    );
    expect(() => converter({ PAYLOAD_KEYS: `a:${key()}`, PAYLOAD_KEY_ID: 'c' })).toThrow(
      'PAYLOAD_KEY_ID: "c" is not one of the ids in PAYLOAD_KEYS (a)',
    );
    const single = converter({ NODE_ENV: 'production', PAYLOAD_KEYS: `only:${key()}` });
    expect((single.payloadCodecs?.[0] as AesGcmPayloadCodec).currentKeyId).toBe('only');
    expect(single.failureConverterPath).toMatch(/failure-converter\.[jt]s$/);
    // Plain payloads are refused, unless the migration switch lets them through.
    expect((single.payloadCodecs?.[0] as AesGcmPayloadCodec).allowPlaintext).toBe(false);
    const migrating = converter({ PAYLOAD_KEYS: `only:${key()}`, PAYLOAD_ALLOW_PLAINTEXT: 'true' });
    expect((migrating.payloadCodecs?.[0] as AesGcmPayloadCodec).allowPlaintext).toBe(true);
  });

  it('reads the codec endpoint settings', () => {
    const base = { ADMIN_TOKEN: 'admin-token-0123456789' };
    const defaults = loadConfig(apiConfigSchema, base);
    expect(defaults.CODEC_CORS_ORIGINS).toEqual(['http://127.0.0.1:8233', 'http://localhost:8233']);
    expect(defaults.CODEC_ALLOW_ANONYMOUS).toBe(false);
    expect(defaults.CODEC_TOKEN).toBeUndefined();
    expect(() => loadConfig(apiConfigSchema, { ...base, CODEC_CORS_ORIGINS: 'http://ui.test/path' })).toThrow(
      'CODEC_CORS_ORIGINS: "http://ui.test/path" is not an origin',
    );
    expect(() => loadConfig(apiConfigSchema, { ...base, CODEC_TOKEN: 'short' })).toThrow('CODEC_TOKEN');
  });
});

describe('codec endpoint (settings the test stack does not exercise)', () => {
  const codec = new AesGcmPayloadCodec([newKey('k')], 'k');
  const temporal = { options: { loadedDataConverter: { payloadCodecs: [codec] } } } as unknown as Pick<
    Client,
    'options'
  >;
  async function serve(config: CodecRouterDeps['config']) {
    const app = express();
    app.use('/codec', codecRouter({ config, temporal }));
    app.use(notFoundHandler);
    app.use(problemHandler(createLogger('silent')));
    return listen(app);
  }
  const body = JSON.stringify({ payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'MQ==' }] });

  it('takes CODEC_TOKEN instead of the admin token, and answers only the configured origins', async () => {
    const server = await serve({
      ADMIN_TOKEN: 'admin-token-0123456789',
      CODEC_TOKEN: 'codec-token-0123456789',
      CODEC_CORS_ORIGINS: ['https://temporal-ui.example.com'],
    });
    try {
      const post = (token: string, origin = 'https://temporal-ui.example.com') =>
        fetch(`${server.url}/codec/decode`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Origin: origin },
          body,
        });
      expect((await post('admin-token-0123456789')).status).toBe(401);
      const ok = await post('codec-token-0123456789');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://temporal-ui.example.com');
      const foreign = await post('codec-token-0123456789', 'http://localhost:8233');
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await fetch(`${server.url}/codec/decode`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.close();
    }
  });

  it('requires a CODEC_TOKEN of its own in production', () => {
    const production = (config: Partial<CodecRouterDeps['config']>) => () =>
      codecRouter({
        config: { ADMIN_TOKEN: 'admin-token-0123456789', NODE_ENV: 'production', ...config },
        temporal,
      });
    expect(production({})).toThrow('CODEC_TOKEN is required in production');
    expect(production({ CODEC_TOKEN: 'admin-token-0123456789' })).toThrow(
      'CODEC_TOKEN must differ from ADMIN_TOKEN',
    );
    expect(production({ CODEC_TOKEN: 'codec-token-0123456789' })).not.toThrow();
  });

  it('decodes only, and shows a payload that is not encrypted as it is', async () => {
    const server = await serve({ ADMIN_TOKEN: 'admin-token-0123456789' });
    try {
      const post = (direction: string, payloads: unknown[]) =>
        fetch(`${server.url}/codec/${direction}`, {
          method: 'POST',
          headers: { Authorization: 'Bearer admin-token-0123456789', 'Content-Type': 'application/json' },
          body: JSON.stringify({ payloads }),
        });
      // Encrypting would let whoever holds the token forge inputs the worker accepts.
      const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: 'MQ==' };
      const encode = await post('encode', [plain]);
      expect(encode.status).toBe(404);
      expect(encode.headers.get('content-type')).toContain('application/problem+json');

      const [sealed] = await codec.encode([defaultPayloadConverter.toPayload({ eventId: 'e1' })]);
      const toJson = (p: Payload) => ({
        metadata: Object.fromEntries(
          Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
        ),
        data: Buffer.from(p.data ?? []).toString('base64'),
      });
      const decoded = await post('decode', [toJson(sealed!), plain]);
      expect(decoded.status).toBe(200);
      const [first, second] = ((await decoded.json()) as { payloads: { data: string }[] }).payloads;
      expect(Buffer.from(first?.data ?? '', 'base64').toString()).toBe('{"eventId":"e1"}');
      expect(second).toEqual(plain);
    } finally {
      await server.close();
    }
  });

  it('lets a request without a token through only when anonymity is allowed, never in production', async () => {
    expect(() =>
      codecRouter({
        config: {
          ADMIN_TOKEN: 'admin-token-0123456789',
          CODEC_ALLOW_ANONYMOUS: true,
          NODE_ENV: 'production',
        },
        temporal,
      }),
    ).toThrow('CODEC_ALLOW_ANONYMOUS: not allowed when NODE_ENV is production');
    const server = await serve({ ADMIN_TOKEN: 'admin-token-0123456789', CODEC_ALLOW_ANONYMOUS: true });
    try {
      const post = (headers: Record<string, string>) =>
        fetch(`${server.url}/codec/decode`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...headers },
          body,
        });
      expect((await post({})).status).toBe(200);
      expect((await post({ Authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
