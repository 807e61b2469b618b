import { checkWorkflowId } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../support/stack';
import { eventually } from '../support/waits';

/**
 * The Certn report link on a Lever profile keeps working after Certn's own signed pdf_url has expired: it points at
 * the service, which answers with a redirect to a URL Certn signs at that moment. Real HTTP throughout: the link is
 * followed the way a recruiter's browser would.
 */

const ONE_HOUR_MS = 60 * 60 * 1000;

describe('Certn report link that keeps working (real HTTP, Temporal dev server, PostgreSQL)', () => {
  let stack: Stack;
  let conn: Awaited<ReturnType<Stack['createConnection']>>;
  const logs: string[] = [];
  const logText = () => logs.join('');

  beforeAll(async () => {
    // Everything the service and the Temporal SDK log, at the most detailed level, to look for the token in.
    stack = await startStack({
      logDestination: { write: (line) => void logs.push(line) },
      logLevel: 'debug',
    });
    conn = await stack.createConnection();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const stageId = (name: string) => stack.lever.stageIdByName(name);

  /** A candidate of the connection moved into the trigger stage, whose Certn case is then COMPLETE. */
  async function completedCheck() {
    const email = `ada-${Math.random().toString(36).slice(2)}@example.com`;
    const posting = stack.lever.createPosting({ text: 'Site Reliability Engineer', tags: [] });
    const opp = stack.lever.createOpportunity({
      name: 'Ada Lovelace',
      emails: [email],
      tags: [],
      postingId: posting.id,
      stageId: stageId('Phone screen'),
    });
    await stack.lever.moveToStage(opp.id, stageId('Background Check'));
    const certnCase = await eventually(
      () => stack.certn.cases().find((c) => c.email_address === email),
      30_000,
      'the Certn case',
    );
    await stack.certn.setStatus(certnCase.id, 'COMPLETE');
    const handle = stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id));
    expect(((await handle.result()) as { status: string }).status).toBe('Complete');
    return { opp, caseId: certnCase.id };
  }

  const resultsNotes = (opportunityId: string) =>
    stack.lever.notes(opportunityId).filter((n) => n.value.includes('Complete results'));

  /** What a link answers without following a redirect. */
  async function open(url: string) {
    const res = await fetch(url, { redirect: 'manual' });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      cacheControl: res.headers.get('cache-control'),
      location: res.headers.get('location'),
      retryAfter: res.headers.get('retry-after'),
      body: res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as unknown) : text,
    };
  }

  it('puts the service’s link on the profile, which still yields the PDF after Certn’s own URL has expired', async () => {
    const { opp, caseId } = await completedCheck();
    const links = stack.lever.opportunity(opp.id).links;
    expect(links).toHaveLength(1);
    const link = links[0]!;
    const url = new URL(link);
    expect(url.origin).toBe(stack.api.url);
    expect(url.pathname).toMatch(new RegExp(`^/reports/${conn.id}/[^/]+$`));
    const token = url.searchParams.get('token') ?? '';
    expect(token).not.toBe('');
    // The secret results note carries the same, stable link.
    const notes = resultsNotes(opp.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.secret).toBe(true);
    expect(notes[0]!.value.split('\n')).toContain(link);

    // Opened now, the link hands out Certn's signed URL, here with a short lifetime; no cache may keep the answer.
    stack.certn.reportUrlTtlMs = 200;
    const first = await open(link);
    expect(first).toMatchObject({ status: 302, cacheControl: 'no-store' });
    const certnUrl = first.location ?? '';
    expect(new URL(certnUrl).origin).toBe(stack.certn.url);
    await eventually(
      async () => ((await fetch(certnUrl)).status === 403 ? true : undefined),
      10_000,
      'Certn’s pdf_url to expire',
    );
    stack.certn.reportUrlTtlMs = ONE_HOUR_MS;

    // Opened later, the same link still yields the PDF, through a URL Certn signed just now.
    const later = await fetch(link);
    expect(later.status).toBe(200);
    expect(later.redirected).toBe(true);
    expect(new URL(later.url).origin).toBe(stack.certn.url);
    expect(later.url).not.toBe(certnUrl);
    expect(later.headers.get('content-type')).toMatch(/^application\/pdf/);
    const pdf = Buffer.from(await later.arrayBuffer()).toString('latin1');
    expect(pdf.startsWith('%PDF-')).toBe(true);
    expect(pdf).toContain(`Case: ${caseId}`);
    expect((await fetch(certnUrl)).status).toBe(403);

    // Neither the token nor a Certn URL is ever logged.
    expect(logs.length).toBeGreaterThan(0);
    expect(logText()).not.toContain(token);
    expect(logText()).not.toContain(new URL(certnUrl).searchParams.get('signature'));
    expect(logText()).not.toContain(new URL(later.url).searchParams.get('signature'));
  });

  it('answers a wrong token, another connection’s token, an unknown report or connection and a vendor without the capability with the same 404', async () => {
    const { opp } = await completedCheck();
    const link = new URL(stack.lever.opportunity(opp.id).links[0]!);
    const token = link.searchParams.get('token') ?? '';
    const reportId = decodeURIComponent(link.pathname.split('/')[3] ?? '');
    const other = await stack.createConnection();
    // Its Lever webhook would start a second check for every candidate moved later in this file.
    stack.lever.removeWebhook(other.webhookId);
    const justifacts = await stack.adminCreate({
      name: stack.unique('Customer'),
      lever: { ...stack.leverAccount(), triggerStageName: 'Background Check' },
      vendor: {
        type: 'justifacts',
        apiBaseUrl: stack.justifacts.apiBaseUrl,
        apiKey: stack.unique('justifacts-key'),
        callbackSecret: stack.unique('justifacts-callback'),
        packages: [],
      },
    });
    const base = `${stack.api.url}/reports`;
    const flipped = `${token.startsWith('A') ? 'B' : 'A'}${token.slice(1)}`;
    const probes: Record<string, string> = {
      'a tampered token': `${base}/${conn.id}/${reportId}?token=${flipped}`,
      'a shortened token': `${base}/${conn.id}/${reportId}?token=${token.slice(0, -1)}`,
      'no token': `${base}/${conn.id}/${reportId}`,
      'the token twice': `${base}/${conn.id}/${reportId}?token=${token}&token=${token}`,
      'the token with another connection': `${base}/${other.id}/${reportId}?token=${token}`,
      'the token with another report': `${base}/${conn.id}/${reportId}x?token=${token}`,
      // Signed with the service's key: only what the link names is wrong.
      'a report of another connection': stack.reportLinks.url(other.id, reportId),
      'an unknown report': stack.reportLinks.url(conn.id, 'no-such-report'),
      'an unknown connection': stack.reportLinks.url('conn_unknown', reportId),
      'a vendor whose links do not expire': stack.reportLinks.url(justifacts.id, reportId),
    };
    const expected = {
      status: 404,
      contentType: 'application/problem+json; charset=utf-8',
      cacheControl: 'no-store',
      location: null,
      retryAfter: null,
      body: { type: 'about:blank', title: 'Not Found', status: 404, detail: 'No report at this link.' },
    };
    for (const [what, url] of Object.entries(probes)) {
      expect({ what, answer: await open(url) }).toEqual({ what, answer: expected });
    }
    // The genuine link still works.
    expect((await open(link.href)).status).toBe(302);
  });

  it('answers 503 problem+json with Retry-After while Certn fails, and redirects again once it answers', async () => {
    const { opp } = await completedCheck();
    const link = stack.lever.opportunity(opp.id).links[0]!;
    const token = new URL(link).searchParams.get('token') ?? '';
    stack.certn.setFaults({ errorRate: 1, seed: 7 });
    try {
      const answer = await open(link);
      expect(answer).toMatchObject({
        status: 503,
        contentType: 'application/problem+json; charset=utf-8',
        cacheControl: 'no-store',
        location: null,
        body: { status: 503, detail: 'Certn could not give the report just now; try again in a minute.' },
      });
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    } finally {
      stack.certn.clearFaults();
    }
    expect((await open(link)).status).toBe(302);
    // The failure is logged for operators, without the token.
    const warning = logs.find((line) => line.includes('report link') && line.includes(conn.id));
    expect(warning).toBeDefined();
    expect(logText()).not.toContain(token);
  });

  it('keeps one link when Lever saved it but answered 500: the retry signs another report yet finds its note', async () => {
    stack.lever.failNextAfterWrite(1, { method: 'POST', path: '/addLinks' });
    const { opp, caseId } = await completedCheck();
    expect(stack.lever.faults().stats.failedAfterWrite).toBe(1);
    // Each attempt asked Certn for a report: without the note the retry would have linked the second one.
    expect(stack.certn.reportFiles().filter((f) => f.case_id === caseId)).toHaveLength(2);
    const links = stack.lever.opportunity(opp.id).links;
    expect(links).toHaveLength(1);
    const notes = resultsNotes(opp.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.value.split('\n')).toContain(links[0]);
    expect((await fetch(links[0]!)).headers.get('content-type')).toMatch(/^application\/pdf/);
  });

  // Last: the connection's Certn key stays revoked.
  it('answers 502 problem+json when Certn refuses the connection’s API key', async () => {
    const { opp } = await completedCheck();
    const link = stack.lever.opportunity(opp.id).links[0]!;
    stack.certn.revokeApiKey(conn.certnApiKey);
    expect(await open(link)).toMatchObject({
      status: 502,
      contentType: 'application/problem+json; charset=utf-8',
      cacheControl: 'no-store',
      location: null,
      body: {
        status: 502,
        detail: 'Certn refused to give the report (HTTP 401); the connection may need new Certn settings.',
      },
    });
  });
});
