/**
 * `npm run sandbox`: every emulator (Lever, Ashby, Certn, Justifacts, VICTIG, Justworks) and the SMTP catcher,
 * standalone on fixed ports, until Ctrl-C or SIGTERM. Prints each URL and how to point a connection at it: the
 * way to try the service (`npm run api`, `npm run worker` with ALLOW_HTTP_URLS=true) without vendor accounts.
 * Ports: --lever-port, --certn-port, --justifacts-port, --victig-port, --justworks-port, --ashby-port,
 * --smtp-port (0: a free one); --vendor-step-ms sets how fast Certn, Justifacts and VICTIG move an order (0: only
 * through their `/_sandbox/…/advance`).
 */
import { parseArgs } from 'node:util';
import { startAshbyEmulator } from './ashby-emulator';
import { startCertnEmulator } from './certn-emulator';
import { startJustifactsEmulator } from './justifacts-emulator';
import { startJustworksEmulator } from './justworks-emulator';
import { startLeverEmulator } from './lever-emulator';
import { startSmtpCatcher } from './smtp-catcher';
import { startVictigEmulator } from './victig-emulator';

const { values: args } = parseArgs({
  options: {
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

function port(name: keyof typeof args): number {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`--${name} must be a port number (0 to 65535), not ${String(args[name])}`);
  }
  return value;
}

const say = (line = '') => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const step = Number(args['vendor-step-ms']);
  if (!Number.isFinite(step) || step < 0) throw new Error('--vendor-step-ms must be a number of ms (0: off)');
  const autoAdvanceMs = step === 0 ? null : step;

  const closers: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const close of [...closers].reverse()) await close().catch((err: unknown) => console.error(err));
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping !== undefined) process.exit(1);
    say(`\n${signal}: stopping the sandbox`);
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const lever = await startLeverEmulator({ port: port('lever-port') });
    closers.push(() => lever.close());
    const ashby = await startAshbyEmulator({ port: port('ashby-port') });
    closers.push(() => ashby.close());
    const certn = await startCertnEmulator({ port: port('certn-port'), autoAdvanceMs });
    closers.push(() => certn.close());
    const justifacts = await startJustifactsEmulator({ port: port('justifacts-port'), autoAdvanceMs });
    closers.push(() => justifacts.close());
    const victig = await startVictigEmulator({ port: port('victig-port'), autoAdvanceMs });
    closers.push(() => victig.close());
    const justworks = await startJustworksEmulator({ port: port('justworks-port') });
    closers.push(() => justworks.close());
    const smtp = await startSmtpCatcher({ port: port('smtp-port') });
    closers.push(() => smtp.close());

    const post = (url: string, body: string) =>
      `curl -X POST ${url} -H 'Content-Type: application/json' -d '${body}'`;
    say('bgc-bridge sandbox: the emulators answer like the real services; /_sandbox/… needs no key.');
    say('Run the service with ALLOW_HTTP_URLS=true (these URLs are http://) and create a connection with');
    say('POST /admin/connections (README, "Connecting a customer") using the fields below.');
    say();
    say(`Lever emulator: ${lever.url}`);
    say(
      `  connection: "lever": { "apiBaseUrl": "${lever.apiBaseUrl}", "apiKey": "<key>", "signatureToken": "<token>",`,
    );
    say('              "triggerStageName": "Background Check" }');
    say(`  the key:    ${post(`${lever.url}/_sandbox/api-keys`, '{"key":"<key>"}')}`);
    say(
      `  webhook:    ${post(`${lever.url}/_sandbox/webhooks`, '{"event":"candidateStageChange","url":"<webhookUrl>","signatureToken":"<token>"}')}`,
    );
    say(
      '  candidates: POST /_sandbox/postings, /_sandbox/opportunities, /_sandbox/opportunities/<id>/move {"stageName":…}',
    );
    say(`Ashby emulator: ${ashby.url}`);
    say(`  connection: "ashby": { "apiBaseUrl": "${ashby.apiBaseUrl}", "apiKey": "<key>" }`);
    say(`  the key:    ${post(`${ashby.url}/_sandbox/organizations`, '{"apiKey":"<key>"}')}`);
    say(
      `  partner:    ${post(`${ashby.url}/_sandbox/partners`, '{"name":"<name>","baseUrl":"<partnerBaseUrl>","secret":"<partnerSecret>","apiKey":"<key>"}')}`,
    );
    say('  start one:  POST /_sandbox/partners/<name>/start {"assessmentTypeId":…,"candidate":{…}}');
    say(`Certn emulator: ${certn.url}`);
    say(`  connection: "vendor": { "type": "certn", "apiBaseUrl": "${certn.apiBaseUrl}", "apiKey": "<key>",`);
    say(
      '              "webhookSecret": "<secret>", "packages": [{ "name": …, "packageId": <an id it answers>, "default": true }] }',
    );
    say(
      `  the key:    ${post(`${certn.url}/_sandbox/teams`, '{"apiKey":"<key>"}')}  (answers the package ids)`,
    );
    say(
      `  webhook:    ${post(`${certn.url}/_sandbox/teams/<key>/webhook`, '{"url":"<vendorCallbackUrl>","secret":"<secret>"}')}`,
    );
    say(`Justifacts emulator: ${justifacts.url}`);
    say(
      `  connection: "vendor": { "type": "justifacts", "apiBaseUrl": "${justifacts.apiBaseUrl}", "apiKey": "<key>",`,
    );
    say('              "callbackSecret": "<secret>" }');
    say(
      `  the key:    ${post(`${justifacts.url}/_sandbox/accounts`, '{"apiKey":"<key>","callbackUrl":"<vendorCallbackUrl>","callbackSecret":"<secret>"}')}`,
    );
    say(`VICTIG emulator: ${victig.url}`);
    say(
      `  connection: "vendor": { "type": "victig", "apiBaseUrl": "${victig.apiBaseUrl}", "accountId": "<account>",`,
    );
    say(
      '              "apiKey": "<key>", "callbackSecret": "<secret>", "defaultProduct": "Criminal Package 1" }',
    );
    say(
      `  the key:    ${post(`${victig.url}/_sandbox/accounts`, '{"accountId":"<account>","apiKey":"<key>"}')}`,
    );
    say(
      `  callback:   ${post(`${victig.url}/_sandbox/accounts/<account>/callback`, '{"url":"<vendorCallbackUrl>","secret":"<secret>"}')}`,
    );
    say(`Justworks emulator: ${justworks.url}`);
    say(
      `  connection: "vendor": { "type": "justworks", "apiBaseUrl": "${justworks.apiBaseUrl}", "apiKey": "<key>",`,
    );
    say('              "companyName": "<name>" }');
    say(`  the key:    ${post(`${justworks.url}/_sandbox/companies`, '{"apiKey":"<key>","name":"<name>"}')}`);
    say(`SMTP catcher: smtp://${smtp.host}:${smtp.port}`);
    say(`  the worker: SMTP_URL=smtp://${smtp.host}:${smtp.port}; each caught e-mail is printed here`);
    say();
    say('Sandbox ready; Ctrl-C stops it.');

    let printed = 0;
    const mail = setInterval(() => {
      const messages = smtp.messages();
      for (const m of messages.slice(printed))
        say(`e-mail "${m.subject}" from ${m.from} to ${m.to.join(', ')}`);
      printed = messages.length;
    }, 500);
    closers.push(() => {
      clearInterval(mail);
      return Promise.resolve();
    });
  } catch (err) {
    await stop();
    throw err;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
