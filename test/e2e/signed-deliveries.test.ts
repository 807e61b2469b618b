import { randomBytes, randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { certnSignature, leverSignature } from '../../src/integrations/signature';
import { checkWorkflowId, type CheckState } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';
import { eventually } from '../support/waits';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
}

/**
 * What someone holding one signed Lever envelope (or none) can make the service do over HTTP: Lever signs only
 * `token + triggeredAt`, so the event and the data of a captured envelope can be replaced at will.
 */
describe('signed deliveries: what a signed envelope can make us do, uniform refusals, retention (real HTTP)', () => {
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
  const handle = (connectionId: string, opportunityId: string) =>
    stack.temporal.workflow.getHandle(checkWorkflowId(connectionId, opportunityId));
  const ordersFor = (opportunityId: string) =>
    stack.certn
      .orders()
      .filter((o) => (o.body as { external_reference?: string }).external_reference === opportunityId);

  function candidate(stage: string) {
    const posting = stack.lever.createPosting({ text: 'Site Reliability Engineer', tags: ['Engineering'] });
    return stack.lever.createOpportunity({
      name: 'Ada Lovelace',
      emails: [`ada-${randomBytes(6).toString('hex')}@example.com`],
      tags: ['Referral'],
      postingId: posting.id,
      stageId: stageId(stage),
    });
  }

  /** What the service could have written on the opportunity in Lever: tags, links and notes. */
  const leverView = (opportunityId: string) => {
    const opportunity = stack.lever.opportunity(opportunityId);
    return { tags: opportunity.tags, links: opportunity.links, notes: stack.lever.notes(opportunityId) };
  };

  const stageChange = (opportunityId: string) => ({
    opportunityId,
    candidateId: opportunityId,
    contactId: randomUUID(),
    fromStageId: stageId('Phone screen'),
    toStageId: stageId('Background Check'),
  });

  /** A Lever envelope signed as Lever signs it: only `token + triggeredAt` is covered by the signature. */
  function envelope(
    signatureToken: string,
    fields: { token?: string; triggeredAt?: number; event?: string; data: Record<string, unknown> },
  ) {
    const token = fields.token ?? randomBytes(24).toString('hex');
    const triggeredAt = fields.triggeredAt ?? Date.now();
    return {
      id: randomUUID(),
      event: fields.event ?? 'candidateStageChange',
      triggeredAt,
      token,
      signature: leverSignature(signatureToken, token, triggeredAt),
      data: fields.data,
    };
  }

  async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
  }

  const inboxRows = async (connectionId: string) =>
    (
      await stack.pool.query<{ token: string; outcome: string; processed: boolean; refusal: string | null }>(
        `SELECT token, outcome, processed_at IS NOT NULL AS processed, refusal FROM webhook_inbox
         WHERE connection_id = $1 ORDER BY id`,
        [connectionId],
      )
    ).rows;

  async function isStarted(connectionId: string, opportunityId: string): Promise<boolean> {
    try {
      await handle(connectionId, opportunityId).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  describe('a signed envelope whose data names an opportunity that is not in the trigger stage', () => {
    it('orders nothing and writes nothing to Lever; the check ends in Error (not-in-trigger-stage), unpublished', async () => {
      const conn = await stack.createConnection();
      const opp = candidate('Phone screen');
      const before = leverView(opp.id);

      const res = await post(conn.webhookUrl, envelope(conn.signatureToken, { data: stageChange(opp.id) }));
      // The handler cannot know where the opportunity is: the check asks Lever before it orders.
      expect(res.status).toBe(202);
      await eventually(
        async () =>
          ordersFor(opp.id).length > 0 || (await handle(conn.id, opp.id).describe()).status.name !== 'RUNNING'
            ? true
            : undefined,
        30_000,
        'the check to end or order',
      );
      expect(ordersFor(opp.id)).toEqual([]);
      const result = (await handle(conn.id, opp.id).result()) as CheckState;
      expect(result.status).toBe('Error');
      expect(result.history).toEqual([
        expect.objectContaining({ status: 'Error', reason: 'not-in-trigger-stage' }),
      ]);
      expect(leverView(opp.id)).toEqual(before);
      const log = await stack.pool.query<{ status: string; detail: string }>(
        'SELECT status, detail FROM check_status_log WHERE connection_id = $1 AND subject_id = $2',
        [conn.id, opp.id],
      );
      expect(log.rows).toEqual([
        { status: 'Error', detail: expect.stringContaining('trigger stage') as unknown },
      ]);
    });

    it('still orders for a genuine move into the trigger stage', async () => {
      const conn = await stack.createConnection();
      const opp = candidate('Phone screen');
      const [delivery] = await stack.lever.moveToStage(opp.id, stageId('Background Check'));
      expect(delivery?.attempts.at(-1)?.status).toBe(202);
      await eventually(
        () => (stack.lever.opportunity(opp.id).tags.includes('CERTN - Pending') ? true : undefined),
        30_000,
        'CERTN - Pending',
      );
      expect(ordersFor(opp.id)).toHaveLength(1);
      expect(await inboxRows(conn.id)).toEqual([
        { token: delivery!.body.token, outcome: 'started', processed: true, refusal: null },
      ]);
    });
  });

  describe('triggeredAt outside the window', () => {
    it('refuses a stale or future delivery with 400, records its token, and a replay still starts nothing', async () => {
      const conn = await stack.createConnection();
      // In the trigger stage: only the window stands between the replay and a new order.
      const opp = candidate('Background Check');
      const stale = envelope(conn.signatureToken, {
        triggeredAt: Date.now() - 25 * HOUR,
        data: stageChange(opp.id),
      });

      const first = await post(conn.webhookUrl, stale);
      expect(first.status).toBe(400);
      expect(first.contentType).toContain('application/problem+json');
      expect(JSON.parse(first.text)).toMatchObject({
        status: 400,
        errors: [{ path: 'triggeredAt', message: expect.stringContaining('older than') as unknown }],
      });
      expect(await inboxRows(conn.id)).toEqual([
        {
          token: stale.token,
          outcome: 'refused-stale',
          processed: true,
          refusal: expect.stringContaining('triggeredAt') as unknown,
        },
      ]);

      const replay = await post(conn.webhookUrl, stale);
      expect(replay.status).toBe(400);
      expect(await inboxRows(conn.id)).toHaveLength(1);

      const future = envelope(conn.signatureToken, {
        triggeredAt: Date.now() + HOUR,
        data: stageChange(opp.id),
      });
      const ahead = await post(conn.webhookUrl, future);
      expect(ahead.status).toBe(400);
      expect(JSON.parse(ahead.text)).toMatchObject({
        errors: [{ path: 'triggeredAt', message: expect.stringContaining('ahead') as unknown }],
      });
      expect((await inboxRows(conn.id)).map((r) => [r.token, r.outcome])).toEqual([
        [stale.token, 'refused-stale'],
        [future.token, 'refused-stale'],
      ]);
      expect(await isStarted(conn.id, opp.id)).toBe(false);
      expect(ordersFor(opp.id)).toEqual([]);
    });
  });

  describe('a signed delivery whose data is refused', () => {
    it('is recorded with the reason, so the same token carrying other data later starts nothing', async () => {
      const conn = await stack.createConnection();
      const opp = candidate('Background Check');
      const token = randomBytes(24).toString('hex');
      const triggeredAt = Date.now();

      const refused = await post(
        conn.webhookUrl,
        envelope(conn.signatureToken, { token, triggeredAt, data: { opportunityId: opp.id } }),
      );
      expect(refused.status).toBe(400);
      expect(refused.contentType).toContain('application/problem+json');
      expect(await inboxRows(conn.id)).toEqual([
        {
          token,
          outcome: 'refused-invalid',
          processed: true,
          refusal: expect.stringContaining('toStageId') as unknown,
        },
      ]);

      const retried = await post(
        conn.webhookUrl,
        envelope(conn.signatureToken, { token, triggeredAt, data: stageChange(opp.id) }),
      );
      expect(retried.status).toBe(409);
      expect(retried.contentType).toContain('application/problem+json');
      expect(await inboxRows(conn.id)).toHaveLength(1);
      expect(await isStarted(conn.id, opp.id)).toBe(false);
      expect(ordersFor(opp.id)).toEqual([]);
    });
  });

  describe('unknown connection ids answer exactly like wrong signatures', () => {
    const same = (answers: Answer[]) => {
      const [first, ...others] = answers;
      expect(first?.status).toBe(401);
      expect(first?.contentType).toContain('application/problem+json');
      for (const other of others) expect(other).toEqual(first);
    };

    it('on the Lever webhook URL: unknown, deleted or another kind of connection, missing or wrong signature', async () => {
      const conn = await stack.createConnection();
      const deleted = await stack.createConnection();
      const ashbyKey = stack.unique('ashby-key');
      stack.ashby.addOrganization({ apiKey: ashbyKey });
      const ashby = await stack.adminCreate({
        name: stack.unique('Ashby customer'),
        ashby: { apiBaseUrl: stack.ashby.apiBaseUrl, apiKey: ashbyKey },
        vendor: {
          type: 'justifacts',
          apiBaseUrl: stack.justifacts.apiBaseUrl,
          apiKey: stack.unique('justifacts-key'),
          callbackSecret: stack.unique('justifacts-callback'),
          packages: [{ code: 'EmpCod', id: '13558', name: 'Employment Screening' }],
        },
      });
      expect((await stack.adminFetch(`/admin/connections/${deleted.id}`, { method: 'DELETE' })).status).toBe(
        200,
      );
      const opp = candidate('Background Check');
      const base = new URL(conn.webhookUrl);
      const urlOf = (id: string) => new URL(`/webhooks/lever/${id}`, base).toString();
      const signed = (token: string) => envelope(token, { data: stageChange(opp.id) });

      const unsigned: Record<string, unknown> = signed(conn.signatureToken);
      delete unsigned.signature;
      same([
        await post(urlOf(`conn_${randomBytes(12).toString('hex')}`), signed(conn.signatureToken)),
        await post(conn.webhookUrl, signed(`${conn.signatureToken}-not`)),
        await post(conn.webhookUrl, unsigned),
        await post(urlOf(deleted.id), signed(deleted.signatureToken)),
        await post(urlOf(ashby.id), signed(conn.signatureToken)),
      ]);
      expect(await inboxRows(conn.id)).toEqual([]);
      expect(await inboxRows(deleted.id)).toEqual([]);
      expect(await isStarted(conn.id, opp.id)).toBe(false);
    });

    it('on the vendor callback URL: unknown connection or vendor, another vendor, wrong signature, erased secrets', async () => {
      const conn = await stack.createConnection();
      const retired = await stack.createConnection();
      const body = JSON.stringify({
        id: randomUUID(),
        event_type: 'CASE_STATUS_CHANGED',
        object_id: randomUUID(),
        object_type: 'CASE',
      });
      const callbackUrl = new URL(conn.vendorCallbackUrl);
      const urlOf = (vendor: string, id: string) =>
        new URL(`/callbacks/${vendor}/${id}`, callbackUrl).toString();
      // Deleted with no check running: its secrets are erased at once, so nothing can verify its callbacks.
      expect((await stack.adminFetch(`/admin/connections/${retired.id}`, { method: 'DELETE' })).status).toBe(
        200,
      );
      await eventually(
        async () =>
          (
            await stack.pool.query(
              'SELECT 1 FROM connections WHERE id = $1 AND secrets_erased_at IS NOT NULL',
              [retired.id],
            )
          ).rowCount === 1
            ? true
            : undefined,
        30_000,
        'the deleted connection’s secrets to be erased',
      );
      const rightSignature = { 'X-Signature': certnSignature(conn.webhookSecret, body) };
      same([
        await post(urlOf('certn', `conn_${randomBytes(12).toString('hex')}`), body, rightSignature),
        await post(conn.vendorCallbackUrl, body, { 'X-Signature': certnSignature('not-the-secret', body) }),
        await post(conn.vendorCallbackUrl, body),
        await post(urlOf('justifacts', conn.id), body, rightSignature),
        await post(urlOf('nosuchvendor', conn.id), body, rightSignature),
        await post(urlOf('certn', retired.id), body, {
          'X-Signature': certnSignature(retired.webhookSecret, body),
        }),
      ]);
      const recorded = await stack.pool.query(
        'SELECT 1 FROM vendor_callbacks WHERE connection_id = ANY($1)',
        [[conn.id, retired.id]],
      );
      expect(recorded.rowCount).toBe(0);
    });
  });

  describe('retention of the dedupe rows', () => {
    it('deletes processed rows past the retention, keeps recent and unprocessed ones; a deleted token is still refused', async () => {
      const conn = await stack.createConnection();
      const opp = candidate('Background Check');
      const ago = (ms: number) => new Date(Date.now() - ms);
      const oldAt = ago(8 * DAY);
      const inbox = async (token: string, at: { triggered: Date; processed: Date | null }) =>
        stack.pool.query(
          `INSERT INTO webhook_inbox
             (connection_id, source, token, event, triggered_at, data, outcome, received_at, processed_at,
              next_attempt_at)
           VALUES ($1, 'lever', $2, 'candidateStageChange', $3, $4, $5, $3, $6, now() + interval '1 day')`,
          [
            conn.id,
            token,
            at.triggered,
            JSON.stringify(stageChange(opp.id)),
            at.processed === null ? 'received' : 'started',
            at.processed,
          ],
        );
      const callback = async (eventId: string, processed: Date | null) =>
        stack.pool.query(
          `INSERT INTO vendor_callbacks
             (connection_id, vendor, event_id, event_type, object_id, outcome, received_at, processed_at)
           VALUES ($1, 'certn', $2, 'CASE_STATUS_CHANGED', 'case', $3, $4, $5)`,
          [conn.id, eventId, processed === null ? 'received' : 'signalled', processed ?? oldAt, processed],
        );
      // A delivery handled eight days ago, as Lever sent it: the envelope an attacker may have kept.
      const replayable = envelope(conn.signatureToken, {
        triggeredAt: oldAt.getTime(),
        data: stageChange(opp.id),
      });
      await inbox(replayable.token, { triggered: oldAt, processed: oldAt });
      await inbox('old-unprocessed', { triggered: oldAt, processed: null });
      await inbox('recent-processed', { triggered: ago(HOUR), processed: ago(HOUR) });
      await callback('old-processed', oldAt);
      await callback('old-unprocessed', null);
      await callback('recent-processed', ago(HOUR));

      expect(await stack.retention.runOnce()).toEqual({ webhookInbox: 1, vendorCallbacks: 1 });
      expect((await inboxRows(conn.id)).map((r) => r.token)).toEqual(['old-unprocessed', 'recent-processed']);
      const callbacks = await stack.pool.query<{ event_id: string }>(
        'SELECT event_id FROM vendor_callbacks WHERE connection_id = $1 ORDER BY id',
        [conn.id],
      );
      expect(callbacks.rows.map((r) => r.event_id)).toEqual(['old-unprocessed', 'recent-processed']);

      // Its row is gone, but its triggeredAt is far outside the window: the replay is refused all the same.
      const replay = await post(conn.webhookUrl, replayable);
      expect(replay.status).toBe(400);
      expect(await isStarted(conn.id, opp.id)).toBe(false);
      expect(ordersFor(opp.id)).toEqual([]);
    });
  });
});
