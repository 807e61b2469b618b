import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { certnSignature } from '../../src/integrations/signature';
import type { VendorProgress } from '../../src/vendors/types';
import { checkStateQuery, checkWorkflowId, type CheckState } from '../../src/workflows/definitions';
import { asOwner } from '../support/database';
import { decodeHistory, startStack, type Stack } from '../support/stack';
import { eventually, waitForCheckStatus, waitForTag } from '../support/waits';

type Conn = Awaited<ReturnType<Stack['createConnection']>>;

const CERTN_TAG = /^CERTN - /;
/** `expect.any(String)` without the `any` type. */
const anyString: unknown = expect.any(String);

/** One activity of a workflow run as its Temporal history records it. */
interface ActivityRun {
  name: string;
  /** The attempt that completed or failed the activity (1 = never retried); null while it runs. */
  attempt: number | null;
  result?: unknown;
  failure?: string;
}

/** The activities of a run and whether the run is parked, waiting for a callback or the poll timer. */
async function historyView(handle: WorkflowHandle): Promise<{ activities: ActivityRun[]; waiting: boolean }> {
  const { events } = await decodeHistory(await handle.fetchHistory());
  const scheduled = new Map<string, ActivityRun>();
  const activities: ActivityRun[] = [];
  for (const event of events ?? []) {
    const scheduledAttrs = event.activityTaskScheduledEventAttributes;
    const started = event.activityTaskStartedEventAttributes;
    const completed = event.activityTaskCompletedEventAttributes;
    const failed = event.activityTaskFailedEventAttributes;
    if (scheduledAttrs) {
      const run: ActivityRun = { name: scheduledAttrs.activityType?.name ?? '', attempt: null };
      scheduled.set(String(event.eventId), run);
      activities.push(run);
    } else if (started) {
      const run = scheduled.get(String(started.scheduledEventId));
      if (run) run.attempt = started.attempt ?? null;
    } else if (completed) {
      const run = scheduled.get(String(completed.scheduledEventId));
      const payload = completed.result?.payloads?.[0];
      if (run) run.result = payload ? defaultPayloadConverter.fromPayload(payload) : null;
    } else if (failed) {
      const run = scheduled.get(String(failed.scheduledEventId));
      if (run) run.failure = failed.failure?.message ?? 'failed';
    }
  }
  // Blocked waiting for a signal or a timer: the last workflow task scheduled nothing but (maybe) a poll timer.
  const last = events?.at(-1);
  const waiting =
    last?.timerStartedEventAttributes != null || last?.workflowTaskCompletedEventAttributes != null;
  return { activities, waiting };
}

/** What each completed `fetchProgress` activity got from the vendor, in order. */
const fetched = (activities: ActivityRun[]) =>
  activities
    .filter((a) => a.name === 'fetchProgress' && a.result !== undefined)
    .map((a) => a.result as VendorProgress);

/** Waits until the run has fetched the vendor's case at least `fetches` times and is parked again. */
function waitUntilParked(handle: WorkflowHandle, fetches: number) {
  return eventually(
    async () => {
      const view = await historyView(handle);
      return view.waiting && fetched(view.activities).length >= fetches
        ? fetched(view.activities)
        : undefined;
    },
    30_000,
    `the check to fetch the case ${fetches} time(s) and wait again`,
  );
}

function certnEvent(caseId: string, id: string = randomUUID(), eventType = 'CASE_STATUS_CHANGED'): string {
  return JSON.stringify({ id, event_type: eventType, object_id: caseId, object_type: 'CASE' });
}

async function postCallback(url: string, body: string, signature?: string) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (signature !== undefined) headers['X-Signature'] = signature;
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: parsed as Record<string, unknown>,
  };
}

function helpers(getStack: () => Stack) {
  const stack = () => getStack();
  const stageId = (name: string) => stack().lever.stageIdByName(name);
  const certnTags = (opportunityId: string) =>
    stack()
      .lever.opportunity(opportunityId)
      .tags.filter((t) => CERTN_TAG.test(t));
  const handleFor = (conn: Conn, opportunityId: string) =>
    stack().temporal.workflow.getHandle(checkWorkflowId(conn.id, opportunityId));
  const query = (conn: Conn, opportunityId: string) => handleFor(conn, opportunityId).query(checkStateQuery);

  function candidate() {
    const posting = stack().lever.createPosting({ text: 'Payroll Specialist', tags: ['Finance'] });
    return stack().lever.createOpportunity({
      name: 'Grace Brewster Hopper',
      emails: [`grace-${randomUUID()}@example.com`],
      tags: ['Referral'],
      postingId: posting.id,
      stageId: stageId('Phone screen'),
    });
  }

  /** Waits for the run to close (a run that keeps retrying fails this wait) and returns its result. */
  async function closedResult(conn: Conn, opportunityId: string): Promise<CheckState> {
    const handle = handleFor(conn, opportunityId);
    await eventually(
      async () => ((await handle.describe()).status.name === 'RUNNING' ? undefined : true),
      20_000,
      'the check to finish',
    );
    return (await handle.result()) as CheckState;
  }

  /** Moves a new candidate into the trigger stage; resolves with the Certn case once `CERTN - Pending` is on. */
  async function startCheck(conn: Conn) {
    const opp = candidate();
    const [delivery] = await stack().lever.moveToStage(opp.id, stageId('Background Check'));
    expect(delivery?.attempts.at(-1)?.status).toBe(202);
    await waitForTag(() => certnTags(opp.id), 'CERTN - Pending');
    const order = stack()
      .certn.orders()
      .find(
        (o) =>
          o.apiKey === conn.certnApiKey &&
          (o.body as { external_reference?: string }).external_reference === opp.id,
      );
    if (order === undefined) throw new Error('no Certn case was ordered');
    return { opp, caseId: order.caseId };
  }

  const callbackRows = async (conn: Conn) =>
    (
      await stack().pool.query<{ event_id: string; object_id: string; outcome: string }>(
        'SELECT event_id, object_id, outcome FROM vendor_callbacks WHERE connection_id = $1 ORDER BY id',
        [conn.id],
      )
    ).rows;

  const statusLog = async (conn: Conn, opportunityId: string) =>
    (
      await stack().pool.query<{ status: string }>(
        'SELECT status FROM check_status_log WHERE connection_id = $1 AND subject_id = $2 ORDER BY seq',
        [conn.id, opportunityId],
      )
    ).rows.map((r) => r.status);

  return {
    stageId,
    certnTags,
    handleFor,
    query,
    closedResult,
    startCheck,
    callbackRows,
    statusLog,
  };
}

describe('background check workflow (real Temporal dev server, emulators over HTTP, PostgreSQL)', () => {
  let stack: Stack;
  let conn: Conn;
  const h = helpers(() => stack);

  beforeAll(async () => {
    stack = await startStack();
    conn = await stack.createConnection();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers the status query with status, package, external id and history while the check runs', async () => {
    const { opp, caseId } = await h.startCheck(conn);
    const pending = await waitForCheckStatus(stack, conn.id, opp.id, 'Pending');
    expect(pending).toMatchObject({ status: 'Pending', packageName: 'Basic', externalId: caseId });
    expect(pending.history).toEqual([expect.objectContaining({ status: 'Pending', at: anyString })]);

    await stack.certn.advance(caseId); // APPLICANT_STARTED
    const running = await waitForCheckStatus(stack, conn.id, opp.id, 'In-Progress');
    expect(running).toMatchObject({ status: 'In-Progress', packageName: 'Basic', externalId: caseId });
    expect(running.history.map((e) => e.status)).toEqual(['Pending', 'In-Progress']);
    expect(running.history[1]?.detail).toBe('APPLICANT_STARTED');
    expect((await h.handleFor(conn, opp.id).describe()).status.name).toBe('RUNNING');
  });

  it('ignores duplicate and out-of-order callbacks: no status moves backwards, the tag stays, terminal stays terminal', async () => {
    const { opp, caseId } = await h.startCheck(conn);
    const handle = h.handleFor(conn, opp.id);
    await stack.certn.advance(caseId); // APPLICANT_STARTED → In-Progress
    await waitForCheckStatus(stack, conn.id, opp.id, 'In-Progress');
    await stack.certn.advance(caseId); // APPLICANT_SUBMITTED → Analyzing
    await waitForTag(() => h.certnTags(opp.id), 'CERTN - Analyzing');
    const before = await waitForCheckStatus(stack, conn.id, opp.id, 'Analyzing');
    // Every callback so far has been answered (advance() awaits it), so once parked the check has seen them all.
    const fetchesAtAnalyzing = (await waitUntilParked(handle, 1)).length;

    // Certn redelivers the first event of the case (the applicant started the form): same id, same signed body.
    const first = stack.certn.deliveries().find((d) => d.caseId === caseId);
    expect(first).toBeDefined();
    const redelivered = await stack.certn.redeliver(first!.id);
    expect(redelivered.attempts.at(-1)?.statusCode).toBe(200);
    expect(await h.query(conn, opp.id)).toEqual(before);

    // A validly signed callback for the same case, with a new event id: the check asks Certn and stays.
    const body = certnEvent(caseId);
    const signed = await postCallback(conn.vendorCallbackUrl, body, certnSignature(conn.webhookSecret, body));
    expect(signed.status).toBe(200);
    await waitUntilParked(handle, fetchesAtAnalyzing + 1);
    expect(await h.query(conn, opp.id)).toEqual(before);
    expect(h.certnTags(opp.id)).toEqual(['CERTN - Analyzing']);

    // Certn reports an earlier status (out of order): the check sees it and ignores it.
    await stack.certn.setStatus(caseId, 'APPLICANT_STARTED');
    const seen = await waitUntilParked(handle, fetchesAtAnalyzing + 2);
    expect(seen.at(-1)).toMatchObject({ status: 'In-Progress', vendorStatus: 'APPLICANT_STARTED' });
    expect(await h.query(conn, opp.id)).toEqual(before);
    expect(h.certnTags(opp.id)).toEqual(['CERTN - Analyzing']);
    expect(await h.statusLog(conn, opp.id)).toEqual(['Pending', 'In-Progress', 'Analyzing']);

    // Complete, then Certn cancels the finished case and calls back: the result stays Complete.
    await stack.certn.setStatus(caseId, 'COMPLETE');
    const done = await h.closedResult(conn, opp.id);
    expect(done.status).toBe('Complete');
    expect(done.history.map((e) => e.status)).toEqual(['Pending', 'In-Progress', 'Analyzing', 'Complete']);
    await waitForTag(() => h.certnTags(opp.id), 'CERTN - Complete');

    const deliveriesAtComplete = stack.certn.deliveries().length;
    await stack.certn.setStatus(caseId, 'CANCELLED');
    const lateDeliveries = stack.certn.deliveries().slice(deliveriesAtComplete);
    expect(lateDeliveries.length).toBeGreaterThan(0);
    expect(lateDeliveries.map((d) => d.attempts.at(-1)?.statusCode)).toEqual(lateDeliveries.map(() => 200));
    const late = certnEvent(caseId);
    const lateAnswer = await postCallback(
      conn.vendorCallbackUrl,
      late,
      certnSignature(conn.webhookSecret, late),
    );
    expect(lateAnswer.status).toBe(200);

    const after = (await h.handleFor(conn, opp.id).result()) as CheckState;
    expect(after).toEqual(done);
    expect((await h.query(conn, opp.id)).status).toBe('Complete');
    expect(h.certnTags(opp.id)).toEqual(['CERTN - Complete']);
    expect(await h.statusLog(conn, opp.id)).toEqual(['Pending', 'In-Progress', 'Analyzing', 'Complete']);
    expect(stack.lever.notes(opp.id).some((n) => n.value.includes('CANCELLED'))).toBe(false);

    // The redelivered event added no row; the closed check got the late events as check-closed.
    const rows = await h.callbackRows(conn);
    expect(rows.filter((r) => r.event_id === first!.event.id)).toHaveLength(1);
    const lateIds = new Set([
      ...lateDeliveries.map((d) => d.event.id),
      (JSON.parse(late) as { id: string }).id,
    ]);
    expect(rows.filter((r) => lateIds.has(r.event_id)).map((r) => r.outcome)).toEqual(
      [...lateIds].map(() => 'check-closed'),
    );
  });

  it('records a duplicate callback (same Certn event id) once and answers it 200', async () => {
    const { opp, caseId } = await h.startCheck(conn);
    await stack.certn.advance(caseId);
    await waitForCheckStatus(stack, conn.id, opp.id, 'In-Progress');
    const delivery = stack.certn.deliveries().find((d) => d.caseId === caseId);
    expect(delivery?.attempts.at(-1)?.statusCode).toBe(200);

    const again = await stack.certn.redeliver(delivery!.id);
    expect(again.attempts).toHaveLength(delivery!.attempts.length + 1);
    expect(again.attempts.at(-1)?.statusCode).toBe(200);
    // The same bytes posted by hand get the same answer.
    const direct = await postCallback(
      conn.vendorCallbackUrl,
      delivery!.body,
      delivery!.signature ?? undefined,
    );
    expect(direct.status).toBe(200);
    expect(direct.body).toMatchObject({ accepted: true, duplicate: true });

    const rows = (await h.callbackRows(conn)).filter((r) => r.event_id === delivery!.event.id);
    expect(rows).toEqual([{ event_id: delivery!.event.id, object_id: caseId, outcome: 'signalled' }]);
  });

  describe('vendor callback authentication', () => {
    const count = async () =>
      Number(
        (
          await stack.pool.query<{ n: string }>(
            'SELECT count(*) AS n FROM vendor_callbacks WHERE connection_id = $1',
            [conn.id],
          )
        ).rows[0]?.n,
      );

    it('answers a wrong or missing X-Signature with 401 problem+json and records nothing', async () => {
      const before = await count();
      const eventId = randomUUID();
      const body = certnEvent(randomUUID(), eventId);
      const signatures = [
        certnSignature('not-the-webhook-secret', body),
        certnSignature(conn.webhookSecret, `${body} `),
        'zz-not-hex',
        '',
        undefined,
      ];
      for (const signature of signatures) {
        const res = await postCallback(conn.vendorCallbackUrl, body, signature);
        expect(res.status).toBe(401);
        expect(res.contentType).toContain('application/problem+json');
        expect(res.body).toMatchObject({ status: 401 });
      }
      expect(await count()).toBe(before);
      const rows = await stack.pool.query('SELECT 1 FROM vendor_callbacks WHERE event_id = $1', [eventId]);
      expect(rows.rowCount).toBe(0);
    });

    it('answers malformed JSON with a valid signature with 400 problem+json and records nothing', async () => {
      const before = await count();
      for (const body of ['{"id": "evt-1", "event_type": ', JSON.stringify({ hello: 'world' })]) {
        const res = await postCallback(
          conn.vendorCallbackUrl,
          body,
          certnSignature(conn.webhookSecret, body),
        );
        expect(res.status).toBe(400);
        expect(res.contentType).toContain('application/problem+json');
        expect(res.body).toMatchObject({ status: 400 });
      }
      expect(await count()).toBe(before);
    });

    it('answers an unknown connection id or vendor in the URL like a wrong signature: 401 problem+json', async () => {
      const before = await count();
      const body = certnEvent(randomUUID());
      const signature = certnSignature(conn.webhookSecret, body);
      const url = new URL(conn.vendorCallbackUrl);
      expect(url.pathname).toBe(`/callbacks/certn/${conn.id}`);
      for (const path of [`/callbacks/certn/conn_doesnotexist`, `/callbacks/acme/${conn.id}`]) {
        const res = await postCallback(new URL(path, url).toString(), body, signature);
        expect(res.status).toBe(401);
        expect(res.contentType).toContain('application/problem+json');
      }
      expect(await count()).toBe(before);
    });
  });

  it.each([['CANCELLED'], ['APPLICANT_EXPIRED']] as const)(
    'ends in Error when Certn ends the case (%s), keeps the previous tag and explains it in a secret note',
    async (vendorStatus) => {
      const { opp, caseId } = await h.startCheck(conn);
      await stack.certn.setStatus(caseId, 'APPLICANT_SUBMITTED');
      await waitForTag(() => h.certnTags(opp.id), 'CERTN - Analyzing');

      await stack.certn.setStatus(caseId, vendorStatus);
      const result = await h.closedResult(conn, opp.id);
      expect(result.status).toBe('Error');
      expect(result.history.at(-1)).toMatchObject({
        status: 'Error',
        reason: 'vendor-ended',
        detail: vendorStatus,
      });
      expect(h.certnTags(opp.id)).toEqual(['CERTN - Analyzing']);
      const notes = stack.lever.notes(opp.id).filter((n) => n.value.includes(vendorStatus));
      expect(notes).toHaveLength(1);
      expect(notes[0]?.secret).toBe(true);
      expect(await h.statusLog(conn, opp.id)).toEqual(['Pending', 'Analyzing', 'Error']);
    },
  );

  // The service's own role may not even try (test/e2e/database-roles.test.ts); the trigger stops the owner too.
  it('keeps check_status_log append-only: UPDATE and DELETE raise, even for the owner', async () => {
    const { opp } = await h.startCheck(conn);
    await eventually(async () => ((await h.statusLog(conn, opp.id)).length > 0 ? true : undefined));
    const rows = await h.statusLog(conn, opp.id);
    await asOwner(async (owner) => {
      await expect(
        owner.query(`UPDATE check_status_log SET status = 'Complete' WHERE subject_id = $1`, [opp.id]),
      ).rejects.toThrow(/append-only/);
      await expect(
        owner.query('DELETE FROM check_status_log WHERE subject_id = $1', [opp.id]),
      ).rejects.toThrow(/append-only/);
    });
    expect(await h.statusLog(conn, opp.id)).toEqual(rows);
  });
});

describe('background check workflow without vendor callbacks (polling)', () => {
  let stack: Stack;
  let conn: Conn;
  const h = helpers(() => stack);

  beforeAll(async () => {
    stack = await startStack({ pollIntervalMs: 500 });
    conn = await stack.createConnection();
    // Certn's webhooks for this team go nowhere: every callback is lost.
    stack.certn.setWebhook(conn.certnApiKey, { url: 'http://127.0.0.1:9/none', secret: 'x' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('reaches Complete by polling Certn when no callback ever arrives', async () => {
    const { opp, caseId } = await h.startCheck(conn);
    // The check has asked Certn once and waits: from here on only polling can tell it about the change.
    await waitUntilParked(h.handleFor(conn, opp.id), 1);
    await stack.certn.setStatus(caseId, 'COMPLETE');
    const result = await h.closedResult(conn, opp.id);
    expect(result.status).toBe('Complete');
    expect(h.certnTags(opp.id)).toEqual(['CERTN - Complete']);
    expect(stack.lever.opportunity(opp.id).links).toHaveLength(1);

    const deliveries = stack.certn.deliveries().filter((d) => d.caseId === caseId);
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.every((d) => d.attempts.every((a) => a.statusCode === null))).toBe(true);
    expect(await h.callbackRows(conn)).toEqual([]);
  });
});

describe('background check workflow when access is revoked', () => {
  let stack: Stack;
  const h = helpers(() => stack);

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** A new connection whose Lever webhook is the only one, so a stage change starts exactly one check. */
  async function soleConnection(): Promise<Conn> {
    const created = await stack.createConnection();
    for (const webhook of stack.lever.webhooks()) {
      if (webhook.id !== created.webhookId) stack.lever.removeWebhook(webhook.id);
    }
    return created;
  }

  it('ends in Error (access-denied) without retrying when Lever access is revoked during the check', async () => {
    const revoked = await soleConnection();
    const { opp, caseId } = await h.startCheck(revoked);
    const notesBefore = stack.lever.notes(opp.id).length;
    stack.lever.revokeApiKey(revoked.leverApiKey);
    const requestsAtRevoke = stack.lever.stats().requests;

    await stack.certn.setStatus(caseId, 'APPLICANT_SUBMITTED'); // Analyzing: the tag must be written to Lever
    const result = await h.closedResult(revoked, opp.id);
    expect(result.status).toBe('Error');
    expect(result.history.at(-1)).toMatchObject({ status: 'Error', reason: 'access-denied' });

    // The activity that met the 401 ran once: no retries.
    const { activities } = await historyView(h.handleFor(revoked, opp.id));
    const failed = activities.filter((a) => a.failure !== undefined);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.attempt).toBe(1);
    const requestsAtEnd = stack.lever.stats().requests;
    expect(requestsAtEnd - requestsAtRevoke).toBeLessThanOrEqual(2);

    // Later Certn events reach a closed check and cause no Lever request.
    await stack.certn.setStatus(caseId, 'COMPLETE');
    await eventually(
      async () => {
        const rows = (await h.callbackRows(revoked)).filter((r) => r.object_id === caseId);
        return rows.length > 0 && rows.every((r) => r.outcome !== 'received') ? rows : undefined;
      },
      10_000,
      'the late callbacks to be processed',
    );
    expect(stack.lever.stats().requests).toBe(requestsAtEnd);
    expect(stack.lever.notes(opp.id)).toHaveLength(notesBefore);
    expect(await h.statusLog(revoked, opp.id)).toEqual(['Pending', 'Analyzing', 'Error']);
  });

  it('ends in Error with a secret note saying why when the Certn API key is revoked during the check', async () => {
    const revoked = await soleConnection();
    const { opp, caseId } = await h.startCheck(revoked);
    stack.certn.revokeApiKey(revoked.certnApiKey);

    await stack.certn.setStatus(caseId, 'APPLICANT_STARTED'); // the callback makes the check ask Certn
    const result = await h.closedResult(revoked, opp.id);
    expect(result.status).toBe('Error');
    expect(result.history.at(-1)?.status).toBe('Error');
    expect(h.certnTags(opp.id)).toEqual(['CERTN - Pending']);
    const notes = stack.lever.notes(opp.id).filter((n) => /certn/i.test(n.value) && /fail/i.test(n.value));
    expect(notes).toHaveLength(1);
    expect(notes[0]?.secret).toBe(true);
    expect(notes[0]?.value).toMatch(/401|API key/i);
  });
});
