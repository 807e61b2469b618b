import type { WebhookDelivery } from '../../sandbox/lever-emulator';
import { WebhookInbox } from '../../src/db/inbox';
import { temporalServerInTempDir, type TemporalServerProcess } from '../../src/temporal/server-process';
import { checkWorkflowId } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';
import { eventually, waitForJustifactsOrder } from '../support/waits';

const BURST = 30;

/**
 * "Nothing lost": a webhook is acknowledged once it is recorded in PostgreSQL; when Temporal is unreachable the
 * inbox relay starts its workflow once Temporal is back. This file runs its own Temporal dev server (SQLite file)
 * so that it can stop it and start it again on the same port and database.
 */
describe('webhooks during a Temporal outage (own dev server, stopped and restarted)', () => {
  let server: TemporalServerProcess;
  let stack: Stack;
  let conn: Awaited<ReturnType<Stack['createConnection']>>;

  beforeAll(async () => {
    server = await temporalServerInTempDir('bgc-inbox-relay-');
    await server.start();
    // The SDK core logs every retried worker poll while the server is down; keep this file's output readable.
    const sdkLevel = process.env.TEST_SDK_LOG_LEVEL;
    process.env.TEST_SDK_LOG_LEVEL = 'ERROR';
    try {
      stack = await startStack({ temporalAddress: server.address });
    } finally {
      if (sdkLevel === undefined) delete process.env.TEST_SDK_LOG_LEVEL;
      else process.env.TEST_SDK_LOG_LEVEL = sdkLevel;
    }
    conn = await stack.createConnection();
  });

  afterAll(async () => {
    await stack?.stop();
    await server?.dispose();
  });

  const inboxRows = async (connectionId: string) =>
    (
      await stack.pool.query<{
        token: string;
        opportunity_id: string;
        outcome: string;
        processed: boolean;
        attempts: number;
        last_error: string | null;
      }>(
        `SELECT token, data->>'opportunityId' AS opportunity_id, outcome, processed_at IS NOT NULL AS processed,
                attempts, last_error
         FROM webhook_inbox WHERE connection_id = $1 ORDER BY id`,
        [connectionId],
      )
    ).rows;

  it('acknowledges a burst while Temporal is down and starts every check exactly once when it is back', async () => {
    const trigger = stack.lever.stageIdByName('Background Check');
    const posting = stack.lever.createPosting({ text: 'Data Engineer', tags: ['Engineering'] });
    const opportunities = Array.from({ length: BURST }, (_, i) =>
      stack.lever.createOpportunity({
        name: `Outage Candidate ${i}`,
        emails: [`outage-${i}-${Math.random().toString(36).slice(2)}@example.com`],
        tags: [],
        postingId: posting.id,
        stageId: stack.lever.stageIdByName('Phone screen'),
      }),
    );

    await server.stop();

    // The burst: every delivery is acknowledged on its first attempt although no workflow can be started.
    const deliveries: WebhookDelivery[] = (
      await Promise.all(opportunities.map((opp) => stack.lever.moveToStage(opp.id, trigger)))
    ).flat();
    expect(deliveries).toHaveLength(BURST);
    for (const delivery of deliveries) {
      expect(delivery.attempts.map((a) => a.status)).toEqual([202]);
    }

    // A redelivery during the outage (same token): acknowledged, still one inbox row.
    const first = deliveries[0]!;
    const again = await stack.lever.redeliver(first.id);
    expect(again.attempts.map((a) => a.status)).toEqual([202]);
    const replay = await fetch(first.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(first.body),
    });
    expect(replay.status).toBe(202);
    expect(await replay.json()).toEqual({ accepted: true, outcome: 'queued' });

    // Each delivery was answered once recorded; its start was tried right after and failed (Temporal is down).
    const queued = await eventually(
      async () => {
        const rows = await inboxRows(conn.id);
        return rows.length === BURST && rows.every((r) => r.attempts >= 1) ? rows : undefined;
      },
      30_000,
      'a failed start attempt on every delivery',
    );
    expect(queued).toHaveLength(BURST);
    expect(new Set(queued.map((r) => r.opportunity_id))).toEqual(new Set(opportunities.map((o) => o.id)));
    for (const row of queued) {
      expect(row).toMatchObject({ outcome: 'received', processed: false });
      expect(row.attempts).toBeGreaterThanOrEqual(1);
      expect(row.last_error).toEqual(expect.any(String));
    }

    // Temporal comes back on the same port and database: the relay starts every check.
    const restartedAt = Date.now();
    await server.start();
    await eventually(
      async () => ((await inboxRows(conn.id)).every((r) => r.processed) ? true : undefined),
      30_000,
      'the relay to process every queued delivery',
    );
    const relayedMs = Date.now() - restartedAt;
    const pending = (opportunityId: string) =>
      stack.lever.opportunity(opportunityId).tags.includes('CERTN - Pending');
    await eventually(
      () => (opportunities.every((o) => pending(o.id)) ? true : undefined),
      60_000,
      `CERTN - Pending on all ${BURST} candidates`,
    );
    const drainedMs = Date.now() - restartedAt;

    const processed = await inboxRows(conn.id);
    expect(processed).toHaveLength(BURST);
    for (const row of processed) expect(row).toMatchObject({ outcome: 'started', processed: true });

    for (const opp of opportunities) {
      const workflowId = checkWorkflowId(conn.id, opp.id);
      const { count } = await stack.temporal.workflow.count(`WorkflowId = '${workflowId}'`);
      expect({ workflowId, count }).toEqual({ workflowId, count: 1 });
      const cases = stack.certn.cases().filter((c) => c.email_address === opp.emails[0]);
      expect({ opportunity: opp.id, cases: cases.length }).toEqual({ opportunity: opp.id, cases: 1 });
      expect(stack.lever.opportunity(opp.id).tags.filter((t) => t.startsWith('CERTN - '))).toEqual([
        'CERTN - Pending',
      ]);
    }
    // Visible in the output when the test is run on its own.
    console.info(
      `inbox relay: ${BURST} queued deliveries started ${relayedMs} ms after the restart began, ` +
        `all CERTN - Pending after ${drainedMs} ms (the worker's pollers back off up to 10 s during the outage)`,
    );
  });

  it('refuses to delete a connection while Temporal cannot say which checks run: 503, nothing changed', async () => {
    const other = await stack.createConnection();
    await server.stop();
    try {
      await expect(fetch(`http://${server.address}`)).rejects.toThrow();
      const res = await stack.adminFetch(`/admin/connections/${other.id}?cancelRunning=true`, {
        method: 'DELETE',
      });
      expect(res.status).toBe(503);
      expect(res.contentType).toContain('application/problem+json');
      const row = await stack.pool.query<{ deleted: boolean }>(
        'SELECT deleted_at IS NOT NULL AS deleted FROM connections WHERE id = $1',
        [other.id],
      );
      expect(row.rows).toEqual([{ deleted: false }]);
    } finally {
      await server.start();
    }
    // Once the API's client has reconnected (it backs off while the server was down), the same DELETE goes through.
    const deleted = await eventually(
      async () => {
        const res = await stack.adminFetch(`/admin/connections/${other.id}`, { method: 'DELETE' });
        return res.status === 503 ? undefined : res;
      },
      30_000,
      'the DELETE to go through once Temporal is back',
    );
    expect(deleted.body).toMatchObject({ status: 'deleted', runningWorkflows: 0 });
  });

  it('starts at once again once Temporal is back (a normal delivery is not queued)', async () => {
    const opp = stack.lever.createOpportunity({
      name: 'After The Outage',
      emails: [`after-${Math.random().toString(36).slice(2)}@example.com`],
      tags: [],
      postingId: stack.lever.createPosting({ text: 'Analyst', tags: [] }).id,
      stageId: stack.lever.stageIdByName('Phone screen'),
    });
    const [delivery] = await stack.lever.moveToStage(opp.id, stack.lever.stageIdByName('Background Check'));
    expect(delivery?.attempts.map((a) => a.status)).toEqual([202]);
    // Started right after the answer, by the API process itself (not the relay, which would wait 30 s).
    const rows = await eventually(async () => {
      const found = await stack.pool.query<{ outcome: string; attempts: number }>(
        'SELECT outcome, attempts FROM webhook_inbox WHERE token = $1 AND processed_at IS NOT NULL',
        [delivery!.body.token],
      );
      return found.rows.length > 0 ? found : undefined;
    }, 5_000);
    expect(rows.rows).toEqual([{ outcome: 'started', attempts: 0 }]);
  });

  it("records Ashby's assessment.start with its start while Temporal is down: answered, refused twice, cancellable, started once when it is back", async () => {
    // An Ashby organization linked to Justifacts, registered as a partner on the Ashby emulator.
    const ashbyApiKey = stack.unique('ashby-key');
    stack.ashby.addOrganization({ apiKey: ashbyApiKey });
    const jfApiKey = stack.unique('justifacts-key');
    const callbackSecret = stack.unique('justifacts-callback');
    const pkg = { code: 'EmpCod', id: '13558', name: 'Employment Screening', description: 'Employment.' };
    const created = await stack.adminCreate({
      name: stack.unique('Customer'),
      ashby: { apiBaseUrl: stack.ashby.apiBaseUrl, apiKey: ashbyApiKey },
      vendor: {
        type: 'justifacts',
        apiBaseUrl: stack.justifacts.apiBaseUrl,
        apiKey: jfApiKey,
        callbackSecret,
        packages: [pkg],
      },
    });
    const partner = stack.unique('justifacts');
    stack.ashby.registerPartner({
      name: partner,
      baseUrl: created.partnerBaseUrl,
      secret: created.partnerSecret,
      apiKey: ashbyApiKey,
    });
    stack.justifacts.addAccount({ apiKey: jfApiKey, callbackUrl: created.vendorCallbackUrl, callbackSecret });
    const start = (candidateAshbyId: string, email: string) =>
      stack.ashby.startAssessment(partner, {
        assessmentTypeId: pkg.id,
        candidate: { firstName: 'Ada', lastName: 'Lovelace', email },
        job: { name: 'Analyst' },
        candidateAshbyId,
      });
    const kept = { candidate: `cand-${stack.unique('kept')}`, email: `${stack.unique('ada')}@example.com` };
    const dropped = {
      candidate: `cand-${stack.unique('dropped')}`,
      email: `${stack.unique('ada')}@example.com`,
    };
    const ashbyRows = async () =>
      (
        await stack.pool.query<{ token: string; outcome: string; processed: boolean; attempts: number }>(
          `SELECT token, outcome, processed_at IS NOT NULL AS processed, attempts
           FROM webhook_inbox WHERE connection_id = $1 AND source = 'ashby' ORDER BY id`,
          [created.id],
        )
      ).rows;

    await server.stop();
    await expect(fetch(`http://${server.address}`)).rejects.toThrow();

    // Answered with its id although no workflow can be started: the assessment and its start are recorded.
    const first = await start(kept.candidate, kept.email);
    expect(first.status).toBe(200);
    const keptId = first.assessmentId!;
    expect(keptId).toEqual(expect.any(String));
    const second = await start(dropped.candidate, dropped.email);
    expect(second.status).toBe(200);
    const droppedId = second.assessmentId!;
    // The same candidate and package again while the first start waits: refused, as when it runs.
    const again = await start(kept.candidate, kept.email);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      message: 'This candidate is already being assessed with "Employment Screening".',
    });
    // Cancelled before its check could start: it never starts.
    const cancel = await stack.ashby.cancelAssessment(partner, droppedId);
    expect(cancel.status).toBe(200);

    const waiting = await ashbyRows();
    // Its start was tried (by the request, then the relay) and failed: Temporal is down.
    expect(waiting.map((r) => [r.token, r.outcome, r.processed])).toEqual([
      [keptId, 'received', false],
      [droppedId, 'cancelled', true],
    ]);
    expect(waiting[0]!.attempts).toBeGreaterThanOrEqual(1);

    // Temporal comes back: the relay starts the recorded one, once, and its check runs.
    await server.start();
    await eventually(
      async () => ((await ashbyRows()).every((r) => r.processed) ? true : undefined),
      30_000,
      'the relay to start the recorded assessment',
    );
    expect((await ashbyRows()).map((r) => [r.token, r.outcome])).toEqual([
      [keptId, 'started'],
      [droppedId, 'cancelled'],
    ]);
    await waitForJustifactsOrder(stack, keptId);
    for (const [id, count] of [
      [keptId, 1],
      [droppedId, 0],
    ] as const) {
      const workflowId = checkWorkflowId(created.id, id);
      expect({
        id,
        count: (await stack.temporal.workflow.count(`WorkflowId = '${workflowId}'`)).count,
      }).toEqual({
        id,
        count,
      });
    }
    expect(stack.justifacts.orders().filter((o) => o.reference === droppedId)).toEqual([]);
  });

  it('lets several relays claim at once without taking the same delivery twice (FOR UPDATE SKIP LOCKED)', async () => {
    // Rows of a source no relay handles, so the stack's own relay leaves them alone.
    const source = `claim-test-${Math.random().toString(36).slice(2)}`;
    await stack.pool.query(
      `INSERT INTO webhook_inbox (connection_id, source, token, event, triggered_at, data)
       SELECT $1, $2, 'token-' || n, 'candidateStageChange', now(), '{}'::jsonb FROM generate_series(1, 50) AS n`,
      [conn.id, source],
    );
    const inboxes = Array.from({ length: 4 }, () => new WebhookInbox(stack.pool));
    const claims = await Promise.all(
      inboxes.map((inbox) => inbox.claimDue({ source, limit: 20, leaseMs: 60_000 })),
    );
    const ids = claims.flat().map((d) => d.id);
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
    for (const claim of claims) {
      const times = claim.map((d) => d.receivedAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
    // Leased: nobody gets them again until they are given back.
    expect(await inboxes[0]!.claimDue({ source, limit: 100, leaseMs: 60_000 })).toEqual([]);
    await inboxes[0]!.release(ids.slice(0, 5));
    expect(
      (await inboxes[1]!.claimDue({ source, limit: 100, leaseMs: 60_000 })).map((d) => d.id).sort(),
    ).toEqual(ids.slice(0, 5).sort());
  });
});
