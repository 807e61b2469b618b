import { certnAdapter, certnProgress, CERTN_TAGS } from '../../src/vendors/certn/adapter';
import { certnSignature } from '../../src/integrations/signature';
import { ExternalApiError } from '../../src/integrations/http-client';
import { startCertnEmulator, type RunningCertnEmulator } from '../../sandbox/certn-emulator';
import type { CheckStatus } from '../../src/domain/status';
import type { CandidateSnapshot, StatusReason } from '../../src/domain/candidate';

const settings = {
  apiBaseUrl: 'http://certn.test',
  packages: [
    { name: 'Basic', packageId: 'pkg-basic', default: true },
    { name: 'Executive Screening', packageId: 'pkg-exec', default: false },
    { name: 'Drivers', packageId: 'pkg-drivers', default: false },
  ],
};

function candidate(tags: string[], email: string | null = 'ada@example.com'): CandidateSnapshot {
  return {
    firstName: 'Ada',
    lastName: 'L',
    email,
    phone: null,
    location: null,
    tags,
    position: null,
    requestedPackageId: null,
  };
}

/** The package a candidate with these tags gets. */
function plan(tags: string[]) {
  const result = certnAdapter.plan(settings, candidate(tags), undefined);
  if (result.kind !== 'order') throw new Error('expected an order');
  return { name: result.packageName, ref: result.packageRef };
}

describe('Certn package choice', () => {
  it('uses the default package without an override tag', () => {
    expect(plan(['Engineering', 'Referral'])).toEqual({
      name: 'Basic',
      ref: 'pkg-basic',
    });
  });

  it('uses another package when a tag equals its name exactly', () => {
    expect(plan(['Engineering', 'Executive Screening'])).toEqual({
      name: 'Executive Screening',
      ref: 'pkg-exec',
    });
  });

  it('orders nothing for a candidate without email and says Error (No Email)', () => {
    const result = certnAdapter.plan(settings, candidate([], null), undefined);
    expect(result).toMatchObject({ kind: 'refuse', status: 'Error', reason: 'no-email' });
    if (result.kind === 'refuse')
      expect(certnAdapter.lever!.tagFor(settings, result.status, result.reason)).toBe(
        'CERTN - Error (No Email)',
      );
  });

  it('ignores tags that only resemble a package name', () => {
    for (const tag of ['executive screening', 'Executive Screening ', 'Executive', 'Drivers License']) {
      expect(plan([tag]).name).toBe('Basic');
    }
  });
});

describe('Certn connection settings', () => {
  const base = { type: 'certn', apiBaseUrl: 'http://certn.test', apiKey: 'k', webhookSecret: 's' };

  it('needs at least one package and exactly one default', () => {
    expect(certnAdapter.connectionInputSchema.safeParse({ ...base, packages: [] }).success).toBe(false);
    expect(
      certnAdapter.connectionInputSchema.safeParse({ ...base, packages: [{ name: 'A', packageId: '1' }] })
        .success,
    ).toBe(false);
    expect(
      certnAdapter.connectionInputSchema.safeParse({
        ...base,
        packages: [
          { name: 'A', packageId: '1', default: true },
          { name: 'B', packageId: '2', default: true },
        ],
      }).success,
    ).toBe(false);
    const ok = certnAdapter.connectionInputSchema.safeParse({
      ...base,
      packages: [{ name: 'A', packageId: '1', default: true }],
    });
    expect(ok.success && ok.data).toEqual({
      settings: { apiBaseUrl: 'http://certn.test', packages: [{ name: 'A', packageId: '1', default: true }] },
      secrets: { apiKey: 'k', webhookSecret: 's' },
    });
  });
});

const tagFor = (status: CheckStatus, reason?: StatusReason) =>
  certnAdapter.lever!.tagFor(settings, status, reason);

describe('Certn status tags', () => {
  it('has the exact tag strings of the integration', () => {
    expect(tagFor('Pending')).toBe('CERTN - Pending');
    expect(tagFor('Analyzing')).toBe('CERTN - Analyzing');
    expect(tagFor('Partial')).toBe('CERTN - Partial');
    expect(tagFor('Complete')).toBe('CERTN - Complete');
    expect(tagFor('Error', 'no-email')).toBe('CERTN - Error (No Email)');
  });

  it('has no tag for In-Progress or for errors other than a missing email', () => {
    expect(tagFor('In-Progress')).toBeNull();
    expect(tagFor('Error', 'vendor-ended')).toBeNull();
    expect(tagFor('Rejected')).toBeNull();
    expect(certnAdapter.lever!.statusTags(settings)).toEqual(Object.values(CERTN_TAGS));
  });
});

describe('Certn case status mapping', () => {
  const checks = (...statuses: string[]) =>
    statuses.map((status, i) => ({ id: `c${i}`, check_type: 'CRIMINAL_RECORD_CHECK', status }));

  it('maps each overall_status onto a canonical status', () => {
    const map = (
      overall_status: Parameters<typeof certnProgress>[0]['overall_status'],
      ex = checks('PENDING'),
    ) => certnProgress({ id: 'x', overall_status, check_executions: ex }).status;
    expect(map('CASE_ORDERED')).toBe('Pending');
    expect(map('APPLICANT_INVITED')).toBe('Pending');
    expect(map('APPLICANT_STARTED')).toBe('In-Progress');
    expect(map('APPLICANT_SUBMITTED')).toBe('Analyzing');
    expect(map('IN_PROGRESS', checks('IN_PROGRESS', 'IN_PROGRESS'))).toBe('Analyzing');
    expect(map('IN_PROGRESS', checks('COMPLETE', 'IN_PROGRESS'))).toBe('Partial');
    expect(map('COMPLETE', checks('COMPLETE', 'COMPLETE'))).toBe('Complete');
    expect(map('CANCELLED')).toBe('Error');
    expect(map('APPLICANT_EXPIRED')).toBe('Error');
    expect(map('INVITE_UNDELIVERABLE')).toBe('Error');
  });

  it('says results are available once any check is complete', () => {
    expect(
      certnProgress({
        id: 'x',
        overall_status: 'IN_PROGRESS',
        check_executions: checks('COMPLETE', 'PENDING'),
      }).resultsAvailable,
    ).toBe(true);
    expect(
      certnProgress({ id: 'x', overall_status: 'IN_PROGRESS', check_executions: checks('PENDING') })
        .resultsAvailable,
    ).toBe(false);
  });
});

describe('Certn callback verification', () => {
  const secrets = { apiKey: 'k', webhookSecret: 'whsec' };
  const body = Buffer.from(
    JSON.stringify({
      id: 'evt1',
      event_type: 'CASE_STATUS_CHANGED',
      object_id: 'case1',
      object_type: 'CASE',
    }),
  );

  it('accepts a body signed with the webhook secret', () => {
    const verdict = certnAdapter.verifyCallback(
      body,
      { 'x-signature': certnSignature('whsec', body) },
      secrets,
    );
    expect(verdict).toEqual({
      ok: true,
      callback: { eventId: 'evt1', eventType: 'CASE_STATUS_CHANGED', externalId: 'case1' },
    });
  });

  it('rejects a missing or wrong signature with 401 and a malformed body with 400', () => {
    expect(certnAdapter.verifyCallback(body, {}, secrets)).toMatchObject({ ok: false, status: 401 });
    expect(
      certnAdapter.verifyCallback(body, { 'x-signature': certnSignature('other', body) }, secrets),
    ).toMatchObject({ ok: false, status: 401 });
    const junk = Buffer.from('{"hello":1}');
    expect(
      certnAdapter.verifyCallback(junk, { 'x-signature': certnSignature('whsec', junk) }, secrets),
    ).toMatchObject({ ok: false, status: 400 });
  });
});

describe('Certn report URLs (against the Certn emulator over HTTP)', () => {
  let certn: RunningCertnEmulator;
  const team = { apiKey: 'report-team', webhookSecret: 'whsec' };
  const client = (apiKey = team.apiKey) =>
    certnAdapter.client({ apiBaseUrl: certn.apiBaseUrl, packages: settings.packages }, { ...team, apiKey });

  beforeAll(async () => {
    certn = await startCertnEmulator();
    certn.addTeam({ apiKey: team.apiKey });
    certn.addTeam({ apiKey: 'other-team' });
  });
  afterAll(async () => {
    await certn?.close();
  });

  async function completedCase(): Promise<string> {
    const { externalId } = await client().order({
      candidate: candidate([]),
      plan: {
        kind: 'order',
        packageName: 'Basic',
        packageRef: certn.authenticate(team.apiKey)!.packages[0]!.id,
        options: {},
      },
      reference: 'opp-1',
      idempotencyKey: `key-${Math.random()}`,
    });
    await certn.setStatus(externalId, 'COMPLETE');
    return externalId;
  }

  it('gives the report id with the results, and signs a fresh pdf_url for it on request', async () => {
    const caseId = await completedCase();
    const results = await client().results(caseId);
    expect(results.reportId).toBe(certn.reportFiles().find((f) => f.case_id === caseId)?.id);
    expect(results.url).toMatch(new RegExp(`^${certn.url}/files/reports/${results.reportId}\\.pdf\\?`));

    const fresh = await client().reportUrl!(results.reportId!);
    expect(new URL(fresh).pathname).toBe(`/files/reports/${results.reportId}.pdf`);
    const pdf = await fetch(fresh);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toMatch(/^application\/pdf/);
    expect(Buffer.from(await pdf.arrayBuffer()).toString('latin1')).toContain(caseId);
  });

  it('drops a pdf_url that is not https:// from the results (marked refused), and refuses to sign one', async () => {
    const caseId = await completedCase();
    const own = certn.publicUrl;
    certn.publicUrl = 'javascript:alert(document.cookie)//';
    try {
      const results = await client().results(caseId);
      expect(results).toMatchObject({ url: null, linkRefused: true });
      expect(results.reportId).toEqual(expect.any(String));
      const failure = await client().reportUrl!(results.reportId!).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(ExternalApiError);
      expect((failure as ExternalApiError).permanent).toBe(true);
      expect((failure as Error).message).not.toContain('javascript');
    } finally {
      certn.publicUrl = own;
    }
  });

  it("rejects with a 404 ExternalApiError for an unknown report or another team's", async () => {
    const caseId = await completedCase();
    const { reportId } = await client().results(caseId);
    for (const [apiKey, id] of [
      [team.apiKey, 'no-such-report'],
      ['other-team', reportId!],
    ] as const) {
      const failure = await client(apiKey).reportUrl!(id).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(ExternalApiError);
      expect((failure as ExternalApiError).status).toBe(404);
    }
  });
});
