import fc from 'fast-check';
import { nastyString } from './json-doc';
import type { RawHeader } from './raw-http';

/** The generators that the fuzz properties of several endpoint families share: bodies, content types, headers. */

export const WEBHOOK_BODY_LIMIT = 100 * 1024;
export const ASHBY_BODY_LIMIT = 64 * 1024;
export const ADMIN_BODY_LIMIT = 256 * 1024;

export const printable = (max: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: max,
  });

export const contentTypeArb: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constantFrom(
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=UTF-16',
    'application/json; charset=latin1',
    'application/json; charset=nonsense',
    'application/problem+json',
    'text/plain',
    'text/html',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'application/octet-stream',
    '',
    ';;;',
    'application/json;;charset=',
    '*/*',
  ),
  printable(40),
);

/** Random bodies: JSON values, strings, bytes, sizes around the limit, deep nesting, nothing at all. */
export function bodyArb(limit: number): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.json({ maxDepth: 4 }).map((s) => Buffer.from(s)) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)) },
    { weight: 2, arbitrary: nastyString.map((s) => Buffer.from(s)) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '{',
          '}',
          'null',
          '"x"',
          '1',
          '[]',
          '{}',
          '[{}]',
          '\ufeff{}',
          '{"signature":null}',
          '{"__proto__":{"admin":true}}',
          '{"a":1,"a":2}',
          ' \t\r\n{} ',
          '{}{}',
        )
        .map((s) => Buffer.from(s)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: -256, max: 2048 }), fc.constantFrom('json-string', 'json-object', 'bytes'))
        .map(([delta, kind]) => {
          const size = limit + delta;
          if (kind === 'bytes') return Buffer.alloc(size, 0x61);
          if (kind === 'json-string') return Buffer.from(JSON.stringify('x'.repeat(Math.max(0, size - 2))));
          return Buffer.from(`{"token":"t","pad":"${'p'.repeat(Math.max(0, size - 22))}"}`);
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 100, max: Math.floor(limit / 5) }), fc.boolean())
        .map(([d, arrays]) =>
          Buffer.from(arrays ? '['.repeat(d) + ']'.repeat(d) : '{"a":'.repeat(d) + 'null' + '}'.repeat(d)),
        ),
    },
  );
}

/** Harmless-looking extra headers (visible ASCII values) that the handler may read. */
export const headerNoiseArb: fc.Arbitrary<RawHeader[]> = fc.array(
  fc.tuple(
    fc.oneof(
      fc.constantFrom(
        'Authorization',
        'X-Signature',
        'X-Justifacts-Signature',
        'X-Victig-Signature',
        'Accept',
        'Accept-Encoding',
        'Cookie',
        'X-Forwarded-For',
        'X-Forwarded-Proto',
        'X-Forwarded-Host',
        'Origin',
        'X-Request-Id',
      ),
      fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
    ),
    fc.oneof(
      printable(60),
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        'Basic Og==',
        'sha256=',
        '0'.repeat(64),
        'sha256=' + 'f'.repeat(64),
      ),
      fc.stringMatching(/^[0-9a-f]{64}$/),
    ),
  ),
  { maxLength: 3 },
);

/** Authorization values around a right one: other schemes, case, spacing, prefixes, cut or flipped secrets. */
export function authorizationArb(secret: string): fc.Arbitrary<RawHeader[]> {
  const value: fc.Arbitrary<string> = fc.oneof(
    fc.constantFrom(
      `Bearer ${secret}`,
      `bearer ${secret}`,
      `BEARER ${secret}`,
      `Bearer  ${secret}`,
      `Bearer\t${secret}`,
      `Bearer ${secret} `,
      ` Bearer ${secret}`,
      `Basic ${secret}`,
      `Token ${secret}`,
      `Bearer${secret}`,
      `Bearer ${secret}x`,
      `Bearer x${secret}`,
      `Bearer ${secret.slice(0, -1)}`,
      `Bearer ${secret.toUpperCase()}`,
      `Bearer ${secret} ${secret}`,
      `Bearer "${secret}"`,
      `Basic ${Buffer.from(`:${secret}`).toString('base64')}`,
      secret,
      'Bearer',
      'Bearer ',
      '',
    ),
    fc.nat({ max: Math.max(0, secret.length - 1) }).map((i) => `Bearer ${flip(secret, i)}`),
    printable(80),
    printable(40).map((s) => `Bearer ${s}`),
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<RawHeader[]>([]) },
    { weight: 6, arbitrary: value.map((v): RawHeader[] => [['Authorization', v]]) },
    {
      weight: 1,
      arbitrary: fc.tuple(value, value).map(([a, b]): RawHeader[] => [
        ['Authorization', a],
        ['authorization', b],
      ]),
    },
  );
}

/** Changes one character to another of the same kind (hex stays hex). */
export function flip(s: string, at: number): string {
  const i = at % Math.max(s.length, 1);
  const c = s[i] ?? 'a';
  const replacement = /[0-9a-f]/.test(c) ? ((parseInt(c, 16) + 1) % 16).toString(16) : c === 'a' ? 'b' : 'a';
  return s.slice(0, i) + replacement + s.slice(i + 1);
}

/** A path segment: garbage, percent-encoding that does not decode, NUL, dots, very long, or a real id. */
export function segmentArb(realIds: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s)) },
    {
      weight: 2,
      arbitrary: nastyString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '')) || 'x'),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '%ff',
        '%00',
        'a%00b',
        '%',
        '%zz',
        '%e2%82',
        '%ed%a0%80',
        '..',
        '.',
        '%2e%2e',
        '%2F',
        'conn_',
        'conn_000000000000000000000000',
        '__proto__',
        'constructor',
        'toString',
        '%20',
        '~',
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 6000 }).map((n) => 'x'.repeat(n)) },
    { weight: 2, arbitrary: fc.constantFrom(...realIds) },
  );
}

export const jsonLikeContentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'text/plain',
  undefined,
);
