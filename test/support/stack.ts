import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createApp } from '../../src/api/app';
import { ConnectionRetirement } from '../../src/api/connection-retirement';
import { DedupeRetention } from '../../src/api/dedupe-retention';
import { createInboxRelay } from '../../src/api/inbox-relay';
import { ConnectionRepository } from '../../src/db/connections';
import { baseConfigSchema, loadConfig, PUBLIC_LIMIT_DEFAULTS } from '../../src/config';
import { createPool } from '../../src/db/pool';
import { createLogger } from '../../src/logger';
import { ReportLinkKey, ReportLinks } from '../../src/report-links';
import { secretBoxFromEnv } from '../../src/db/secret-box';
import { applyUrlPolicyFromEnv } from './url-policy';
import { startAshbyEmulator } from '../../sandbox/ashby-emulator';
import { startCertnEmulator } from '../../sandbox/certn-emulator';
import { listen, type RunningServer } from '../../sandbox/kit';
import { startJustifactsEmulator } from '../../sandbox/justifacts-emulator';
import { startJustworksEmulator } from '../../sandbox/justworks-emulator';
import { startLeverEmulator } from '../../sandbox/lever-emulator';
import { startSmtpCatcher } from '../../sandbox/smtp-catcher';
import { startVictigEmulator } from '../../sandbox/victig-emulator';
import { httpLimitsOf } from '../../src/integrations/http-client';
import { LeverRateLimiter, type LeverRateLimitSettings } from '../../src/ats/lever/rate-limiter';
import { isEncrypted } from '../../src/temporal/codec';
import { createDataConverter } from '../../src/temporal/data-converter';
import { createCheckWorker } from '../../src/worker-factory';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface StackOptions {
  /** Vendor emulators advance orders by themselves every N ms; null = only by hand. */
  vendorAutoAdvanceMs?: number | null;
  pollIntervalMs?: number;
  /** Attempts per activity before a check gives up on a call (5 keeps failure tests short). */
  maxAttempts?: number;
  /** A Temporal server of the test's own (e.g. one it stops and restarts); default: the run's dev server. */
  temporalAddress?: string;
  /**
   * Where the service's logs (pino JSON lines of the API and the worker) go instead of stdout; the Temporal SDK's
   * runtime logs too when this stack is the first of its test file (the runtime is installed once).
   */
  logDestination?: { write(line: string): void };
  /** Level of those logs; default TEST_LOG_LEVEL, else silent. */
  logLevel?: string;
  /** The Lever emulator's limit per API key; default Lever's own (10/s, burst 20). */
  leverRateLimit?: { perSecond: number; burst: number };
  /** The worker's Lever limiter; default the service's defaults (9/s, burst 15, 20 s longest wait). */
  leverLimiter?: Partial<LeverRateLimitSettings>;
  /** The API's rate limits, connection cache and pool timeout; default the service's (PUBLIC_LIMIT_DEFAULTS). */
  publicLimits?: Partial<typeof PUBLIC_LIMIT_DEFAULTS>;
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

let runtimeInstalled = false;

/**
 * The whole service over real HTTP: emulators of Lever, Ashby and every vendor, an SMTP catcher, the Express API
 * and a worker, against the run's Temporal dev server and PostgreSQL database (see global-setup). One task queue
 * per stack.
 */
export async function startStack(options: StackOptions = {}) {
  // The URL policy of the service's processes, from the environment as they read it (scripts start stacks too).
  applyUrlPolicyFromEnv();
  if (!runtimeInstalled) {
    const sink = options.logDestination;
    const sdkLevel =
      ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].find((l) => l === options.logLevel?.toUpperCase()) ??
      process.env.TEST_SDK_LOG_LEVEL ??
      'WARN';
    Runtime.install({
      logger: new DefaultLogger(
        sdkLevel as 'WARN',
        sink &&
          ((entry) =>
            sink.write(
              `${entry.level} ${entry.message} ${inspect(entry.meta, { depth: 10, breakLength: Infinity })}\n`,
            )),
      ),
      // SDK Core writes its own logs (e.g. each retried poll while a server is down) at this level too.
      // With a log destination they are forwarded there too, with the SDK's own logs.
      telemetryOptions: {
        logging: { filter: { core: sdkLevel as 'WARN', other: 'ERROR' }, ...(sink ? { forward: {} } : {}) },
      },
    });
    runtimeInstalled = true;
  }
  const databaseUrl = process.env.DATABASE_URL;
  const temporalAddress = options.temporalAddress ?? process.env.TEMPORAL_ADDRESS;
  if (!databaseUrl || !temporalAddress)
    throw new Error('global setup did not provide DATABASE_URL/TEMPORAL_ADDRESS');
  const logger = createLogger(
    options.logLevel ?? process.env.TEST_LOG_LEVEL ?? 'silent',
    'bgc',
    options.logDestination,
  );
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  const pool: Pool = createPool(databaseUrl);
  const publicLimits = { ...PUBLIC_LIMIT_DEFAULTS, ...options.publicLimits };
  // The API's own pool, as in its own process: the worker's load does not hold it up, and the reverse.
  const apiPool: Pool = createPool(databaseUrl, {
    connectionTimeoutMs: publicLimits.DATABASE_POOL_TIMEOUT_MS,
  });
  // The box the API and the worker open connection secrets with, from the keys the global setup put in the
  // environment (src/main.ts and src/worker.ts make theirs from their configuration).
  const secretBox = secretBoxFromEnv();
  // One repository for the API and the secret erasure, as in src/main.ts.
  const apiConnections = new ConnectionRepository(apiPool, secretBox);
  const autoAdvanceMs = options.vendorAutoAdvanceMs ?? null;

  const lever = await startLeverEmulator({
    webhookRetryDelaysMs: [100, 200, 400, 800, 1600],
    rateLimit: options.leverRateLimit,
  });
  const certn = await startCertnEmulator({ autoAdvanceMs, webhookRetryDelaysMs: [100, 300, 900] });
  const justifacts = await startJustifactsEmulator({ autoAdvanceMs, webhookRetryDelaysMs: [100, 300, 900] });
  const victig = await startVictigEmulator({ autoAdvanceMs, webhookRetryDelaysMs: [100, 300, 900] });
  const justworks = await startJustworksEmulator();
  const ashby = await startAshbyEmulator();
  const smtp = await startSmtpCatcher();

  const clientConnection = await Connection.connect({ address: temporalAddress });
  const dataConverter = serviceDataConverter();
  const temporal = new Client({ connection: clientConnection, dataConverter });
  // The worker signs report links with it and the API checks them: a fresh key per stack.
  const reportLinkKey = new ReportLinkKey(randomBytes(32));
  // VENDOR_REQUEST_TIMEOUT_MS and VENDOR_RESPONSE_LIMIT_BYTES as src/main.ts and src/worker.ts pass them.
  const httpLimits = httpLimitsOf(
    baseConfigSchema
      .pick({ VENDOR_REQUEST_TIMEOUT_MS: true, VENDOR_RESPONSE_LIMIT_BYTES: true })
      .parse(process.env),
  );
  const api: RunningServer = await listen(
    createApp({
      config: {
        ADMIN_TOKEN,
        PUBLIC_BASE_URL: undefined,
        WEBHOOK_BODY_LIMIT: 100 * 1024,
        LEVER_WEBHOOK_MAX_AGE_MS: 24 * 60 * 60 * 1000,
        TEMPORAL_TASK_QUEUE: taskQueue,
        VENDOR_POLL_INTERVAL_MS: options.pollIntervalMs ?? 60 * 60 * 1000,
        ACTIVITY_MAX_ATTEMPTS: options.maxAttempts ?? 5,
        TRUST_PROXY: undefined,
        ...publicLimits,
      },
      pool: apiPool,
      connections: apiConnections,
      temporal,
      logger,
      secretBox,
      reportLinkKey,
      httpLimits,
    }),
  );
  const reportLinks = new ReportLinks(api.url, reportLinkKey);
  // The inbox relay runs next to the API, for this stack's connections only (stacks share one database).
  const ownConnections = new Set<string>();
  const relay = createInboxRelay({
    config: {
      TEMPORAL_TASK_QUEUE: taskQueue,
      VENDOR_POLL_INTERVAL_MS: options.pollIntervalMs ?? 60 * 60 * 1000,
      ACTIVITY_MAX_ATTEMPTS: options.maxAttempts ?? 5,
      INBOX_RELAY_INTERVAL_MS: 250,
    },
    pool: apiPool,
    temporal,
    logger,
    secretBox,
    connectionIds: ownConnections,
  });
  relay.start();
  const retirement = new ConnectionRetirement({
    connections: apiConnections,
    temporal,
    logger,
    intervalMs: 250,
    connectionIds: ownConnections,
  });
  retirement.start();
  // The service's retention (7 days), on this stack's connections; tests run a pass with `retention.runOnce()`.
  const retention = new DedupeRetention({
    pool,
    logger,
    retentionMs: 7 * 24 * 60 * 60 * 1000,
    connectionIds: ownConnections,
  });
  retention.start();

  const workerConnection = await NativeConnection.connect({ address: temporalAddress });
  const leverRateLimiter = new LeverRateLimiter(options.leverLimiter);
  const bundlePath = process.env.BGC_TEST_WORKFLOW_BUNDLE;
  const worker: Worker = await createCheckWorker({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    pool,
    logger,
    dataConverter,
    mail: { smtpUrl: `smtp://${smtp.host}:${smtp.port}`, from: 'bgc-bridge <no-reply@bgc-bridge.test>' },
    leverRateLimiter,
    secretBox,
    reportLinks,
    httpLimits,
    workflowBundle: bundlePath ? { codePath: bundlePath } : undefined,
  });
  const running = worker.run();

  let counter = 0;
  /** A name unique to this stack, for API keys and secrets of the emulated customers. */
  const unique = (prefix: string) => {
    counter += 1;
    return `${prefix}-${taskQueue}-${counter}-${randomBytes(4).toString('hex')}`;
  };

  async function adminFetch(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
    const res = await fetch(`${api.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        Authorization: `Bearer ${init.token ?? ADMIN_TOKEN}`,
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
  }

  /** Creates a connection through the admin API; throws unless it answers 201. */
  async function adminCreate<
    T = {
      id: string;
      webhookUrl: string;
      vendorCallbackUrl: string;
      partnerBaseUrl: string;
      partnerSecret: string;
    },
  >(body: unknown): Promise<T> {
    const response = await adminFetch('/admin/connections', { method: 'POST', body });
    if (response.status !== 201) {
      throw new Error(`connection not created: ${response.status} ${JSON.stringify(response.body)}`);
    }
    ownConnections.add((response.body as { id: string }).id);
    return response.body as T;
  }

  /** A Lever account on the emulator: API key and signature token, with a webhook once the URL is known. */
  function leverAccount() {
    const apiKey = unique('lever-key');
    lever.addApiKey(apiKey);
    return { apiBaseUrl: lever.apiBaseUrl, apiKey, signatureToken: unique('sig') };
  }

  /** Creates a Lever → Certn connection through the admin API, wired to both emulators. */
  async function createConnection(overrides: { packages?: { name: string; default?: boolean }[] } = {}) {
    const account = leverAccount();
    const certnApiKey = unique('certn-key');
    const webhookSecret = unique('whsec');
    const packageSpecs = overrides.packages ?? [
      { name: 'Basic', default: true },
      { name: 'Executive Screening' },
    ];
    const team = certn.addTeam({
      apiKey: certnApiKey,
      packages: packageSpecs.map((p) => ({
        name: p.name,
        check_types: ['IDENTITY_VERIFICATION', 'CRIMINAL_RECORD_CHECK'],
      })),
    });
    const created = await adminCreate({
      name: unique('Customer'),
      lever: { ...account, triggerStageName: 'Background Check' },
      vendor: {
        type: 'certn',
        apiBaseUrl: certn.apiBaseUrl,
        apiKey: certnApiKey,
        webhookSecret,
        packages: team.packages.map((p, i) => ({
          name: p.name,
          packageId: p.id,
          default: packageSpecs[i]?.default === true,
        })),
      },
    });
    const webhook = lever.addWebhook({
      event: 'candidateStageChange',
      url: created.webhookUrl,
      signatureToken: account.signatureToken,
    });
    certn.setWebhook(certnApiKey, { url: created.vendorCallbackUrl, secret: webhookSecret });
    return {
      ...created,
      leverApiKey: account.apiKey,
      certnApiKey,
      signatureToken: account.signatureToken,
      webhookSecret,
      webhookId: webhook.id,
      packages: team.packages,
    };
  }

  async function stop() {
    worker.shutdown();
    await running;
    await workerConnection.close();
    await Promise.all([relay.stop(), retirement.stop(), retention.stop()]);
    await api.close();
    await clientConnection.close();
    await Promise.all([
      lever.close(),
      certn.close(),
      justifacts.close(),
      victig.close(),
      justworks.close(),
      ashby.close(),
      smtp.close(),
    ]);
    await Promise.all([pool.end(), apiPool.end()]);
  }

  return {
    lever,
    leverRateLimiter,
    certn,
    justifacts,
    victig,
    justworks,
    ashby,
    smtp,
    api,
    relay,
    retirement,
    retention,
    reportLinks,
    secretBox,
    temporal,
    pool,
    apiPool,
    taskQueue,
    unique,
    leverAccount,
    adminCreate,
    createConnection,
    adminFetch,
    stop,
  };
}

/**
 * The service's data converter (payloads encrypted), from the environment the way src/main.ts and src/worker.ts
 * build it; global-setup puts fresh PAYLOAD_KEYS there for each run.
 */
export function serviceDataConverter() {
  return createDataConverter(loadConfig(baseConfigSchema));
}

/**
 * A history from `handle.fetchHistory()` (raw: payloads as the server stores them, encrypted) with every encrypted
 * payload decoded in place by the service's codec and encoded failure messages restored, as if it had never been
 * encrypted. Payloads that are not encrypted stay as they are: search attributes and the SDK's own markers (e.g. a
 * patch), which the codec never sees.
 */
export async function decodeHistory<T extends object>(history: T): Promise<T> {
  const codecs = [...(serviceDataConverter().payloadCodecs ?? [])].reverse();
  const decode = async (payload: Payload): Promise<Payload> => {
    if (!isEncrypted(payload)) return payload;
    let payloads = [payload];
    for (const codec of codecs) payloads = await codec.decode(payloads);
    return payloads[0] ?? payload;
  };
  const isPayload = (value: unknown): value is Payload =>
    typeof value === 'object' &&
    value !== null &&
    'metadata' in value &&
    typeof value.metadata === 'object' &&
    value.metadata !== null &&
    'encoding' in value.metadata &&
    value.metadata.encoding instanceof Uint8Array;
  const walk = async (value: unknown): Promise<void> => {
    if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return;
    if (isPayload(value)) {
      const decoded = await decode(value);
      value.metadata = decoded.metadata;
      value.data = decoded.data;
      return;
    }
    for (const child of Object.values(value)) await walk(child);
    const failure = value as { message?: string | null; encodedAttributes?: Payload | null };
    if (failure.message === 'Encoded failure' && failure.encodedAttributes) {
      const attributes = defaultPayloadConverter.fromPayload<{ message?: string }>(failure.encodedAttributes);
      failure.message = attributes.message ?? failure.message;
    }
  };
  await walk(history);
  return history;
}
