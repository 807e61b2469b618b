import express from 'express';
import { leverSignature } from '../../src/integrations/signature';
import { listen } from '../../sandbox/kit';
import type { RunningServer } from '../../sandbox/kit';
import { startLeverEmulator } from '../../sandbox/lever-emulator';
import type { RunningLeverEmulator, WebhookBody } from '../../sandbox/lever-emulator';

const KEY = 'test-key-1';
const basic = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

interface ApiResponse {
  status: number;
  body: unknown;
  headers: Headers;
}

async function call(
  base: string,
  path: string,
  opts: { method?: string; key?: string | null; authorization?: string; body?: unknown; raw?: string } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (opts.authorization !== undefined) headers.Authorization = opts.authorization;
  else if (opts.key !== null) headers.Authorization = basic(opts.key ?? KEY);
  let body: string | undefined;
  if (opts.raw !== undefined || opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = opts.raw ?? JSON.stringify(opts.body);
  }
  const res = await fetch(`${base}${path}`, { method: opts.method ?? 'GET', headers, body });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
    headers: res.headers,
  };
}

/** Narrows `{ data: T }` responses for assertions. */
function data<T = Record<string, unknown>>(res: ApiResponse): T {
  return (res.body as { data: T }).data;
}

/** A webhook receiver that answers the next statuses in order (then 200) and records every request. */
interface Receiver {
  url: string;
  requests: { body: WebhookBody; raw: string; headers: Record<string, string | string[] | undefined> }[];
  statuses: number[];
  server: RunningServer;
}

async function startReceiver(statuses: number[] = []): Promise<Receiver> {
  const receiver: Omit<Receiver, 'url' | 'server'> = { requests: [], statuses: [...statuses] };
  const app = express();
  app.use(express.text({ type: '*/*' }));
  app.post('/hook', (req, res) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    receiver.requests.push({ body: JSON.parse(raw) as WebhookBody, raw, headers: req.headers });
    const status = receiver.statuses.shift() ?? 200;
    if (status >= 300 && status < 400) res.redirect(status, '/elsewhere');
    else res.status(status).json({ ok: status < 300 });
  });
  app.post('/elsewhere', (_req, res) => {
    res.status(200).end();
  });
  const server = await listen(app);
  return { ...receiver, url: `${server.url}/hook`, server };
}

describe('Lever emulator', () => {
  let lever: RunningLeverEmulator;
  let api: string;
  const receivers: RunningServer[] = [];
  const receiver = async (statuses: number[] = []): Promise<Receiver> => {
    const r = await startReceiver(statuses);
    receivers.push(r.server);
    return r;
  };

  beforeAll(async () => {
    lever = await startLeverEmulator({
      rateLimit: { perSecond: 1000, burst: 1000 },
      webhookRetryDelaysMs: [10, 10, 10, 10, 10],
    });
    api = lever.apiBaseUrl;
    lever.addApiKey(KEY);
  });

  afterAll(async () => {
    await lever.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  describe('authentication', () => {
    it('accepts Basic auth (key as username, empty password) and Bearer', async () => {
      expect(api).toBe(`${lever.url}/v1`);
      const res = await call(api, '/stages');
      expect(res.status).toBe(200);
      expect(data<{ id: string; text: string }[]>(res).map((s) => s.text)).toEqual([
        'New applicant',
        'Phone screen',
        'On-site interview',
        'Background Check',
        'Offer',
        'Hired',
      ]);
      const bearer = await call(api, '/users', { authorization: `Bearer ${KEY}` });
      expect(bearer.status).toBe(200);
      expect(data<unknown[]>(bearer)).toHaveLength(2);
    });

    it('answers 401 for a missing or unknown key', async () => {
      const missing = await call(api, '/stages', { key: null });
      expect(missing.status).toBe(401);
      expect(missing.body).toMatchObject({ code: 'Unauthorized' });
      const unknown = await call(api, '/stages', { key: 'nope' });
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual({ code: 'Unauthorized', message: expect.any(String) as string });
    });

    it('answers 401 for every call once a key is revoked (in-process and over /_sandbox)', async () => {
      lever.addApiKey('temp-key');
      expect((await call(api, '/stages', { key: 'temp-key' })).status).toBe(200);
      lever.revokeApiKey('temp-key');
      expect((await call(api, '/stages', { key: 'temp-key' })).status).toBe(401);
      expect((await call(api, '/users', { key: 'temp-key' })).status).toBe(401);

      const added = await call(lever.url, '/_sandbox/api-keys', {
        method: 'POST',
        key: null,
        body: { key: 'http-key' },
      });
      expect(added.status).toBe(201);
      expect((await call(api, '/stages', { key: 'http-key' })).status).toBe(200);
      const revoked = await call(lever.url, '/_sandbox/api-keys/http-key', { method: 'DELETE', key: null });
      expect(revoked.status).toBe(204);
      expect((await call(api, '/stages', { key: 'http-key' })).status).toBe(401);
    });
  });

  describe('opportunities and postings', () => {
    it('returns an opportunity in Lever shape, expanding stage and applications on request', async () => {
      const posting = lever.createPosting({ text: 'Staff Engineer', categories: { team: 'Platform' } });
      const opp = lever.createOpportunity({
        name: 'Ada Lovelace',
        emails: ['ada@example.com'],
        phones: [{ type: 'mobile', value: '+1 555 0100' }],
        location: 'London',
        postingId: posting.id,
      });

      const plain = await call(api, `/opportunities/${opp.id}`);
      expect(plain.status).toBe(200);
      const p = data(plain);
      expect(p).toMatchObject({
        id: opp.id,
        name: 'Ada Lovelace',
        headline: '',
        stage: lever.stageIdByName('New applicant'),
        location: 'London',
        emails: ['ada@example.com'],
        phones: [{ type: 'mobile', value: '+1 555 0100' }],
        origin: 'applied',
        archived: null,
        links: [],
        sources: [],
      });
      expect(p.contact).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
      expect(p.applications).toEqual([expect.any(String)]);

      const expanded = await call(api, `/opportunities/${opp.id}?expand=applications&expand=stage`);
      const e = data(expanded);
      expect(e.stage).toEqual({ id: lever.stageIdByName('New applicant'), text: 'New applicant' });
      expect(e.applications).toEqual([
        {
          id: opp.applications[0],
          opportunityId: opp.id,
          candidateId: opp.contact,
          type: 'posting',
          posting: posting.id,
          createdAt: expect.any(Number) as number,
        },
      ]);

      const onlyStage = data(await call(api, `/opportunities/${opp.id}?expand=stage`));
      expect(onlyStage.stage).toMatchObject({ text: 'New applicant' });
      expect(onlyStage.applications).toEqual(opp.applications);
    });

    it('answers 404 ResourceNotFound for an unknown opportunity', async () => {
      const res = await call(api, '/opportunities/does-not-exist');
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 'ResourceNotFound' });
    });

    it("returns postings and adds the posting's tags to the candidate who applies", async () => {
      const posting = lever.createPosting({
        text: 'Driver',
        categories: { team: 'Fleet', department: 'Ops', location: 'Berlin', commitment: 'Full-time' },
        tags: ['bgc:package=standard', 'driving'],
      });
      const res = await call(api, `/postings/${posting.id}`);
      expect(res.status).toBe(200);
      expect(data(res)).toMatchObject({
        id: posting.id,
        text: 'Driver',
        state: 'published',
        categories: { team: 'Fleet', department: 'Ops', location: 'Berlin', commitment: 'Full-time' },
        tags: ['bgc:package=standard', 'driving'],
      });

      const opp = lever.createOpportunity({
        name: 'Grace',
        tags: ['referral', 'driving'],
        postingId: posting.id,
      });
      const fetched = data(await call(api, `/opportunities/${opp.id}`));
      expect(fetched.tags).toEqual(['referral', 'driving', 'bgc:package=standard']);
      const withoutPosting = lever.createOpportunity({ name: 'No posting' });
      expect(withoutPosting.tags).toEqual([]);
      expect(withoutPosting.applications).toEqual([]);
    });

    it('addTags never duplicates and removeTags only removes the given tags', async () => {
      const opp = lever.createOpportunity({ name: 'Tags', tags: ['a', 'b'] });
      lever.addTagsDirect(opp.id, ['recruiter-tag']);
      const added = await call(api, `/opportunities/${opp.id}/addTags?perform_as=${lever.users()[0]?.id}`, {
        method: 'POST',
        body: { tags: ['b', 'bgc:in-progress', 'bgc:in-progress'] },
      });
      expect(added.status).toBe(200);
      expect(data(added).tags).toEqual(['a', 'b', 'recruiter-tag', 'bgc:in-progress']);
      const again = await call(api, `/opportunities/${opp.id}/addTags`, {
        method: 'POST',
        body: { tags: ['bgc:in-progress'] },
      });
      expect(data(again).tags).toEqual(['a', 'b', 'recruiter-tag', 'bgc:in-progress']);

      const removed = await call(api, `/opportunities/${opp.id}/removeTags`, {
        method: 'POST',
        body: { tags: ['bgc:in-progress', 'never-there'] },
      });
      expect(removed.status).toBe(200);
      expect(data(removed).tags).toEqual(['a', 'b', 'recruiter-tag']);
      expect(lever.opportunity(opp.id).tags).toEqual(['a', 'b', 'recruiter-tag']);
    });

    it('validates bodies: wrong shape and malformed JSON give 400 BadRequest', async () => {
      const opp = lever.createOpportunity({ name: 'Bodies' });
      const wrong = await call(api, `/opportunities/${opp.id}/addTags`, {
        method: 'POST',
        body: { tags: 'x' },
      });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toEqual({ code: 'BadRequest', message: expect.any(String) as string });
      const malformed = await call(api, `/opportunities/${opp.id}/addTags`, {
        method: 'POST',
        raw: '{"tags":',
      });
      expect(malformed.status).toBe(400);
      expect(malformed.body).toMatchObject({ code: 'BadRequest' });
      const sandboxBad = await call(lever.url, '/_sandbox/opportunities', {
        method: 'POST',
        key: null,
        body: { emails: [] },
      });
      expect(sandboxBad.status).toBe(400);
      expect(lever.opportunity(opp.id).tags).toEqual([]);
    });

    it('creates notes with 201 { noteId } and lists them', async () => {
      const opp = lever.createOpportunity({ name: 'Notes' });
      const created = await call(api, `/opportunities/${opp.id}/notes`, {
        method: 'POST',
        body: { value: 'Background check complete: clear', secret: true },
      });
      expect(created.status).toBe(201);
      const { noteId } = data<{ noteId: string }>(created);
      expect(noteId).toEqual(expect.any(String));

      const listed = await call(api, `/opportunities/${opp.id}/notes`);
      expect(listed.status).toBe(200);
      expect(data<unknown[]>(listed)).toEqual([
        expect.objectContaining({
          id: noteId,
          text: 'Background check complete: clear',
          fields: [{ type: 'text', value: 'Background check complete: clear' }],
          secret: true,
          createdAt: expect.any(Number) as number,
        }),
      ]);
      expect(lever.notes(opp.id)).toEqual([
        expect.objectContaining({ id: noteId, value: 'Background check complete: clear', secret: true }),
      ]);
      const missingValue = await call(api, `/opportunities/${opp.id}/notes`, { method: 'POST', body: {} });
      expect(missingValue.status).toBe(400);
      expect(lever.notes(opp.id)).toHaveLength(1);
    });

    it('adds and removes links', async () => {
      const opp = lever.createOpportunity({ name: 'Links' });
      const added = await call(api, `/opportunities/${opp.id}/addLinks`, {
        method: 'POST',
        body: { links: ['https://vendor.example/report/1', 'https://other.example'] },
      });
      expect(added.status).toBe(200);
      expect(data(added).links).toEqual(['https://vendor.example/report/1', 'https://other.example']);
      const removed = await call(api, `/opportunities/${opp.id}/removeLinks`, {
        method: 'POST',
        body: { links: ['https://other.example'] },
      });
      expect(data(removed).links).toEqual(['https://vendor.example/report/1']);
      expect(lever.opportunity(opp.id).links).toEqual(['https://vendor.example/report/1']);
    });

    it('lists offers set through the control API', async () => {
      const opp = lever.createOpportunity({ name: 'Offer' });
      expect(data<unknown[]>(await call(api, `/opportunities/${opp.id}/offers`))).toEqual([]);
      const offer = lever.setOffer(opp.id, {
        status: 'sent',
        fields: [{ text: 'Job title', identifier: 'job_title', value: 'Driver' }],
      });
      const res = await call(api, `/opportunities/${opp.id}/offers`);
      expect(data<unknown[]>(res)).toEqual([
        {
          id: offer.id,
          status: 'sent',
          createdAt: expect.any(Number) as number,
          fields: [{ text: 'Job title', identifier: 'job_title', value: 'Driver' }],
        },
      ]);
      const signed = await call(lever.url, `/_sandbox/opportunities/${opp.id}/offers`, {
        method: 'POST',
        key: null,
        body: { status: 'signed', fields: [] },
      });
      expect(signed.status).toBe(201);
      expect(
        data<{ id: string; status: string }[]>(await call(api, `/opportunities/${opp.id}/offers`)),
      ).toEqual([expect.objectContaining({ id: offer.id, status: 'signed' })]);
    });

    it('drives state over the /_sandbox HTTP control routes without an API key', async () => {
      const stages = await call(lever.url, '/_sandbox/stages', { key: null });
      expect(stages.status).toBe(200);
      const posting = await call(lever.url, '/_sandbox/postings', {
        method: 'POST',
        key: null,
        body: { text: 'Nurse', tags: ['healthcare'] },
      });
      const postingId = (posting.body as { id: string }).id;
      const created = await call(lever.url, '/_sandbox/opportunities', {
        method: 'POST',
        key: null,
        body: { name: 'Florence', postingId },
      });
      expect(created.status).toBe(201);
      const id = (created.body as { id: string }).id;
      await call(lever.url, `/_sandbox/opportunities/${id}/emails`, {
        method: 'POST',
        key: null,
        body: { emails: ['florence@example.com'] },
      });
      await call(lever.url, `/_sandbox/opportunities/${id}/tags`, {
        method: 'POST',
        key: null,
        body: { tags: ['ui-tag'] },
      });
      const moved = await call(lever.url, `/_sandbox/opportunities/${id}/move`, {
        method: 'POST',
        key: null,
        body: { stageId: lever.stageIdByName('Phone screen') },
      });
      expect(moved.status).toBe(200);
      expect(moved.body).toEqual([]); // no candidateStageChange webhook registered in this test's emulator yet
      const state = await call(lever.url, `/_sandbox/opportunities/${id}`, { key: null });
      expect(state.body).toMatchObject({
        opportunity: {
          id,
          emails: ['florence@example.com'],
          tags: ['healthcare', 'ui-tag'],
          stage: lever.stageIdByName('Phone screen'),
        },
        notes: [],
      });
      const stats = await call(lever.url, '/_sandbox/stats', { key: null });
      expect(stats.body).toEqual(lever.stats());
    });
  });

  describe('webhooks', () => {
    it('moveToStage delivers a correctly signed candidateStageChange', async () => {
      const r = await receiver();
      const hook = lever.addWebhook({
        event: 'candidateStageChange',
        url: r.url,
        signatureToken: 'sig-token-1',
      });
      const opp = lever.createOpportunity({ name: 'Signed' });
      const from = lever.stageIdByName('New applicant');
      const to = lever.stageIdByName('Background Check');

      const deliveries = await lever.moveToStage(opp.id, to);
      lever.removeWebhook(hook.id);

      expect(lever.opportunity(opp.id).stage).toBe(to);
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]).toMatchObject({ delivered: true, attempts: [{ status: 200 }] });
      expect(r.requests).toHaveLength(1);
      const req = r.requests[0]!;
      expect(req.headers['content-type']).toMatch(/^application\/json/);
      expect(req.headers['user-agent']).toBe('Lever-Webhooks');
      const body = req.body;
      expect(body).toEqual({
        id: expect.any(String) as string,
        event: 'candidateStageChange',
        triggeredAt: expect.any(Number) as number,
        token: expect.stringMatching(/^[0-9a-f]{48}$/) as string,
        signature: expect.any(String) as string,
        data: {
          opportunityId: opp.id,
          candidateId: opp.contact,
          contactId: opp.contact,
          fromStageId: from,
          toStageId: to,
        },
      });
      expect(body.signature).toBe(leverSignature('sig-token-1', body.token, body.triggeredAt));
      expect(body.signature).not.toBe(leverSignature('other-token', body.token, body.triggeredAt));
    });

    it('retries a failed delivery with the same body until it succeeds', async () => {
      const r = await receiver([500, 500]);
      const hook = lever.addWebhook({ event: 'candidateStageChange', url: r.url, signatureToken: 'tok' });
      const opp = lever.createOpportunity({ name: 'Retry' });
      const [delivery] = await lever.moveToStage(opp.id, lever.stageIdByName('Offer'));
      lever.removeWebhook(hook.id);

      expect(r.requests).toHaveLength(3);
      expect(new Set(r.requests.map((q) => q.raw)).size).toBe(1);
      expect(delivery?.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
      expect(delivery?.delivered).toBe(true);
      expect(lever.deliveries().find((d) => d.id === delivery?.id)?.attempts).toHaveLength(3);
    });

    it('counts 3xx and network errors as failures and gives up after five retries', async () => {
      const r = await receiver([302, 302, 302, 302, 302, 302]);
      const redirectHook = lever.addWebhook({ event: 'candidateHired', url: r.url, signatureToken: 'tok' });
      const dead = await startReceiver(); // closed right away: not in `receivers`
      await dead.server.close();
      const deadHook = lever.addWebhook({ event: 'candidateHired', url: dead.url, signatureToken: 'tok' });
      const opp = lever.createOpportunity({ name: 'Redirect' });

      const deliveries = await lever.hire(opp.id);
      lever.removeWebhook(redirectHook.id);
      lever.removeWebhook(deadHook.id);

      expect(lever.opportunity(opp.id).stage).toBe(lever.stageIdByName('Hired'));
      const redirected = deliveries.find((d) => d.url === r.url);
      expect(redirected?.attempts.map((a) => a.status)).toEqual([302, 302, 302, 302, 302, 302]);
      expect(redirected?.delivered).toBe(false);
      expect(r.requests).toHaveLength(6);
      expect(r.requests[0]?.body.data).toMatchObject({
        opportunityId: opp.id,
        toStageId: lever.stageIdByName('Hired'),
      });
      const unreachable = deliveries.find((d) => d.url === dead.url);
      expect(unreachable?.attempts.map((a) => a.status)).toEqual([null, null, null, null, null, null]);
      expect(unreachable?.delivered).toBe(false);
    });

    it('verifyConnection sends a signed event with empty data', async () => {
      const r = await receiver();
      const hook = lever.addWebhook({
        event: 'candidateStageChange',
        url: r.url,
        signatureToken: 'verify-tok',
      });
      const delivery = await lever.verifyConnection(hook.id);
      lever.removeWebhook(hook.id);

      expect(delivery.delivered).toBe(true);
      expect(r.requests).toHaveLength(1);
      const body = r.requests[0]!.body;
      expect(body.data).toEqual({});
      expect(body.signature).toBe(leverSignature('verify-tok', body.token, body.triggeredAt));
    });

    it('redeliver sends an identical body again', async () => {
      const r = await receiver();
      const hook = lever.addWebhook({ event: 'candidateStageChange', url: r.url, signatureToken: 'dup' });
      const opp = lever.createOpportunity({ name: 'Duplicate' });
      const [first] = await lever.moveToStage(opp.id, lever.stageIdByName('Phone screen'));
      const again = await lever.redeliver(first!.id);
      lever.removeWebhook(hook.id);

      expect(again.redeliveryOf).toBe(first!.id);
      expect(again.body).toEqual(first!.body);
      expect(r.requests).toHaveLength(2);
      expect(r.requests[1]!.raw).toBe(r.requests[0]!.raw);
    });

    it('exposes move, hire and verify over /_sandbox', async () => {
      const r = await receiver();
      const created = await call(lever.url, '/_sandbox/webhooks', {
        method: 'POST',
        key: null,
        body: { event: 'candidateStageChange', url: r.url, signatureToken: 'http-tok' },
      });
      expect(created.status).toBe(201);
      const hookId = (created.body as { id: string }).id;
      const opp = lever.createOpportunity({ name: 'Sandbox hooks' });
      const moved = await call(lever.url, `/_sandbox/opportunities/${opp.id}/move`, {
        method: 'POST',
        key: null,
        body: { stageName: 'Background Check' },
      });
      expect(moved.body).toEqual([
        expect.objectContaining({ delivered: true, event: 'candidateStageChange' }),
      ]);
      const verified = await call(lever.url, `/_sandbox/webhooks/${hookId}/verify`, {
        method: 'POST',
        key: null,
      });
      expect(verified.body).toMatchObject({ delivered: true, body: { data: {} } });
      lever.removeWebhook(hookId);
      expect(r.requests.map((q) => q.body.data)).toEqual([
        expect.objectContaining({
          opportunityId: opp.id,
          toStageId: lever.stageIdByName('Background Check'),
        }),
        {},
      ]);
    });
  });

  describe('request and tag listeners (what the benchmarks count)', () => {
    it('reports each answered /v1 request by route and opportunity, and each change of tags', async () => {
      const opp = lever.createOpportunity({ name: 'Counted Candidate', emails: ['counted@example.com'] });
      const requests: { method: string; route: string; opportunityId: string | undefined; status: number }[] =
        [];
      const changes: { opportunityId: string; tags: string[] }[] = [];
      const stopRequests = lever.onRequest(({ method, route, opportunityId, status }) =>
        requests.push({ method, route, opportunityId, status }),
      );
      const stopTags = lever.onTagsChanged(({ opportunityId, tags }) =>
        changes.push({ opportunityId, tags }),
      );
      try {
        await call(api, `/opportunities/${opp.id}?expand=stage`);
        await call(api, `/opportunities/${opp.id}/addTags`, { method: 'POST', body: { tags: ['A', 'B'] } });
        await call(api, `/opportunities/${opp.id}/removeTags`, { method: 'POST', body: { tags: ['A'] } });
        await call(api, '/stages', { key: 'not-a-key' });
        lever.addTagsDirect(opp.id, ['By hand']);
      } finally {
        stopRequests();
        stopTags();
      }
      await call(api, '/stages'); // after the listener stopped: not reported
      expect(requests).toEqual([
        { method: 'GET', route: '/opportunities/:id', opportunityId: opp.id, status: 200 },
        { method: 'POST', route: '/opportunities/:id/addTags', opportunityId: opp.id, status: 200 },
        { method: 'POST', route: '/opportunities/:id/removeTags', opportunityId: opp.id, status: 200 },
        { method: 'GET', route: '/stages', opportunityId: undefined, status: 401 },
      ]);
      expect(changes).toEqual([
        { opportunityId: opp.id, tags: ['A', 'B'] },
        { opportunityId: opp.id, tags: ['B'] },
        { opportunityId: opp.id, tags: ['B', 'By hand'] },
      ]);
    });
  });

  describe('failure injection', () => {
    it('failNext makes the next calls answer 503', async () => {
      lever.failNext(1);
      const failed = await call(api, '/stages');
      expect(failed.status).toBe(503);
      expect(failed.body).toMatchObject({
        code: expect.any(String) as string,
        message: expect.any(String) as string,
      });
      expect((await call(api, '/stages')).status).toBe(200);
    });
  });
});

describe('Lever emulator rate limit (defaults: 10/s, burst 20, per key)', () => {
  let lever: RunningLeverEmulator;

  beforeAll(async () => {
    lever = await startLeverEmulator();
    lever.addApiKey('busy');
    lever.addApiKey('quiet');
  });

  afterAll(async () => {
    await lever.close();
  });

  it('answers 429 over the burst, counts it in stats, and does not affect another key', async () => {
    lever.resetStats();
    const results = await Promise.all(
      Array.from({ length: 25 }, () => call(lever.apiBaseUrl, '/stages', { key: 'busy' })),
    );
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(20);
    expect(limited[0]?.body).toEqual({ code: 'TooManyRequests', message: 'Rate limit exceeded' });
    expect(limited[0]?.headers.get('retry-after')).toBeNull();

    const other = await call(lever.apiBaseUrl, '/stages', { key: 'quiet' });
    expect(other.status).toBe(200);

    expect(lever.stats()).toEqual({ requests: 26, rateLimited: limited.length });
    lever.resetStats();
    expect(lever.stats()).toEqual({ requests: 0, rateLimited: 0 });
  });

  it('refills the bucket over time', async () => {
    lever.resetRateLimits();
    const burst = await Promise.all(
      Array.from({ length: 22 }, () => call(lever.apiBaseUrl, '/stages', { key: 'busy' })),
    );
    expect(burst.some((r) => r.status === 429)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 250)); // 10/s → at least 2 tokens back
    expect((await call(lever.apiBaseUrl, '/stages', { key: 'busy' })).status).toBe(200);
  });
});
