import { justifactsSignature } from '../../src/vendors/justifacts/client';
import type { JustifactsOrderView } from '../../sandbox/justifacts-emulator';
import { checkWorkflowId, type CheckState } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';
import {
  eventually,
  startedHandle,
  waitForCheckStatus,
  waitForJustifactsOrder,
  waitForOnlyTag,
} from '../support/waits';

const PENDING = '(Justifacts)In-Progress : Candidate';
const ANALYZING = '(Justifacts)In-Progress: Justifacts';
const COMPLETE = '(Justifacts)Complete';
const STATUS_TAGS = [PENDING, ANALYZING, COMPLETE];
const PACKAGE_TAG = 'JUSTIFACTS BGC PKG: EmpCod[ID : 13558]';

describe('Lever → Justifacts end to end (real HTTP, Temporal dev server, PostgreSQL)', () => {
  let stack: Stack;
  let conn: { id: string; webhookUrl: string; vendorCallbackUrl: string };
  let callbackSecret: string;

  beforeAll(async () => {
    stack = await startStack();
    const account = stack.leverAccount();
    const apiKey = stack.unique('justifacts-key');
    callbackSecret = stack.unique('justifacts-callback');
    conn = await stack.adminCreate({
      name: stack.unique('Customer'),
      lever: { ...account, triggerStageName: 'Background Check' },
      // No packages on the connection: on Lever the package comes from the posting tag alone.
      vendor: {
        type: 'justifacts',
        apiBaseUrl: stack.justifacts.apiBaseUrl,
        apiKey,
        callbackSecret,
        packages: [],
      },
    });
    stack.lever.addWebhook({
      event: 'candidateStageChange',
      url: conn.webhookUrl,
      signatureToken: account.signatureToken,
    });
    stack.justifacts.addAccount({ apiKey, callbackUrl: conn.vendorCallbackUrl, callbackSecret });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const stageId = (name: string) => stack.lever.stageIdByName(name);
  const tagsOf = (opportunityId: string) => stack.lever.opportunity(opportunityId).tags;
  const statusTags = (opportunityId: string) => tagsOf(opportunityId).filter((t) => STATUS_TAGS.includes(t));
  const otherTags = (opportunityId: string) => tagsOf(opportunityId).filter((t) => !STATUS_TAGS.includes(t));
  const ordersFor = (opportunityId: string): JustifactsOrderView[] =>
    stack.justifacts.orders().filter((o) => o.reference === opportunityId);
  const handle = (opportunityId: string) =>
    stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opportunityId));

  function candidate(
    postingTags: string[],
    email = `ada-${Math.random().toString(36).slice(2)}@example.com`,
  ) {
    const posting = stack.lever.createPosting({ text: 'Site Reliability Engineer', tags: postingTags });
    return stack.lever.createOpportunity({
      name: 'Ada Lovelace',
      emails: [email],
      tags: ['Referral'],
      postingId: posting.id,
      stageId: stageId('Phone screen'),
    });
  }

  async function trigger(opportunityId: string) {
    const [delivery] = await stack.lever.moveToStage(opportunityId, stageId('Background Check'));
    expect(delivery?.attempts.at(-1)?.status).toBe(202);
    // Answered once recorded; the API starts the check right after: wait for it before asking for its result.
    await startedHandle(handle(opportunityId));
  }

  it('orders the posting tag’s package, invites the opportunity’s email, tags each status alone and ends with a secret note whose result URL works', async () => {
    const opp = candidate(['Engineering', PACKAGE_TAG]);
    const email = opp.emails[0]!;
    // The posting's package tag is inherited by the opportunity.
    expect(opp.tags).toEqual(expect.arrayContaining(['Referral', 'Engineering', PACKAGE_TAG]));
    const customerTags = [...opp.tags].sort();
    await trigger(opp.id);

    await waitForOnlyTag(() => statusTags(opp.id), PENDING);
    const order = await waitForJustifactsOrder(stack, opp.id);
    expect(ordersFor(opp.id)).toHaveLength(1);
    expect(order.package).toEqual({ code: 'EmpCod', id: '13558' });
    const invitations = stack.justifacts.invitations().filter((i) => i.orderId === order.orderId);
    expect(invitations).toEqual([
      expect.objectContaining({ email, firstName: 'Ada', lastName: 'Lovelace', packageCode: 'EmpCod' }),
    ]);
    expect(otherTags(opp.id).sort()).toEqual(customerTags);

    // The applicant opens the forms: In-Progress has no Justifacts tag, so the Pending tag stays.
    await stack.justifacts.setStatus(order.orderId, 'APPLICANT_STARTED');
    await waitForCheckStatus(stack, conn.id, opp.id, 'In-Progress');
    expect(statusTags(opp.id)).toEqual([PENDING]);

    await stack.justifacts.advance(order.orderId); // the applicant completes the request
    await waitForOnlyTag(() => statusTags(opp.id), ANALYZING);
    expect(otherTags(opp.id).sort()).toEqual(customerTags);
    expect(stack.lever.notes(opp.id)).toEqual([]);

    const completed = await stack.justifacts.advance(order.orderId); // Justifacts completes the order
    const resultUrl = completed.resultUrl!;
    expect(resultUrl).toMatch(/^http/);
    await waitForOnlyTag(() => statusTags(opp.id), COMPLETE);
    expect(otherTags(opp.id).sort()).toEqual(customerTags);

    const note = await eventually(
      () => stack.lever.notes(opp.id).find((n) => n.value.includes(resultUrl)),
      30_000,
      'the result note',
    );
    expect(note.secret).toBe(true);
    const page = await fetch(resultUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(order.orderId);
    expect(html).toContain('Ada Lovelace');

    const result = (await handle(opp.id).result()) as CheckState;
    expect(result.status).toBe('Complete');
    expect(result.history.map((h) => h.status)).toEqual(['Pending', 'In-Progress', 'Analyzing', 'Complete']);
    expect(statusTags(opp.id)).toEqual([COMPLETE]);
    // Justifacts' own signed callbacks were accepted.
    const deliveries = stack.justifacts.deliveries().filter((d) => d.orderId === order.orderId);
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    for (const d of deliveries) expect(d.attempts[0]?.statusCode).toBe(200);
  });

  it.each([
    'JUSTIFACTS BGC PKG:CrimCod[ID:20417]',
    '  justifacts  bgc pkg : CrimCod [ ID : 20417 ]  ',
    'JUSTIFACTS\u00a0BGC PKG:\u00a0CrimCod[ID\u00a0:\u00a020417]',
  ])('reads the package from a tag with spacing variations: %j', async (tag) => {
    const opp = candidate(['Engineering', tag]);
    await trigger(opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), PENDING);
    const order = await waitForJustifactsOrder(stack, opp.id);
    expect(order.package).toEqual({ code: 'CrimCod', id: '20417' });
    expect(stack.justifacts.invitations().find((i) => i.orderId === order.orderId)).toMatchObject({
      email: opp.emails[0],
      packageCode: 'CrimCod',
    });
  });

  it('orders nothing without a package tag and explains why in a secret note', async () => {
    const opp = candidate(['Engineering']);
    const invitationsBefore = stack.justifacts.invitations().length;
    await trigger(opp.id);

    const result = (await handle(opp.id).result()) as CheckState;
    expect(result.status).toBe('Error');
    expect(result.history.at(-1)?.reason).toBe('no-package');
    const note = await eventually(
      () => stack.lever.notes(opp.id).find((n) => /package tag/i.test(n.value)),
      30_000,
      'the no-package note',
    );
    expect(note.secret).toBe(true);
    expect(note.value).toContain(PACKAGE_TAG);
    expect(ordersFor(opp.id)).toEqual([]);
    expect(
      stack.justifacts.orderRequests().filter((r) => JSON.stringify(r.body).includes(opp.emails[0]!)),
    ).toEqual([]);
    expect(stack.justifacts.invitations().length).toBe(invitationsBefore);
    expect(statusTags(opp.id)).toEqual([]);
    expect(otherTags(opp.id).sort()).toEqual(['Engineering', 'Referral']);
  });

  it('ends a vendor-cancelled order in Error with a note, keeping the last status tag', async () => {
    const opp = candidate([PACKAGE_TAG]);
    await trigger(opp.id);
    await waitForOnlyTag(() => statusTags(opp.id), PENDING);
    const order = await waitForJustifactsOrder(stack, opp.id);

    await stack.justifacts.setStatus(order.orderId, 'CANCELLED');
    const result = (await handle(opp.id).result()) as CheckState;
    expect(result.status).toBe('Error');
    expect(result.history.at(-1)).toMatchObject({ status: 'Error', reason: 'vendor-ended' });
    const note = await eventually(
      () => stack.lever.notes(opp.id).find((n) => n.value.includes('CANCELLED')),
      30_000,
      'the cancellation note',
    );
    expect(note.secret).toBe(true);
    expect(note.value).toMatch(/Justifacts/);
    // Justifacts has no Error tag: the previous tag stays, still alone.
    expect(statusTags(opp.id)).toEqual([PENDING]);
  });

  it('answers Justifacts callbacks with a wrong or missing signature with 401 and records nothing', async () => {
    const event = {
      eventId: stack.unique('forged'),
      orderId: 'JF-FORGED',
      status: 'COMPLETED',
      occurredAt: new Date().toISOString(),
    };
    const body = JSON.stringify(event);
    const post = (signature: string | undefined) =>
      fetch(conn.vendorCallbackUrl, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(signature === undefined ? {} : { 'X-Justifacts-Signature': signature }),
        },
        body,
      });
    const recorded = async () =>
      (
        await stack.pool.query('SELECT 1 FROM vendor_callbacks WHERE connection_id = $1 AND event_id = $2', [
          conn.id,
          event.eventId,
        ])
      ).rowCount;

    for (const signature of [
      justifactsSignature('not-the-callback-secret', body),
      justifactsSignature(callbackSecret, `${body} `),
      undefined,
    ]) {
      const res = await post(signature);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(await recorded()).toBe(0);

    // The same body with the right signature is accepted: the 401s came from the signature alone.
    const ok = await post(justifactsSignature(callbackSecret, body));
    expect(ok.status).toBe(200);
    expect(await recorded()).toBe(1);
  });
});
