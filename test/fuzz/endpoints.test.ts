import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { startStack, type Stack } from '../support/stack';
import { fuzzProperties } from './families';
import { FUZZ_PUBLIC_LIMITS, setUpFuzz, type FuzzContext, type FuzzProperty } from './harness';

/**
 * Property-based fuzzing of every public endpoint over real HTTP (raw sockets, so any bytes go): random and
 * mutated bodies, headers, signatures and paths. Never a 5xx; every 4xx is problem+json; a rejected request
 * records nothing (a signed Lever delivery only its used-up token) and starts no workflow; an accepted one behaves
 * as the contract says. Fixed seed, bounded
 * runs; `FUZZ_SEED` / `FUZZ_RUNS_FACTOR` change them, and `npx tsx scripts/fuzz.ts` is the long version.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_241_123);
/** The service's logs (warnings and errors: a 5xx's stack is there) and the worker's, instead of the console. */
const LOG_FILE = path.resolve(__dirname, '..', '..', '.data', 'logs', 'fuzz-test.log');
const FACTOR = Number(process.env.FUZZ_RUNS_FACTOR ?? 1);

describe('fuzzing every public endpoint (fast-check)', () => {
  let stack: Stack;
  let ctx: FuzzContext;
  // The properties need the connections' ids and secrets, which exist only after beforeAll; jest collects the
  // tests before that, so each test looks its property up by index.
  let properties: FuzzProperty[] = [];
  let log: WriteStream;

  beforeAll(async () => {
    mkdirSync(path.dirname(LOG_FILE), { recursive: true });
    log = createWriteStream(LOG_FILE);
    stack = await startStack({ logDestination: log, logLevel: 'warn', publicLimits: FUZZ_PUBLIC_LIMITS });
    ctx = await setUpFuzz(stack);
    properties = fuzzProperties(ctx);
  });
  afterAll(async () => {
    await stack?.stop();
    log?.end();
  });

  const NAMES = [
    'Lever webhooks: random bodies, content types and headers',
    'Lever webhooks: mutated signed deliveries',
    'vendor callbacks: random bodies and signature headers',
    'vendor callbacks: mutated signed callbacks',
    'Ashby partner: random bodies, content types and Authorization',
    'Ashby partner: mutated assessment.start / assessment.cancel',
    'admin API: Authorization variants on every route',
    'admin API: random connection bodies',
    'admin API: mutated valid connections',
    'admin API: mutated merge patches',
    'admin API: pause, resume and DELETE with any body or query',
    'paths: unknown ids and vendors, bad percent-encoding, any method',
    'headers: oversized and malformed headers, odd methods and framing',
  ];

  it.each(NAMES.map((name, index) => [name, index] as const))('%s', async (_name, index) => {
    const property = properties[index];
    expect(property).toBeDefined();
    const result = await property!.run({
      seed: SEED + index,
      numRuns: Math.max(1, Math.round(property!.runs * FACTOR)),
    });
    if (result.failed) {
      throw new Error(
        `${property!.endpoint}: ${property!.name} (service logs: ${LOG_FILE})\n${result.report}`,
      );
    }
  });

  it('covers every property and leaves the server healthy', async () => {
    expect(properties).toHaveLength(NAMES.length);
    const health = await fetch(`${stack.api.url}/healthz`);
    expect(health.status).toBe(200);
    expect(ctx.figures.total).toBeGreaterThan(1000);
  });
});
