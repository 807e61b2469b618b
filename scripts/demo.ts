/**
 * The main command: brings up the whole stack on this machine — Temporal dev server (with Web UI), PostgreSQL
 * migrations, the worker and the API as their own processes, and the sandbox emulators of Lever and Certn —
 * creates a demo connection, moves a demo candidate into the trigger stage and prints each status tag as it
 * appears on the candidate in the Lever emulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Connection } from '@temporalio/client';
import { migrate } from '../src/db/migrate';
import { startCertnEmulator } from '../src/sandbox/certn-emulator';
import { startLeverEmulator } from '../src/sandbox/lever-emulator';
import { checkWorkflowId } from '../src/workflows/definitions';

const { values: args } = parseArgs({
  options: {
    exit: { type: 'boolean', default: false },
    'temporal-port': { type: 'string', default: process.env.TEMPORAL_PORT ?? '7233' },
    'ui-port': { type: 'string', default: process.env.TEMPORAL_UI_PORT ?? '8233' },
    'api-port': { type: 'string', default: process.env.API_PORT ?? '8080' },
    'lever-port': { type: 'string', default: process.env.LEVER_EMULATOR_PORT ?? '4010' },
    'certn-port': { type: 'string', default: process.env.CERTN_EMULATOR_PORT ?? '4020' },
    'certn-step-ms': { type: 'string', default: '1500' },
  },
});

const root = path.resolve(__dirname, '..');
const logDir = path.join(root, '.data', 'logs');
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bgc';
const temporalAddress = `127.0.0.1:${args['temporal-port']}`;
const apiUrl = `http://127.0.0.1:${args['api-port']}`;
const adminToken = process.env.ADMIN_TOKEN ?? `demo-${randomBytes(16).toString('hex')}`;
const children: ChildProcess[] = [];
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

const say = (line: string) => console.log(line);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a child process whose output goes to .data/logs/<name>.log. */
function startProcess(name: string, command: string, argv: string[], env: NodeJS.ProcessEnv): ChildProcess {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
  const child = spawn(command, argv, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.on('exit', (code, signal) => {
    if (!stopping) say(`! ${name} exited (${signal ?? code}); see .data/logs/${name}.log`);
  });
  children.push(child);
  return child;
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000}s (logs in .data/logs)`);
}

async function temporalReachable(): Promise<boolean> {
  const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 1000 });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

let stopping = false;
async function stopAll(): Promise<void> {
  stopping = true;
  for (const child of children.reverse()) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
  );
}

async function main(): Promise<void> {
  say('Starting the background-check stack (logs in .data/logs)...');
  if (await temporalReachable().catch(() => false)) {
    say(`- Temporal: reusing the server already on ${temporalAddress}`);
  } else {
    startProcess('temporal', tsx, ['scripts/temporal-dev.ts'], {
      TEMPORAL_PORT: args['temporal-port'],
      TEMPORAL_UI_PORT: args['ui-port'],
    });
    await waitFor('Temporal dev server', temporalReachable);
    say(`- Temporal dev server on ${temporalAddress}, Web UI http://127.0.0.1:${args['ui-port']}`);
  }
  await migrate(databaseUrl);
  say(`- PostgreSQL migrated: ${databaseUrl.replace(/\/\/[^@]*@/, '//')}`);

  const lever = await startLeverEmulator({ port: Number(args['lever-port']) });
  const certn = await startCertnEmulator({
    port: Number(args['certn-port']),
    autoAdvanceMs: Number(args['certn-step-ms']),
  });
  say(`- Lever emulator ${lever.apiBaseUrl}, Certn emulator ${certn.apiBaseUrl}`);

  const env = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    ADMIN_TOKEN: adminToken,
    API_PORT: args['api-port'],
    PUBLIC_BASE_URL: apiUrl,
    VENDOR_POLL_INTERVAL_MS: '30000',
  };
  startProcess('worker', tsx, ['src/worker.ts'], env);
  startProcess('api', tsx, ['src/main.ts'], env);
  await waitFor('API', async () => (await fetch(`${apiUrl}/healthz`)).ok);
  say(`- API ${apiUrl} (admin token in ADMIN_TOKEN${process.env.ADMIN_TOKEN ? '' : `: ${adminToken}`})`);

  // The customer's side: a Lever account with a key and webhook, a Certn team with packages and a webhook.
  const leverApiKey = `demo-lever-${randomBytes(6).toString('hex')}`;
  const certnApiKey = `demo-certn-${randomBytes(6).toString('hex')}`;
  const signatureToken = randomBytes(24).toString('hex');
  const webhookSecret = randomBytes(24).toString('hex');
  lever.addApiKey(leverApiKey);
  const { packages } = certn.addTeam({ apiKey: certnApiKey });
  const created = await fetch(`${apiUrl}/admin/connections`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: 'Demo customer',
      lever: {
        apiBaseUrl: lever.apiBaseUrl,
        apiKey: leverApiKey,
        signatureToken,
        triggerStageName: 'Background Check',
      },
      vendor: {
        type: 'certn',
        apiBaseUrl: certn.apiBaseUrl,
        apiKey: certnApiKey,
        webhookSecret,
        packages: packages.map((p, i) => ({ name: p.name, packageId: p.id, default: i === 0 })),
      },
    }),
  });
  if (created.status !== 201) throw new Error(`creating the demo connection failed: ${await created.text()}`);
  const connection = (await created.json()) as { id: string; webhookUrl: string; vendorCallbackUrl: string };
  lever.addWebhook({ event: 'candidateStageChange', url: connection.webhookUrl, signatureToken });
  certn.setWebhook(certnApiKey, { url: connection.vendorCallbackUrl, secret: webhookSecret });
  say(`- Connection ${connection.id}: Lever webhook URL ${connection.webhookUrl}`);

  const posting = lever.createPosting({
    text: 'Backend Engineer',
    categories: { department: 'Engineering' },
  });
  const candidate = lever.createOpportunity({
    name: 'Demo Candidate',
    emails: ['demo.candidate@example.com'],
    tags: ['Referral'],
    postingId: posting.id,
    stageId: lever.stageIdByName('Phone screen'),
  });
  const workflowId = checkWorkflowId(connection.id, candidate.id);
  say(`\nMoving the demo candidate (opportunity ${candidate.id}) into "Background Check"...`);
  const [delivery] = await lever.moveToStage(candidate.id, lever.stageIdByName('Background Check'));
  say(`  Lever webhook delivered: HTTP ${delivery?.attempts.at(-1)?.status ?? 'none'}`);
  say(
    `  Temporal Web UI: http://127.0.0.1:${args['ui-port']}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`,
  );

  let shown: string[] = [];
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const tags = lever.opportunity(candidate.id).tags.filter((t) => t.startsWith('CERTN - '));
    if (tags.join('|') !== shown.join('|')) {
      shown = tags;
      say(`  ${new Date().toISOString().slice(11, 19)}  Lever tags: ${tags.join(', ')}`);
    }
    if (tags.includes('CERTN - Complete')) break;
    await sleep(200);
  }
  const opportunity = lever.opportunity(candidate.id);
  if (!opportunity.tags.includes('CERTN - Complete'))
    throw new Error('the demo check did not complete in 2 minutes');
  say(`  Report link on the profile: ${opportunity.links.at(-1) ?? '(none)'}`);
  say(`  Secret notes: ${lever.notes(candidate.id).filter((n) => n.secret).length}`);

  if (args.exit) {
    say('\nDemo complete; stopping the stack.');
    await Promise.all([lever.close(), certn.close()]);
    await stopAll();
    return;
  }
  say(
    `\nThe stack keeps running: Web UI http://127.0.0.1:${args['ui-port']}, API ${apiUrl}. Ctrl-C stops it.`,
  );
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await Promise.all([lever.close(), certn.close()]);
  await stopAll();
}

main().catch(async (err) => {
  console.error(err instanceof Error ? err.message : err);
  await stopAll();
  process.exit(1);
});
