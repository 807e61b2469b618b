/**
 * The main command: brings up the whole stack on this machine — Temporal dev server (with Web UI), PostgreSQL
 * migrations, the worker and the API as their own processes, and the sandbox emulators of Lever, Ashby, Certn,
 * Justifacts, VICTIG and Justworks plus an SMTP catcher — then runs one demo candidate through each of the five
 * integrations and prints what each wrote back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Connection } from '@temporalio/client';
import { localRuntimeDatabaseUrl } from '../src/db/local-runtime-role';
import { migrate } from '../src/db/migrate';
import { startAshbyEmulator } from '../sandbox/ashby-emulator';
import { startCertnEmulator } from '../sandbox/certn-emulator';
import { startJustifactsEmulator } from '../sandbox/justifacts-emulator';
import { startJustworksEmulator } from '../sandbox/justworks-emulator';
import { startLeverEmulator } from '../sandbox/lever-emulator';
import { startSmtpCatcher } from '../sandbox/smtp-catcher';
import { PostgresTemporalServer } from '../src/temporal/postgres-server-process';
import { temporalPostgresUrl, temporalServerKind } from '../src/temporal/server-process';
import { startVictigEmulator } from '../sandbox/victig-emulator';
import { checkWorkflowId } from '../src/workflows/definitions';
import { stopOnInterrupt } from '../test/support/interrupt';
import { stopProcess } from '../test/support/service-process';

const { values: args } = parseArgs({
  options: {
    exit: { type: 'boolean', default: false },
    'temporal-port': { type: 'string', default: process.env.TEMPORAL_PORT ?? '7233' },
    'ui-port': { type: 'string', default: process.env.TEMPORAL_UI_PORT ?? '8233' },
    'api-port': { type: 'string', default: process.env.API_PORT ?? '8080' },
    'lever-port': { type: 'string', default: process.env.LEVER_EMULATOR_PORT ?? '4010' },
    'certn-port': { type: 'string', default: process.env.CERTN_EMULATOR_PORT ?? '4020' },
    'justifacts-port': { type: 'string', default: process.env.JUSTIFACTS_EMULATOR_PORT ?? '4030' },
    'victig-port': { type: 'string', default: process.env.VICTIG_EMULATOR_PORT ?? '4040' },
    'justworks-port': { type: 'string', default: process.env.JUSTWORKS_EMULATOR_PORT ?? '4050' },
    'ashby-port': { type: 'string', default: process.env.ASHBY_EMULATOR_PORT ?? '4060' },
    'smtp-port': { type: 'string', default: process.env.SMTP_CATCHER_PORT ?? '2525' },
    'vendor-step-ms': { type: 'string', default: '1000' },
  },
});

const root = path.resolve(__dirname, '..');
const logDir = path.join(root, '.data', 'logs');
/**
 * The demo migrates as the owner (MIGRATION_DATABASE_URL, else DATABASE_URL, else the local superuser) and runs the
 * API and the worker as the runtime role, as in production: DATABASE_URL when both are given, else a login role
 * it creates on the local server (src/db/local-runtime-role.ts).
 */
const migrationUrl =
  process.env.MIGRATION_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bgc';
const givenRuntimeUrl = process.env.MIGRATION_DATABASE_URL ? process.env.DATABASE_URL : undefined;
const temporalAddress = `127.0.0.1:${args['temporal-port']}`;
const apiUrl = `http://127.0.0.1:${args['api-port']}`;
const adminToken = process.env.ADMIN_TOKEN ?? `demo-${randomBytes(16).toString('hex')}`;
const uiOrigins = [`http://127.0.0.1:${args['ui-port']}`, `http://localhost:${args['ui-port']}`];

/**
 * The keys Temporal payloads are encrypted with: PAYLOAD_KEYS/PAYLOAD_KEY_ID from the environment, else the demo's
 * own, generated on the first run and kept in .data/demo-payload-keys so that the histories persisted in
 * .data/temporal.db stay readable across demo runs.
 */
function demoPayloadKeys(): { PAYLOAD_KEYS: string; PAYLOAD_KEY_ID: string } {
  if (process.env.PAYLOAD_KEYS) {
    return { PAYLOAD_KEYS: process.env.PAYLOAD_KEYS, PAYLOAD_KEY_ID: process.env.PAYLOAD_KEY_ID ?? '' };
  }
  const file = path.join(root, '.data', 'demo-payload-keys');
  if (!existsSync(file)) {
    const id = `demo-${new Date().toISOString().slice(0, 10)}`;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `PAYLOAD_KEYS=${id}:${randomBytes(32).toString('base64')}\nPAYLOAD_KEY_ID=${id}\n`, {
      mode: 0o600,
    });
  }
  const saved = Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return { PAYLOAD_KEYS: saved.PAYLOAD_KEYS ?? '', PAYLOAD_KEY_ID: saved.PAYLOAD_KEY_ID ?? '' };
}

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
    // A process group of its own (tsx runs the script in a child process): stopAll ends the whole group.
    detached: true,
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
let closeEmulators: (() => Promise<unknown>) | undefined;
/** The dev server, when the demo started it (not when it reuses one). */
let temporalServer: ChildProcess | undefined;
/** With BGC_TEMPORAL=postgres: the production server on PostgreSQL, when the demo started it. */
let postgresTemporal: PostgresTemporalServer | undefined;
/** Whether a Web UI runs (the dev server's); the production server has none here. */
let webUiRuns = true;
/** The emulators, then the API and the worker, then Temporal: each process group until nothing of it runs. */
const stopAll = stopOnInterrupt(async () => {
  stopping = true;
  await closeEmulators?.();
  await Promise.all(children.filter((c) => c !== temporalServer).map((child) => stopProcess(child)));
  if (temporalServer) await stopProcess(temporalServer);
  await postgresTemporal?.stop();
});

async function main(): Promise<void> {
  say('Starting the background-check stack (logs in .data/logs)...');
  if (await temporalReachable().catch(() => false)) {
    say(`- Temporal: reusing the server already on ${temporalAddress}`);
  } else if (temporalServerKind() === 'postgres') {
    // The server docker-compose.yml runs, on the local PostgreSQL; its databases persist between demos.
    postgresTemporal = await PostgresTemporalServer.create({
      adminUrl: temporalPostgresUrl(),
      database: 'bgc_demo_temporal',
      dir: path.join(root, '.data', 'temporal-postgres'),
      frontendPort: Number(args['temporal-port']),
      keepDatabases: true,
    });
    await postgresTemporal.start();
    webUiRuns = false;
    say(
      `- Temporal server on PostgreSQL (BGC_TEMPORAL=postgres: databases bgc_demo_temporal and ` +
        `bgc_demo_temporal_visibility) on ${temporalAddress}; no Web UI (the dev server brings it)`,
    );
  } else {
    temporalServer = startProcess('temporal', tsx, ['scripts/temporal-dev.ts'], {
      TEMPORAL_PORT: args['temporal-port'],
      TEMPORAL_UI_PORT: args['ui-port'],
      // The Web UI decodes the encrypted payloads through the API (src/api/codec-router.ts).
      TEMPORAL_UI_CODEC_ENDPOINT: `${apiUrl}/codec`,
    });
    await waitFor('Temporal dev server', temporalReachable);
    say(`- Temporal dev server on ${temporalAddress}, Web UI http://127.0.0.1:${args['ui-port']}`);
  }
  await migrate(migrationUrl);
  const databaseUrl = givenRuntimeUrl ?? (await localRuntimeDatabaseUrl(migrationUrl));
  const withoutCredentials = (url: string) => url.replace(/\/\/[^@]*@/, '//');
  say(
    `- PostgreSQL migrated: ${withoutCredentials(migrationUrl)}; the API and the worker connect as ` +
      `${decodeURIComponent(new URL(databaseUrl).username) || 'the default user'}`,
  );

  const step = Number(args['vendor-step-ms']);
  const lever = await startLeverEmulator({ port: Number(args['lever-port']) });
  const certn = await startCertnEmulator({ port: Number(args['certn-port']), autoAdvanceMs: step });
  const justifacts = await startJustifactsEmulator({
    port: Number(args['justifacts-port']),
    autoAdvanceMs: step,
  });
  const victig = await startVictigEmulator({ port: Number(args['victig-port']), autoAdvanceMs: step });
  const justworks = await startJustworksEmulator({ port: Number(args['justworks-port']) });
  const ashby = await startAshbyEmulator({ port: Number(args['ashby-port']) });
  const smtp = await startSmtpCatcher({ port: Number(args['smtp-port']) });
  closeEmulators = () =>
    Promise.all([lever, certn, justifacts, victig, justworks, ashby, smtp].map((e) => e.close()));
  say(
    `- Emulators: Lever ${lever.apiBaseUrl}, Certn ${certn.url}, Justifacts ${justifacts.url}, VICTIG ${victig.url},`,
  );
  say(`  Justworks ${justworks.url}, Ashby ${ashby.url}, SMTP catcher ${smtp.host}:${smtp.port}`);

  const env = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    ADMIN_TOKEN: adminToken,
    API_PORT: args['api-port'],
    PUBLIC_BASE_URL: apiUrl,
    VENDOR_POLL_INTERVAL_MS: '30000',
    SMTP_URL: `smtp://${smtp.host}:${smtp.port}`,
    // The emulators serve plain http on 127.0.0.1.
    ALLOW_HTTP_URLS: 'true',
    ...demoPayloadKeys(),
    // Public development keys for connection secrets and report links (README, Security): never in production.
    BGC_DEVELOPMENT_KEYS: 'true',
    // The dev server's Web UI cannot send a bearer token; the demo API listens on 127.0.0.1 only.
    CODEC_ALLOW_ANONYMOUS: 'true',
    CODEC_CORS_ORIGINS: uiOrigins.join(','),
  };
  startProcess('worker', tsx, ['src/worker.ts'], env);
  startProcess('api', tsx, ['src/main.ts'], env);
  await waitFor('API', async () => (await fetch(`${apiUrl}/healthz`)).ok);
  say(`- API ${apiUrl} (admin token in ADMIN_TOKEN${process.env.ADMIN_TOKEN ? '' : `: ${adminToken}`})`);

  const secret = (prefix: string) => `${prefix}-${randomBytes(12).toString('hex')}`;
  async function createConnection(body: unknown): Promise<Record<string, string>> {
    const res = await fetch(`${apiUrl}/admin/connections`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`creating a demo connection failed: ${await res.text()}`);
    return (await res.json()) as Record<string, string>;
  }
  /** One customer's Lever account: the emulator models one account, so each demo replaces the webhook. */
  let webhookId: string | undefined;
  function leverAccount(
    event: 'candidateStageChange' | 'candidateHired',
    url: string,
    signatureToken: string,
  ) {
    if (webhookId) lever.removeWebhook(webhookId);
    webhookId = lever.addWebhook({ event, url, signatureToken }).id;
  }
  const webUi = (workflowId: string) =>
    webUiRuns
      ? `Web UI http://127.0.0.1:${args['ui-port']}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`
      : `temporal workflow describe --address ${temporalAddress} -w '${workflowId}'`;
  const clock = () => new Date().toISOString().slice(11, 19);

  /** Prints the opportunity's tags of one vendor each time they change, until `done` is among them. */
  async function watchTags(
    opportunityId: string,
    isVendorTag: (t: string) => boolean,
    done: (tags: string[]) => boolean,
  ) {
    let shown = '';
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const tags = lever.opportunity(opportunityId).tags.filter(isVendorTag);
      if (tags.join('|') !== shown) {
        shown = tags.join('|');
        say(`    ${clock()}  tags: ${tags.join(', ') || '(none)'}`);
      }
      if (done(tags)) return;
      await sleep(200);
    }
    throw new Error('the demo check did not finish in 2 minutes');
  }
  function printNotes(opportunityId: string) {
    for (const note of lever.notes(opportunityId)) {
      say(`    ${note.secret ? 'secret note' : 'note'}: ${note.value.split('\n').slice(0, 3).join(' | ')}`);
    }
  }
  async function moveToTrigger(opportunityId: string, connectionId: string) {
    const [delivery] = await lever.moveToStage(opportunityId, lever.stageIdByName('Background Check'));
    say(
      `    Lever webhook → HTTP ${delivery?.attempts.at(-1)?.status ?? 'none'}; ${webUi(checkWorkflowId(connectionId, opportunityId))}`,
    );
  }
  const candidate = (name: string, email: string, tags: string[], postingId: string) =>
    lever.createOpportunity({
      name,
      emails: [email],
      tags,
      postingId,
      location: 'New York',
      phones: [{ type: 'mobile', value: '+1 212 555 0100' }],
      stageId: lever.stageIdByName('Phone screen'),
    });

  // 1. Lever → Certn: trigger stage by name, default package, CERTN tags and the PDF report link.
  say('\n[1/5] Lever → Certn');
  {
    const apiKey = secret('lever');
    const signatureToken = secret('sig');
    const certnKey = secret('certn');
    const webhookSecret = secret('whsec');
    lever.addApiKey(apiKey);
    const { packages } = certn.addTeam({ apiKey: certnKey });
    const conn = await createConnection({
      name: 'Demo: Lever → Certn',
      lever: { apiBaseUrl: lever.apiBaseUrl, apiKey, signatureToken, triggerStageName: 'Background Check' },
      vendor: {
        type: 'certn',
        apiBaseUrl: certn.apiBaseUrl,
        apiKey: certnKey,
        webhookSecret,
        packages: packages.map((p, i) => ({ name: p.name, packageId: p.id, default: i === 0 })),
      },
    });
    leverAccount('candidateStageChange', conn.webhookUrl!, signatureToken);
    certn.setWebhook(certnKey, { url: conn.vendorCallbackUrl!, secret: webhookSecret });
    const posting = lever.createPosting({
      text: 'Backend Engineer',
      categories: { department: 'Engineering' },
    });
    const opp = candidate('Casey Certn', 'casey.certn@example.com', ['Referral'], posting.id);
    await moveToTrigger(opp.id, conn.id!);
    await watchTags(
      opp.id,
      (t) => t.startsWith('CERTN - '),
      (t) => t.includes('CERTN - Complete'),
    );
    say(`    report link on the profile: ${lever.opportunity(opp.id).links.at(-1) ?? '(none)'}`);
  }

  // 2. Lever → Justifacts: the package comes from the posting's package tag.
  say('\n[2/5] Lever → Justifacts');
  {
    const apiKey = secret('lever');
    const signatureToken = secret('sig');
    const jfKey = secret('justifacts');
    const callbackSecret = secret('cb');
    lever.addApiKey(apiKey);
    const conn = await createConnection({
      name: 'Demo: Lever → Justifacts',
      lever: { apiBaseUrl: lever.apiBaseUrl, apiKey, signatureToken, triggerStageName: 'Background Check' },
      vendor: { type: 'justifacts', apiBaseUrl: justifacts.apiBaseUrl, apiKey: jfKey, callbackSecret },
    });
    justifacts.addAccount({ apiKey: jfKey, callbackUrl: conn.vendorCallbackUrl!, callbackSecret });
    leverAccount('candidateStageChange', conn.webhookUrl!, signatureToken);
    const posting = lever.createPosting({
      text: 'Accountant',
      tags: ['JUSTIFACTS BGC PKG: EmpCod[ID : 13558]'],
    });
    const opp = candidate('Jordan Justifacts', 'jordan.jf@example.com', [], posting.id);
    await moveToTrigger(opp.id, conn.id!);
    await watchTags(
      opp.id,
      (t) => t.startsWith('(Justifacts)'),
      (t) => t.includes('(Justifacts)Complete'),
    );
    printNotes(opp.id);
  }

  // 3. Lever → VICTIG: trigger by stage ID, product override and sub-client by prefix and location.
  say('\n[3/5] Lever → VICTIG');
  {
    const apiKey = secret('lever');
    const signatureToken = secret('sig');
    const accountId = secret('acct');
    const victigKey = secret('victig');
    const callbackSecret = secret('cb');
    lever.addApiKey(apiKey);
    victig.addAccount({ accountId, apiKey: victigKey });
    const conn = await createConnection({
      name: 'Demo: Lever → VICTIG',
      lever: {
        apiBaseUrl: lever.apiBaseUrl,
        apiKey,
        signatureToken,
        triggerStageId: lever.stageIdByName('Background Check'),
      },
      vendor: {
        type: 'victig',
        apiBaseUrl: victig.apiBaseUrl,
        accountId,
        apiKey: victigKey,
        callbackSecret,
        defaultProduct: 'Criminal Package 1',
        productTagPrefix: 'Product: ',
        subClientMatch: 'city',
        flagTagPrefix: 'Flag: ',
        decisionTagPrefix: 'Decision: ',
      },
    });
    victig.setCallback(accountId, { url: conn.vendorCallbackUrl!, secret: callbackSecret });
    leverAccount('candidateStageChange', conn.webhookUrl!, signatureToken);
    const posting = lever.createPosting({
      text: 'Driver',
      categories: { department: 'Logistics', location: 'New York' },
    });
    const opp = candidate(
      'Val Victig',
      'val.victig@example.com',
      ['Product: Criminal Package 2'],
      posting.id,
    );
    await moveToTrigger(opp.id, conn.id!);
    await watchTags(
      opp.id,
      (t) =>
        t.startsWith('Background Check Status: ') || t.startsWith('Flag: ') || t.startsWith('Decision: '),
      (t) => t.includes('Background Check Status: Complete'),
    );
    printNotes(opp.id);
  }

  // 4. Lever → Justworks: a hire with a signed offer becomes a pending hire, and the admins get an e-mail.
  say('\n[4/5] Lever → Justworks');
  {
    const apiKey = secret('lever');
    const signatureToken = secret('sig');
    const jwKey = secret('justworks');
    lever.addApiKey(apiKey);
    // Justworks decides who is e-mailed: its admins with Manage employees.
    justworks.addCompany({
      apiKey: jwKey,
      name: 'Demo Co',
      admins: [
        { name: 'Pat Payroll', email: 'pat@demo-co.example', permissions: ['manage_employees'] },
        { name: 'Robin Reader', email: 'robin@demo-co.example', permissions: [] },
      ],
    });
    const conn = await createConnection({
      name: 'Demo: Lever → Justworks',
      lever: { apiBaseUrl: lever.apiBaseUrl, apiKey, signatureToken },
      vendor: {
        type: 'justworks',
        apiBaseUrl: justworks.apiBaseUrl,
        apiKey: jwKey,
        companyName: 'Demo Co',
      },
    });
    leverAccount('candidateHired', conn.webhookUrl!, signatureToken);
    const posting = lever.createPosting({
      text: 'Designer',
      categories: { department: 'Product', location: 'Remote' },
    });
    const opp = candidate('Harper Hire', 'harper.hire@example.com', [], posting.id);
    lever.setOffer(opp.id, {
      status: 'signed',
      fields: [
        { text: 'Job title', identifier: 'job_title', value: 'Senior Designer' },
        { text: 'Salary', identifier: 'salary_amount', value: 120000 },
        { text: 'Currency', identifier: 'compensation_currency', value: 'USD' },
        { text: 'Type of earnings', identifier: 'salary_interval', value: 'year (salary)' },
        { text: 'Hiring manager', identifier: 'hiring_manager', value: 'Morgan Manager' },
        { text: 'Start date', identifier: 'anticipated_start_date', value: Date.UTC(2027, 0, 11) },
      ],
    });
    const [delivery] = await lever.hire(opp.id);
    say(`    Lever candidateHired webhook → HTTP ${delivery?.attempts.at(-1)?.status ?? 'none'}`);
    const mail = await smtp.waitFor((m) => m.subject === 'A candidate has been hired in Lever!', 60_000);
    const [hire] = justworks.pendingHires(jwKey);
    say(
      `    pending hire in Justworks: ${hire ? `${hire.title}, ${hire.compensation?.amount} ${hire.compensation?.currency} ${hire.compensation?.type_of_earnings}, starts ${hire.start_date}` : '(none)'}`,
    );
    say(`    e-mail "${mail.subject}" to ${mail.to.join(', ')}`);
  }

  // 5. Ashby → Justifacts: the service is Ashby's assessment partner.
  say('\n[5/5] Ashby → Justifacts');
  {
    const ashbyKey = secret('ashby');
    const jfKey = secret('justifacts');
    const callbackSecret = secret('cb');
    ashby.addOrganization({ apiKey: ashbyKey });
    const conn = await createConnection({
      name: 'Demo: Ashby → Justifacts',
      ashby: { apiBaseUrl: ashby.apiBaseUrl, apiKey: ashbyKey },
      vendor: {
        type: 'justifacts',
        apiBaseUrl: justifacts.apiBaseUrl,
        apiKey: jfKey,
        callbackSecret,
        packages: [{ code: 'EmpCod', id: '13558', name: 'Employment Screening' }],
      },
    });
    justifacts.addAccount({ apiKey: jfKey, callbackUrl: conn.vendorCallbackUrl!, callbackSecret });
    ashby.registerPartner({
      name: 'justifacts',
      baseUrl: conn.partnerBaseUrl!,
      secret: conn.partnerSecret!,
      apiKey: ashbyKey,
    });
    say(`    partner base URL for Ashby: ${conn.partnerBaseUrl}`);
    const started = await ashby.startAssessment('justifacts', {
      assessmentTypeId: '13558',
      candidate: { firstName: 'Avery', lastName: 'Ashby', email: 'avery.ashby@example.com' },
      job: { name: 'Support Engineer' },
    });
    const assessmentId = started.assessmentId;
    say(`    assessment.start → HTTP ${started.status}, assessment ${assessmentId ?? '(none)'}`);
    if (!assessmentId) throw new Error('Ashby could not start the demo assessment');
    let seen = 0;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const updates = ashby.updates(assessmentId);
      for (const update of updates.slice(seen)) {
        const status = JSON.stringify(update.assessment_status?.value ?? null);
        const url = update.assessment_profile_url?.value;
        say(
          `    ${clock()}  assessment.update: ${status}${typeof url === 'string' ? ` (result ${url})` : ''}`,
        );
      }
      seen = updates.length;
      if (updates.some((u) => u.assessment_result !== undefined)) break;
      await sleep(200);
    }
    if (!ashby.updates(assessmentId).some((u) => u.assessment_result !== undefined)) {
      throw new Error('the Ashby assessment did not complete in 2 minutes');
    }
  }

  if (args.exit) {
    say('\nDemo complete; stopping the stack.');
    await stopAll();
    return;
  }
  // Ctrl-C (SIGINT) or SIGTERM runs stopAll, then exits.
  say(
    `\nThe stack keeps running: ${webUiRuns ? `Web UI http://127.0.0.1:${args['ui-port']}, ` : ''}API ${apiUrl}. ` +
      'Ctrl-C stops it.',
  );
}

main().catch(async (err) => {
  console.error(err instanceof Error ? err.message : err);
  await stopAll();
  process.exit(1);
});
