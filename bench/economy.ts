/**
 * Benchmark "Lever economy" (issue 10, benchmark 4): how many Lever requests a check costs, by integration and
 * by status path, beside the least that path needs; then a bulk move at Lever's real limit.
 *
 * 1. Paths. Every integration reachable from Lever (Certn, Justifacts, VICTIG, and Justworks' onboarding, which
 *    writes its note to Lever) and every status path its emulator can drive, one path at a time, `--checks` checks
 *    of it at once. Lever's limit is lifted (the emulator's and the worker's limiter); the vendors are advanced by
 *    hand, each step once the check has taken the previous one, so every check takes each status of its path.
 *    Counted: the Lever requests about the path's opportunities, plus those about no opportunity (`/postings/:id`,
 *    `/stages`, `/users`) made meanwhile, until every check's workflow has closed.
 *    Minimum of a check, from what it did in Lever: 1 read of the opportunity + per status tag it carried one
 *    addTags and one removeTags, except the first status, which replaces nothing (addTags only) + 1 call per note
 *    + 1 per link. Result tags (VICTIG's `Flag: …`, `Decision: …`) ride in the addTags of the final status: no
 *    call of their own. Reads a path needs for what it sends the vendor (the posting for VICTIG and Justworks, the
 *    offers for Justworks) are not in the minimum, as the issue defines it: they show in the breakdown by route.
 * 2. Bulk. `--bulk` candidates of one Lever → Certn connection moved into its trigger stage at once, Lever at its
 *    own limit (10/s, burst 20), the worker's limiter at the service's defaults, Certn advancing by itself every
 *    500 ms. Time from the first move until every candidate carries `CERTN - Complete` alone; floor: the Lever
 *    requests R the run needed (429 answers not counted: they take no token), max(0, R − 20) / 10 s.
 *
 *   npx tsx bench/economy.ts [--checks 5] [--bulk 300] [--tiny] [--json figures.json]
 *
 * Exit code 1 when a check did not end with its path's status and tag, a workflow did not close, or a bulk
 * candidate never got its final tag.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { baseConfigSchema, loadConfig } from '../src/config';
import { startCertnEmulator, type RunningCertnEmulator } from '../sandbox/certn-emulator';
import { startJustifactsEmulator } from '../sandbox/justifacts-emulator';
import { startJustworksEmulator } from '../sandbox/justworks-emulator';
import {
  startLeverEmulator,
  type ApiRequestRecord,
  type OfferField,
  type RunningLeverEmulator,
} from '../sandbox/lever-emulator';
import { startSmtpCatcher } from '../sandbox/smtp-catcher';
import { startVictigEmulator } from '../sandbox/victig-emulator';
import { createDataConverter } from '../src/temporal/data-converter';
import { checkStateQuery, checkWorkflowId, type CheckState } from '../src/workflows/definitions';
import { hireWorkflowId, type OnboardingState } from '../src/workflows/onboarding-definitions';
import { connectLeverToCertn } from '../test/support/connect-certn';
import { startedHandle } from '../test/support/waits';
import {
  atExit,
  benchArgs,
  benchEnvironment,
  finishReport,
  latencies,
  runBenchmark,
  type Latencies,
  type Row,
  inPool,
} from './lib';
import { BenchService, describeTopology, topology } from './service';

const args = benchArgs({ sizes: { checks: 5, bulk: 300 }, tiny: { checks: 1, bulk: 5 } });
const LIFTED = 1_000_000;
const LEVER_LIMIT = { perSecond: 10, burst: 20 };
const CERTN_BULK_STEP_MS = 500;
const STEP_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

/** Polls until `probe` gives a value (errors count as not yet), or throws after `timeoutMs`. */
async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await sleep(50);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A stop function that runs once, whoever calls it first (the benchmark itself or atExit). */
function once(stop: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= stop());
}

/** `GET /opportunities/:id`: the method and the route, as the breakdown names a kind of request. */
const routeOf = (r: ApiRequestRecord) => `${r.method} ${r.route}`;
const READ = 'GET /opportunities/:id';
const ADD_TAGS = 'POST /opportunities/:id/addTags';
const REMOVE_TAGS = 'POST /opportunities/:id/removeTags';
const ADD_NOTE = 'POST /opportunities/:id/notes';
const ADD_LINKS = 'POST /opportunities/:id/addLinks';
/** The order of the breakdown's columns; routes not listed follow. */
const ROUTE_ORDER = [
  READ,
  'GET /postings/:id',
  'GET /opportunities/:id/offers',
  'GET /opportunities/:id/notes',
  ADD_TAGS,
  REMOVE_TAGS,
  ADD_NOTE,
  ADD_LINKS,
  'GET /stages',
  'GET /users',
];
const SHORT: Record<string, string> = {
  [READ]: 'read opp',
  'GET /postings/:id': 'posting',
  'GET /opportunities/:id/offers': 'offers',
  'GET /opportunities/:id/notes': 'list notes',
  [ADD_TAGS]: 'addTags',
  [REMOVE_TAGS]: 'removeTags',
  [ADD_NOTE]: 'add note',
  [ADD_LINKS]: 'addLinks',
  'GET /stages': 'stages',
  'GET /users': 'users',
};

/** What one check did in Lever, and the least number of requests that takes. */
interface Effects {
  statusesTagged: number;
  notes: number;
  links: number;
}

function minimumByRoute(e: Effects): Record<string, number> {
  return {
    [READ]: 1,
    [ADD_TAGS]: e.statusesTagged,
    // The first status replaces nothing: no removeTags for it.
    [REMOVE_TAGS]: Math.max(0, e.statusesTagged - 1),
    [ADD_NOTE]: e.notes,
    [ADD_LINKS]: e.links,
  };
}

const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);

function addInto(target: Record<string, number>, source: Record<string, number>, factor = 1): void {
  for (const [k, v] of Object.entries(source)) target[k] = (target[k] ?? 0) + v * factor;
}

/** Per-check averages of a set of counts. */
function perCheck(counts: Record<string, number>, checks: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / checks]));
}

/** Requests answered by a Lever emulator, from `onRequest`; `mark()` and `since(mark)` cut windows. */
class RequestLog {
  readonly records: ApiRequestRecord[] = [];
  constructor(lever: RunningLeverEmulator) {
    const stop = lever.onRequest((r) => this.records.push(r));
    atExit(() => {
      stop();
    });
  }
  mark(): number {
    return this.records.length;
  }
  since(mark: number): ApiRequestRecord[] {
    return this.records.slice(mark);
  }
}

/** Every status tag each opportunity carried at some point (from the emulator's tag changes). */
class TagHistory {
  private readonly seen = new Map<string, Set<string>>();
  constructor(lever: RunningLeverEmulator) {
    const stop = lever.onTagsChanged(({ opportunityId, tags }) => {
      const set = this.seen.get(opportunityId) ?? new Set<string>();
      for (const t of tags) set.add(t);
      this.seen.set(opportunityId, set);
    });
    atExit(() => {
      stop();
    });
  }
  tags(opportunityId: string): string[] {
    return [...(this.seen.get(opportunityId) ?? [])];
  }
}

interface PathResult {
  path: string;
  integration: string;
  checks: number;
  ok: number;
  failures: string[];
  seconds: number;
  requests: number;
  byRoute: Record<string, number>;
  minimum: number;
  minimumByRoute: Record<string, number>;
  statusesTagged: number;
  notes: number;
  links: number;
  withoutOpportunity: number;
  notAnswered2xx: number;
  otherOpportunities: number;
}

/** One status path: `run` creates a candidate, triggers the check, drives the vendor and waits until it closed. */
interface PathSpec {
  integration: string;
  path: string;
  /** The vendor's status tags (result tags are not status tags). */
  isStatusTag: (tag: string) => boolean;
  /** Runs one check to its end; returns its opportunity and whether it ended as the path says. */
  run: (i: number) => Promise<{ opportunityId: string; problem?: string }>;
}

async function measurePath(
  spec: PathSpec,
  checks: number,
  lever: RunningLeverEmulator,
  log: RequestLog,
  tagHistory: TagHistory,
): Promise<PathResult> {
  const started = performance.now();
  const mark = log.mark();
  const outcomes = await Promise.all(
    Array.from({ length: checks }, async (_, i) => {
      try {
        return await spec.run(i);
      } catch (err) {
        return { opportunityId: '', problem: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  // Every workflow has closed: nothing more calls Lever for these checks. Let the last answers be recorded.
  await sleep(300);
  const seconds = (performance.now() - started) / 1000;
  const records = log.since(mark);
  const mine = new Set(outcomes.map((o) => o.opportunityId).filter((id) => id !== ''));
  const counted = records.filter((r) => r.opportunityId === undefined || mine.has(r.opportunityId));
  const byRoute: Record<string, number> = {};
  for (const r of counted) byRoute[routeOf(r)] = (byRoute[routeOf(r)] ?? 0) + 1;
  const minimumTotal: Record<string, number> = {};
  const effects: Effects = { statusesTagged: 0, notes: 0, links: 0 };
  for (const id of mine) {
    const e: Effects = {
      statusesTagged: tagHistory.tags(id).filter(spec.isStatusTag).length,
      notes: lever.notes(id).length,
      links: lever.opportunity(id).links.length,
    };
    effects.statusesTagged += e.statusesTagged;
    effects.notes += e.notes;
    effects.links += e.links;
    addInto(minimumTotal, minimumByRoute(e));
  }
  const n = Math.max(1, mine.size);
  const failures = outcomes.flatMap((o) => (o.problem === undefined ? [] : [o.problem]));
  return {
    path: spec.path,
    integration: spec.integration,
    checks,
    ok: checks - failures.length,
    failures,
    seconds,
    requests: counted.length / n,
    byRoute: perCheck(byRoute, n),
    minimum: sum(Object.values(minimumTotal)) / n,
    minimumByRoute: perCheck(minimumTotal, n),
    statusesTagged: effects.statusesTagged / n,
    notes: effects.notes / n,
    links: effects.links / n,
    withoutOpportunity: counted.filter((r) => r.opportunityId === undefined).length / n,
    notAnswered2xx: counted.filter((r) => r.status < 200 || r.status >= 300).length,
    otherOpportunities: records.length - counted.length,
  };
}

/** The breakdown: per path, requests per check by route, measured (minimum). */
function printBreakdown(results: PathResult[], bulk: PathResult | undefined): void {
  const all = bulk === undefined ? results : [...results, bulk];
  const routes = [
    ...ROUTE_ORDER,
    ...[...new Set(all.flatMap((r) => Object.keys(r.byRoute)))]
      .filter((r) => !ROUTE_ORDER.includes(r))
      .sort(),
  ].filter((route) => all.some((r) => (r.byRoute[route] ?? 0) > 0 || (r.minimumByRoute[route] ?? 0) > 0));
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
  const header = ['path', ...routes.map((r) => SHORT[r] ?? r), 'total'];
  const lines = all.map((r) => [
    r.path,
    ...routes.map((route) => `${fmt(r.byRoute[route] ?? 0)} (${fmt(r.minimumByRoute[route] ?? 0)})`),
    `${fmt(r.requests)} (${fmt(r.minimum)})`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const show = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log('\nLever requests per check by route: measured (minimum)');
  console.log(show(header));
  console.log(show(widths.map((w) => '-'.repeat(w))));
  for (const line of lines) console.log(show(line));
  console.log(
    'minimum: 1 read of the opportunity + per status tagged one addTags and one removeTags (the first status ' +
      'replaces nothing: addTags only; result tags ride in the final status’s addTags) + 1 per note + 1 per link',
  );
}

// ---------------------------------------------------------------------------------------------------

const CERTN_PREFIX = 'CERTN - ';
const JUSTIFACTS_TAGS = [
  '(Justifacts)In-Progress : Candidate',
  '(Justifacts)In-Progress: Justifacts',
  '(Justifacts)Complete',
];
const JUSTIFACTS_PACKAGE_TAG = 'JUSTIFACTS BGC PKG: EmpCod[ID : 13558]';
const VICTIG_PREFIX = 'Background Check Status: ';
const VICTIG_SETTINGS = {
  defaultProduct: 'Criminal Package 1',
  statusTagPrefix: 'Background Check Status:',
  productTagPrefix: 'Product: ',
  unknownProduct: 'default',
  subClientMatch: 'city',
  subClientNoMatch: 'main',
  subClientTagPrefix: 'Office:',
  referenceField: 'tags',
  referenceTagPrefix: 'Ref: ',
  forwardTagPrefixes: ['Region: '],
  flagTagPrefix: 'Flag:',
  decisionTagPrefix: 'Decision:',
};

async function paths(
  temporalAddress: string,
  client: Client,
  checks: number,
): Promise<{ results: PathResult[]; setupRequests: number }> {
  const lever = await startLeverEmulator({
    rateLimit: { perSecond: LIFTED, burst: LIFTED },
    webhookRetryDelaysMs: [200, 500, 1000, 2000, 4000],
  });
  const stopLever = once(() => lever.close());
  atExit(stopLever);
  const certn = await startCertnEmulator({ autoAdvanceMs: null, webhookRetryDelaysMs: [200, 500, 1000] });
  const justifacts = await startJustifactsEmulator({
    autoAdvanceMs: null,
    webhookRetryDelaysMs: [200, 500, 1000],
  });
  const victig = await startVictigEmulator({ autoAdvanceMs: null, webhookRetryDelaysMs: [200, 500, 1000] });
  const justworks = await startJustworksEmulator();
  const smtp = await startSmtpCatcher();
  const stopVendors = once(async () => {
    await Promise.all([certn.close(), justifacts.close(), victig.close(), justworks.close(), smtp.close()]);
  });
  atExit(stopVendors);

  const service = await BenchService.start({
    name: 'economy-paths',
    temporalAddress,
    env: {
      LEVER_RATE_PER_SECOND: String(LIFTED),
      LEVER_RATE_BURST: String(LIFTED),
      // Justworks' hire e-mails go to the catcher: the onboarding closes once they are sent.
      SMTP_URL: `smtp://${smtp.host}:${smtp.port}`,
    },
  });
  await service.startWorker();

  const admin = async <T>(body: unknown): Promise<T> => {
    const res = await fetch(`${service.apiUrl}/admin/connections`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${service.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`connection not created: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const leverAccount = () => {
    const apiKey = unique('lever-key');
    lever.addApiKey(apiKey);
    return { apiBaseUrl: lever.apiBaseUrl, apiKey, signatureToken: unique('sig') };
  };
  type Created = { id: string; webhookUrl: string; vendorCallbackUrl: string };

  // Lever sends every stage change to every webhook: each connection listens to a stage of its own.
  const setupMark = lever.stats().requests;
  // connectLeverToCertn's trigger is the stage named "Background Check".
  const certnStage = { id: lever.stageIdByName('Background Check') };
  const certnConn = await connectLeverToCertn({
    apiUrl: service.apiUrl,
    adminToken: service.adminToken,
    lever,
    certn,
    name: 'Economy Certn',
    packages: [{ name: 'Basic', check_types: ['IDENTITY_VERIFICATION', 'CRIMINAL_RECORD_CHECK'] }],
  });

  const justifactsStage = lever.addStage('Background Check (Justifacts)');
  const justifactsLever = leverAccount();
  const justifactsKey = unique('justifacts-key');
  const justifactsSecret = unique('justifacts-cb');
  const justifactsConn = await admin<Created>({
    name: 'Economy Justifacts',
    lever: { ...justifactsLever, triggerStageName: justifactsStage.text },
    vendor: {
      type: 'justifacts',
      apiBaseUrl: justifacts.apiBaseUrl,
      apiKey: justifactsKey,
      callbackSecret: justifactsSecret,
      packages: [],
    },
  });
  lever.addWebhook({
    event: 'candidateStageChange',
    url: justifactsConn.webhookUrl,
    signatureToken: justifactsLever.signatureToken,
  });
  justifacts.addAccount({
    apiKey: justifactsKey,
    callbackUrl: justifactsConn.vendorCallbackUrl,
    callbackSecret: justifactsSecret,
  });

  const victigStage = lever.addStage('Background Check (VICTIG)');
  const victigLever = leverAccount();
  const victigAccount = unique('acct');
  const victigKey = unique('victig-key');
  const victigSecret = unique('victig-cb');
  victig.addAccount({ accountId: victigAccount, apiKey: victigKey });
  const victigConn = await admin<Created>({
    name: 'Economy VICTIG',
    lever: { ...victigLever, triggerStageId: victigStage.id },
    vendor: {
      type: 'victig',
      apiBaseUrl: victig.apiBaseUrl,
      accountId: victigAccount,
      apiKey: victigKey,
      callbackSecret: victigSecret,
      ...VICTIG_SETTINGS,
    },
  });
  lever.addWebhook({
    event: 'candidateStageChange',
    url: victigConn.webhookUrl,
    signatureToken: victigLever.signatureToken,
  });
  victig.setCallback(victigAccount, { url: victigConn.vendorCallbackUrl, secret: victigSecret });

  const justworksLever = leverAccount();
  const justworksKey = unique('jw-key');
  justworks.addCompany({
    apiKey: justworksKey,
    name: 'Acme Corp',
    admins: [
      { name: 'Maya Admin', email: 'maya@acme.test', permissions: ['manage_employees'] },
      { name: 'Lee Admin', email: 'lee@acme.test', permissions: ['manage_employees', 'manage_payroll'] },
    ],
  });
  const justworksConn = await admin<Created>({
    name: 'Economy Justworks',
    lever: justworksLever,
    vendor: {
      type: 'justworks',
      apiBaseUrl: justworks.apiBaseUrl,
      apiKey: justworksKey,
      companyName: 'Acme Corp',
    },
  });
  lever.addWebhook({
    event: 'candidateHired',
    url: justworksConn.webhookUrl,
    signatureToken: justworksLever.signatureToken,
  });
  const setupRequests = lever.stats().requests - setupMark;

  const log = new RequestLog(lever);
  const tagHistory = new TagHistory(lever);
  const phoneScreen = lever.stageIdByName('Phone screen');

  function candidate(
    label: string,
    options: {
      email?: boolean;
      tags?: string[];
      posting?: { text: string; department?: string; location?: string; tags?: string[] };
      stage?: string;
    } = {},
  ) {
    const p = options.posting ?? { text: 'Site Reliability Engineer', tags: ['Engineering'] };
    const posting = lever.createPosting({
      text: p.text,
      categories: { department: p.department ?? 'Engineering', location: p.location ?? 'New York' },
      tags: p.tags ?? [],
    });
    const email = `${unique(label)}@example.com`;
    const opp = lever.createOpportunity({
      name: 'Ada Lovelace',
      emails: options.email === false ? [] : [email],
      phones: [{ type: 'mobile', value: '+1 555 0100' }],
      tags: options.tags ?? ['Referral'],
      postingId: posting.id,
      stageId: options.stage ?? phoneScreen,
    });
    return { id: opp.id, email };
  }

  async function trigger(opportunityId: string, stageId: string, webhookUrl: string): Promise<void> {
    const deliveries = await lever.moveToStage(opportunityId, stageId);
    const mine = deliveries.find((d) => d.url === webhookUrl);
    if (!mine?.delivered) throw new Error('the service did not accept the stage change');
  }

  const checkHandle = (connectionId: string, opportunityId: string) =>
    client.workflow.getHandle(checkWorkflowId(connectionId, opportunityId));
  /** Waits until the check's workflow shows `status` (it took the step before the next vendor change). */
  const reached = (connectionId: string, opportunityId: string, status: string) =>
    waitFor(
      async () =>
        (await checkHandle(connectionId, opportunityId).query(checkStateQuery)).status === status
          ? true
          : undefined,
      `status ${status}`,
    );

  /** Waits for the workflow's end, then compares it and the opportunity's status tags with the path's. */
  async function ended(
    connectionId: string,
    opportunityId: string,
    expected: { status: string; tag: string | null },
    isStatusTag: (t: string) => boolean,
  ): Promise<{ opportunityId: string; problem?: string }> {
    const state = (await withTimeout(
      startedHandle(checkHandle(connectionId, opportunityId)).then((h) => h.result()),
      STEP_TIMEOUT_MS,
      'the check to close',
    )) as CheckState;
    const tags = lever.opportunity(opportunityId).tags.filter(isStatusTag);
    const want = expected.tag === null ? [] : [expected.tag];
    if (state.status !== expected.status || tags.join('|') !== want.join('|')) {
      return {
        opportunityId,
        problem: `ended ${String(state.status)} with status tags [${tags.join(', ')}], expected ${expected.status} with [${want.join(', ')}]`,
      };
    }
    return { opportunityId };
  }

  const isCertn = (t: string) => t.startsWith(CERTN_PREFIX);
  const isJustifacts = (t: string) => JUSTIFACTS_TAGS.includes(t);
  const isVictig = (t: string) => t.startsWith(VICTIG_PREFIX);

  const certnCase = (email: string) =>
    waitFor(() => certn.cases().find((c) => c.email_address === email)?.id, 'the Certn case');
  const justifactsOrder = (opportunityId: string) =>
    waitFor(
      () => justifacts.orders().find((o) => o.reference === opportunityId)?.orderId,
      'the Justifacts order',
    );
  const victigOrder = (email: string) =>
    waitFor(
      () => victig.orders().find((o) => o.request.applicant.email === email)?.orderId,
      'the VICTIG order',
    );

  const specs: PathSpec[] = [
    {
      integration: 'Certn',
      path: 'Certn → Complete',
      isStatusTag: isCertn,
      run: async () => {
        const c = candidate('certn-complete');
        const conn = certnConn.id;
        await trigger(c.id, certnStage.id, certnConn.webhookUrl);
        await reached(conn, c.id, 'Pending');
        const caseId = await certnCase(c.email);
        await certn.advance(caseId); // the applicant started: In-Progress (no tag)
        await reached(conn, c.id, 'In-Progress');
        await certn.advance(caseId); // submitted: Analyzing
        await reached(conn, c.id, 'Analyzing');
        await certn.advance(caseId); // Certn at work: still Analyzing
        await certn.advance(caseId); // one check back: Partial (results so far)
        await reached(conn, c.id, 'Partial');
        await certn.advance(caseId); // Complete
        return ended(conn, c.id, { status: 'Complete', tag: 'CERTN - Complete' }, isCertn);
      },
    },
    {
      integration: 'Certn',
      path: 'Certn → Error (No Email)',
      isStatusTag: isCertn,
      run: async () => {
        const c = candidate('certn-noemail', { email: false });
        await trigger(c.id, certnStage.id, certnConn.webhookUrl);
        return ended(certnConn.id, c.id, { status: 'Error', tag: 'CERTN - Error (No Email)' }, isCertn);
      },
    },
    {
      integration: 'Certn',
      path: 'Certn → cancelled by Certn',
      isStatusTag: isCertn,
      run: async () => {
        const c = candidate('certn-cancel');
        await trigger(c.id, certnStage.id, certnConn.webhookUrl);
        await reached(certnConn.id, c.id, 'Pending');
        await certn.setStatus(await certnCase(c.email), 'CANCELLED');
        // Certn has no Error tag but for a missing email: Pending stays, a note says why it ended.
        return ended(certnConn.id, c.id, { status: 'Error', tag: 'CERTN - Pending' }, isCertn);
      },
    },
    {
      integration: 'Justifacts',
      path: 'Justifacts → Complete',
      isStatusTag: isJustifacts,
      run: async () => {
        const c = candidate('jf-complete', {
          posting: { text: 'Site Reliability Engineer', tags: ['Engineering', JUSTIFACTS_PACKAGE_TAG] },
        });
        const conn = justifactsConn.id;
        await trigger(c.id, justifactsStage.id, justifactsConn.webhookUrl);
        await reached(conn, c.id, 'Pending');
        const orderId = await justifactsOrder(c.id);
        await justifacts.setStatus(orderId, 'APPLICANT_STARTED'); // In-Progress (no tag)
        await reached(conn, c.id, 'In-Progress');
        await justifacts.advance(orderId); // the applicant completed the request: Analyzing
        await reached(conn, c.id, 'Analyzing');
        await justifacts.advance(orderId); // Complete, with a result URL (secret note)
        return ended(conn, c.id, { status: 'Complete', tag: '(Justifacts)Complete' }, isJustifacts);
      },
    },
    {
      integration: 'Justifacts',
      path: 'Justifacts → no package tag',
      isStatusTag: isJustifacts,
      run: async () => {
        const c = candidate('jf-nopkg');
        await trigger(c.id, justifactsStage.id, justifactsConn.webhookUrl);
        return ended(justifactsConn.id, c.id, { status: 'Error', tag: null }, isJustifacts);
      },
    },
    {
      integration: 'Justifacts',
      path: 'Justifacts → cancelled',
      isStatusTag: isJustifacts,
      run: async () => {
        const c = candidate('jf-cancel', {
          posting: { text: 'Site Reliability Engineer', tags: [JUSTIFACTS_PACKAGE_TAG] },
        });
        await trigger(c.id, justifactsStage.id, justifactsConn.webhookUrl);
        await reached(justifactsConn.id, c.id, 'Pending');
        await justifacts.setStatus(await justifactsOrder(c.id), 'CANCELLED');
        return ended(
          justifactsConn.id,
          c.id,
          { status: 'Error', tag: '(Justifacts)In-Progress : Candidate' },
          isJustifacts,
        );
      },
    },
    ...[
      { label: 'clear (Flag: False)', flagged: false, decision: 'Eligible' },
      { label: 'adverse (Flag: True)', flagged: true, decision: 'Review' },
    ].map(({ label, flagged, decision }): PathSpec => ({
      integration: 'VICTIG',
      path: `VICTIG → Complete, ${label}`,
      isStatusTag: isVictig,
      run: async () => {
        const c = candidate('victig', {
          posting: { text: 'Backend Engineer', department: 'Engineering', location: 'New York' },
        });
        const conn = victigConn.id;
        await trigger(c.id, victigStage.id, victigConn.webhookUrl);
        await reached(conn, c.id, 'Pending');
        const orderId = await victigOrder(c.email);
        await victig.advance(orderId); // the QuickApp is done: In Progress
        await reached(conn, c.id, 'In-Progress');
        await victig.advance(orderId, { flagged, decision, summary: 'Summary.' });
        const result = await ended(
          conn,
          c.id,
          { status: 'Complete', tag: 'Background Check Status: Complete' },
          isVictig,
        );
        const tags = lever.opportunity(c.id).tags;
        const want = [`Flag: ${flagged ? 'True' : 'False'}`, `Decision: ${decision}`];
        if (result.problem === undefined && !want.every((t) => tags.includes(t))) {
          return { opportunityId: c.id, problem: `result tags missing: ${want.join(', ')}` };
        }
        return result;
      },
    })),
    {
      integration: 'VICTIG',
      path: 'VICTIG → Rejected (no email)',
      isStatusTag: isVictig,
      run: async () => {
        const c = candidate('victig-noemail', { email: false });
        await trigger(c.id, victigStage.id, victigConn.webhookUrl);
        return ended(
          victigConn.id,
          c.id,
          { status: 'Rejected', tag: 'Background Check Status: Rejected' },
          isVictig,
        );
      },
    },
    {
      integration: 'VICTIG',
      path: 'VICTIG → Error (cancelled)',
      isStatusTag: isVictig,
      run: async () => {
        const c = candidate('victig-cancel');
        await trigger(c.id, victigStage.id, victigConn.webhookUrl);
        await reached(victigConn.id, c.id, 'Pending');
        await victig.setStatus(await victigOrder(c.email), 'CANCELLED');
        return ended(
          victigConn.id,
          c.id,
          { status: 'Error', tag: 'Background Check Status: Error' },
          isVictig,
        );
      },
    },
    {
      integration: 'Justworks',
      path: 'Justworks → pending hire',
      isStatusTag: () => false,
      run: async () => {
        const c = candidate('justworks', {
          posting: { text: 'Engineer', department: 'Engineering', location: 'New York' },
          stage: lever.stageIdByName('Offer'),
        });
        const values: Record<string, OfferField['value']> = {
          job_title: 'Analytical Engineer',
          salary_amount: 150_000,
          compensation_currency: 'USD',
          salary_interval: 'year (salary)',
          hiring_manager: 'Charles Babbage',
          anticipated_start_date: Date.UTC(2025, 2, 3),
        };
        lever.setOffer(c.id, {
          status: 'signed',
          fields: Object.entries(values).map(([identifier, value]) => ({
            text: identifier,
            identifier,
            value,
          })),
        });
        const deliveries = await lever.hire(c.id);
        if (!deliveries.find((d) => d.url === justworksConn.webhookUrl)?.delivered) {
          throw new Error('the service did not accept the hire');
        }
        const state = (await withTimeout(
          startedHandle(client.workflow.getHandle(hireWorkflowId(justworksConn.id, c.id))).then((h) =>
            h.result(),
          ),
          STEP_TIMEOUT_MS,
          'the onboarding to close',
        )) as OnboardingState;
        if (state.status !== 'created' || lever.notes(c.id).length === 0) {
          return { opportunityId: c.id, problem: `onboarding ended ${state.status} without its note` };
        }
        return { opportunityId: c.id };
      },
    },
  ];

  const results: PathResult[] = [];
  for (const spec of specs) {
    const result = await measurePath(spec, checks, lever, log, tagHistory);
    results.push(result);
    console.log(
      `${spec.path}: ${result.ok}/${checks} as expected in ${result.seconds.toFixed(1)} s, ` +
        `${result.requests.toFixed(1)} Lever requests/check (minimum ${result.minimum.toFixed(1)})` +
        (result.failures.length > 0 ? `; ${result.failures[0]}` : ''),
    );
  }
  await service.stop();
  await Promise.all([stopLever(), stopVendors()]);
  return { results, setupRequests };
}

// ---------------------------------------------------------------------------------------------------

interface BulkResult {
  candidates: number;
  tagged: number;
  closedComplete: number;
  seconds: number;
  floorSeconds: number;
  served: number;
  rateLimited: number;
  perCheck: PathResult;
  note: string;
  /** Seconds from the first move until each candidate's final tag. */
  finalTag: Latencies;
}

async function bulk(temporalAddress: string, client: Client, count: number): Promise<BulkResult> {
  const lever = await startLeverEmulator({ rateLimit: LEVER_LIMIT });
  const stopLever = once(() => lever.close());
  atExit(stopLever);
  const certn: RunningCertnEmulator = await startCertnEmulator({ autoAdvanceMs: CERTN_BULK_STEP_MS });
  const stopCertn = once(() => certn.close());
  atExit(stopCertn);
  const service = await BenchService.start({ name: 'economy-bulk', temporalAddress });
  await service.startWorker();
  const conn = await connectLeverToCertn({
    apiUrl: service.apiUrl,
    adminToken: service.adminToken,
    lever,
    certn,
    name: 'Economy bulk',
    packages: [{ name: 'Basic', check_types: ['IDENTITY_VERIFICATION', 'CRIMINAL_RECORD_CHECK'] }],
  });
  const phoneScreen = lever.stageIdByName('Phone screen');
  const trigger = lever.stageIdByName('Background Check');
  const posting = lever.createPosting({ text: 'Site Reliability Engineer', tags: ['Engineering'] });
  const ids = Array.from(
    { length: count },
    (_, i) =>
      lever.createOpportunity({
        name: `Bulk Candidate ${i}`,
        emails: [`${unique(`bulk-${i}`)}@example.com`],
        tags: ['Referral'],
        postingId: posting.id,
        stageId: phoneScreen,
      }).id,
  );
  const wanted = new Set(ids);
  const done = new Map<string, number>();
  const seen = new Map<string, Set<string>>();
  const stopTags = lever.onTagsChanged(({ opportunityId, tags, at }) => {
    if (!wanted.has(opportunityId)) return;
    const set = seen.get(opportunityId) ?? new Set<string>();
    for (const t of tags) set.add(t);
    seen.set(opportunityId, set);
    const certnTags = tags.filter((t) => t.startsWith(CERTN_PREFIX));
    if (!done.has(opportunityId) && certnTags.length === 1 && certnTags[0] === 'CERTN - Complete') {
      done.set(opportunityId, at);
    }
  });
  atExit(() => {
    stopTags();
  });
  // Let the bucket refill from the connection's creation (it read /stages): the run starts at a full burst.
  await sleep(3000);
  const log = new RequestLog(lever);
  const timeoutMs = 120_000 + count * 3_000;

  const start = performance.now();
  let undelivered = 0;
  // A recruiter's bulk move: Lever sends the webhooks as fast as the service takes them.
  await inPool(count, 25, async (i) => {
    const [delivery] = await lever.moveToStage(ids[i]!, trigger);
    if (delivery?.delivered !== true) undelivered += 1;
  });
  await waitFor(() => (done.size === count ? true : undefined), 'every final tag', timeoutMs).catch(
    () => undefined,
  );
  const end = done.size === count ? Math.max(...done.values()) : performance.now();
  // Every check's workflow closes too (its end, and its recording of the status, come after the final tag).
  const states = new Map<string, string>();
  await inPool(ids.length, 20, async (i) => {
    const id = ids[i]!;
    try {
      const state = (await withTimeout(
        startedHandle(client.workflow.getHandle(checkWorkflowId(conn.id, id))).then((h) => h.result()),
        done.has(id) ? 60_000 : 1_000,
        'the check to close',
      )) as CheckState;
      states.set(id, String(state.status));
    } catch {
      states.set(id, 'not closed');
    }
  });
  await sleep(300);
  const records = log.records.slice();
  const served = records.filter((r) => r.status !== 429).length;
  const rateLimited = records.filter((r) => r.status === 429).length;
  const byRoute: Record<string, number> = {};
  for (const r of records) {
    if (r.status === 429) continue;
    byRoute[routeOf(r)] = (byRoute[routeOf(r)] ?? 0) + 1;
  }
  const minimumTotal: Record<string, number> = {};
  const effects: Effects = { statusesTagged: 0, notes: 0, links: 0 };
  for (const id of ids) {
    const e: Effects = {
      statusesTagged: [...(seen.get(id) ?? [])].filter((t) => t.startsWith(CERTN_PREFIX)).length,
      notes: lever.notes(id).length,
      links: lever.opportunity(id).links.length,
    };
    effects.statusesTagged += e.statusesTagged;
    effects.notes += e.notes;
    effects.links += e.links;
    addInto(minimumTotal, minimumByRoute(e));
  }
  const n = Math.max(1, count);
  const closedComplete = [...states.values()].filter((s) => s === 'Complete').length;
  const statusCounts: Record<string, number> = {};
  for (const s of states.values()) statusCounts[s] = (statusCounts[s] ?? 0) + 1;
  await service.stop();
  await Promise.all([stopLever(), stopCertn()]);
  return {
    candidates: count,
    tagged: done.size,
    closedComplete,
    seconds: (end - start) / 1000,
    floorSeconds: Math.max(0, served - LEVER_LIMIT.burst) / LEVER_LIMIT.perSecond,
    served,
    rateLimited,
    finalTag: latencies([...done.values()].map((at) => (at - start) / 1000)),
    note: `${undelivered} webhooks undelivered; check states ${JSON.stringify(statusCounts)}`,
    perCheck: {
      path: `bulk Certn (${count})`,
      integration: 'Certn',
      checks: count,
      ok: closedComplete,
      failures: [],
      seconds: (end - start) / 1000,
      requests: served / n,
      byRoute: perCheck(byRoute, n),
      minimum: sum(Object.values(minimumTotal)) / n,
      minimumByRoute: perCheck(minimumTotal, n),
      statusesTagged: effects.statusesTagged / n,
      notes: effects.notes / n,
      links: effects.links / n,
      withoutOpportunity: records.filter((r) => r.opportunityId === undefined && r.status !== 429).length / n,
      notAnswered2xx: records.filter((r) => r.status < 200 || r.status >= 300).length,
      otherOpportunities: records.filter((r) => r.opportunityId !== undefined && !wanted.has(r.opportunityId))
        .length,
    },
  };
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const { checks, bulk: bulkSize } = args.sizes;
  const started = performance.now();
  const env = await benchEnvironment('economy');
  console.log(`economy: checks=${checks} bulk=${bulkSize}; ${describeTopology(env.temporal.kind)}`);
  const connection = await Connection.connect({ address: env.temporal.address });
  atExit(() => connection.close());
  const client = new Client({
    connection,
    dataConverter: createDataConverter(loadConfig(baseConfigSchema)),
  });

  const phase1 = performance.now();
  const { results, setupRequests } = await paths(env.temporal.address, client, checks);
  const pathsSeconds = (performance.now() - phase1) / 1000;
  const phase2 = performance.now();
  const bulkResult = bulkSize > 0 ? await bulk(env.temporal.address, client, bulkSize) : undefined;
  const bulkSeconds = (performance.now() - phase2) / 1000;

  const rows: Row[] = results.map((r) => ({
    measure: `${r.path}: Lever requests/check`,
    value: r.requests,
    unit: 'req',
    floor: r.minimum,
  }));
  if (bulkResult !== undefined) {
    rows.push(
      {
        measure: `bulk ${bulkResult.candidates}: move → every CERTN - Complete`,
        value: bulkResult.seconds,
        unit: 's',
        floor: bulkResult.floorSeconds,
      },
      {
        measure: 'bulk: Lever requests (served, R)',
        value: bulkResult.served,
        unit: 'req',
        floor: bulkResult.perCheck.minimum * bulkResult.candidates,
      },
      {
        measure: 'bulk: Lever requests/check',
        value: bulkResult.perCheck.requests,
        unit: 'req',
        floor: bulkResult.perCheck.minimum,
      },
      { measure: 'bulk: 429 answers from Lever', value: bulkResult.rateLimited, unit: '' },
      {
        measure: 'bulk: Lever requests/s achieved',
        value: bulkResult.seconds > 0 ? bulkResult.served / bulkResult.seconds : Number.NaN,
        unit: 'req/s',
        floor: LEVER_LIMIT.perSecond,
      },
    );
  }
  finishReport(
    {
      benchmark: 'economy',
      parameters: {
        checks,
        bulk: bulkSize,
        tiny: args.tiny,
        pathsLever: 'limit lifted (emulator and worker)',
        bulkLever: `${LEVER_LIMIT.perSecond}/s burst ${LEVER_LIMIT.burst}`,
        bulkWorkerLimiter: 'service defaults',
        bulkCertnStepMs: CERTN_BULK_STEP_MS,
        ...topology(env.temporal.kind),
      },
      rows,
      details: {
        paths: results,
        bulk: bulkResult,
        // The API reads /stages once per connection it creates: not in any path's count.
        connectionSetupLeverRequests: setupRequests,
        runSeconds: { paths: pathsSeconds, bulk: bulkSeconds, total: (performance.now() - started) / 1000 },
      },
    },
    args,
  );
  printBreakdown(results, bulkResult?.perCheck);
  const nonTwoXx = results.reduce((a, r) => a + r.notAnswered2xx, 0);
  const foreign = results.reduce((a, r) => a + r.otherOpportunities, 0);
  if (nonTwoXx > 0 || foreign > 0) {
    console.log(
      `paths: ${nonTwoXx} Lever answers other than 2xx; ${foreign} requests about other opportunities`,
    );
  }
  if (bulkResult !== undefined) {
    console.log(
      `bulk: ${bulkResult.tagged}/${bulkResult.candidates} reached CERTN - Complete, ` +
        `${bulkResult.closedComplete} closed Complete; ${bulkResult.note}`,
    );
  }
  console.log(
    `run time: paths ${pathsSeconds.toFixed(0)} s, bulk ${bulkSeconds.toFixed(0)} s, ` +
      `total ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );

  const failed = results.filter((r) => r.ok !== r.checks);
  for (const r of failed) console.error(`FAILED ${r.path}: ${r.failures.join('; ')}`);
  const bulkFailed =
    bulkResult !== undefined &&
    (bulkResult.tagged !== bulkResult.candidates || bulkResult.closedComplete !== bulkResult.candidates);
  if (bulkFailed) console.error('FAILED bulk: not every candidate reached CERTN - Complete and closed');
  return failed.length > 0 || bulkFailed ? 1 : 0;
}

runBenchmark(main);
