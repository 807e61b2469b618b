import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Stack } from '../support/stack';
import { eventually } from '../support/waits';
import { type CallbackVendor, isObject, type LeverContext } from './oracles';
import { rawRequest, type RawRequest, type RawResponse } from './raw-http';

/**
 * The machinery of the fuzz properties: the fuzzed stack's connections, sending a request and checking what every
 * answer must be, and wrapping a property so that it checks the server after it. The properties themselves are in
 * families/, one file per endpoint family; the generators they share in generators.ts.
 */

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

export const EMP = {
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

export function check(
  condition: boolean,
  message: string,
  req: RawRequest,
  res?: RawResponse,
): asserts condition {
  if (!condition) {
    throw new FuzzFailure(
      `${message}\n  request: ${describeRequest(req)}${res ? `\n  response: ${describeResponse(res)}` : ''}`,
    );
  }
}

export function bodyJson(res: RawResponse): unknown {
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
export async function send(ctx: FuzzContext, endpoint: string, req: RawRequest): Promise<RawResponse> {
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
export async function sendCounted(
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

export function expectRejected(
  req: RawRequest,
  res: RawResponse,
  status: number | undefined,
  why: string,
): void {
  check(res.status >= 400 && res.status < 500, `expected a 4xx (${why}), got ${res.status}`, req, res);
  if (status !== undefined)
    check(res.status === status, `expected ${status} (${why}), got ${res.status}`, req, res);
}

export const addWorkflow = (ctx: FuzzContext, connectionId: string) =>
  ctx.expectedWorkflows.set(connectionId, (ctx.expectedWorkflows.get(connectionId) ?? 0) + 1);

/** Normalizes text the way PostgreSQL stores it (unpaired surrogates become U+FFFD). */
export const stored = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

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

export function property<Ts extends [unknown, ...unknown[]]>(
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
