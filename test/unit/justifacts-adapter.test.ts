import type { CheckStatus } from '../../src/domain/status';
import { justifactsSignature, type JustifactsOrderStatus } from '../../src/vendors/justifacts/client';
import {
  EXAMPLE_PACKAGE_TAG,
  justifactsAdapter,
  justifactsPlan,
  justifactsProgress,
  type JustifactsSettings,
} from '../../src/vendors/justifacts/adapter';
import type { CandidateSnapshot } from '../../src/domain/candidate';

const settings: JustifactsSettings = {
  apiBaseUrl: 'http://justifacts.test',
  packages: [
    { code: 'EmpCod', id: '13558', name: 'Employment Screening', description: 'Identity and employment.' },
    { code: 'CrimCod', id: '20417', name: 'Criminal Screening', description: '' },
  ],
};

function candidate(overrides: Partial<CandidateSnapshot> = {}): CandidateSnapshot {
  return {
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    phone: null,
    location: null,
    tags: [],
    position: null,
    requestedPackageId: null,
    ...overrides,
  };
}

function posting(tags: string[]): CandidateSnapshot['position'] {
  return { title: 'Engineer', department: null, team: null, location: null, tags };
}

const lever = justifactsAdapter.lever!;
const ashby = justifactsAdapter.ashby!;

describe('Justifacts Lever status tags (seed 000: exact strings)', () => {
  it('maps Pending, Analyzing and Complete to the three exact seed tags', () => {
    expect(lever.tagFor(settings, 'Pending')).toBe('(Justifacts)In-Progress : Candidate');
    expect(lever.tagFor(settings, 'Analyzing')).toBe('(Justifacts)In-Progress: Justifacts');
    expect(lever.tagFor(settings, 'Complete')).toBe('(Justifacts)Complete');
  });

  it('has no tag for the other statuses (the previous tag stays)', () => {
    for (const status of ['In-Progress', 'Partial', 'Rejected', 'Error'] as const) {
      expect(lever.tagFor(settings, status)).toBeNull();
    }
    expect(lever.tagFor(settings, 'Error', 'no-package')).toBeNull();
    expect(lever.tagFor(settings, 'Error', 'vendor-ended')).toBeNull();
  });

  it('declares exactly the three seed tags as its status tags, so only those are ever replaced', () => {
    expect([...lever.statusTags(settings)].sort()).toEqual(
      [
        '(Justifacts)Complete',
        '(Justifacts)In-Progress : Candidate',
        '(Justifacts)In-Progress: Justifacts',
      ].sort(),
    );
  });

  it('puts the result URL into a secret note only, not into the profile links', () => {
    expect(lever.resultLink).toBe(false);
    expect(justifactsAdapter.resultsOn).toEqual(['Complete']);
  });
});

describe('Justifacts Ashby status labels (seed 003)', () => {
  it.each<[CheckStatus, string]>([
    ['Pending', 'Justifacts Received'],
    ['In-Progress', 'Started'],
    ['Analyzing', 'In Process Justifacts'],
    ['Complete', 'Complete'],
  ])('%s → %s', (status, label) => {
    expect(ashby.statusFor(status)).toBe(label);
  });

  it('has no label for Partial, Rejected and Error', () => {
    for (const status of ['Partial', 'Rejected', 'Error'] as const)
      expect(ashby.statusFor(status)).toBeNull();
  });
});

describe('Justifacts progress mapping', () => {
  it.each<[JustifactsOrderStatus, CheckStatus]>([
    ['INVITED', 'Pending'],
    ['APPLICANT_STARTED', 'In-Progress'],
    ['APPLICANT_COMPLETED', 'Analyzing'],
    ['COMPLETED', 'Complete'],
  ])('%s → %s (no results yet)', (vendorStatus, status) => {
    const progress = justifactsProgress(vendorStatus, false);
    expect(progress).toMatchObject({ status, vendorStatus, resultsAvailable: false });
    expect(progress.reason).toBeUndefined();
  });

  it('offers results at COMPLETED only when the order has a result URL', () => {
    expect(justifactsProgress('COMPLETED', true)).toMatchObject({
      status: 'Complete',
      resultsAvailable: true,
    });
    expect(justifactsProgress('COMPLETED', false).resultsAvailable).toBe(false);
    expect(justifactsProgress('APPLICANT_COMPLETED', true).resultsAvailable).toBe(false);
  });

  it('ends a vendor-cancelled order in Error (vendor-ended)', () => {
    expect(justifactsProgress('CANCELLED', false)).toEqual({
      status: 'Error',
      vendorStatus: 'CANCELLED',
      reason: 'vendor-ended',
      resultsAvailable: false,
    });
  });
});

describe('Justifacts plan (what to order)', () => {
  it('Lever: orders the package of the posting tag inherited by the opportunity', () => {
    expect(
      justifactsPlan(
        settings,
        candidate({ tags: ['Referral', EXAMPLE_PACKAGE_TAG], position: posting([EXAMPLE_PACKAGE_TAG]) }),
      ),
    ).toEqual({
      kind: 'order',
      packageName: 'EmpCod[ID : 13558]',
      packageRef: '13558',
      options: { packageCode: 'EmpCod' },
    });
  });

  it('Lever: reads the package tag from the posting too, and tolerates spacing variants', () => {
    for (const tag of [
      'JUSTIFACTS BGC PKG:CrimCod[ID:20417]',
      '  justifacts  bgc pkg : CrimCod [ ID : 20417 ] ',
    ]) {
      expect(
        justifactsPlan(settings, candidate({ tags: ['Referral'], position: posting([tag]) })),
      ).toMatchObject({
        kind: 'order',
        packageRef: '20417',
        options: { packageCode: 'CrimCod' },
      });
    }
  });

  it('Lever: takes the package from the tag even when the connection lists no packages', () => {
    const plan = justifactsPlan(
      { ...settings, packages: [] },
      candidate({ tags: ['JUSTIFACTS BGC PKG: Custom9[ID : 77]'] }),
    );
    expect(plan).toMatchObject({ kind: 'order', packageRef: '77', options: { packageCode: 'Custom9' } });
  });

  it('Lever: no package tag → nothing ordered, Error with a note explaining why and how to fix it', () => {
    const plan = justifactsPlan(
      settings,
      candidate({ tags: ['Referral', '(Justifacts)Complete'], position: posting(['Engineering']) }),
    );
    expect(plan).toMatchObject({ kind: 'refuse', status: 'Error', reason: 'no-package' });
    if (plan.kind !== 'refuse') throw new Error('expected a refusal');
    expect(plan.note).toContain('package tag');
    expect(plan.note).toContain(EXAMPLE_PACKAGE_TAG);
  });

  it('Lever: a package tag but no email → nothing ordered, Error no-email with a note', () => {
    const plan = justifactsPlan(settings, candidate({ email: null, tags: [EXAMPLE_PACKAGE_TAG] }));
    expect(plan).toMatchObject({ kind: 'refuse', status: 'Error', reason: 'no-email' });
    if (plan.kind !== 'refuse') throw new Error('expected a refusal');
    expect(plan.note).toMatch(/email/i);
  });

  it('Ashby: orders the requested assessment type and ignores tags', () => {
    expect(
      justifactsPlan(settings, candidate({ requestedPackageId: '20417', tags: [EXAMPLE_PACKAGE_TAG] })),
    ).toEqual({
      kind: 'order',
      packageName: 'Criminal Screening',
      packageRef: '20417',
      options: { packageCode: 'CrimCod' },
    });
  });

  it('Ashby: an assessment type the connection does not offer is Rejected', () => {
    expect(justifactsPlan(settings, candidate({ requestedPackageId: '99999' }))).toMatchObject({
      kind: 'refuse',
      status: 'Rejected',
      reason: 'no-package',
    });
  });

  it('Ashby: no email → Error no-email', () => {
    expect(justifactsPlan(settings, candidate({ requestedPackageId: '13558', email: null }))).toMatchObject({
      kind: 'refuse',
      status: 'Error',
      reason: 'no-email',
    });
  });
});

describe('Justifacts packages listed to Ashby', () => {
  it('lists every connection package with its id, name and description (a default description when empty)', () => {
    expect(justifactsAdapter.packages(settings)).toEqual([
      { id: '13558', name: 'Employment Screening', description: 'Identity and employment.' },
      { id: '20417', name: 'Criminal Screening', description: expect.stringContaining('CrimCod') as unknown },
    ]);
  });
});

describe('Justifacts callback verification', () => {
  const secrets = { apiKey: 'k', callbackSecret: 'cb-secret' };
  const body = Buffer.from(
    JSON.stringify({
      eventId: 'e1',
      orderId: 'JF-1',
      status: 'APPLICANT_COMPLETED',
      occurredAt: '2025-01-01',
    }),
  );

  it('accepts a correctly signed event and names the order', () => {
    const verdict = justifactsAdapter.verifyCallback(
      body,
      { 'x-justifacts-signature': justifactsSignature('cb-secret', body) },
      secrets,
    );
    expect(verdict).toEqual({
      ok: true,
      callback: { eventId: 'e1', eventType: 'APPLICANT_COMPLETED', externalId: 'JF-1' },
    });
  });

  it('refuses a wrong or missing signature with 401', () => {
    for (const header of [justifactsSignature('other-secret', body), undefined, 'sha256=zz', '']) {
      expect(
        justifactsAdapter.verifyCallback(body, { 'x-justifacts-signature': header }, secrets),
      ).toMatchObject({
        ok: false,
        status: 401,
      });
    }
  });

  it('refuses a correctly signed body that is not an event with 400', () => {
    const bad = Buffer.from('{"hello":1}');
    expect(
      justifactsAdapter.verifyCallback(
        bad,
        { 'x-justifacts-signature': justifactsSignature('cb-secret', bad) },
        secrets,
      ),
    ).toMatchObject({ ok: false, status: 400 });
  });
});
