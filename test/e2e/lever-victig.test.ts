import { randomBytes } from 'node:crypto';
import type { Opportunity } from '../../sandbox/lever-emulator';
import type { VictigOrderRecord } from '../../sandbox/victig-emulator';
import { VendorRefusal, type OrderPlan } from '../../src/vendors/types';
import { victigAdapter } from '../../src/vendors/victig/adapter';
import { victigSignature } from '../../src/vendors/victig/client';
import { checkStateQuery, checkWorkflowId, type CheckState } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';
import { eventually, waitForNote, waitForOnlyTag } from '../support/waits';

const STATUS_PREFIX = 'Background Check Status: ';
const STATUS = {
  Pending: 'Background Check Status: Pending',
  InProgress: 'Background Check Status: In Progress',
  Complete: 'Background Check Status: Complete',
  Rejected: 'Background Check Status: Rejected',
  Error: 'Background Check Status: Error',
} as const;

/**
 * The VICTIG settings of the main connection: the seed's example prefixes, written as the seed writes them
 * ("Flag:", no trailing space: the tags still read "Flag: True").
 */
const VENDOR_SETTINGS = {
  defaultProduct: 'Criminal Package 1',
  statusTagPrefix: 'Background Check Status:',
  productTagPrefix: 'Product: ',
  unknownProduct: 'default',
  subClientMatch: 'city',
  subClientNoMatch: 'main',
  subClientTagPrefix: 'Office:',
  referenceField: 'tags',
  referenceTagPrefix: 'Ref: ',
  forwardTagPrefixes: ['Region: '],
  flagTagPrefix: 'Flag:',
  decisionTagPrefix: 'Decision:',
};

interface VictigConnection {
  id: string;
  webhookUrl: string;
  vendorCallbackUrl: string;
  triggerStageId: string;
  accountId: string;
  apiKey: string;
  callbackSecret: string;
}

describe('Lever → VICTIG end to end (real HTTP, Temporal dev server, PostgreSQL)', () => {
  let stack: Stack;
  let main: VictigConnection;
  /** unknownProduct and subClientNoMatch "reject", the default status prefix, on its own trigger stage. */
  let strict: VictigConnection;

  /**
   * A VICTIG account and a Lever → VICTIG connection wired to both emulators. Lever delivers every stage change
   * to every webhook, so each connection has its own trigger stage.
   */
  async function connect(stageName: string, settings: Record<string, unknown>): Promise<VictigConnection> {
    const lever = stack.leverAccount();
    const accountId = stack.unique('acct');
    const apiKey = stack.unique('victig-key');
    const callbackSecret = stack.unique('victig-cb');
    stack.victig.addAccount({ accountId, apiKey });
    const triggerStageId = stack.lever.stageIdByName(stageName);
    const created = await stack.adminCreate({
      name: stack.unique('Customer'),
      lever: { ...lever, triggerStageId },
      vendor: {
        type: 'victig',
        apiBaseUrl: stack.victig.apiBaseUrl,
        accountId,
        apiKey,
        callbackSecret,
        ...settings,
      },
    });
    stack.lever.addWebhook({
      event: 'candidateStageChange',
      url: created.webhookUrl,
      signatureToken: lever.signatureToken,
    });
    stack.victig.setCallback(accountId, { url: created.vendorCallbackUrl, secret: callbackSecret });
    return { ...created, triggerStageId, accountId, apiKey, callbackSecret };
  }

  beforeAll(async () => {
    stack = await startStack();
    main = await connect('Background Check', VENDOR_SETTINGS);
    const strictStage = stack.lever.addStage(`Strict Background Check ${randomBytes(3).toString('hex')}`);
    strict = await connect(strictStage.text, {
      ...VENDOR_SETTINGS,
      statusTagPrefix: undefined, // left out of the JSON: the default prefix
      unknownProduct: 'reject',
      subClientNoMatch: 'reject',
    });
  });
  afterAll(async () => {
    stack?.victig.failNext(0);
    await stack?.stop();
  });

  const statusTags = (opportunityId: string) =>
    stack.lever.opportunity(opportunityId).tags.filter((t) => t.startsWith(STATUS_PREFIX));
  const checkResult = (conn: VictigConnection, opportunityId: string) =>
    stack.temporal.workflow
      .getHandle(checkWorkflowId(conn.id, opportunityId))
      .result() as Promise<CheckState>;
  const checkState = (conn: VictigConnection, opportunityId: string) =>
    stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opportunityId)).query(checkStateQuery);
  const ordersFor = (email: string): VictigOrderRecord[] =>
    stack.victig.orders().filter((o) => o.request.applicant.email === email);
  const requestsFor = (email: string) =>
    stack.victig.orderRequests().filter((r) => JSON.stringify(r.body).includes(JSON.stringify(email)));
  const waitForOrder = (email: string) =>
    eventually(() => ordersFor(email)[0], 30_000, `a VICTIG order for ${email}`);

  function candidate(
    overrides: {
      email?: string | null;
      phone?: string | null;
      location?: string;
      tags?: string[];
      posting?: { text: string; department?: string; location?: string; tags?: string[] };
    } = {},
  ): Opportunity & { email: string } {
    const email =
      overrides.email === undefined ? `ada-${randomBytes(5).toString('hex')}@example.com` : overrides.email;
    const p = overrides.posting ?? {
      text: 'Backend Engineer',
      department: 'Engineering',
      location: 'New York',
    };
    const posting = stack.lever.createPosting({
      text: p.text,
      categories: { department: p.department, location: p.location, team: 'Platform' },
      tags: p.tags ?? [],
    });
    const opp = stack.lever.createOpportunity({
      name: 'Ada Lovelace',
      emails: email === null ? [] : [email],
      phones: overrides.phone === null ? [] : [{ type: 'mobile', value: overrides.phone ?? '+1 555 0100' }],
      location: overrides.location ?? '',
      tags: overrides.tags ?? ['Referral'],
      postingId: posting.id,
      stageId: stack.lever.stageIdByName('Phone screen'),
    });
    return { ...opp, email: email ?? '' };
  }

  const trigger = async (conn: VictigConnection, opportunityId: string) => {
    const deliveries = await stack.lever.moveToStage(opportunityId, conn.triggerStageId);
    const mine = deliveries.find((d) => d.url === conn.webhookUrl);
    expect(mine?.attempts.at(-1)?.status).toBe(202);
  };

  it('orders with the QuickApp, follows VICTIG to Complete with one status tag at a time, and puts the results in a secret note', async () => {
    const opp = candidate({
      location: 'San Francisco',
      tags: ['Referral', 'Product: Criminal Package 2', 'Ref: REQ-42', 'region: west'],
      posting: {
        text: 'Backend Engineer',
        department: 'Engineering',
        location: 'New York',
        tags: ['Region: East'],
      },
    });
    await trigger(main, opp.id);

    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Pending);
    const order = await waitForOrder(opp.email);
    expect(stack.victig.quickApps().filter((q) => q.orderId === order.orderId)).toEqual([
      expect.objectContaining({ email: opp.email, phone: '+1 555 0100' }),
    ]);

    // What VICTIG received: the candidate, the position, the location, only prefixed tags, and the choices.
    const handle = stack.temporal.workflow.getHandle(checkWorkflowId(main.id, opp.id));
    const { runId } = await handle.describe();
    const sent = stack.victig.order(order.orderId);
    expect(sent.request).toEqual({
      product: 'Criminal Package 2',
      subClientCode: 'SF02',
      reference: 'REQ-42',
      applicant: { firstName: 'Ada', lastName: 'Lovelace', email: opp.email, phone: '+1 555 0100' },
      position: { title: 'Backend Engineer', department: 'Engineering', location: 'San Francisco' },
      tags: ['Product: Criminal Package 2', 'Ref: REQ-42', 'Region: East'],
      externalId: `${checkWorkflowId(main.id, opp.id)}/${runId}`,
    });
    expect(sent.idempotencyKey).toBe(`${checkWorkflowId(main.id, opp.id)}/${runId}`);
    expect(requestsFor(opp.email).map((r) => r.outcome)).toEqual(['created']);

    // The applicant completes the QuickApp.
    await stack.victig.advance(order.orderId);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.InProgress);
    expect((await checkState(main, opp.id)).status).toBe('In-Progress');

    // VICTIG completes the check.
    await stack.victig.advance(order.orderId, {
      flagged: true,
      decision: 'Review',
      summary: '1 record found.',
    });
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Complete);
    const result = await checkResult(main, opp.id);
    expect(result.status).toBe('Complete');
    expect(result.packageName).toBe('Criminal Package 2');
    expect(result.history.map((h) => h.status)).toEqual(['Pending', 'In-Progress', 'Complete']);

    const final = stack.lever.opportunity(opp.id);
    expect(final.tags).toEqual(
      expect.arrayContaining(['Referral', 'Region: East', 'Flag: True', 'Decision: Review', STATUS.Complete]),
    );
    expect(final.tags.filter((t) => t.startsWith('Flag:') || t.startsWith('Decision:'))).toEqual([
      'Flag: True',
      'Decision: Review',
    ]);
    expect(final.tags.filter((t) => t.startsWith('Background Check Status:'))).toEqual([STATUS.Complete]);
    expect(final.links).toEqual([]); // results go in the note only

    const reportUrl = stack.victig.view(order.orderId).results!.reportUrl;
    const note = await waitForNote(stack, opp.id, 'VICTIG background check results');
    expect(note).toContain(reportUrl);
    expect(note).toContain('Summary: 1 record found.');
    expect(note).toContain('Flagged: Yes');
    expect(note).toContain('Decision: Review');
    expect(stack.lever.notes(opp.id).filter((n) => n.value.includes(reportUrl))).toEqual([
      expect.objectContaining({ secret: true }),
    ]);
    const page = await fetch(reportUrl);
    expect(page.status).toBe(200);

    const log = await stack.pool.query<{ status: string }>(
      'SELECT status FROM check_status_log WHERE connection_id = $1 AND subject_id = $2 ORDER BY seq',
      [main.id, opp.id],
    );
    expect(log.rows.map((r) => r.status)).toEqual(['Pending', 'In-Progress', 'Complete']);
  });

  it('tags Flag: False for an unflagged report; without location or tags it uses the posting’s location and the default product', async () => {
    const opp = candidate({ tags: [] });
    await trigger(main, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Pending);
    const order = await waitForOrder(opp.email);
    // No location on the opportunity: the posting's is used (New York → NYC01); no product tag → default.
    expect(order.request).toMatchObject({
      product: 'Criminal Package 1',
      subClientCode: 'NYC01',
      reference: null,
      tags: [],
      position: { location: 'New York' },
    });
    await stack.victig.advance(order.orderId);
    await stack.victig.advance(order.orderId, { flagged: false, decision: 'Eligible' });
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Complete);
    const tags = stack.lever.opportunity(opp.id).tags;
    expect(tags).toEqual(expect.arrayContaining(['Flag: False', 'Decision: Eligible']));
    expect(tags).not.toContain('Flag: True');
  });

  it('rejects a candidate without email with a note, orders nothing, and a re-trigger after adding one orders', async () => {
    const opp = candidate({ email: null });
    const requestsBefore = stack.victig.orderRequests().length;
    await trigger(main, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Rejected);
    const result = await checkResult(main, opp.id);
    expect(result.status).toBe('Rejected');
    expect(result.history).toEqual([expect.objectContaining({ status: 'Rejected', reason: 'no-email' })]);
    const note = await waitForNote(stack, opp.id, 'VICTIG background check not ordered');
    expect(note).toContain('The candidate has no email address in Lever');
    expect(stack.victig.orderRequests().length).toBe(requestsBefore);

    const email = `ada.fixed-${randomBytes(4).toString('hex')}@example.com`;
    stack.lever.setEmails(opp.id, [email]);
    await stack.lever.moveToStage(opp.id, stack.lever.stageIdByName('Phone screen'));
    await trigger(main, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Pending);
    expect(ordersFor(email)).toHaveLength(1);
  });

  it('turns a VICTIG refusal into Rejected with VICTIG’s description in a note', async () => {
    const opp = candidate({ email: `not-an-email-${randomBytes(3).toString('hex')}` });
    await trigger(main, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Rejected);
    expect((await checkResult(main, opp.id)).status).toBe('Rejected');
    const note = await waitForNote(stack, opp.id, 'VICTIG background check not ordered');
    expect(note).toContain(`The applicant's email address "${opp.email}" is not valid.`);
    expect(requestsFor(opp.email).map((r) => [r.outcome, r.errorCode])).toEqual([
      ['refused', 'invalid_email'],
    ]);
    expect(ordersFor(opp.email)).toEqual([]);
  });

  it('makes the client throw VendorRefusal with the description when VICTIG answers 422', async () => {
    const settings = victigAdapter.settingsSchema.parse({
      ...VENDOR_SETTINGS,
      apiBaseUrl: stack.victig.apiBaseUrl,
      statusTagPrefix: STATUS_PREFIX,
    });
    const client = victigAdapter.client(settings, {
      accountId: main.accountId,
      apiKey: main.apiKey,
      callbackSecret: main.callbackSecret,
    });
    const plan: Extract<OrderPlan, { kind: 'order' }> = {
      kind: 'order',
      packageName: 'No Such Product',
      packageRef: 'No Such Product',
      options: { subClientCode: null, reference: null, tags: [] },
    };
    const attempt = client.order({
      candidate: {
        firstName: 'Ada',
        lastName: 'Lovelace',
        email: 'ada@example.com',
        phone: null,
        location: null,
        tags: [],
        position: null,
        requestedPackageId: null,
      },
      plan,
      reference: 'opp',
      idempotencyKey: `direct-${randomBytes(4).toString('hex')}`,
    });
    await expect(attempt).rejects.toBeInstanceOf(VendorRefusal);
    await expect(attempt).rejects.toThrow('The product "No Such Product" does not exist on this account.');
  });

  it('orders the default product for an unknown product tag when unknownProduct is "default"', async () => {
    const opp = candidate({ tags: ['Product: Criminal Package 9'] });
    await trigger(main, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Pending);
    const order = await waitForOrder(opp.email);
    expect(order.request.product).toBe('Criminal Package 1');
    expect(order.request.tags).toEqual(['Product: Criminal Package 9']);
  });

  it('rejects an unknown product tag with a note when unknownProduct is "reject"', async () => {
    const opp = candidate({ location: 'New York', tags: ['Product: Criminal Package 9'] });
    const requestsBefore = stack.victig.orderRequests().length;
    await trigger(strict, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Rejected);
    expect((await checkResult(strict, opp.id)).status).toBe('Rejected');
    const note = await waitForNote(stack, opp.id, 'VICTIG background check not ordered');
    expect(note).toContain('The product "Criminal Package 9"');
    expect(stack.victig.orderRequests().length).toBe(requestsBefore);
    // No check started on the main connection: it listens to another stage.
    await expect(
      stack.temporal.workflow.getHandle(checkWorkflowId(main.id, opp.id)).describe(),
    ).rejects.toThrow();
  });

  it('orders a known product tag with the matching sub-client on the strict connection', async () => {
    const opp = candidate({ location: 'New York', tags: ['Product: Employment Package'] });
    await trigger(strict, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Pending);
    expect((await waitForOrder(opp.email)).request).toMatchObject({
      product: 'Employment Package',
      subClientCode: 'NYC01',
    });
  });

  it('orders for the main client when no sub-client matches and subClientNoMatch is "main"', async () => {
    const opp = candidate({ location: 'Boston' });
    await trigger(main, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Pending);
    const order = await waitForOrder(opp.email);
    expect(order.request.subClientCode).toBeNull();
    expect(order.request.position.location).toBe('Boston');
  });

  it('orders for the sub-client an "Office:" tag names, over the location, and forwards the tag', async () => {
    // The location (New York) would pick NYC01; the tag names SF02 by its VICTIG name.
    const opp = candidate({ location: 'New York', tags: ['Referral', 'Office: Acme San Francisco'] });
    await trigger(main, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Pending);
    const order = await waitForOrder(opp.email);
    expect(stack.victig.order(order.orderId).request).toMatchObject({
      subClientCode: 'SF02',
      position: { location: 'New York' },
      tags: ['Office: Acme San Francisco'],
    });
  });

  it('orders for the main client when the sub-client tag names no sub-client and subClientNoMatch is "main"', async () => {
    const opp = candidate({ location: 'New York', tags: ['Office: LA03'] });
    await trigger(main, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Pending);
    expect((await waitForOrder(opp.email)).request.subClientCode).toBeNull();
  });

  it('rejects with a note when the sub-client tag names no sub-client and subClientNoMatch is "reject"', async () => {
    const opp = candidate({ location: 'New York', tags: ['Office: LA03'] });
    const requestsBefore = stack.victig.orderRequests().length;
    await trigger(strict, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Rejected);
    const note = await waitForNote(stack, opp.id, 'VICTIG background check not ordered');
    expect(note).toContain('The sub-client "LA03" named by the tag "Office: LA03"');
    expect(stack.victig.orderRequests().length).toBe(requestsBefore);
  });

  it('rejects with a note when no sub-client matches and subClientNoMatch is "reject"', async () => {
    const opp = candidate({ location: 'Boston' });
    const requestsBefore = stack.victig.orderRequests().length;
    await trigger(strict, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Rejected);
    const note = await waitForNote(stack, opp.id, 'VICTIG background check not ordered');
    expect(note).toContain('matches no VICTIG sub-client');
    expect(stack.victig.orderRequests().length).toBe(requestsBefore);
  });

  it('ends in Error with a note when VICTIG cancels the order', async () => {
    const opp = candidate();
    await trigger(main, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Pending);
    const order = await waitForOrder(opp.email);
    await stack.victig.setStatus(order.orderId, 'CANCELLED');
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Error);
    expect((await checkResult(main, opp.id)).history.at(-1)).toMatchObject({
      status: 'Error',
      reason: 'vendor-ended',
    });
    await waitForNote(stack, opp.id, 'vendor status: CANCELLED');
  });

  it('refuses a callback that is not signed with the connection’s callback secret', async () => {
    const body = JSON.stringify({
      eventId: 'forged',
      orderId: 'x',
      status: 'COMPLETE',
      occurredAt: new Date().toISOString(),
    });
    const post = (signature: string) =>
      fetch(main.vendorCallbackUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Victig-Signature': signature },
        body,
      });
    expect((await post(victigSignature('wrong-secret', body))).status).toBe(401);
    expect((await post(victigSignature(main.callbackSecret, body))).status).toBe(200);
  });

  it('retries a VICTIG outage that ends before the retries do, and orders once', async () => {
    const opp = candidate();
    stack.victig.failNext(2);
    await trigger(main, opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), STATUS.Pending);
    expect(ordersFor(opp.email)).toHaveLength(1);
  });

  it('ends in Error with a note when VICTIG cannot be reached through the retries', async () => {
    const opp = candidate();
    stack.victig.failNext(1000);
    try {
      await trigger(main, opp.id);
      await waitForOnlyTag(() => statusTags(opp.id), STATUS.Error, 40_000);
      const result = await checkResult(main, opp.id);
      expect(result.history).toEqual([expect.objectContaining({ status: 'Error', reason: 'communication' })]);
      const note = await waitForNote(stack, opp.id, 'VICTIG background check failed');
      expect(note).toContain('503');
      expect(ordersFor(opp.email)).toEqual([]);
    } finally {
      stack.victig.failNext(0);
    }
  });
});
