import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { ADMIN_TOKEN, type Stack } from '../support/stack';
import { eventually } from '../support/waits';
import {
  byteDamageArb,
  damage,
  expressJson,
  mutate,
  mutationArb,
  nastyString,
  removeTop,
  serialize,
  setTop,
  toDoc,
  type DocNode,
} from './json-doc';
import {
  SIGNATURE_HEADER,
  adminAuthorized,
  ashbyAuthorized,
  expectAshbyCancel,
  expectAshbyStart,
  expectCallback,
  expectLever,
  hmacHex,
  isObject,
  signCallback,
  type CallbackVendor,
  type LeverContext,
} from './oracles';
import { rawRequest, type RawHeader, type RawRequest, type RawResponse } from './raw-http';

// ---------------------------------------------------------------------------------------------------------------
// Figures

export interface EndpointFigures {
  requests: number;
  statuses: Map<number, number>;
}

/** Requests and statuses per endpoint, for the report of scripts/fuzz.ts. */
export class Figures {
  readonly endpoints = new Map<string, EndpointFigures>();

  note(endpoint: string, status: number): void {
    const entry = this.endpoints.get(endpoint) ?? { requests: 0, statuses: new Map<number, number>() };
    entry.requests += 1;
    entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + 1);
    this.endpoints.set(endpoint, entry);
  }

  get total(): number {
    return [...this.endpoints.values()].reduce((n, e) => n + e.requests, 0);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The fuzzed stack: one connection per kind

const EMP = {
  code: 'EmpCod',
  id: '13558',
  name: 'Employment Screening',
  description: 'Identity and employment.',
};
const CRIM = { code: 'CrimCod', id: '20417', name: 'Criminal Screening', description: 'Criminal searches.' };

export interface LeverTarget extends LeverContext {
  label: string;
  id: string;
  vendor: CallbackVendor;
  callbackSecret: string;
}
/**
 * The rate limits of the fuzzed stack: out of reach, as every request comes from 127.0.0.1 and the limits would
 * answer 429 where the properties expect the handlers' answers (test/e2e/flood.test.ts tests the limits).
 */
export const FUZZ_PUBLIC_LIMITS = { RATE_LIMIT_SOURCE_REFUSED: 1e9, RATE_LIMIT_CONNECTION_ACCEPTED: 1e9 };

export interface AshbyTarget {
  id: string;
  partnerSecret: string;
  callbackSecret: string;
  packageIds: string[];
}

export interface FuzzContext {
  stack: Stack;
  origin: { host: string; port: number };
  certn: LeverTarget;
  /** A Lever → Certn connection that only the admin properties change (patch, pause, resume). */
  lifecycle: { id: string; packageIds: string[] };
  victig: LeverTarget;
  ashby: AshbyTarget;
  figures: Figures;
  /** Workflows the accepted requests started, per connection. */
  expectedWorkflows: Map<string, number>;
  /** Assessments Ashby started during the run (cancel may name them). */
  assessments: Set<string>;
  /** Candidate + package keys of started assessments (a second start may get 409 while one runs). */
  assessmentKeys: Set<string>;
  /** Lever tokens and vendor event ids recorded so far, per connection (a repeat is a duplicate). */
  seen: Set<string>;
  /** The Lever tokens of `seen` recorded by a refused signed delivery: a repeat is refused too (409). */
  refusedTokens: Set<string>;
  /** Ids unique to this run. */
  unique(prefix: string): string;
}

/** Creates the connections (Lever → Certn, Lever → VICTIG, Ashby → Justifacts) through the admin API. */
export async function setUpFuzz(stack: Stack): Promise<FuzzContext> {
  const triggerStageId = stack.lever.stageIdByName('Background Check');
  const certnConnection = await stack.createConnection();
  const lifecycle = await stack.createConnection();

  const victigLever = stack.leverAccount();
  const accountId = stack.unique('acct');
  const victigKey = stack.unique('victig-key');
  const victigSecret = stack.unique('victig-cb');
  stack.victig.addAccount({ accountId, apiKey: victigKey });
  const victig = await stack.adminCreate({
    name: stack.unique('Fuzz VICTIG'),
    lever: { ...victigLever, triggerStageId },
    vendor: {
      type: 'victig',
      apiBaseUrl: stack.victig.apiBaseUrl,
      accountId,
      apiKey: victigKey,
      callbackSecret: victigSecret,
      defaultProduct: 'Criminal Package 1',
    },
  });

  const ashbyKey = stack.unique('ashby-key');
  stack.ashby.addOrganization({ apiKey: ashbyKey });
  const jfKey = stack.unique('justifacts-key');
  const jfSecret = stack.unique('justifacts-callback');
  const ashby = await stack.adminCreate({
    name: stack.unique('Fuzz Ashby'),
    ashby: { apiBaseUrl: stack.ashby.apiBaseUrl, apiKey: ashbyKey },
    vendor: {
      type: 'justifacts',
      apiBaseUrl: stack.justifacts.apiBaseUrl,
      apiKey: jfKey,
      callbackSecret: jfSecret,
      packages: [EMP, CRIM],
    },
  });
  // No callback URL: the emulator never calls back, so every row counted below comes from a fuzzed request.
  stack.justifacts.addAccount({ apiKey: jfKey });

  let counter = 0;
  return {
    stack,
    origin: { host: '127.0.0.1', port: stack.api.port },
    lifecycle: { id: lifecycle.id, packageIds: lifecycle.packages.map((p) => p.id) },
    certn: {
      label: 'Lever → Certn',
      id: certnConnection.id,
      signatureToken: certnConnection.signatureToken,
      trigger: 'stage-change',
      triggerStageId,
      vendor: 'certn',
      callbackSecret: certnConnection.webhookSecret,
    },
    victig: {
      label: 'Lever → VICTIG',
      id: victig.id,
      signatureToken: victigLever.signatureToken,
      trigger: 'stage-change',
      triggerStageId,
      vendor: 'victig',
      callbackSecret: victigSecret,
    },
    ashby: {
      id: ashby.id,
      partnerSecret: ashby.partnerSecret,
      callbackSecret: jfSecret,
      packageIds: [EMP.id, CRIM.id],
    },
    figures: new Figures(),
    expectedWorkflows: new Map(),
    assessments: new Set(),
    assessmentKeys: new Set(),
    seen: new Set(),
    refusedTokens: new Set(),
    unique: (prefix) => {
      counter += 1;
      return `${prefix}-${counter}-${randomUUID().slice(0, 8)}`;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Sending and checking

class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
}

function describeRequest(req: RawRequest): string {
  const headers = (req.headers ?? [])
    .map(
      ([n, v]) => `${n}: ${JSON.stringify((typeof v === 'string' ? v : v.toString('latin1')).slice(0, 80))}`,
    )
    .join('; ');
  const body = req.body === undefined ? '(none)' : JSON.stringify(req.body.subarray(0, 300).toString('utf8'));
  return `${req.method} ${req.target.slice(0, 200)} [${headers}] body(${req.body?.length ?? 0} bytes)=${body}`;
}

function describeResponse(res: RawResponse): string {
  return `${res.status} ${res.headers['content-type'] ?? '(no content-type)'} ${res.body.subarray(0, 300).toString('utf8')}`;
}

function check(condition: boolean, message: string, req: RawRequest, res?: RawResponse): asserts condition {
  if (!condition) {
    throw new FuzzFailure(
      `${message}\n  request: ${describeRequest(req)}${res ? `\n  response: ${describeResponse(res)}` : ''}`,
    );
  }
}

function bodyJson(res: RawResponse): unknown {
  try {
    return JSON.parse(res.body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Sends one request and checks what every answer must be: never a 5xx, and a 4xx is problem+json whose `status`
 * is the response status (HEAD answers carry no body).
 */
async function send(ctx: FuzzContext, endpoint: string, req: RawRequest): Promise<RawResponse> {
  const res = await rawRequest(ctx.origin, req);
  ctx.figures.note(endpoint, res.status);
  check(res.status < 500, `server error ${res.status}`, req, res);
  if (res.status >= 400) {
    check(
      /^application\/problem\+json\b/.test(res.headers['content-type'] ?? ''),
      `${res.status} without Content-Type: application/problem+json`,
      req,
      res,
    );
    if (req.method !== 'HEAD') {
      const problem = bodyJson(res);
      check(
        isObject(problem) && problem.status === res.status && typeof problem.detail === 'string',
        'problem document without matching status/detail',
        req,
        res,
      );
    }
  }
  return res;
}

interface Counts {
  webhook_inbox: number;
  vendor_callbacks: number;
  connections: number;
  connection_events: number;
  ashby_assessments: number;
}
type Table = keyof Counts;

async function counts(ctx: FuzzContext): Promise<Counts> {
  const { rows } = await ctx.stack.pool.query<Record<Table, string>>(
    `SELECT (SELECT count(*) FROM webhook_inbox) AS webhook_inbox,
            (SELECT count(*) FROM vendor_callbacks) AS vendor_callbacks,
            (SELECT count(*) FROM connections) AS connections,
            (SELECT count(*) FROM connection_events) AS connection_events,
            (SELECT count(*) FROM ashby_assessments) AS ashby_assessments`,
  );
  const row = rows[0]!;
  return {
    webhook_inbox: Number(row.webhook_inbox),
    vendor_callbacks: Number(row.vendor_callbacks),
    connections: Number(row.connections),
    connection_events: Number(row.connection_events),
    ashby_assessments: Number(row.ashby_assessments),
  };
}

/**
 * Sends a request and checks the rows it added: none unless `added` says so (for a 2xx answer) or
 * `addedWhenRejected` (for any other).
 */
async function sendCounted(
  ctx: FuzzContext,
  endpoint: string,
  req: RawRequest,
  added: (res: RawResponse) => Partial<Counts> = () => ({}),
  addedWhenRejected: Partial<Counts> = {},
): Promise<RawResponse> {
  const before = await counts(ctx);
  const res = await send(ctx, endpoint, req);
  const after = await counts(ctx);
  const expected = res.status < 300 ? added(res) : addedWhenRejected;
  for (const table of Object.keys(before) as Table[]) {
    const delta = after[table] - before[table];
    check(
      delta === (expected[table] ?? 0),
      `${table}: ${delta} rows added, expected ${expected[table] ?? 0}${res.status >= 400 ? ' (request rejected)' : ''}`,
      req,
      res,
    );
  }
  return res;
}

function expectRejected(req: RawRequest, res: RawResponse, status: number | undefined, why: string): void {
  check(res.status >= 400 && res.status < 500, `expected a 4xx (${why}), got ${res.status}`, req, res);
  if (status !== undefined)
    check(res.status === status, `expected ${status} (${why}), got ${res.status}`, req, res);
}

const addWorkflow = (ctx: FuzzContext, connectionId: string) =>
  ctx.expectedWorkflows.set(connectionId, (ctx.expectedWorkflows.get(connectionId) ?? 0) + 1);

/** Normalizes text the way PostgreSQL stores it (unpaired surrogates become U+FFFD). */
const stored = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

// ---------------------------------------------------------------------------------------------------------------
// Generators

export const WEBHOOK_BODY_LIMIT = 100 * 1024;
const ASHBY_BODY_LIMIT = 64 * 1024;
const ADMIN_BODY_LIMIT = 256 * 1024;

const printable = (max: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: max,
  });

const contentTypeArb: fc.Arbitrary<string | undefined> = fc.oneof(
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
function bodyArb(limit: number): fc.Arbitrary<Buffer> {
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
const headerNoiseArb: fc.Arbitrary<RawHeader[]> = fc.array(
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
function authorizationArb(secret: string): fc.Arbitrary<RawHeader[]> {
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
function flip(s: string, at: number): string {
  const i = at % Math.max(s.length, 1);
  const c = s[i] ?? 'a';
  const replacement = /[0-9a-f]/.test(c) ? ((parseInt(c, 16) + 1) % 16).toString(16) : c === 'a' ? 'b' : 'a';
  return s.slice(0, i) + replacement + s.slice(i + 1);
}

/** A path segment: garbage, percent-encoding that does not decode, NUL, dots, very long, or a real id. */
function segmentArb(realIds: string[]): fc.Arbitrary<string> {
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

// ---------------------------------------------------------------------------------------------------------------
// Properties

export interface FuzzParams {
  seed: number;
  numRuns: number;
}
export interface FuzzProperty {
  endpoint: string;
  name: string;
  /** Runs in the jest file; the script multiplies it. */
  runs: number;
  run(params: FuzzParams): Promise<{ failed: boolean; report: string }>;
}

function property<Ts extends [unknown, ...unknown[]]>(
  ctx: FuzzContext,
  endpoint: string,
  name: string,
  runs: number,
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => Promise<void>,
): FuzzProperty {
  return {
    endpoint,
    name,
    runs,
    async run(params) {
      const prop = fc.asyncProperty<Ts>(...arbitraries, predicate);
      const details = await fc.check(prop, params);
      const report = details.failed
        ? shorten((await fc.asyncDefaultReportMessage(details)) ?? '', details.errorInstance)
        : '';
      const after = await afterProperty(ctx);
      return {
        failed: details.failed || after !== undefined,
        report: [report, after].filter((s) => s).join('\n'),
      };
    },
  };
}

/** fast-check's report with huge generated values cut, and the failure's own message first. */
function shorten(report: string, error: unknown): string {
  const cut = (text: string) =>
    text
      .split('\n')
      .map((line) => (line.length > 1500 ? `${line.slice(0, 1500)}… (${line.length} characters)` : line))
      .join('\n');
  const message = error instanceof Error ? error.message : String(error);
  return `${cut(message)}\n${cut(report)}`;
}

/** After each property: the server answers /healthz, and exactly the expected workflows exist. */
async function afterProperty(ctx: FuzzContext): Promise<string | undefined> {
  const health = await rawRequest(ctx.origin, { method: 'GET', target: '/healthz' });
  if (health.status !== 200) return `/healthz answered ${health.status} after the property`;
  for (const id of [ctx.certn.id, ctx.victig.id, ctx.ashby.id]) {
    const expected = ctx.expectedWorkflows.get(id) ?? 0;
    try {
      await eventually(
        async () => {
          const { count } = await ctx.stack.temporal.workflow.count(`BgcConnection = "${id}"`);
          return count === expected ? true : undefined;
        },
        10_000,
        `${expected} workflows of ${id}`,
      );
    } catch {
      const { count } = await ctx.stack.temporal.workflow.count(`BgcConnection = "${id}"`);
      // Reported once: the next property starts from what is there.
      ctx.expectedWorkflows.set(id, count);
      return `connection ${id}: ${count} workflows, expected ${expected} (only accepted requests may start one)`;
    }
  }
  return undefined;
}

// --- Lever webhooks -------------------------------------------------------------------------------------------

type LeverBaseKind = 'trigger' | 'other-stage' | 'verify' | 'other-event' | 'hired';
type SignaturePlan =
  | 'keep'
  | 'resign'
  | 'resign-upper'
  | 'flip'
  | 'truncate'
  | 'append'
  | 'wrong-key'
  | 'drop'
  | 'non-hex'
  | 'number'
  | 'null';
const signaturePlanArb: fc.Arbitrary<{ plan: SignaturePlan; at: number }> = fc.record({
  plan: fc.oneof(
    { weight: 6, arbitrary: fc.constant<SignaturePlan>('resign') },
    { weight: 3, arbitrary: fc.constant<SignaturePlan>('keep') },
    {
      weight: 4,
      arbitrary: fc.constantFrom<SignaturePlan>(
        'resign-upper',
        'flip',
        'truncate',
        'append',
        'wrong-key',
        'drop',
        'non-hex',
        'number',
        'null',
      ),
    },
  ),
  at: fc.nat({ max: 63 }),
});

function leverBase(ctx: FuzzContext, target: LeverTarget, kind: LeverBaseKind) {
  const token = ctx.unique('tok');
  const triggeredAt = Date.now();
  const opportunityId = randomUUID();
  const data: Record<string, unknown> =
    kind === 'verify'
      ? {}
      : kind === 'hired'
        ? { opportunityId, candidateId: opportunityId, contactId: randomUUID() }
        : {
            opportunityId,
            candidateId: opportunityId,
            contactId: randomUUID(),
            fromStageId: ctx.stack.lever.stageIdByName('Phone screen'),
            toStageId:
              kind === 'other-stage' ? ctx.stack.lever.stageIdByName('Phone screen') : target.triggerStageId,
          };
  return {
    id: randomUUID(),
    event:
      kind === 'hired'
        ? 'candidateHired'
        : kind === 'other-event'
          ? 'candidateArchiveChange'
          : 'candidateStageChange',
    triggeredAt,
    token,
    signature: hmacHex(target.signatureToken, token + String(triggeredAt)),
    data,
  };
}

function applySignaturePlan(doc: DocNode, plan: { plan: SignaturePlan; at: number }, key: string): void {
  const parsed = JSON.parse(serialize(doc)) as unknown;
  const token = isObject(parsed) ? parsed.token : undefined;
  const triggeredAt = isObject(parsed) ? parsed.triggeredAt : undefined;
  const right =
    typeof token === 'string' && typeof triggeredAt === 'number'
      ? hmacHex(key, token + String(triggeredAt))
      : hmacHex(key, 'nothing to sign');
  const current = isObject(parsed) && typeof parsed.signature === 'string' ? parsed.signature : right;
  const set = (value: unknown) => setTop(doc, 'signature', { kind: 'raw', text: JSON.stringify(value) });
  switch (plan.plan) {
    case 'keep':
      return;
    case 'resign':
      return set(right);
    case 'resign-upper':
      return set(right.toUpperCase());
    case 'flip':
      return set(flip(current, plan.at));
    case 'truncate':
      return set(current.slice(0, plan.at));
    case 'append':
      return set(`${current}0`);
    case 'wrong-key':
      return set(hmacHex(`${key}x`, typeof token === 'string' ? token + String(triggeredAt) : ''));
    case 'drop':
      return removeTop(doc, 'signature');
    case 'non-hex':
      return set(`${current.slice(0, plan.at)}g${current.slice(plan.at + 1)}`);
    case 'number':
      return set(Number.parseInt(current.slice(0, 12), 16));
    case 'null':
      return set(null);
  }
}

/** Changes to a signed field after signing (with the signature kept, the delivery must be refused). */
type Tamper =
  'none' | 'token-suffix' | 'token-case' | 'triggeredAt+1' | 'triggeredAt-string' | 'triggeredAt-float';
const tamperArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Tamper>('none') },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Tamper>(
      'token-suffix',
      'token-case',
      'triggeredAt+1',
      'triggeredAt-string',
      'triggeredAt-float',
    ),
  },
);

function tamper(doc: DocNode, how: Tamper): void {
  const parsed = JSON.parse(serialize(doc)) as unknown;
  if (!isObject(parsed) || how === 'none') return;
  const { token, triggeredAt } = parsed;
  const set = (key: string, value: unknown) => setTop(doc, key, { kind: 'raw', text: JSON.stringify(value) });
  if (typeof token === 'string' && how === 'token-suffix') set('token', `${token}x`);
  if (typeof token === 'string' && how === 'token-case') set('token', token.toUpperCase());
  if (typeof triggeredAt === 'number' && how === 'triggeredAt+1') set('triggeredAt', triggeredAt + 1);
  if (typeof triggeredAt === 'number' && how === 'triggeredAt-string')
    set('triggeredAt', String(triggeredAt));
  if (typeof triggeredAt === 'number' && how === 'triggeredAt-float') set('triggeredAt', triggeredAt + 0.5);
}

const jsonLikeContentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'text/plain',
  undefined,
);

function leverProperties(ctx: FuzzContext): FuzzProperty[] {
  const targets = [ctx.certn, ctx.victig];
  const webhookPath = (id: string) => `/webhooks/lever/${id}`;
  return [
    property(
      ctx,
      'POST /webhooks/lever/:connectionId',
      'random bodies, content types and headers: 4xx problem+json, nothing recorded',
      250,
      [
        fc.constantFrom(ctx.certn.id, ctx.victig.id, ctx.ashby.id, 'conn_unknown'),
        bodyArb(WEBHOOK_BODY_LIMIT),
        contentTypeArb,
        headerNoiseArb,
      ],
      async (id, body, contentType, noise) => {
        const req: RawRequest = {
          method: 'POST',
          target: webhookPath(id),
          headers: [
            ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
            ...noise,
          ],
          body,
        };
        const res = await sendCounted(ctx, 'POST /webhooks/lever/:connectionId', req);
        expectRejected(req, res, undefined, 'a random body is never a signed delivery');
      },
    ),
    property(
      ctx,
      'POST /webhooks/lever/:connectionId',
      'mutated signed deliveries: valid ones recorded once and answered as the contract says, the rest 4xx (signed ones recorded as refused)',
      300,
      [
        fc.constantFrom(...targets),
        fc.constantFrom<LeverBaseKind>('trigger', 'other-stage', 'verify', 'other-event', 'hired'),
        fc.array(mutationArb, { maxLength: 3 }),
        signaturePlanArb,
        tamperArb,
        byteDamageArb,
        jsonLikeContentType,
        fc.boolean(),
      ],
      async (target, kind, mutations, signaturePlan, tampering, byteDamage, contentType, redeliver) => {
        const doc = toDoc(leverBase(ctx, target, kind));
        for (const m of mutations) mutate(doc, m, ['signature']);
        applySignaturePlan(doc, signaturePlan, target.signatureToken);
        tamper(doc, tampering);
        const body = damage(Buffer.from(serialize(doc)), byteDamage);
        const req: RawRequest = {
          method: 'POST',
          target: webhookPath(target.id),
          headers: contentType === undefined ? [] : [['Content-Type', contentType]],
          body,
        };
        const verdict: ReturnType<typeof expectLever> =
          body.length > WEBHOOK_BODY_LIMIT
            ? { accept: false, status: 413, why: 'body over the limit' }
            : expectLever(body, target);
        const token = verdict.accept ? verdict.value.token : verdict.recordedToken;
        const seenKey = token === undefined ? '' : `${target.id}/lever/${stored(token)}`;
        const duplicate = token !== undefined && ctx.seen.has(seenKey);
        // A signed delivery that is refused is recorded all the same (its token is used up), once.
        const res = await sendCounted(
          ctx,
          'POST /webhooks/lever/:connectionId',
          req,
          () => (duplicate ? {} : { webhook_inbox: 1 }),
          token === undefined || duplicate ? {} : { webhook_inbox: 1 },
        );
        if (!verdict.accept) {
          expectRejected(req, res, verdict.status, verdict.why);
          if (token === undefined) return;
          if (!duplicate) {
            ctx.seen.add(seenKey);
            ctx.refusedTokens.add(seenKey);
            const row = await ctx.stack.pool.query<{ outcome: string; processed: boolean }>(
              `SELECT outcome, processed_at IS NOT NULL AS processed FROM webhook_inbox
               WHERE connection_id = $1 AND source = 'lever' AND token = $2`,
              [target.id, token],
            );
            check(
              row.rows.length === 1 && row.rows[0]!.outcome.startsWith('refused-') && row.rows[0]!.processed,
              `the inbox row must say refused-…: ${JSON.stringify(row.rows)}`,
              req,
              res,
            );
          }
          if (redeliver) {
            const again = await sendCounted(ctx, 'POST /webhooks/lever/:connectionId', req);
            expectRejected(req, again, verdict.status, `${verdict.why}, delivered again`);
          }
          return;
        }
        if (duplicate && ctx.refusedTokens.has(seenKey)) {
          return expectRejected(req, res, 409, 'the token was used up by a refused delivery');
        }
        const answer = bodyJson(res);
        check(isObject(answer) && answer.accepted === true, 'a valid delivery must be accepted', req, res);
        ctx.seen.add(seenKey);
        if (duplicate) {
          check(res.status === 200 && answer.duplicate === true, 'a repeated token is a duplicate', req, res);
          return;
        }
        const outcome = String(answer.outcome);
        check(
          res.status === verdict.value.status && verdict.value.outcomes.includes(outcome),
          `expected ${verdict.value.status} ${verdict.value.outcomes.join('|')}`,
          req,
          res,
        );
        const readRow = () =>
          ctx.stack.pool.query<{ outcome: string; processed: boolean }>(
            `SELECT outcome, processed_at IS NOT NULL AS processed FROM webhook_inbox
             WHERE connection_id = $1 AND source = 'lever' AND token = $2`,
            [target.id, verdict.value.token],
          );
        let row = await readRow();
        const expected = verdict.value.startOutcomes ?? [outcome];
        // A queued trigger's start follows the answer: its row says how it ended once it is processed.
        for (let waited = 0; verdict.value.startOutcomes && !row.rows[0]?.processed && waited < 15_000;) {
          await new Promise((resolve) => setTimeout(resolve, 25));
          waited += 25;
          row = await readRow();
        }
        check(
          row.rows.length === 1 && expected.includes(row.rows[0]!.outcome) && row.rows[0]!.processed,
          `the inbox row must say ${expected.join('|')}: ${JSON.stringify(row.rows)}`,
          req,
          res,
        );
        if (row.rows[0]?.outcome === 'started') addWorkflow(ctx, target.id);
        if (redeliver) {
          const again = await sendCounted(ctx, 'POST /webhooks/lever/:connectionId', req);
          const againBody = bodyJson(again);
          check(
            again.status === 200 && isObject(againBody) && againBody.duplicate === true,
            'a redelivery (same token) is answered 200 duplicate and starts nothing',
            req,
            again,
          );
        }
      },
    ),
  ];
}

// --- Vendor callbacks -----------------------------------------------------------------------------------------

type CallbackSignaturePlan =
  | 'resign'
  | 'keep'
  | 'upper'
  | 'padded'
  | 'flip'
  | 'wrong-secret'
  | 'drop'
  | 'twice'
  | 'other-header'
  | 'prefix-toggle'
  | 'empty';
const callbackSignaturePlanArb = fc.record({
  plan: fc.oneof(
    { weight: 6, arbitrary: fc.constant<CallbackSignaturePlan>('resign') },
    { weight: 2, arbitrary: fc.constant<CallbackSignaturePlan>('keep') },
    {
      weight: 5,
      arbitrary: fc.constantFrom<CallbackSignaturePlan>(
        'upper',
        'padded',
        'flip',
        'wrong-secret',
        'drop',
        'twice',
        'other-header',
        'prefix-toggle',
        'empty',
      ),
    },
  ),
  at: fc.nat({ max: 63 }),
});

function callbackBase(ctx: FuzzContext, vendor: CallbackVendor): Record<string, unknown> {
  const occurredAt = new Date().toISOString();
  if (vendor === 'certn') {
    return {
      id: ctx.unique('evt'),
      event_type: 'CASE_STATUS_CHANGED',
      object_id: randomUUID(),
      object_type: 'CASE',
    };
  }
  return {
    eventId: ctx.unique('evt'),
    orderId: `${vendor === 'victig' ? 'VG' : 'JF'}-${randomUUID().slice(0, 12).toUpperCase()}`,
    status: vendor === 'victig' ? 'IN_PROGRESS' : 'APPLICANT_STARTED',
    occurredAt,
  };
}

function callbackHeaders(
  vendor: CallbackVendor,
  secret: string,
  original: Buffer,
  body: Buffer,
  plan: { plan: CallbackSignaturePlan; at: number },
): RawHeader[] {
  const name = SIGNATURE_HEADER[vendor];
  const right = signCallback(vendor, secret, body);
  switch (plan.plan) {
    case 'resign':
      return [[name, right]];
    case 'keep':
      return [[name, signCallback(vendor, secret, original)]];
    case 'upper':
      return [
        [
          name,
          vendor === 'justifacts' ? `sha256=${hmacHex(secret, body).toUpperCase()}` : right.toUpperCase(),
        ],
      ];
    case 'padded':
      return [[name, ` \t${right}\t `]];
    case 'flip':
      return [[name, flip(right, plan.at + (vendor === 'justifacts' ? 7 : 0))]];
    case 'wrong-secret':
      return [[name, signCallback(vendor, `${secret}x`, body)]];
    case 'drop':
      return [];
    case 'twice':
      return [
        [name, right],
        [name, right],
      ];
    case 'other-header':
      return [[vendor === 'certn' ? 'X-Victig-Signature' : 'X-Signature', right]];
    case 'prefix-toggle':
      return [[name, vendor === 'justifacts' ? hmacHex(secret, body) : `sha256=${right}`]];
    case 'empty':
      return [[name, '']];
  }
}

function callbackProperties(ctx: FuzzContext): FuzzProperty[] {
  const targets: { vendor: CallbackVendor; id: string; secret: string }[] = [
    { vendor: 'certn', id: ctx.certn.id, secret: ctx.certn.callbackSecret },
    { vendor: 'victig', id: ctx.victig.id, secret: ctx.victig.callbackSecret },
    { vendor: 'justifacts', id: ctx.ashby.id, secret: ctx.ashby.callbackSecret },
  ];
  const endpoint = 'POST /callbacks/:vendor/:connectionId';
  return [
    property(
      ctx,
      endpoint,
      'random bodies and signature headers: 4xx problem+json, nothing recorded',
      250,
      [
        fc.constantFrom(...targets),
        bodyArb(WEBHOOK_BODY_LIMIT),
        contentTypeArb,
        headerNoiseArb,
        fc.oneof(
          fc.constant(undefined),
          fc.stringMatching(/^[0-9a-fA-F]{64}$/),
          fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256=${h}`),
          printable(80),
        ),
      ],
      async (target, body, contentType, noise, signature) => {
        const headers: RawHeader[] = [
          ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ...(signature === undefined ? [] : [[SIGNATURE_HEADER[target.vendor], signature] as RawHeader]),
          ...noise,
        ];
        const req: RawRequest = {
          method: 'POST',
          target: `/callbacks/${target.vendor}/${target.id}`,
          headers,
          body,
        };
        const res = await sendCounted(ctx, endpoint, req);
        expectRejected(req, res, undefined, 'a random body is never signed');
      },
    ),
    property(
      ctx,
      endpoint,
      'mutated signed callbacks: valid ones recorded once (200), the rest 4xx and nothing recorded',
      300,
      [
        fc.constantFrom(...targets),
        fc.array(mutationArb, { maxLength: 3 }),
        byteDamageArb,
        callbackSignaturePlanArb,
        jsonLikeContentType,
        fc.boolean(),
      ],
      async (target, mutations, byteDamage, plan, contentType, redeliver) => {
        const original = Buffer.from(JSON.stringify(callbackBase(ctx, target.vendor)));
        const doc = toDoc(JSON.parse(original.toString()));
        for (const m of mutations) mutate(doc, m);
        const body = damage(Buffer.from(serialize(doc)), byteDamage);
        const headers: RawHeader[] = [
          ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ...callbackHeaders(target.vendor, target.secret, original, body, plan),
        ];
        const req: RawRequest = {
          method: 'POST',
          target: `/callbacks/${target.vendor}/${target.id}`,
          headers,
          body,
        };
        const verdict: ReturnType<typeof expectCallback> =
          body.length > WEBHOOK_BODY_LIMIT
            ? { accept: false, status: 413, why: 'body over the limit' }
            : expectCallback(target.vendor, target.secret, body, headers);
        const seenKey = verdict.accept
          ? `${target.id}/${target.vendor}/${stored(verdict.value.eventId)}`
          : '';
        const duplicate = verdict.accept && ctx.seen.has(seenKey);
        const res = await sendCounted(ctx, endpoint, req, () => (duplicate ? {} : { vendor_callbacks: 1 }));
        if (!verdict.accept) return expectRejected(req, res, verdict.status, verdict.why);
        const answer = bodyJson(res);
        check(
          res.status === 200 && isObject(answer) && answer.accepted === true,
          'valid callback: 200',
          req,
          res,
        );
        ctx.seen.add(seenKey);
        if (duplicate)
          return check(answer.duplicate === true, 'a repeated event id is a duplicate', req, res);
        check(answer.outcome === 'unknown-order', 'no check ordered this case: unknown-order', req, res);
        if (redeliver) {
          const again = await sendCounted(ctx, endpoint, req);
          const againBody = bodyJson(again);
          check(
            again.status === 200 && isObject(againBody) && againBody.duplicate === true,
            'a redelivered event is answered 200 duplicate',
            req,
            again,
          );
        }
      },
    ),
  ];
}

// --- Ashby partner --------------------------------------------------------------------------------------------

type AshbyMethod = 'assessment.list' | 'assessment.start' | 'assessment.cancel';

function ashbyProperties(ctx: FuzzContext): FuzzProperty[] {
  const { ashby } = ctx;
  const endpointOf = (method: AshbyMethod) => `POST /ashby/:connectionId/${method}`;
  const bearer: RawHeader[] = [['Authorization', `Bearer ${ashby.partnerSecret}`]];
  return [
    property(
      ctx,
      'POST /ashby/:connectionId/assessment.*',
      'random bodies, content types and Authorization headers: list may answer 200, nothing recorded',
      250,
      [
        fc.constantFrom<AshbyMethod>('assessment.list', 'assessment.start', 'assessment.cancel'),
        fc.constantFrom(ashby.id, ctx.certn.id, 'conn_unknown'),
        bodyArb(ASHBY_BODY_LIMIT),
        contentTypeArb,
        authorizationArb(ashby.partnerSecret),
      ],
      async (method, id, body, contentType, authorization) => {
        const headers: RawHeader[] = [
          ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ...authorization,
        ];
        const req: RawRequest = { method: 'POST', target: `/ashby/${id}/${method}`, headers, body };
        const res = await sendCounted(ctx, endpointOf(method), req);
        const authorized = id === ashby.id && ashbyAuthorized(headers, ashby.partnerSecret);
        const parsed = expressJson(body);
        if (res.status < 300) {
          check(
            method === 'assessment.list' && authorized && parsed.ok && body.length <= ASHBY_BODY_LIMIT,
            'only an authorized assessment.list with a JSON body may succeed on random input',
            req,
            res,
          );
          const answer = bodyJson(res);
          check(
            isObject(answer) && Array.isArray(answer.results),
            'assessment.list lists packages',
            req,
            res,
          );
          return;
        }
        if (body.length > ASHBY_BODY_LIMIT) return expectRejected(req, res, undefined, 'body over the limit');
        if (!parsed.ok) return expectRejected(req, res, undefined, 'not JSON');
        if (!authorized) return expectRejected(req, res, undefined, 'not authorized');
        expectRejected(req, res, undefined, 'random input');
      },
    ),
    property(
      ctx,
      'POST /ashby/:connectionId/assessment.*',
      'mutated assessment.start and assessment.cancel: valid starts start one check, the rest 4xx',
      250,
      [
        fc.constantFrom<AshbyMethod>('assessment.start', 'assessment.start', 'assessment.cancel'),
        fc.constantFrom(...ashby.packageIds, 'x'),
        fc.array(mutationArb, { maxLength: 3 }),
        byteDamageArb,
        fc.oneof(
          { weight: 5, arbitrary: fc.constant(bearer) },
          { weight: 1, arbitrary: authorizationArb(ashby.partnerSecret) },
        ),
        jsonLikeContentType,
        fc.boolean(),
      ],
      async (method, typeId, mutations, byteDamage, authorization, contentType, again) => {
        const known = [...ctx.assessments];
        const base =
          method === 'assessment.start'
            ? {
                assessment_type_id: typeId,
                candidate: {
                  ashby_id: randomUUID(),
                  first_name: 'Grace',
                  last_name: 'Hopper',
                  email: `grace-${randomUUID().slice(0, 8)}@example.com`,
                  ashby_profile_url: 'https://app.ashbyhq.com/candidates/x',
                },
                application: { ashby_id: randomUUID(), status: 'Active' },
                job: { ashby_id: randomUUID(), name: 'Compiler Engineer' },
              }
            : { assessment_id: known.length > 0 ? known[known.length - 1] : 'asm_unknown' };
        const doc = toDoc(base);
        for (const m of mutations) mutate(doc, m);
        const body = damage(Buffer.from(serialize(doc)), byteDamage);
        const headers: RawHeader[] = [
          ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ...authorization,
        ];
        const req: RawRequest = { method: 'POST', target: `/ashby/${ashby.id}/${method}`, headers, body };
        const parsed = expressJson(body);
        const authorized = ashbyAuthorized(headers, ashby.partnerSecret);
        if (body.length > ASHBY_BODY_LIMIT || !parsed.ok || !authorized) {
          const res = await sendCounted(ctx, endpointOf(method), req);
          const [status, why] =
            body.length > ASHBY_BODY_LIMIT
              ? [413, 'body over the limit']
              : parsed.ok
                ? [401, 'not authorized']
                : [400, 'not JSON'];
          return expectRejected(req, res, status, why);
        }
        if (method === 'assessment.cancel') {
          const verdict = expectAshbyCancel(parsed.value, ctx.assessments);
          const res = await sendCounted(ctx, endpointOf(method), req);
          if (!verdict.accept) return expectRejected(req, res, verdict.status, verdict.why);
          const answer = bodyJson(res);
          check(res.status === 200 && isObject(answer) && answer.success === true, 'cancel: 200', req, res);
          return;
        }
        const verdict = expectAshbyStart(parsed.value, ashby.packageIds);
        const key = verdict.accept
          ? `${stored(verdict.value.candidateAshbyId)}/${verdict.value.assessmentTypeId}`
          : '';
        const maybeRunning = verdict.accept && ctx.assessmentKeys.has(key);
        const res = await sendCounted(ctx, endpointOf(method), req, () => ({ ashby_assessments: 1 }));
        if (!verdict.accept) return expectRejected(req, res, verdict.status, verdict.why);
        if (res.status === 409) {
          return check(maybeRunning, '409 only while the same candidate and package run', req, res);
        }
        const answer = bodyJson(res);
        check(
          res.status === 200 &&
            isObject(answer) &&
            answer.success === true &&
            isObject(answer.results) &&
            typeof answer.results.assessment_id === 'string',
          'a valid start answers 200 with the assessment id',
          req,
          res,
        );
        const assessmentId = answer.results.assessment_id;
        ctx.assessments.add(assessmentId);
        ctx.assessmentKeys.add(key);
        addWorkflow(ctx, ashby.id);
        if (again) {
          // The same candidate and package again: 409 while the check runs (it may already have ended, e.g.
          // when the vendor refused a mutated email; then it is a new assessment).
          const second = await sendCounted(ctx, endpointOf(method), req, () => ({ ashby_assessments: 1 }));
          check(
            second.status === 409 || second.status === 200,
            'a repeated start: 409, or 200 once ended',
            req,
            second,
          );
          if (second.status === 200) addWorkflow(ctx, ashby.id);
        }
      },
    ),
  ];
}

// --- Admin API ------------------------------------------------------------------------------------------------

function adminProperties(ctx: FuzzContext): FuzzProperty[] {
  const admin: RawHeader = ['Authorization', `Bearer ${ADMIN_TOKEN}`];
  const routes = [
    { method: 'GET', target: '/admin/connections', ok: 200 },
    { method: 'POST', target: '/admin/connections', ok: 400 },
    { method: 'GET', target: `/admin/connections/${ctx.certn.id}`, ok: 200 },
    { method: 'GET', target: '/admin/connections/conn_unknown', ok: 404 },
    { method: 'GET', target: `/admin/connections/${ctx.certn.id}/checks/${randomUUID()}`, ok: 404 },
    { method: 'DELETE', target: '/admin/connections/conn_unknown', ok: 404 },
    // An invalid query is refused before anything is deleted.
    { method: 'DELETE', target: `/admin/connections/${ctx.certn.id}?cancelRunning=maybe`, ok: 400 },
    // No body: not a merge patch.
    { method: 'PATCH', target: `/admin/connections/${ctx.certn.id}`, ok: 400 },
    { method: 'POST', target: '/admin/connections/conn_unknown/pause', ok: 404 },
    { method: 'POST', target: '/admin/connections/conn_unknown/resume', ok: 404 },
    { method: 'GET', target: `/admin/connections/${ctx.certn.id}/events`, ok: 200 },
    { method: 'GET', target: '/admin/nothing-here', ok: 404 },
  ];
  const validBodies = () => {
    const lever = ctx.stack.leverAccount();
    return [
      {
        name: ctx.unique('Fuzz Certn'),
        lever: { ...lever, triggerStageName: 'Background Check' },
        vendor: {
          type: 'certn',
          apiBaseUrl: ctx.stack.certn.apiBaseUrl,
          apiKey: ctx.unique('certn-key'),
          webhookSecret: ctx.unique('whsec'),
          packages: [
            { name: 'Basic', packageId: randomUUID(), default: true },
            { name: 'Executive Screening', packageId: randomUUID() },
          ],
        },
      },
      {
        name: ctx.unique('Fuzz VICTIG'),
        lever: { ...lever, triggerStageId: ctx.certn.triggerStageId },
        vendor: {
          type: 'victig',
          apiBaseUrl: ctx.stack.victig.apiBaseUrl,
          accountId: ctx.unique('acct'),
          apiKey: ctx.unique('victig-key'),
          callbackSecret: ctx.unique('victig-cb'),
          defaultProduct: 'Criminal Package 1',
          forwardTagPrefixes: ['Region: '],
        },
      },
      {
        name: ctx.unique('Fuzz Ashby'),
        ashby: { apiBaseUrl: ctx.stack.ashby.apiBaseUrl, apiKey: ctx.unique('ashby-key') },
        vendor: {
          type: 'justifacts',
          apiBaseUrl: ctx.stack.justifacts.apiBaseUrl,
          apiKey: ctx.unique('jf-key'),
          callbackSecret: ctx.unique('jf-cb'),
          packages: [EMP],
        },
      },
    ];
  };
  /** Changes an admin makes to a connection, as PATCH bodies (JSON merge patches). */
  const validPatches = () => [
    { name: ctx.unique('Renamed') },
    {
      vendor: {
        packages: ctx.lifecycle.packageIds.map((packageId, i) => ({
          name: `Package ${i}`,
          packageId,
          default: i === 1,
        })),
      },
    },
    { lever: { signatureToken: ctx.unique('sig') } },
    { vendor: { apiKey: ctx.unique('certn-key'), webhookSecret: ctx.unique('whsec') } },
    { lever: { triggerStageName: 'On-site interview' } },
    { lever: { triggerStageName: 'Background Check' } },
  ];
  const lifecycleVersion = async () =>
    (
      await ctx.stack.pool.query<{ version: number }>('SELECT version FROM connections WHERE id = $1', [
        ctx.lifecycle.id,
      ])
    ).rows[0]!.version;
  /** The secrets a connection body carries (where the contract puts them). */
  const secretsOf = (body: unknown): string[] => {
    if (!isObject(body)) return [];
    const found: unknown[] = [];
    for (const part of [body.lever, body.ashby, body.vendor]) {
      if (!isObject(part)) continue;
      for (const key of ['apiKey', 'signatureToken', 'webhookSecret', 'callbackSecret', 'partnerSecret']) {
        found.push(part[key]);
      }
    }
    return found.filter((s): s is string => typeof s === 'string' && s.length >= 8);
  };

  return [
    property(
      ctx,
      'admin API',
      'Authorization variants on every admin route: 401 + WWW-Authenticate unless the token is right',
      200,
      [fc.constantFrom(...routes), authorizationArb(ADMIN_TOKEN), contentTypeArb],
      async (route, authorization, contentType) => {
        const headers: RawHeader[] = [
          ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ...authorization,
        ];
        const req: RawRequest = {
          method: route.method,
          target: route.target,
          headers,
          body: route.method === 'POST' ? Buffer.from('{}') : undefined,
        };
        const res = await sendCounted(
          ctx,
          `${route.method} ${route.target.replace(/conn_\w+|[0-9a-f-]{36}/g, ':id')}`,
          req,
        );
        if (!adminAuthorized(headers, ADMIN_TOKEN)) {
          expectRejected(req, res, 401, 'no valid admin token');
          check(res.headers['www-authenticate'] === 'Bearer', 'WWW-Authenticate: Bearer on 401', req, res);
          return;
        }
        if (route.ok >= 400)
          return expectRejected(req, res, route.method === 'POST' ? undefined : route.ok, 'route');
        check(res.status === route.ok, `expected ${route.ok}`, req, res);
      },
    ),
    property(
      ctx,
      'POST /admin/connections',
      'random bodies and content types with the admin token: 4xx, no connection created',
      200,
      [
        bodyArb(ADMIN_BODY_LIMIT),
        contentTypeArb,
        headerNoiseArb.map((h) => h.filter(([n]) => !/^authorization$/i.test(n))),
      ],
      async (body, contentType, noise) => {
        const req: RawRequest = {
          method: 'POST',
          target: '/admin/connections',
          headers: [
            admin,
            ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
            ...noise,
          ],
          body,
        };
        const res = await sendCounted(ctx, 'POST /admin/connections', req);
        expectRejected(req, res, undefined, 'a random body is not a connection');
      },
    ),
    property(
      ctx,
      'POST /admin/connections',
      'mutated valid connections: 201 creates exactly one readable connection without secrets, else 4xx',
      120,
      [fc.nat({ max: 2 }), fc.array(mutationArb, { maxLength: 3 }), byteDamageArb],
      async (which, mutations, byteDamage) => {
        const base = validBodies()[which]!;
        const doc = toDoc(base);
        // Base URLs stay: another URL would make the service call out (a 502 is the right answer to that).
        for (const m of mutations) mutate(doc, m, ['apiBaseUrl']);
        const body = damage(Buffer.from(serialize(doc)), byteDamage);
        // Damaged bytes can still drop a base URL (e.g. "apiBaseUrl" → "ApiBaseUrl"): the default is the real Lever.
        const parsed = expressJson(body);
        const lever = parsed.ok && isObject(parsed.value) ? parsed.value.lever : undefined;
        fc.pre(!isObject(lever) || lever.apiBaseUrl === ctx.stack.lever.apiBaseUrl);
        const req: RawRequest = {
          method: 'POST',
          target: '/admin/connections',
          headers: [admin, ['Content-Type', 'application/json']],
          body,
        };
        const res = await sendCounted(ctx, 'POST /admin/connections', req, () => ({
          connections: 1,
          connection_events: 1,
        }));
        if (res.status >= 400) return expectRejected(req, res, undefined, 'invalid connection');
        check(res.status === 201, 'a created connection answers 201', req, res);
        const created = bodyJson(res);
        check(isObject(created) && typeof created.id === 'string', 'the answer carries the id', req, res);
        const answerText = JSON.stringify(created);
        const leaked = secretsOf(JSON.parse(body.toString('utf8'))).filter((s) => answerText.includes(s));
        check(leaked.length === 0, `secrets in the answer: ${leaked.join(', ')}`, req, res);
        const read = await send(ctx, 'GET /admin/connections/:id', {
          method: 'GET',
          target: `/admin/connections/${created.id}`,
          headers: [admin],
        });
        check(read.status === 200, 'the created connection can be read', req, read);
      },
    ),
    property(
      ctx,
      'PATCH /admin/connections/:id',
      'mutated merge patches: 200 with at most one new version and event and no secret in the answer, else 4xx and nothing changed',
      120,
      [fc.nat({ max: validPatches().length - 1 }), fc.array(mutationArb, { maxLength: 3 }), byteDamageArb],
      async (which, mutations, byteDamage) => {
        const doc = toDoc(validPatches()[which]!);
        for (const m of mutations) mutate(doc, m, ['apiBaseUrl']);
        const body = damage(Buffer.from(serialize(doc)), byteDamage);
        // Another base URL would make the service call out (a 502 is the right answer to that).
        const parsed = expressJson(body);
        const lever = parsed.ok && isObject(parsed.value) ? parsed.value.lever : undefined;
        fc.pre(!isObject(lever) || !('apiBaseUrl' in lever));
        const before = await lifecycleVersion();
        const req: RawRequest = {
          method: 'PATCH',
          target: `/admin/connections/${ctx.lifecycle.id}`,
          headers: [admin, ['Content-Type', 'application/merge-patch+json']],
          body,
        };
        const res = await sendCounted(ctx, 'PATCH /admin/connections/:id', req, (r) => {
          const answer = bodyJson(r);
          const version = isObject(answer) && typeof answer.version === 'number' ? answer.version : before;
          return { connection_events: version - before };
        });
        const after = await lifecycleVersion();
        if (res.status >= 400) {
          expectRejected(req, res, undefined, 'an invalid change');
          return check(after === before, 'a refused change left the connection as it was', req, res);
        }
        check(res.status === 200, 'a change answers 200', req, res);
        check(after === before || after === before + 1, `version ${before} → ${after}`, req, res);
        const leaked = secretsOf(parsed.ok ? parsed.value : undefined).filter((x) =>
          res.body.toString('utf8').includes(x),
        );
        check(leaked.length === 0, `secrets in the answer: ${leaked.join(', ')}`, req, res);
      },
    ),
    property(
      ctx,
      'POST /admin/connections/:id/pause|resume, DELETE',
      'pause and resume with any body: 200 and one event per real change, or 4xx; DELETE with a bad query deletes nothing',
      120,
      [
        fc.constantFrom('pause', 'resume', 'delete'),
        bodyArb(1024),
        contentTypeArb,
        fc.oneof(
          printable(30),
          fc.constantFrom('cancelRunning=maybe', 'cancelRunning=', 'x=1', 'cancelRunning=TRUE'),
        ),
      ],
      async (action, body, contentType, query) => {
        const state = async () =>
          (
            await ctx.stack.pool.query<{ paused: boolean; deleted: boolean }>(
              'SELECT paused_at IS NOT NULL AS paused, deleted_at IS NOT NULL AS deleted FROM connections WHERE id = $1',
              [ctx.lifecycle.id],
            )
          ).rows[0]!;
        const before = await state();
        const target =
          action === 'delete'
            ? `/admin/connections/${ctx.lifecycle.id}?${query}`
            : `/admin/connections/${ctx.lifecycle.id}/${action}`;
        // Only invalid queries: a valid DELETE would end the connection the other runs use.
        fc.pre(action !== 'delete' || !/^(cancelRunning=(true|false))?$/.test(query));
        const req: RawRequest = {
          method: action === 'delete' ? 'DELETE' : 'POST',
          target,
          headers: [
            admin,
            ...(contentType === undefined ? [] : [['Content-Type', contentType] as RawHeader]),
          ],
          body,
        };
        const changes = action !== 'delete' && before.paused !== (action === 'pause') ? 1 : 0;
        const res = await sendCounted(ctx, `${req.method} /admin/connections/:id/${action}`, req, () => ({
          connection_events: changes,
        }));
        const after = await state();
        check(!after.deleted, 'the connection was not deleted', req, res);
        if (res.status >= 400) {
          expectRejected(req, res, undefined, 'refused');
          return check(after.paused === before.paused, 'a refused request changed nothing', req, res);
        }
        check(action !== 'delete', 'a DELETE with a bad query is refused', req, res);
        check(after.paused === (action === 'pause'), `the connection is ${action}d`, req, res);
      },
    ),
  ];
}

// --- Paths, methods and headers on every endpoint -------------------------------------------------------------

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

function pathProperties(ctx: FuzzContext): FuzzProperty[] {
  const realIds = [ctx.certn.id, ctx.victig.id, ctx.ashby.id];
  const segment = segmentArb(realIds);
  const templates: fc.Arbitrary<{ target: string; kind: string }> = fc.oneof(
    segment.map((id) => ({ target: `/webhooks/lever/${id}`, kind: 'lever' })),
    fc
      .tuple(
        fc.oneof(segment, fc.constantFrom('certn', 'victig', 'justifacts', 'justworks', 'CERTN')),
        segment,
      )
      .map(([vendor, id]) => ({ target: `/callbacks/${vendor}/${id}`, kind: 'callback' })),
    fc
      .tuple(
        segment,
        fc.constantFrom('assessment.list', 'assessment.start', 'assessment.cancel', 'assessment.update', ''),
      )
      .map(([id, m]) => ({ target: `/ashby/${id}/${m}`, kind: 'ashby' })),
    segment.map((id) => ({ target: `/admin/connections/${id}`, kind: 'admin-one' })),
    // Report links: without the key nobody can make a token, so every one of these is a 404.
    fc.tuple(segment, segment, printable(60)).map(([id, report, token]) => ({
      target: `/reports/${id}/${report}?token=${encodeURIComponent(token)}`,
      kind: 'report',
    })),
    fc
      .tuple(fc.constantFrom(...realIds), segment)
      .map(([id, s]) => ({ target: `/admin/connections/${id}/checks/${s}`, kind: 'admin-check' })),
    fc
      .constantFrom(
        '/healthz',
        '/healthz/',
        '/HEALTHZ',
        '/healthz?x=%ff',
        '/',
        '//',
        '/admin',
        '/webhooks',
        '/ashby',
        '/codec/encode',
        '/codec/decode',
      )
      .map((target) => ({ target, kind: 'fixed' })),
    fc
      .array(segment, { minLength: 1, maxLength: 4 })
      .map((s) => ({ target: `/${s.join('/')}`, kind: 'random' })),
  );
  return [
    property(
      ctx,
      'paths',
      'unknown connection ids and vendors, malformed percent-encoding, any method: 4xx problem+json',
      300,
      [fc.constantFrom(...METHODS), templates, fc.boolean()],
      async (method, { target, kind }, withSecrets) => {
        const pathOnly = target.split('?')[0]!;
        const realAdminPath =
          withSecrets &&
          kind === 'admin-one' &&
          realIds.some((id) => new RegExp(`^/admin/connections/${id}/?$`).test(pathOnly));
        // Deleting a real connection is its own property's business (it would end the others' connection).
        fc.pre(!(realAdminPath && method === 'DELETE'));
        const headers: RawHeader[] = [['Content-Type', 'application/json']];
        if (withSecrets && kind.startsWith('admin')) headers.push(['Authorization', `Bearer ${ADMIN_TOKEN}`]);
        if (withSecrets && kind === 'ashby')
          headers.push(['Authorization', `Bearer ${ctx.ashby.partnerSecret}`]);
        const req: RawRequest = {
          method,
          target,
          headers,
          body: method === 'GET' || method === 'HEAD' ? undefined : Buffer.from('{}'),
        };
        const res = await sendCounted(ctx, `paths (${kind})`, req);
        if (res.status < 400) {
          // What may succeed: health, an OPTIONS answer, reading a real connection or patching it with an empty
          // patch (a no-op), listing Ashby packages.
          const okHealth = (method === 'GET' || method === 'HEAD') && /^\/healthz\/?$/i.test(pathOnly);
          const okAdmin =
            withSecrets &&
            (((method === 'GET' || method === 'HEAD') &&
              ['', ...realIds].some((id) => new RegExp(`^/admin/connections/${id}/?$`).test(pathOnly))) ||
              (method === 'PATCH' && realAdminPath));
          const okAshby =
            withSecrets &&
            method === 'POST' &&
            /^\/ashby\/[^/]+\/assessment\.list\/?$/.test(pathOnly) &&
            pathOnly.includes(ctx.ashby.id);
          check(method === 'OPTIONS' || okHealth || okAdmin || okAshby, `unexpected ${res.status}`, req, res);
        }
      },
    ),
    property(
      ctx,
      'headers',
      'oversized and malformed header bytes, odd methods and framing on every endpoint: 4xx problem+json',
      200,
      [
        fc.constantFrom(
          `/webhooks/lever/${ctx.certn.id}`,
          `/callbacks/certn/${ctx.certn.id}`,
          `/callbacks/victig/${ctx.victig.id}`,
          `/callbacks/justifacts/${ctx.ashby.id}`,
          `/ashby/${ctx.ashby.id}/assessment.start`,
          '/admin/connections',
          '/healthz',
        ),
        fc.constantFrom('POST', 'POST', 'GET', 'FOO', 'post', 'PROPFIND'),
        fc.array(
          fc.tuple(
            fc.oneof(
              fc.constantFrom(
                'Content-Type',
                'Content-Encoding',
                'Authorization',
                'X-Signature',
                'X-Justifacts-Signature',
                'X-Victig-Signature',
                'Transfer-Encoding',
                'Accept-Charset',
                'X Bad Name',
                'Bad:Name',
                '',
              ),
              fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/),
            ),
            fc.oneof(
              printable(40).map((s): string | Buffer => s),
              fc.uint8Array({ maxLength: 40 }).map((b): string | Buffer => Buffer.from(b)),
              fc.constantFrom<string | Buffer>(
                'gzip',
                'br',
                'deflate',
                'identity',
                'x-unknown',
                'chunked',
                'gzip, chunked',
              ),
              fc.integer({ min: 8 * 1024, max: 40 * 1024 }).map((n): string | Buffer => 'a'.repeat(n)),
            ),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        fc.constantFrom(
          Buffer.from('{}'),
          Buffer.from('{"a":1}'),
          Buffer.alloc(0),
          Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
        ),
      ],
      async (target, method, extra, body) => {
        const headers: RawHeader[] = [['Authorization', `Bearer ${ADMIN_TOKEN}`], ...extra];
        const req: RawRequest = { method, target, headers, body };
        const res = await sendCounted(ctx, `headers (${target.split('/')[1]})`, req);
        if (res.status < 400) {
          check(
            target === '/healthz' || target === '/admin/connections',
            `unexpected ${res.status}`,
            req,
            res,
          );
        }
      },
    ),
  ];
}

/** Every property, in the order the test file runs them. */
export function fuzzProperties(ctx: FuzzContext): FuzzProperty[] {
  return [
    ...leverProperties(ctx),
    ...callbackProperties(ctx),
    ...ashbyProperties(ctx),
    ...adminProperties(ctx),
    ...pathProperties(ctx),
  ];
}
