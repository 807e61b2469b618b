import express from 'express';
import { Pool } from 'pg';
import { AshbySide, cancelledReason } from '../../src/ats/ashby/side';
import { AssessmentRepository } from '../../src/ats/ashby/assessments';
import { ExternalApiError } from '../../src/integrations/http-client';
import {
  ASHBY_STATUS_LABELS,
  AshbyClient,
  ashbyPartnerAuthorized,
  assessmentCancelRequestSchema,
  assessmentListRequestSchema,
  assessmentStartRequestSchema,
  profileUrlField,
  resultUpdate,
  statusField,
  statusUpdate,
  type AssessmentUpdate,
} from '../../src/ats/ashby/client';
import { listen, type RunningServer } from '../../sandbox/kit';
import { startAshbyEmulator, type RunningAshbyEmulator } from '../../sandbox/ashby-emulator';
import { justifactsAdapter } from '../../src/vendors/justifacts/adapter';
import type { StatusReason } from '../../src/domain/candidate';

const API_KEY = 'ashby-org-key';
const OTHER_KEY = 'ashby-other-org-key';
const SECRET = 'partner-shared-secret';
const PACKAGES = [{ assessment_type_id: 'pkg-13558', name: 'EmpCod', description: 'Employment + criminal' }];

interface ReceivedCall {
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

type TestPartner = RunningServer & {
  received: ReceivedCall[];
  baseUrl: string;
  /** assessment_id answered to the next starts; a new one each call by default. */
  startAnswers: { status: number; body: unknown }[];
};

/** A tiny partner (our service's role): checks the Bearer secret and answers fixed bodies. */
async function startPartner(): Promise<TestPartner> {
  const received: ReceivedCall[] = [];
  const startAnswers: { status: number; body: unknown }[] = [];
  let counter = 0;
  const app = express();
  app.use(express.json());
  app.use((req, res, next) => {
    received.push({
      path: req.path,
      authorization: req.get('authorization'),
      contentType: req.get('content-type'),
      body: req.body as unknown,
    });
    if (!ashbyPartnerAuthorized(req.get('authorization'), SECRET)) {
      res.status(401).json({ message: 'invalid partner secret' });
      return;
    }
    next();
  });
  app.post('/ashby/conn-1/assessment.list', (_req, res) => {
    res.json({ results: PACKAGES });
  });
  app.post('/ashby/conn-1/assessment.start', (_req, res) => {
    const answer = startAnswers.shift();
    if (answer) {
      res.status(answer.status).json(answer.body);
      return;
    }
    counter += 1;
    res.json({ success: true, results: { assessment_id: `asmt-${counter}` } });
  });
  app.post('/ashby/conn-1/assessment.cancel', (_req, res) => {
    res.json({ success: true });
  });
  const server = await listen(app);
  return Object.assign(server, { received, startAnswers, baseUrl: `${server.url}/ashby/conn-1` });
}

const candidate = { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' };

async function expectApiError(promise: Promise<unknown>): Promise<ExternalApiError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExternalApiError);
  return err as ExternalApiError;
}

describe('Ashby emulator and client', () => {
  let ashby: RunningAshbyEmulator;
  let partner: TestPartner;

  beforeEach(async () => {
    ashby = await startAshbyEmulator();
    partner = await startPartner();
    ashby.addOrganization({ apiKey: API_KEY });
    ashby.addOrganization({ apiKey: OTHER_KEY });
    ashby.registerPartner({ name: 'justifacts', baseUrl: partner.baseUrl, secret: SECRET, apiKey: API_KEY });
  });

  afterEach(async () => {
    await ashby.close();
    await partner.close();
  });

  async function startOne(): Promise<string> {
    const started = await ashby.startAssessment('justifacts', {
      assessmentTypeId: 'pkg-13558',
      candidate,
      job: { name: 'Engineer' },
    });
    expect(started.status).toBe(200);
    if (started.assessmentId === null) throw new Error('start was not accepted');
    return started.assessmentId;
  }

  describe('assessment.update through AshbyClient', () => {
    it('records updates sent with a good key, in order, and keeps the current status', async () => {
      const id = await startOne();
      const client = new AshbyClient(ashby.apiBaseUrl, API_KEY);
      const sent: AssessmentUpdate[] = [
        statusUpdate(id, 'Justifacts Received', 1_000),
        statusUpdate(id, 'Started', 2_000),
        statusUpdate(id, 'In Process Justifacts', 3_000),
        resultUpdate({ assessmentId: id, resultUrl: 'https://justifacts.test/results/42', timestamp: 4_000 }),
      ];
      for (const update of sent) await client.updateAssessment(update);

      expect(ashby.updates(id)).toEqual(sent);
      expect(ashby.assessment(id)).toMatchObject({
        id,
        partner: 'justifacts',
        assessmentTypeId: 'pkg-13558',
        candidate: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' },
        job: { name: 'Engineer' },
        status: 'Complete',
        startedAt: 2_000,
        completed: true,
        result: { identifier: 'result', type: 'string', value: 'Complete' },
        profileUrl: 'https://justifacts.test/results/42',
        cancelled: false,
      });
    });

    it('keeps the status of the latest timestamp when an older update arrives late', async () => {
      const id = await startOne();
      const client = new AshbyClient(ashby.apiBaseUrl, API_KEY);
      await client.updateAssessment(statusUpdate(id, 'Started', 2_000));
      await client.updateAssessment(statusUpdate(id, 'Received', 1_000));
      expect(ashby.updates(id)).toHaveLength(2);
      expect(ashby.assessment(id).status).toBe('Started');
    });

    it('answers 401 invalid_api_key for a wrong or revoked key, surfaced as ExternalApiError', async () => {
      const id = await startOne();
      const wrong = await expectApiError(
        new AshbyClient(ashby.apiBaseUrl, 'not-a-key').updateAssessment(statusUpdate(id, 'Received', 1)),
      );
      expect(wrong.status).toBe(401);
      expect(wrong.accessDenied).toBe(true);
      expect(wrong.message).toContain('invalid_api_key');

      ashby.revokeApiKey(API_KEY);
      const revoked = await expectApiError(
        new AshbyClient(ashby.apiBaseUrl, API_KEY).updateAssessment(statusUpdate(id, 'Received', 1)),
      );
      expect(revoked.status).toBe(401);
      expect(ashby.updates(id)).toEqual([]);

      const raw = await fetch(`${ashby.apiBaseUrl}/assessment.update`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(statusUpdate(id, 'Received', 1)),
      });
      expect(raw.status).toBe(401);
      expect(await raw.json()).toEqual({ success: false, errors: ['invalid_api_key'] });
    });

    it('refuses a result without an absolute url-typed profile url with 400', async () => {
      const id = await startOne();
      const client = new AshbyClient(ashby.apiBaseUrl, API_KEY);
      const result = { identifier: 'result', label: 'Result', type: 'string', value: 'Clear' };

      const missing = await expectApiError(
        client.updateAssessment({ assessment_id: id, timestamp: 1, assessment_result: result }),
      );
      expect(missing.status).toBe(400);
      expect(missing.permanent).toBe(true);
      expect(missing.message).toContain('assessment_profile_url');

      const notUrlType = await expectApiError(
        client.updateAssessment({
          assessment_id: id,
          timestamp: 1,
          assessment_result: result,
          assessment_profile_url: { ...profileUrlField('https://x.test/r'), type: 'string' },
        }),
      );
      expect(notUrlType.status).toBe(400);

      const relative = await expectApiError(
        client.updateAssessment({
          assessment_id: id,
          timestamp: 1,
          assessment_result: result,
          assessment_profile_url: { identifier: 'profile_url', label: 'Report', type: 'url', value: '/r/1' },
        }),
      );
      expect(relative.status).toBe(400);

      const nothing = await expectApiError(client.updateAssessment({ assessment_id: id, timestamp: 1 }));
      expect(nothing.status).toBe(400);

      expect(ashby.updates(id)).toEqual([]);
      expect(ashby.assessment(id).completed).toBe(false);
      expect(ashby.rejectedUpdates()).toHaveLength(4);
    });

    it('answers assessment_not_found for an id Ashby never got from the partner, or of another organization', async () => {
      const id = await startOne();
      const unknown = await expectApiError(
        new AshbyClient(ashby.apiBaseUrl, API_KEY).updateAssessment(
          statusUpdate('never-started', 'Received', 1),
        ),
      );
      expect(unknown.status).toBe(404);
      expect(unknown.message).toContain('assessment_not_found');

      const otherOrg = await expectApiError(
        new AshbyClient(ashby.apiBaseUrl, OTHER_KEY).updateAssessment(statusUpdate(id, 'Received', 1)),
      );
      expect(otherOrg.status).toBe(404);
      expect(ashby.updates(id)).toEqual([]);
    });

    it('treats HTTP 200 with success: false as an error, with the status the error code means', async () => {
      const lenient = await startAshbyEmulator({ errorsWithStatus200: true });
      try {
        lenient.addOrganization({ apiKey: API_KEY });
        const raw = await fetch(`${lenient.apiBaseUrl}/assessment.update`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Authorization: `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`,
          },
          body: JSON.stringify(statusUpdate('nope', 'Received', 1)),
        });
        expect(raw.status).toBe(200);
        expect(await raw.json()).toEqual({ success: false, errors: ['assessment_not_found'] });

        const notFound = await expectApiError(
          new AshbyClient(lenient.apiBaseUrl, API_KEY).updateAssessment(statusUpdate('nope', 'Received', 1)),
        );
        expect(notFound.status).toBe(404);
        const badKey = await expectApiError(
          new AshbyClient(lenient.apiBaseUrl, 'bad').updateAssessment(statusUpdate('nope', 'Received', 1)),
        );
        expect(badKey.status).toBe(401);
      } finally {
        await lenient.close();
      }
    });

    it('reports injected 503s and unreachable hosts as retryable errors', async () => {
      const id = await startOne();
      ashby.failUpdates(1);
      const client = new AshbyClient(ashby.apiBaseUrl, API_KEY);
      const failed = await expectApiError(client.updateAssessment(statusUpdate(id, 'Received', 1)));
      expect(failed.status).toBe(503);
      expect(failed.permanent).toBe(false);
      await client.updateAssessment(statusUpdate(id, 'Received', 1));
      expect(ashby.updates(id)).toHaveLength(1);

      const down = await expectApiError(
        new AshbyClient('http://127.0.0.1:1', API_KEY).updateAssessment(statusUpdate(id, 'Received', 1)),
      );
      expect(down.status).toBeNull();
    });
  });

  describe('acting as Ashby towards the partner', () => {
    it('lists assessments with {} and the Bearer partner secret', async () => {
      expect(await ashby.listAssessments('justifacts')).toEqual({ results: PACKAGES });
      expect(partner.received).toEqual([
        {
          path: '/ashby/conn-1/assessment.list',
          authorization: `Bearer ${SECRET}`,
          contentType: 'application/json',
          body: {},
        },
      ]);
      expect(assessmentListRequestSchema.safeParse(partner.received[0]?.body).success).toBe(true);
    });

    it('starts with the documented body, and a started assessment becomes known', async () => {
      expect(() => ashby.assessment('asmt-1')).toThrow(/unknown assessment/);
      const started = await ashby.startAssessment('justifacts', {
        assessmentTypeId: 'pkg-13558',
        candidate,
        job: { name: 'Engineer' },
      });
      expect(started).toMatchObject({
        status: 200,
        body: { success: true, results: { assessment_id: 'asmt-1' } },
        assessmentId: 'asmt-1',
      });
      const call = partner.received[0];
      expect(call?.path).toBe('/ashby/conn-1/assessment.start');
      expect(call?.authorization).toBe(`Bearer ${SECRET}`);
      expect(call?.body).toEqual({
        assessment_type_id: 'pkg-13558',
        candidate: {
          ashby_id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
          first_name: 'Ada',
          last_name: 'Lovelace',
          email: 'ada@example.com',
          ashby_profile_url: expect.stringMatching(/^https:\/\/.+/) as unknown,
        },
        application: { ashby_id: expect.any(String) as unknown, status: 'Active' },
        job: { ashby_id: expect.any(String) as unknown, name: 'Engineer' },
      });
      expect(call?.body).toEqual(started.request);
      const parsed = assessmentStartRequestSchema.parse(call?.body);
      expect(parsed.candidate.email).toBe('ada@example.com');

      expect(ashby.assessment('asmt-1')).toMatchObject({ id: 'asmt-1', status: null, completed: false });
      await new AshbyClient(ashby.apiBaseUrl, API_KEY).updateAssessment(
        statusUpdate('asmt-1', 'Received', 5),
      );
      expect(ashby.updates('asmt-1')).toHaveLength(1);
    });

    it('does not know an assessment whose start the partner refused (wrong secret, 409, 422)', async () => {
      ashby.registerPartner({
        name: 'wrong-secret',
        baseUrl: partner.baseUrl,
        secret: 'not-the-secret',
        apiKey: API_KEY,
      });
      const denied = await ashby.startAssessment('wrong-secret', {
        assessmentTypeId: 'pkg-13558',
        candidate,
        job: { name: 'Engineer' },
      });
      expect(denied).toMatchObject({
        status: 401,
        assessmentId: null,
        body: { message: 'invalid partner secret' },
      });
      expect(partner.received[0]?.authorization).toBe('Bearer not-the-secret');

      partner.startAnswers.push({ status: 422, body: { message: 'The candidate has no email address.' } });
      const noEmail = await ashby.startAssessment('justifacts', {
        assessmentTypeId: 'pkg-13558',
        candidate: { firstName: 'No', lastName: 'Mail' },
        job: { name: 'Engineer' },
      });
      expect(noEmail).toMatchObject({ status: 422, assessmentId: null });
      const sentCandidate = (partner.received[1]?.body as { candidate: Record<string, unknown> }).candidate;
      expect(sentCandidate).not.toHaveProperty('email');
      expect(assessmentStartRequestSchema.safeParse(partner.received[1]?.body).success).toBe(true);
      expect(ashby.assessments()).toEqual([]);
    });

    it('can start twice for the same candidate (same ashby_id) and knows both assessments', async () => {
      const first = await ashby.startAssessment('justifacts', {
        assessmentTypeId: 'pkg-13558',
        candidate,
        job: { name: 'Engineer' },
      });
      const second = await ashby.startAssessment('justifacts', {
        assessmentTypeId: 'pkg-other',
        candidate,
        job: { name: 'Engineer' },
        candidateAshbyId: first.request.candidate.ashby_id,
      });
      expect(second.request.candidate.ashby_id).toBe(first.request.candidate.ashby_id);
      expect(second.assessmentId).toBe('asmt-2');
      expect(ashby.assessments().map((a) => [a.id, a.assessmentTypeId, a.candidate.ashby_id])).toEqual([
        ['asmt-1', 'pkg-13558', first.request.candidate.ashby_id],
        ['asmt-2', 'pkg-other', first.request.candidate.ashby_id],
      ]);

      partner.startAnswers.push({ status: 409, body: { message: 'already being assessed' } });
      const third = await ashby.startAssessment('justifacts', {
        assessmentTypeId: 'pkg-13558',
        candidate,
        job: { name: 'Engineer' },
        candidateAshbyId: first.request.candidate.ashby_id,
      });
      expect(third).toMatchObject({ status: 409, assessmentId: null });
      expect(ashby.assessments()).toHaveLength(2);
    });

    it('applies an update_request returned with the start', async () => {
      partner.startAnswers.push({
        status: 200,
        body: {
          success: true,
          results: {
            assessment_id: 'asmt-u',
            update_request: { timestamp: 7, assessment_status: statusField('Received') },
          },
        },
      });
      const started = await ashby.startAssessment('justifacts', {
        assessmentTypeId: 'pkg-13558',
        candidate,
        job: { name: 'Engineer' },
      });
      expect(started.assessmentId).toBe('asmt-u');
      expect(ashby.assessment('asmt-u').status).toBe('Received');
      expect(ashby.updates('asmt-u')).toEqual([
        { assessment_id: 'asmt-u', timestamp: 7, assessment_status: statusField('Received') },
      ]);
    });

    it('cancels with { assessment_id } and marks the assessment cancelled', async () => {
      const id = await startOne();
      const res = await ashby.cancelAssessment('justifacts', id);
      expect(res).toEqual({ status: 200, body: { success: true } });
      expect(partner.received.at(-1)).toEqual({
        path: '/ashby/conn-1/assessment.cancel',
        authorization: `Bearer ${SECRET}`,
        contentType: 'application/json',
        body: { assessment_id: id },
      });
      expect(assessmentCancelRequestSchema.parse(partner.received.at(-1)?.body)).toEqual({
        assessment_id: id,
      });
      expect(ashby.assessment(id).cancelled).toBe(true);
    });

    it('records every partner call', async () => {
      await ashby.listAssessments('justifacts');
      const id = await startOne();
      await ashby.cancelAssessment('justifacts', id);
      expect(ashby.partnerCalls().map((c) => [c.method, c.status, c.headers.Authorization])).toEqual([
        ['assessment.list', 200, `Bearer ${SECRET}`],
        ['assessment.start', 200, `Bearer ${SECRET}`],
        ['assessment.cancel', 200, `Bearer ${SECRET}`],
      ]);
    });
  });

  describe('sandbox control over HTTP', () => {
    async function control(
      method: string,
      path: string,
      body?: unknown,
    ): Promise<{ status: number; body: unknown }> {
      const res = await fetch(`${ashby.url}/_sandbox${path}`, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
    }

    it('registers organizations and partners, starts, and exposes assessments and updates', async () => {
      expect((await control('POST', '/organizations', { apiKey: 'http-key' })).status).toBe(201);
      const registered = await control('POST', '/partners', {
        name: 'via-http',
        baseUrl: partner.baseUrl,
        secret: SECRET,
        apiKey: 'http-key',
      });
      expect(registered).toEqual({ status: 201, body: { name: 'via-http', baseUrl: partner.baseUrl } });
      expect((await control('POST', '/partners/via-http/list')).body).toEqual({ results: PACKAGES });

      const started = await control('POST', '/partners/via-http/start', {
        assessmentTypeId: 'pkg-13558',
        candidate,
        job: { name: 'Engineer' },
      });
      expect(started).toMatchObject({ status: 200, body: { status: 200, assessmentId: 'asmt-1' } });

      await new AshbyClient(ashby.apiBaseUrl, 'http-key').updateAssessment(
        statusUpdate('asmt-1', 'Started', 9),
      );
      expect((await control('GET', '/assessments/asmt-1')).body).toMatchObject({
        id: 'asmt-1',
        status: 'Started',
      });
      expect((await control('GET', '/assessments/asmt-1/updates')).body).toEqual([
        statusUpdate('asmt-1', 'Started', 9),
      ]);

      const cancelled = await control('POST', '/partners/via-http/cancel', { assessmentId: 'asmt-1' });
      expect(cancelled).toEqual({ status: 200, body: { status: 200, body: { success: true } } });

      expect((await control('DELETE', '/organizations/http-key')).status).toBe(204);
      const afterRevoke = await expectApiError(
        new AshbyClient(ashby.apiBaseUrl, 'http-key').updateAssessment(statusUpdate('asmt-1', 'Started', 10)),
      );
      expect(afterRevoke.status).toBe(401);

      expect((await control('GET', '/assessments/nope')).status).toBe(404);
      expect((await control('POST', '/partners', { name: 'x' })).status).toBe(400);
    });
  });

  describe('AshbySide: a check’s statuses as assessment updates', () => {
    // publishStatus never reads the repository (only snapshot does): a pool that never connects is enough.
    const pool = new Pool({ max: 1 });
    afterAll(() => pool.end());
    const side = (id: string) =>
      new AshbySide(new AshbyClient(ashby.apiBaseUrl, API_KEY), new AssessmentRepository(pool), 'conn-1', id);

    it('sends the seed’s labels for the running statuses', async () => {
      const id = await startOne();
      for (const [status, at] of [
        ['Pending', 1],
        ['In-Progress', 2],
        ['Analyzing', 3],
      ] as const) {
        await side(id).publishStatus(justifactsAdapter, {}, { status, at });
      }
      expect(ashby.updates(id).map((u) => u.assessment_status?.value)).toEqual([
        'Justifacts Received',
        'Started',
        'In Process Justifacts',
      ]);
    });

    it.each<['Error' | 'Rejected', StatusReason]>([
      ['Error', 'vendor-ended'],
      ['Error', 'failed'],
      ['Error', 'communication'],
      ['Rejected', 'no-package'],
      ['Rejected', 'refused'],
    ])('cancels the assessment with a reason when the check ends in %s (%s)', async (status, reason) => {
      const id = await startOne();
      await side(id).publishStatus(justifactsAdapter, {}, { status: 'Pending', at: 1 });
      const shown = await side(id).publishStatus(justifactsAdapter, {}, { status, reason, at: 2 });

      const text = cancelledReason('Justifacts', reason);
      expect(shown).toBe(text);
      expect(ashby.updates(id).at(-1)).toEqual({
        assessment_id: id,
        timestamp: 2,
        cancelled_reason: {
          identifier: 'cancelled_reason',
          label: 'Cancelled reason',
          type: 'string',
          value: text,
        },
      });
      expect(ashby.assessment(id)).toMatchObject({ cancelled: true, cancelledReason: text });
    });

    it('ends Ashby’s wait even when Ashby refuses the cancellation for good; a transient failure is retried', async () => {
      const id = await startOne();
      ashby.failUpdates(1, 404);
      await expect(
        side(id).publishStatus(justifactsAdapter, {}, { status: 'Error', reason: 'failed', at: 1 }),
      ).resolves.toBeNull();

      ashby.failUpdates(1, 503);
      await expect(
        side(id).publishStatus(justifactsAdapter, {}, { status: 'Error', reason: 'failed', at: 1 }),
      ).rejects.toBeInstanceOf(ExternalApiError);
    });
  });

  describe('cancelled reasons', () => {
    const reasons: (StatusReason | undefined)[] = [
      'no-email',
      'no-package',
      'refused',
      'vendor-ended',
      'cancelled',
      'access-denied',
      'communication',
      'failed',
      undefined,
    ];

    it('say what happened and what to do, naming the vendor', () => {
      for (const reason of reasons) {
        const text = cancelledReason('Justifacts', reason);
        expect(text).toContain('Justifacts');
        expect(text).toMatch(/new assessment/);
      }
      expect(cancelledReason('Justifacts', 'vendor-ended')).toMatch(/cancelled or expired/);
      expect(cancelledReason('Justifacts', 'failed')).toMatch(/API key/);
      expect(cancelledReason('Justifacts', 'communication')).toMatch(/could not be reached/);
    });

    it('tell the failures apart', () => {
      const texts = reasons.map((r) => cancelledReason('Justifacts', r));
      expect(new Set(texts).size).toBe(texts.length);
    });
  });

  describe('builders and partner auth', () => {
    it('names the seed’s assessment statuses, in the order they happen', () => {
      expect(ASHBY_STATUS_LABELS).toEqual([
        'Justifacts Received',
        'Started',
        'In Process Justifacts',
        'Complete',
      ]);
    });

    it('builds the documented fields', () => {
      expect(statusField('In Process')).toEqual({
        identifier: 'status',
        label: 'Status',
        type: 'string',
        value: 'In Process',
      });
      expect(profileUrlField('https://r.test/1')).toEqual({
        identifier: 'profile_url',
        label: 'Background check report',
        type: 'url',
        value: 'https://r.test/1',
      });
      expect(() => profileUrlField('/relative')).toThrow(TypeError);
      expect(resultUpdate({ assessmentId: 'a', resultUrl: 'https://r.test/1', timestamp: 3 })).toEqual({
        assessment_id: 'a',
        timestamp: 3,
        assessment_status: statusField('Complete'),
        assessment_result: { identifier: 'result', label: 'Result', type: 'string', value: 'Complete' },
        assessment_profile_url: profileUrlField('https://r.test/1'),
      });
    });

    it('checks the Bearer partner secret', () => {
      expect(ashbyPartnerAuthorized(`Bearer ${SECRET}`, SECRET)).toBe(true);
      expect(ashbyPartnerAuthorized(`bearer ${SECRET}`, SECRET)).toBe(true);
      expect(ashbyPartnerAuthorized('Bearer nope', SECRET)).toBe(false);
      expect(ashbyPartnerAuthorized(SECRET, SECRET)).toBe(false);
      expect(ashbyPartnerAuthorized(undefined, SECRET)).toBe(false);
      expect(ashbyPartnerAuthorized('Bearer ', '')).toBe(false);
    });

    it('validates what Ashby sends', () => {
      const body = {
        assessment_type_id: 'pkg',
        candidate: {
          ashby_id: 'c',
          first_name: 'A',
          last_name: 'B',
          email: '',
          ashby_profile_url: 'https://a',
        },
        application: { ashby_id: 'app', status: 'Active' },
        job: { ashby_id: 'j', name: 'Engineer', extra: 1 },
      };
      expect(assessmentStartRequestSchema.safeParse(body).success).toBe(true);
      expect(
        assessmentStartRequestSchema.safeParse({ ...body, candidate: { first_name: 'A' } }).success,
      ).toBe(false);
      expect(assessmentStartRequestSchema.safeParse({ ...body, assessment_type_id: '' }).success).toBe(false);
      expect(assessmentCancelRequestSchema.safeParse({}).success).toBe(false);
    });
  });
});
