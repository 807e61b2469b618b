import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createApp } from '../../src/api/app';
import { createPool } from '../../src/db/pool';
import { createLogger } from '../../src/logger';
import { startAshbyEmulator } from '../../src/sandbox/ashby-emulator';
import { startCertnEmulator } from '../../src/sandbox/certn-emulator';
import { listen, type RunningServer } from '../../src/sandbox/http-server';
import { startJustifactsEmulator } from '../../src/sandbox/justifacts-emulator';
import { startJustworksEmulator } from '../../src/sandbox/justworks-emulator';
import { startLeverEmulator } from '../../src/sandbox/lever-emulator';
import { startSmtpCatcher } from '../../src/sandbox/smtp-catcher';
import { startVictigEmulator } from '../../src/sandbox/victig-emulator';
import { createDataConverter } from '../../src/temporal/data-converter';
import { createCheckWorker } from '../../src/worker-factory';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface StackOptions {
  /** Vendor emulators advance orders by themselves every N ms; null = only by hand. */
  vendorAutoAdvanceMs?: number | null;
  pollIntervalMs?: number;
  /** Attempts per activity before a check gives up on a call (5 keeps failure tests short). */
  maxAttempts?: number;
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

let runtimeInstalled = false;

/**
 * The whole service over real HTTP: emulators of Lever, Ashby and every vendor, an SMTP catcher, the Express API
 * and a worker, against the run's Temporal dev server and PostgreSQL database (see global-setup). One task queue
 * per stack.
 */
export async function startStack(options: StackOptions = {}) {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger((process.env.TEST_SDK_LOG_LEVEL ?? 'WARN') as 'WARN') });
    runtimeInstalled = true;
  }
  const databaseUrl = process.env.DATABASE_URL;
  const temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (!databaseUrl || !temporalAddress)
    throw new Error('global setup did not provide DATABASE_URL/TEMPORAL_ADDRESS');
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  const pool: Pool = createPool(databaseUrl);
  const autoAdvanceMs = options.vendorAutoAdvanceMs ?? null;

  const lever = await startLeverEmulator({ webhookRetryDelaysMs: [100, 200, 400, 800, 1600] });
  const certn = await startCertnEmulator({ autoAdvanceMs, webhookRetryDelaysMs: [100, 300, 900] });
  const justifacts = await startJustifactsEmulator({ autoAdvanceMs, webhookRetryDelaysMs: [100, 300, 900] });
  const victig = await startVictigEmulator({ autoAdvanceMs, webhookRetryDelaysMs: [100, 300, 900] });
  const justworks = await startJustworksEmulator();
  const ashby = await startAshbyEmulator();
  const smtp = await startSmtpCatcher();

  const clientConnection = await Connection.connect({ address: temporalAddress });
  const temporal = new Client({ connection: clientConnection, dataConverter: createDataConverter() });
  const api: RunningServer = await listen(
    createApp({
      config: {
        ADMIN_TOKEN,
        PUBLIC_BASE_URL: undefined,
        WEBHOOK_BODY_LIMIT: 100 * 1024,
        TEMPORAL_TASK_QUEUE: taskQueue,
        VENDOR_POLL_INTERVAL_MS: options.pollIntervalMs ?? 60 * 60 * 1000,
        ACTIVITY_MAX_ATTEMPTS: options.maxAttempts ?? 5,
      },
      pool,
      temporal,
      logger,
    }),
  );

  const workerConnection = await NativeConnection.connect({ address: temporalAddress });
  const bundlePath = process.env.BGC_TEST_WORKFLOW_BUNDLE;
  const worker: Worker = await createCheckWorker({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    pool,
    logger,
    mail: { smtpUrl: `smtp://${smtp.host}:${smtp.port}`, from: 'bgc-bridge <no-reply@bgc-bridge.test>' },
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
    await pool.end();
  }

  return {
    lever,
    certn,
    justifacts,
    victig,
    justworks,
    ashby,
    smtp,
    api,
    temporal,
    pool,
    taskQueue,
    unique,
    leverAccount,
    adminCreate,
    createConnection,
    adminFetch,
    stop,
  };
}

/** Polls until `probe` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}
