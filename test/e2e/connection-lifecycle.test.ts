import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { WebhookInbox } from '../../src/db/inbox';
import { checkWorkflowId, type CheckState } from '../../src/workflows/definitions';
import { hireWorkflowId, onboardingStateQuery } from '../../src/workflows/onboarding-definitions';
import { asOwner } from '../support/database';
import { ADMIN_TOKEN, startStack, type Stack } from '../support/stack';
import { eventually, waitForCheckStatus, waitForJustifactsOrder } from '../support/waits';

const PACKAGE_TAG = 'JUSTIFACTS BGC PKG: EmpCod[ID : 13558]';
const PENDING = '(Justifacts)In-Progress : Candidate';
const COMPLETE = '(Justifacts)Complete';

interface Problem {
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

interface View {
  id: string;
  name: string;
  status: 'active' | 'paused' | 'deleted';
  version: number;
  webhookUrl: string;
  vendorCallbackUrl: string;
  atsSettings: { triggerStageId?: string; triggerStageName?: string };
  vendorSettings: Record<string, unknown>;
  deletedAt?: string;
  secretsErasedAt?: string;
}

interface ConnectionEventView {
  action: string;
  actor: string;
  changes: { path: string; from?: unknown; to?: unknown; secret?: boolean }[];
  detail?: unknown;
}

/** A Lever → Justifacts connection whose keys and secrets the test can rotate on both emulators. */
interface JustifactsConnection {
  id: string;
  webhookUrl: string;
  vendorCallbackUrl: string;
  leverApiKey: string;
  signatureToken: string;
  webhookId: string;
  jfApiKey: string;
  callbackSecret: string;
}

describe('connections over their whole life: change, rotate, pause, resume, delete (real HTTP)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });
  // Lever sends a stage change to every webhook of the account: each test's moves reach only its connections.
  afterEach(() => {
    for (const webhook of stack.lever.webhooks()) stack.lever.removeWebhook(webhook.id);
  });

  const stageId = (name: string) => stack.lever.stageIdByName(name);
  const adminFetch = (path: string, init: Parameters<Stack['adminFetch']>[1] = {}) =>
    stack.adminFetch(path, init);
  const patch = (id: string, body: unknown) =>
    adminFetch(`/admin/connections/${id}`, { method: 'PATCH', body });
  const eventsOf = async (id: string) =>
    ((await adminFetch(`/admin/connections/${id}/events`)).body as { events: ConnectionEventView[] }).events;
  const viewOf = async (id: string) => (await adminFetch(`/admin/connections/${id}`)).body as View;
  const handle = (connectionId: string, opportunityId: string) =>
    stack.temporal.workflow.getHandle(checkWorkflowId(connectionId, opportunityId));
  const ordersFor = (opportunityId: string) =>
    stack.justifacts.orders().filter((o) => o.reference === opportunityId);

  function expectProblem(res: { status: number; contentType: string | null; body: unknown }, status: number) {
    expect({ status: res.status, contentType: res.contentType }).toEqual({
      status,
      contentType: expect.stringContaining('application/problem+json') as unknown,
    });
    return res.body as Problem;
  }

  async function justifactsConnection(): Promise<JustifactsConnection> {
    const account = stack.leverAccount();
    const jfApiKey = stack.unique('justifacts-key');
    const callbackSecret = stack.unique('justifacts-callback');
    // No trigger stage given: Justifacts' default, "Background Check" (seed 000).
    const created = await stack.adminCreate({
      name: stack.unique('Customer'),
      lever: { ...account },
      vendor: {
        type: 'justifacts',
        apiBaseUrl: stack.justifacts.apiBaseUrl,
        apiKey: jfApiKey,
        callbackSecret,
      },
    });
    const webhook = stack.lever.addWebhook({
      event: 'candidateStageChange',
      url: created.webhookUrl,
      signatureToken: account.signatureToken,
    });
    stack.justifacts.addAccount({ apiKey: jfApiKey, callbackUrl: created.vendorCallbackUrl, callbackSecret });
    return {
      ...created,
      leverApiKey: account.apiKey,
      signatureToken: account.signatureToken,
      webhookId: webhook.id,
      jfApiKey,
      callbackSecret,
    };
  }

  function candidate(stage = 'Phone screen') {
    const posting = stack.lever.createPosting({ text: 'Site Reliability Engineer', tags: [PACKAGE_TAG] });
    return stack.lever.createOpportunity({
      name: 'Ada Lovelace',
      emails: [`ada-${randomBytes(6).toString('hex')}@example.com`],
      postingId: posting.id,
      stageId: stageId(stage),
    });
  }

  const moveTo = async (opportunityId: string, stage: string) =>
    (await stack.lever.moveToStage(opportunityId, stageId(stage)))[0]?.attempts.at(-1);

  async function isStarted(connectionId: string, opportunityId: string): Promise<boolean> {
    try {
      await handle(connectionId, opportunityId).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  const inboxOutcomes = async (connectionId: string) =>
    (
      await stack.pool.query<{ outcome: string; processed: boolean }>(
        `SELECT outcome, processed_at IS NOT NULL AS processed FROM webhook_inbox
         WHERE connection_id = $1 ORDER BY id`,
        [connectionId],
      )
    ).rows;

  it('defaults the Justifacts trigger stage to "Background Check" when the connection names none', async () => {
    const conn = await justifactsConnection();
    const view = await viewOf(conn.id);
    expect(view.atsSettings).toMatchObject({
      triggerStageId: stageId('Background Check'),
      triggerStageName: 'Background Check',
    });
    const opp = candidate();
    expect((await moveTo(opp.id, 'Background Check'))?.status).toBe(202);
    await waitForJustifactsOrder(stack, opp.id);
  });

  describe('PATCH /admin/connections/:id', () => {
    it('changes settings with the same validation as creation, records what changed, never a secret', async () => {
      const conn = await stack.createConnection();
      const before = await viewOf(conn.id);
      const packages = (before.vendorSettings.packages as { name: string; packageId: string }[]).map((p) => ({
        ...p,
        default: p.name === 'Executive Screening',
      }));
      const newKey = stack.unique('lever-key-rotated');
      stack.lever.addApiKey(newKey);
      const res = await patch(conn.id, {
        name: 'Acme Renamed',
        lever: { apiKey: newKey, triggerStageName: 'On-site interview' },
        vendor: { packages },
      });
      expect(res.status).toBe(200);
      const after = res.body as View;
      expect(after).toMatchObject({
        name: 'Acme Renamed',
        version: before.version + 1,
        atsSettings: { triggerStageId: stageId('On-site interview'), triggerStageName: 'On-site interview' },
      });
      expect(JSON.stringify(after)).not.toContain(newKey);

      // The next trigger uses the new stage and the new default package, with the new Lever key.
      stack.lever.revokeApiKey(conn.leverApiKey);
      const opp = stack.lever.createOpportunity({
        name: 'Grace Hopper',
        emails: [`grace-${randomBytes(6).toString('hex')}@example.com`],
        stageId: stageId('Phone screen'),
      });
      expect((await moveTo(opp.id, 'Background Check'))?.status).toBe(200); // the old stage: nothing starts
      expect(await isStarted(conn.id, opp.id)).toBe(false);
      expect((await moveTo(opp.id, 'On-site interview'))?.status).toBe(202);
      const state = await waitForCheckStatus(stack, conn.id, opp.id, 'Pending');
      expect(state.packageName).toBe('Executive Screening');
      // The tag is written after the status is set: wait for it (with the new Lever key: the old one is revoked).
      await eventually(
        () => (stack.lever.opportunity(opp.id).tags.includes('CERTN - Pending') ? true : undefined),
        30_000,
        'the CERTN - Pending tag',
      );

      const updated = (await eventsOf(conn.id)).filter((e) => e.action === 'updated');
      expect(updated).toHaveLength(1);
      const changes = updated[0]!.changes;
      expect(changes).toEqual(
        expect.arrayContaining([
          { path: 'name', from: before.name, to: 'Acme Renamed' },
          { path: 'lever.apiKey', secret: true },
          {
            path: 'lever.triggerStageId',
            from: stageId('Background Check'),
            to: stageId('On-site interview'),
          },
          expect.objectContaining({ path: 'vendor.packages' }),
        ]),
      );
      expect(changes.map((c) => c.path).sort()).toEqual(
        ['lever.apiKey', 'lever.triggerStageId', 'name', 'vendor.packages'].sort(),
      );
      const eventsText = JSON.stringify(await eventsOf(conn.id));
      for (const secret of [newKey, conn.leverApiKey, conn.signatureToken, conn.certnApiKey, ADMIN_TOKEN]) {
        expect(eventsText).not.toContain(secret);
      }
      expect(updated[0]!.actor).toMatch(/^admin:[0-9a-f]{12}$/);
      // The log is append-only: PostgreSQL itself refuses to change or remove an event, even to the tables' owner
      // (the service's own role may not even try: test/e2e/database-roles.test.ts).
      await asOwner(async (owner) => {
        await expect(
          owner.query(`UPDATE connection_events SET actor = 'someone' WHERE connection_id = $1`, [conn.id]),
        ).rejects.toThrow('append-only');
        await expect(
          owner.query(`DELETE FROM connection_events WHERE connection_id = $1`, [conn.id]),
        ).rejects.toThrow('append-only');
      });
    });

    type Case = [string, (conn: { id: string }) => unknown, number, string];
    const refused: Case[] = [
      ['an unknown top-level key', () => ({ colour: 'blue' }), 400, 'colour'],
      ['an unknown vendor setting', () => ({ vendor: { packagez: [] } }), 400, 'vendor.packagez'],
      ['an unknown Lever setting', () => ({ lever: { apiKee: 'x' } }), 400, 'lever.apiKee'],
      ['an empty package list', () => ({ vendor: { packages: [] } }), 400, 'vendor.packages'],
      [
        'removing a required secret',
        () => ({ vendor: { webhookSecret: null } }),
        400,
        'vendor.webhookSecret',
      ],
      ['another vendor', () => ({ vendor: { type: 'victig' } }), 400, 'vendor.type'],
      ['an Ashby part on a Lever connection', () => ({ ashby: { apiKey: 'x' } }), 400, 'ashby'],
      ['an empty name', () => ({ name: '' }), 400, 'name'],
      ['a body that is not an object', () => ['name'], 400, ''],
      [
        'a trigger stage Lever does not have',
        () => ({ lever: { triggerStageName: 'Reference Check' } }),
        422,
        'lever.triggerStageName',
      ],
      ['a Lever key Lever refuses', () => ({ lever: { apiKey: 'never-issued' } }), 422, 'lever.apiKey'],
    ];

    it.each(refused)(
      'refuses %s with a problem naming the field and changes nothing',
      async (_l, body, status, path) => {
        const conn = await stack.createConnection();
        const before = await viewOf(conn.id);
        const eventsBefore = await eventsOf(conn.id);
        const problem = expectProblem(await patch(conn.id, body(conn)), status);
        if (path !== '') expect(problem.errors?.map((e) => e.path)).toContain(path);
        expect(await viewOf(conn.id)).toEqual(before);
        expect(await eventsOf(conn.id)).toEqual(eventsBefore);
        // The stored secrets still work: a check runs with them.
        const opp = stack.lever.createOpportunity({
          name: 'Mary Jackson',
          emails: [`mary-${randomBytes(6).toString('hex')}@example.com`],
          stageId: stageId('Phone screen'),
        });
        expect((await moveTo(opp.id, 'Background Check'))?.status).toBe(202);
        await waitForCheckStatus(stack, conn.id, opp.id, 'Pending');
      },
    );

    it('honours If-Match: a stale version gets 412 and changes nothing; an unchanged body writes nothing', async () => {
      const conn = await stack.createConnection();
      const before = await viewOf(conn.id);
      const patchIfMatch = (version: number, name: string) =>
        fetch(`${stack.api.url}/admin/connections/${conn.id}`, {
          method: 'PATCH',
          headers: {
            Authorization: `Bearer ${ADMIN_TOKEN}`,
            'Content-Type': 'application/merge-patch+json',
            'If-Match': `"${version}"`,
          },
          body: JSON.stringify({ name }),
        });
      const stale = await patchIfMatch(before.version + 5, 'Not applied');
      expect(stale.status).toBe(412);
      expect(stale.headers.get('content-type')).toContain('application/problem+json');
      const fresh = await patchIfMatch(before.version, 'Applied');
      expect(fresh.status).toBe(200);
      expect(fresh.headers.get('etag')).toBe(`"${before.version + 1}"`);
      const same = await patch(conn.id, { name: 'Applied' });
      expect((same.body as View).version).toBe(before.version + 1);
      expect((await eventsOf(conn.id)).map((e) => e.action)).toEqual(['created', 'updated']);
    });

    it('rotates the Lever and Justifacts keys and secrets mid-check; the check completes with the new ones', async () => {
      const conn = await justifactsConnection();
      const opp = candidate();
      expect((await moveTo(opp.id, 'Background Check'))?.status).toBe(202);
      const order = await waitForJustifactsOrder(stack, opp.id);
      await waitForCheckStatus(stack, conn.id, opp.id, 'Pending');

      const leverKey = stack.unique('lever-key-new');
      const signatureToken = stack.unique('sig-new');
      const jfKey = stack.unique('justifacts-key-new');
      const callbackSecret = stack.unique('justifacts-callback-new');
      stack.lever.addApiKey(leverKey);
      stack.justifacts.addApiKey(conn.jfApiKey, jfKey);
      const res = await patch(conn.id, {
        lever: { apiKey: leverKey, signatureToken },
        vendor: { apiKey: jfKey, callbackSecret },
      });
      expect(res.status).toBe(200);
      // The old keys stop working, and Justifacts signs its callbacks with the new secret from now on.
      stack.lever.revokeApiKey(conn.leverApiKey);
      stack.justifacts.revokeApiKey(conn.jfApiKey);
      stack.justifacts.setCallback(jfKey, { url: conn.vendorCallbackUrl, secret: callbackSecret });

      await stack.justifacts.advance(order.orderId); // the applicant completes
      await waitForCheckStatus(stack, conn.id, opp.id, 'Analyzing');
      await stack.justifacts.advance(order.orderId); // Justifacts completes
      const state = (await handle(conn.id, opp.id).result()) as CheckState;
      expect(state.history.map((h) => h.status)).toEqual(['Pending', 'Analyzing', 'Complete']);
      expect(stack.lever.opportunity(opp.id).tags).toContain(COMPLETE);
      expect(stack.lever.opportunity(opp.id).tags).not.toContain(PENDING);
      // The callbacks signed with the new secret were accepted.
      const callbacks = await stack.pool.query<{ outcome: string }>(
        `SELECT outcome FROM vendor_callbacks WHERE connection_id = $1`,
        [conn.id],
      );
      expect(callbacks.rows.map((r) => r.outcome)).toContain('signalled');

      // Lever's webhooks are now checked against the new signature token.
      const oldSigned = candidate();
      expect((await moveTo(oldSigned.id, 'Background Check'))?.status).toBe(401);
      stack.lever.removeWebhook(conn.webhookId);
      stack.lever.addWebhook({ event: 'candidateStageChange', url: conn.webhookUrl, signatureToken });
      const newSigned = candidate();
      expect((await moveTo(newSigned.id, 'Background Check'))?.status).toBe(202);
      await waitForCheckStatus(stack, conn.id, newSigned.id, 'Pending');

      const rotation = (await eventsOf(conn.id)).find((e) => e.action === 'updated')!;
      expect(rotation.changes).toEqual(
        expect.arrayContaining([
          { path: 'lever.apiKey', secret: true },
          { path: 'lever.signatureToken', secret: true },
          { path: 'vendor.apiKey', secret: true },
          { path: 'vendor.callbackSecret', secret: true },
        ]),
      );
    });
  });

  describe('pause and resume', () => {
    it('while paused, records and acknowledges webhooks but starts nothing; resuming replays nothing; running checks carry on', async () => {
      const conn = await justifactsConnection();
      const running = candidate();
      expect((await moveTo(running.id, 'Background Check'))?.status).toBe(202);
      const order = await waitForJustifactsOrder(stack, running.id);
      await waitForCheckStatus(stack, conn.id, running.id, 'Pending');

      const paused = await adminFetch(`/admin/connections/${conn.id}/pause`, { method: 'POST' });
      expect(paused.status).toBe(200);
      expect((paused.body as View).status).toBe('paused');

      const opp = candidate();
      expect((await moveTo(opp.id, 'Background Check'))?.status).toBe(200);
      expect((await inboxOutcomes(conn.id)).at(-1)).toEqual({ outcome: 'paused', processed: true });
      // The running check still follows the vendor while the connection is paused.
      await stack.justifacts.advance(order.orderId);
      await stack.justifacts.advance(order.orderId);
      await waitForCheckStatus(stack, conn.id, running.id, 'Complete');

      const resumed = await adminFetch(`/admin/connections/${conn.id}/resume`, { method: 'POST' });
      expect((resumed.body as View).status).toBe('active');
      await stack.relay.runOnce();
      expect(await isStarted(conn.id, opp.id)).toBe(false);
      expect(ordersFor(opp.id)).toHaveLength(0);
      expect((await inboxOutcomes(conn.id)).map((r) => r.outcome)).toEqual(['started', 'paused']);

      // After resuming, a new move starts a check.
      expect((await moveTo(opp.id, 'On-site interview'))?.status).toBe(200);
      expect((await moveTo(opp.id, 'Background Check'))?.status).toBe(202);
      await waitForJustifactsOrder(stack, opp.id);
      expect((await eventsOf(conn.id)).map((e) => e.action)).toEqual(['created', 'paused', 'resumed']);
    });

    it('the inbox relay starts nothing for a delivery of a paused connection', async () => {
      const conn = await justifactsConnection();
      await adminFetch(`/admin/connections/${conn.id}/pause`, { method: 'POST' });
      const opp = candidate();
      // Recorded while Temporal was unreachable (as the webhook handler leaves it), taken by the relay at once.
      await new WebhookInbox(stack.pool).record(
        {
          connectionId: conn.id,
          source: 'lever',
          token: randomBytes(24).toString('hex'),
          event: 'candidateStageChange',
          triggeredAt: new Date(),
          data: { opportunityId: opp.id, toStageId: stageId('Background Check') },
        },
        0,
      );
      await stack.relay.runOnce();
      expect(await inboxOutcomes(conn.id)).toEqual([{ outcome: 'paused', processed: true }]);
      expect(await isStarted(conn.id, opp.id)).toBe(false);
    });

    it('pausing twice records one event; an Ashby connection refuses new assessments while paused', async () => {
      const ashbyKey = stack.unique('ashby-key');
      stack.ashby.addOrganization({ apiKey: ashbyKey });
      const jfKey = stack.unique('justifacts-key');
      const created = await stack.adminCreate({
        name: stack.unique('Customer'),
        ashby: { apiBaseUrl: stack.ashby.apiBaseUrl, apiKey: ashbyKey },
        vendor: {
          type: 'justifacts',
          apiBaseUrl: stack.justifacts.apiBaseUrl,
          apiKey: jfKey,
          callbackSecret: stack.unique('cb'),
          packages: [{ code: 'EmpCod', id: '13558', name: 'Employment Screening' }],
        },
      });
      const partner = stack.unique('justifacts');
      stack.ashby.registerPartner({
        name: partner,
        baseUrl: created.partnerBaseUrl,
        secret: created.partnerSecret,
        apiKey: ashbyKey,
      });
      stack.justifacts.addAccount({ apiKey: jfKey });
      await adminFetch(`/admin/connections/${created.id}/pause`, { method: 'POST' });
      await adminFetch(`/admin/connections/${created.id}/pause`, { method: 'POST' });
      const start = () =>
        stack.ashby.startAssessment(partner, {
          assessmentTypeId: '13558',
          candidate: { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com' },
          job: { name: 'Compiler Engineer' },
        });
      const refusedStart = await start();
      expect(refusedStart.status).toBe(422);
      expect((refusedStart.body as { message: string }).message).toContain('paused');
      await adminFetch(`/admin/connections/${created.id}/resume`, { method: 'POST' });
      const startedAssessment = await start();
      expect(startedAssessment.status).toBe(200);
      expect((await eventsOf(created.id)).map((e) => e.action)).toEqual(['created', 'paused', 'resumed']);
      await eventually(
        () => stack.ashby.assessment(startedAssessment.assessmentId!).status ?? undefined,
        30_000,
        'the first Ashby status',
      );

      // Deleted with its running checks cancelled: Ashby is told why, and its partner URLs answer 404.
      await adminFetch(`/admin/connections/${created.id}?cancelRunning=true`, { method: 'DELETE' });
      const cancelled = await eventually(
        () => {
          const assessment = stack.ashby.assessment(startedAssessment.assessmentId!);
          return assessment.cancelled ? assessment : undefined;
        },
        30_000,
        'the assessment to be cancelled in Ashby',
      );
      expect(cancelled.cancelledReason).toContain('integration was removed');
      const gone = await fetch(`${created.partnerBaseUrl}/assessment.list`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${created.partnerSecret}`, 'Content-Type': 'application/json' },
        body: '{}',
      });
      expect(gone.status).toBe(404);
      expect(gone.headers.get('content-type')).toContain('application/problem+json');
    });
  });

  describe('DELETE /admin/connections/:id', () => {
    const secretsState = async (id: string) =>
      (
        await stack.pool.query<{ sealed: boolean; erased: boolean }>(
          `SELECT secrets_sealed IS NOT NULL AS sealed, secrets_erased_at IS NOT NULL AS erased
           FROM connections WHERE id = $1`,
          [id],
        )
      ).rows[0];

    it('stops the webhook URL at once, lets a running check finish, then erases the secrets and keeps the log', async () => {
      const conn = await justifactsConnection();
      const opp = candidate();
      expect((await moveTo(opp.id, 'Background Check'))?.status).toBe(202);
      const order = await waitForJustifactsOrder(stack, opp.id);
      await waitForCheckStatus(stack, conn.id, opp.id, 'Pending');

      const deleted = await adminFetch(`/admin/connections/${conn.id}`, { method: 'DELETE' });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ status: 'deleted', runningWorkflows: 1, cancelledWorkflows: 0 });
      expect((deleted.body as View).secretsErasedAt).toBeUndefined();

      // Its webhook URL answers like an unknown one (as a wrong signature): Lever's moves start nothing.
      const hook = await fetch(conn.webhookUrl, { method: 'POST', body: '{}' });
      expect(hook.status).toBe(401);
      expect(hook.headers.get('content-type')).toContain('application/problem+json');
      expect((await moveTo(candidate().id, 'Background Check'))?.status).toBe(401);
      expect(await secretsState(conn.id)).toEqual({ sealed: true, erased: false });

      // The running check carries on to its end, callbacks and all.
      await stack.justifacts.advance(order.orderId);
      await waitForCheckStatus(stack, conn.id, opp.id, 'Analyzing');
      await stack.justifacts.advance(order.orderId);
      const final = (await handle(conn.id, opp.id).result()) as CheckState;
      expect(final.status).toBe('Complete');
      expect(stack.lever.opportunity(opp.id).tags).toContain(COMPLETE);

      await eventually(
        async () => ((await secretsState(conn.id))?.erased ? true : undefined),
        30_000,
        'the secrets to be erased',
      );
      expect(await secretsState(conn.id)).toEqual({ sealed: false, erased: true });
      const view = await viewOf(conn.id);
      expect(view).toMatchObject({ status: 'deleted', secretsErasedAt: expect.any(String) as unknown });
      // Its vendor callback URL is gone too now, and the status log stays for audit.
      expect((await fetch(conn.vendorCallbackUrl, { method: 'POST', body: '{}' })).status).toBe(401);
      const log = await stack.pool.query<{ status: string }>(
        'SELECT status FROM check_status_log WHERE connection_id = $1 ORDER BY id',
        [conn.id],
      );
      expect(log.rows.map((r) => r.status)).toEqual(['Pending', 'Analyzing', 'Complete']);
      const events = await eventsOf(conn.id);
      expect(events.map((e) => [e.action, e.actor.split(':')[0]])).toEqual([
        ['created', 'admin'],
        ['deleted', 'admin'],
        ['secrets-erased', 'service'],
      ]);

      // Deleted connections are listed only on request, and can no longer be changed.
      const listed = async (q: string) =>
        ((await adminFetch(`/admin/connections${q}`)).body as { connections: View[] }).connections.map(
          (c) => c.id,
        );
      expect(await listed('')).not.toContain(conn.id);
      expect(await listed('?includeDeleted=true')).toContain(conn.id);
      expectProblem(await patch(conn.id, { name: 'x' }), 409);
      expectProblem(await adminFetch(`/admin/connections/${conn.id}/pause`, { method: 'POST' }), 409);
      expectProblem(await adminFetch(`/admin/connections/${conn.id}`, { method: 'DELETE' }), 409);
      expect((await eventsOf(conn.id)).length).toBe(3);
    });

    it('with cancelRunning=true cancels the vendor order, tells the candidate in a secret note, then erases the secrets', async () => {
      const conn = await justifactsConnection();
      const opp = candidate();
      expect((await moveTo(opp.id, 'Background Check'))?.status).toBe(202);
      const order = await waitForJustifactsOrder(stack, opp.id);
      await waitForCheckStatus(stack, conn.id, opp.id, 'Pending');

      const deleted = await adminFetch(`/admin/connections/${conn.id}?cancelRunning=true`, {
        method: 'DELETE',
      });
      expect(deleted.body).toMatchObject({ status: 'deleted', runningWorkflows: 1, cancelledWorkflows: 1 });
      const final = (await handle(conn.id, opp.id).result()) as CheckState;
      expect(final.status).toBe('Error');
      expect(final.history.at(-1)).toMatchObject({ status: 'Error', reason: 'integration-removed' });
      expect(stack.justifacts.order(order.orderId).status).toBe('CANCELLED');
      const note = stack.lever.notes(opp.id).find((n) => n.value.includes('integration was removed'));
      expect(note).toMatchObject({ secret: true });
      expect(note?.value).toContain('the order was cancelled with Justifacts');
      await eventually(
        async () => ((await secretsState(conn.id))?.erased ? true : undefined),
        30_000,
        'the secrets to be erased',
      );
      expect((await eventsOf(conn.id)).map((e) => e.action)).toEqual([
        'created',
        'deleted',
        'workflows-cancelled',
        'secrets-erased',
      ]);
    });

    it('with cancelRunning=true stops a Justworks hire that waits for a fix, with a note saying why', async () => {
      const account = stack.leverAccount();
      const justworksKey = stack.unique('jw-key');
      stack.justworks.addCompany({ apiKey: justworksKey, name: 'Acme Corp' });
      const conn = await stack.adminCreate({
        name: stack.unique('Acme'),
        lever: { ...account },
        vendor: { type: 'justworks', apiBaseUrl: stack.justworks.apiBaseUrl, apiKey: justworksKey },
      });
      stack.lever.addWebhook({
        event: 'candidateHired',
        url: conn.webhookUrl,
        signatureToken: account.signatureToken,
      });
      // No email: Justworks cannot take the hire, so the onboarding waits for the recruiter to add one.
      const opp = stack.lever.createOpportunity({ name: 'Ada Byron', emails: [], stageId: stageId('Offer') });
      const hired = await stack.lever.hire(opp.id);
      expect(hired[0]?.attempts.at(-1)?.status).toBe(202);
      const hire = stack.temporal.workflow.getHandle(hireWorkflowId(conn.id, opp.id));
      await eventually(
        async () => ((await hire.query(onboardingStateQuery)).status === 'refused' ? true : undefined),
        30_000,
        'the hire to be refused',
      );

      const deleted = await adminFetch(`/admin/connections/${conn.id}?cancelRunning=true`, {
        method: 'DELETE',
      });
      expect(deleted.body).toMatchObject({ status: 'deleted', runningWorkflows: 1, cancelledWorkflows: 1 });
      expect(await hire.result()).toEqual({ status: 'refused', reason: 'the integration was removed' });
      expect(
        stack.lever.notes(opp.id).some((n) => n.secret && n.value.includes('integration was removed')),
      ).toBe(true);
      expect(stack.justworks.pendingHires(justworksKey)).toHaveLength(0);
      await eventually(
        async () => ((await secretsState(conn.id))?.erased ? true : undefined),
        30_000,
        'the secrets to be erased',
      );
    });

    it('erases the secrets at once when no check runs; bad input gets 4xx and deletes nothing', async () => {
      const conn = await justifactsConnection();
      expectProblem(
        await adminFetch(`/admin/connections/${conn.id}?cancelRunning=yes`, { method: 'DELETE' }),
        400,
      );
      expectProblem(await adminFetch('/admin/connections/conn_unknown', { method: 'DELETE' }), 404);
      expect((await viewOf(conn.id)).status).toBe('active');
      const deleted = await adminFetch(`/admin/connections/${conn.id}`, { method: 'DELETE' });
      expect(deleted.body).toMatchObject({
        status: 'deleted',
        runningWorkflows: 0,
        secretsErasedAt: expect.any(String) as unknown,
      });
      expect(await secretsState(conn.id)).toEqual({ sealed: false, erased: true });
    });
  });
});
