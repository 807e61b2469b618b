import fc from 'fast-check';

/**
 * A JSON document kept as ordered entries, so that mutations can do what a JS object cannot: repeat a key, keep
 * the order of keys, or splice raw JSON text (deep nesting, huge strings) into a value.
 */
export type DocNode = { kind: 'raw'; text: string } | { kind: 'object'; entries: [string, DocNode][] };

export function toDoc(value: unknown): DocNode {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return {
      kind: 'object',
      entries: Object.entries(value as Record<string, unknown>).map(([k, v]): [string, DocNode] => [
        k,
        toDoc(v),
      ]),
    };
  }
  return { kind: 'raw', text: JSON.stringify(value) ?? 'null' };
}

export function serialize(node: DocNode): string {
  if (node.kind === 'raw') return node.text;
  return `{${node.entries.map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`).join(',')}}`;
}

/** Every object node, the document first, depth first: the places a mutation can hit. */
function objects(node: DocNode, skipKeys: readonly string[]): Extract<DocNode, { kind: 'object' }>[] {
  if (node.kind === 'raw') return [];
  return [
    node,
    ...node.entries.filter(([k]) => !skipKeys.includes(k)).flatMap(([, v]) => objects(v, skipKeys)),
  ];
}

/** Sets the last occurrence of a top-level key (the one JSON.parse keeps), or appends it. */
export function setTop(doc: DocNode, key: string, value: DocNode): void {
  if (doc.kind !== 'object') return;
  const index = doc.entries.map(([k]) => k).lastIndexOf(key);
  if (index >= 0) doc.entries[index] = [key, value];
  else doc.entries.push([key, value]);
}

export function removeTop(doc: DocNode, key: string): void {
  if (doc.kind === 'object') doc.entries = doc.entries.filter(([k]) => k !== key);
}

/** Characters that tend to break things: controls, NUL, lone surrogates, BOM, bidi overrides, line separators. */
export const nastyChar = fc.oneof(
  fc.constantFrom(
    '\u0000',
    '\u0001',
    '\u0008',
    '\u001b',
    '\u007f',
    '\n',
    '\r',
    '\t',
    '"',
    '\\',
    '\ud800',
    '\udfff',
    '\ufeff',
    '\ufffd',
    '\u202e',
    '\u200b',
    '\u2028',
    '\u00e9',
    '\u{1f600}',
    '%00',
    '%ff',
    '../',
    '$(',
    "'",
    '<script>',
  ),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
);
export const nastyString = fc
  .array(fc.oneof(nastyChar, fc.string({ maxLength: 4 })), { maxLength: 12 })
  .map((parts) => parts.join(''));

/** Raw JSON texts a value can be replaced with, some of which no JS value serializes to. */
export const rawJsonValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: nastyString.map((s) => JSON.stringify(s)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'null',
      'true',
      '0',
      '-1',
      '-0',
      '1.5',
      '1e400',
      '-1e400',
      '9007199254740993',
      '8640000000000001',
      '1e21',
      '""',
      '[]',
      '{}',
      '"\\u0000"',
      '"\\ud800"',
      '"\\udc00x"',
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 50, max: 12_000 }), fc.boolean())
      .map(([depth, arrays]) =>
        arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
      ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 150, max: 40_000 }).map((n) => JSON.stringify('x'.repeat(n))) },
);

export type Mutation =
  | { op: 'drop'; target: number; key: number }
  | { op: 'rename'; target: number; key: number; to: string }
  | { op: 'retype'; target: number; key: number; value: string }
  | { op: 'duplicate'; target: number; key: number; value: string; before: boolean }
  | { op: 'garble'; target: number; key: number; at: number; insert: string }
  | { op: 'add'; target: number; key: string; value: string };

const index = fc.nat({ max: 1000 });
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), target: index, key: index }),
  fc.record({
    op: fc.constant('rename' as const),
    target: index,
    key: index,
    to: fc.oneof(fc.string({ maxLength: 12 }), nastyString, fc.constantFrom('__proto__', 'constructor', '')),
  }),
  fc.record({ op: fc.constant('retype' as const), target: index, key: index, value: rawJsonValue }),
  fc.record({
    op: fc.constant('duplicate' as const),
    target: index,
    key: index,
    value: rawJsonValue,
    before: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('garble' as const),
    target: index,
    key: index,
    at: index,
    insert: nastyString,
  }),
  fc.record({
    op: fc.constant('add' as const),
    target: index,
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'id')),
    value: rawJsonValue,
  }),
);

/**
 * Applies a mutation in place. `skipKeys` are never touched (nor anything under them), e.g. the signature,
 * which has its own plan, or base URLs that would send the service to the internet.
 */
export function mutate(doc: DocNode, m: Mutation, skipKeys: readonly string[] = []): void {
  const targets = objects(doc, skipKeys);
  const target = targets[m.target % targets.length];
  if (target === undefined) return;
  if (m.op === 'add') {
    if (!skipKeys.includes(m.key)) target.entries.push([m.key, { kind: 'raw', text: m.value }]);
    return;
  }
  const candidates = target.entries.map((_, i) => i).filter((i) => !skipKeys.includes(target.entries[i]![0]));
  const at = candidates[m.key % Math.max(candidates.length, 1)];
  if (at === undefined) return;
  const [key, value] = target.entries[at]!;
  switch (m.op) {
    case 'drop':
      target.entries.splice(at, 1);
      return;
    case 'rename':
      if (!skipKeys.includes(m.to)) target.entries[at] = [m.to, value];
      return;
    case 'retype':
      target.entries[at] = [key, { kind: 'raw', text: m.value }];
      return;
    case 'duplicate':
      target.entries.splice(m.before ? at : at + 1, 0, [key, { kind: 'raw', text: m.value }]);
      return;
    case 'garble': {
      const current = value.kind === 'raw' ? parseOr(value.text) : undefined;
      // Garbling a non-string turns its JSON text into a string (never re-serialized: it may be nested deep).
      const text = typeof current === 'string' ? current : value.kind === 'raw' ? value.text : '';
      const pos = m.at % (text.length + 1);
      target.entries[at] = [
        key,
        { kind: 'raw', text: JSON.stringify(text.slice(0, pos) + m.insert + text.slice(pos)) },
      ];
      return;
    }
  }
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Byte-level damage to a serialized body: flip, cut, or insert bytes. */
export type ByteDamage =
  | { op: 'none' }
  | { op: 'flip'; at: number; xor: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array };

export const byteDamageArb: fc.Arbitrary<ByteDamage> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ op: 'none' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('flip' as const),
      at: fc.nat(),
      xor: fc.integer({ min: 1, max: 255 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
    }),
  },
);

export function damage(bytes: Buffer, d: ByteDamage): Buffer {
  if (d.op === 'none' || bytes.length === 0) return bytes;
  const at = d.at % bytes.length;
  if (d.op === 'truncate') return bytes.subarray(0, at);
  if (d.op === 'insert')
    return Buffer.concat([bytes.subarray(0, at), Buffer.from(d.bytes), bytes.subarray(at)]);
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ d.xor;
  return copy;
}

/**
 * What Express's JSON parser makes of a body: undefined for invalid JSON, non-object tops and bad UTF-8 aside
 * (invalid sequences become U+FFFD, like Buffer#toString). An empty body is `{}`.
 */
export function expressJson(bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  let text = bytes.toString('utf8');
  if (text.startsWith('\ufeff')) text = text.slice(1);
  if (text.length === 0) return { ok: true, value: {} };
  const first = text.replace(/^[ \t\n\r]+/, '')[0];
  if (first !== '{' && first !== '[') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
