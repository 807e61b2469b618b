import { randomBytes } from 'node:crypto';
import { checkWorkflowId, type CheckState } from '../../src/workflows/definitions';
import { ADMIN_TOKEN, startStack, type Stack } from '../support/stack';
import { eventually, startedHandle, waitForCheckStatus } from '../support/waits';

const hex = () => randomBytes(4).toString('hex');

/**
 * Runs the service through its main paths with every log at debug level captured (the API's and the worker's
 * pino logs, and the Temporal SDK runtime's: worker, workflow and activity logs), then looks for every secret and
 * every piece of candidate data it handled. Also checks that PostgreSQL holds connection secrets only encrypted.
 */
describe('no secrets or candidate data in the logs, no plain-text secrets in PostgreSQL', () => {
  const lines: string[] = [];
  let stack: Stack;
  let stopped = false;

  beforeAll(async () => {
    stack = await startStack({
      logDestination: { write: (line) => void lines.push(line) },
      logLevel: 'debug',
    });
  });
  afterAll(async () => {
    if (!stopped) await stack?.stop();
  });

  /** Everything secret the service was given, and everything it learnt about candidates. */
  const secrets: string[] = [];
  const candidateData: string[] = [];
  const connectionIds: string[] = [];

  /** A candidate with a name and email found nowhere else, in the given stage. */
  function candidate(stageName: string, email?: string) {
    const first = `Quilla${hex()}`;
    const last = `Zorbathy${hex()}`;
    const address = email ?? `cand.${hex()}@example.org`;
    candidateData.push(address, first, last, `${first} ${last}`);
    const posting = stack.lever.createPosting({
      text: 'Backend Engineer',
      categories: { department: 'Engineering', location: 'New York', team: 'Platform' },
      tags: [],
    });
    return stack.lever.createOpportunity({
      name: `${first} ${last}`,
      emails: [address],
      tags: ['Referral'],
      postingId: posting.id,
      stageId: stack.lever.stageIdByName(stageName),
    });
  }

  const result = async (connectionId: string, opportunityId: string) =>
    (await (
      await startedHandle(stack.temporal.workflow.getHandle(checkWorkflowId(connectionId, opportunityId)))
    ).result()) as CheckState;
  const caseFor = (email: string) =>
    eventually(() => stack.certn.cases().find((c) => c.email_address === email), 30_000, `a Certn case`);

  /** A Lever → Certn connection through the admin API, its secrets noted. */
  async function certnConnection() {
    const conn = await stack.createConnection();
    secrets.push(conn.leverApiKey, conn.signatureToken, conn.certnApiKey, conn.webhookSecret);
    connectionIds.push(conn.id);
    return conn;
  }

  it('runs a completed check, a refused order, revoked keys and refused admin calls; PostgreSQL holds secrets only sealed', async () => {
    // Lever → Certn, followed to Complete.
    const certn = await certnConnection();
    const done = candidate('Phone screen');
    await stack.lever.moveToStage(done.id, stack.lever.stageIdByName('Background Check'));
    const doneCase = await caseFor(done.emails[0]!);
    for (let step = 0; step < 5; step += 1) await stack.certn.advance(doneCase.id);
    expect((await result(certn.id, done.id)).status).toBe('Complete');

    // Certn revokes the key during a check: Error, with a note to the recruiter and errors in the logs.
    const vendorRevoked = candidate('Phone screen');
    await stack.lever.moveToStage(vendorRevoked.id, stack.lever.stageIdByName('Background Check'));
    const revokedCase = await caseFor(vendorRevoked.emails[0]!);
    await waitForCheckStatus(stack, certn.id, vendorRevoked.id, 'Pending');
    stack.certn.revokeApiKey(certn.certnApiKey);
    await stack.certn.setStatus(revokedCase.id, 'APPLICANT_STARTED');
    expect((await result(certn.id, vendorRevoked.id)).status).toBe('Error');

    // Lever revokes the key of another connection during a check: Error (access denied). Its webhook is the
    // only one on the Background Check stage, so the check starts once.
    const second = await certnConnection();
    stack.lever.removeWebhook(certn.webhookId);
    const atsRevoked = candidate('Phone screen');
    await stack.lever.moveToStage(atsRevoked.id, stack.lever.stageIdByName('Background Check'));
    const atsRevokedCase = await caseFor(atsRevoked.emails[0]!);
    await waitForCheckStatus(stack, second.id, atsRevoked.id, 'Pending');
    stack.lever.revokeApiKey(second.leverApiKey);
    await stack.certn.setStatus(atsRevokedCase.id, 'APPLICANT_SUBMITTED');
    const denied = await result(second.id, atsRevoked.id);
    expect(denied.history.at(-1)).toMatchObject({ status: 'Error', reason: 'access-denied' });

    // Lever → VICTIG: VICTIG refuses the order with a description that quotes the candidate's email.
    const lever = stack.leverAccount();
    const victigKey = stack.unique('victig-key');
    const callbackSecret = stack.unique('victig-cb');
    const accountId = stack.unique('acct');
    stack.victig.addAccount({ accountId, apiKey: victigKey });
    const stage = stack.lever.addStage(`VICTIG Check ${hex()}`);
    const victig = await stack.adminCreate({
      name: stack.unique('Customer'),
      lever: { ...lever, triggerStageId: stage.id },
      vendor: {
        type: 'victig',
        apiBaseUrl: stack.victig.apiBaseUrl,
        accountId,
        apiKey: victigKey,
        callbackSecret,
        defaultProduct: 'Criminal Package 1',
      },
    });
    connectionIds.push(victig.id);
    secrets.push(lever.apiKey, lever.signatureToken, victigKey, callbackSecret);
    stack.lever.addWebhook({
      event: 'candidateStageChange',
      url: victig.webhookUrl,
      signatureToken: lever.signatureToken,
    });
    stack.victig.setCallback(accountId, { url: victig.vendorCallbackUrl, secret: callbackSecret });
    const refused = candidate('Phone screen', `not-an-email-${hex()}`);
    await stack.lever.moveToStage(refused.id, stage.id);
    expect((await result(victig.id, refused.id)).status).toBe('Rejected');
    const note = stack.lever.notes(refused.id).find((n) => n.value.includes('not ordered'));
    expect(note?.value).toContain(refused.emails[0]); // the recruiter sees it; the logs must not

    // The admin API refuses a connection whose Lever key Lever refuses, and one that is not valid.
    const refusedKey = `refused-lever-key-${hex()}`;
    const unusedSecret = `unused-webhook-secret-${hex()}`;
    secrets.push(refusedKey, unusedSecret, ADMIN_TOKEN);
    const attempt = await stack.adminFetch('/admin/connections', {
      method: 'POST',
      body: {
        name: 'Refused',
        lever: { apiBaseUrl: stack.lever.apiBaseUrl, apiKey: refusedKey, signatureToken: unusedSecret },
        vendor: {
          type: 'certn',
          apiBaseUrl: stack.certn.apiBaseUrl,
          apiKey: refusedKey,
          webhookSecret: unusedSecret,
        },
      },
    });
    expect(attempt.status).toBeGreaterThanOrEqual(400);
    const invalid = await stack.adminFetch('/admin/connections', {
      method: 'POST',
      body: { name: 'Invalid', lever: { apiKey: refusedKey, signatureToken: 1 }, vendor: { type: 'certn' } },
    });
    expect(invalid.status).toBe(400);
    expect((await stack.adminFetch('/admin/connections')).status).toBe(200);

    // PostgreSQL: connection rows hold only the encrypted envelope, sealed with the current key.
    const rows = await stack.pool.query<{ row: string; plain: boolean; kid: string | null }>(
      `SELECT row_to_json(c)::text AS row, secrets IS NOT NULL AS plain, secrets_sealed->>'kid' AS kid
         FROM connections c WHERE id = ANY($1)`,
      [connectionIds],
    );
    expect(rows.rows.map((r) => [r.plain, r.kid])).toEqual(connectionIds.map(() => [false, 'current']));
    for (const secret of secrets) {
      expect([secret, rows.rows.filter((r) => r.row.includes(secret)).length]).toEqual([secret, 0]);
    }

    // Every log line written until the worker and the API are stopped.
    await stack.stop();
    stopped = true;
    const log = lines.join('');
    expect(log).toContain('"msg":"check ordered"'); // the service's pino logs were captured...
    expect(log).toMatch(/the ATS denied access/); // ...the workflow logs of the SDK runtime...
    expect(log).toMatch(/temporalio_sdk_core/); // ...and SDK Core's, forwarded
    expect(secrets.length).toBeGreaterThanOrEqual(15);
    expect(candidateData.length).toBeGreaterThanOrEqual(16);
  });

  /** The log lines that contain any of the values (or their URL encoding), shortened around the value. */
  function leaksOf(values: string[]) {
    expect(stopped).toBe(true);
    const needles = values.flatMap((value) =>
      [value, encodeURIComponent(value)].filter((v, i, all) => all.indexOf(v) === i),
    );
    return needles.flatMap((needle) =>
      lines
        .filter((line) => line.includes(needle))
        .map((line) => {
          const at = line.indexOf(needle);
          return { needle, excerpt: line.slice(Math.max(0, at - 300), at + needle.length + 100) };
        }),
    );
  }

  it('logs no connection secret (ATS and vendor keys, signature tokens, callback secrets) nor the admin token', () => {
    expect(leaksOf(connectionIds).length).toBeGreaterThan(0); // the search finds what the logs do carry
    expect(leaksOf(secrets)).toEqual([]);
  });

  it('logs no candidate email or name', () => {
    expect(leaksOf(candidateData)).toEqual([]);
  });

  it('logs no key material of the encryption keys (connection secrets at rest, Temporal payloads)', () => {
    // As base64, hex, and the way util.inspect shows a Buffer (`<Buffer f8 f6 …>`).
    const keyMaterial = [process.env.SECRETS_KEYS, process.env.PAYLOAD_KEYS]
      .flatMap((keys) => (keys ?? '').split(','))
      .filter((entry) => entry.includes(':'))
      .flatMap((entry) => {
        const key = Buffer.from(entry.slice(entry.indexOf(':') + 1), 'base64');
        const hexKey = key.toString('hex');
        return [key.toString('base64'), hexKey, hexKey.slice(0, 32).replace(/(..)(?!$)/g, '$1 ')];
      });
    expect(keyMaterial.length).toBeGreaterThanOrEqual(6);
    expect(leaksOf(keyMaterial)).toEqual([]);
  });
});
