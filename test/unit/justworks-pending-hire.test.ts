import type { LeverOffer, LeverOpportunity, LeverPosting } from '../../src/integrations/lever/client';
import { pendingHireSchema } from '../../src/vendors/justworks/client';
import { justworksIntegration } from '../../src/vendors/justworks/integration';
import {
  buildPendingHire,
  signedOffer,
  toIsoDate,
  typeOfEarnings,
  type PendingHireSource,
} from '../../src/vendors/justworks/pending-hire';

const START_MS = Date.UTC(2025, 2, 3); // 2025-03-03

function opportunity(overrides: Partial<LeverOpportunity> = {}): LeverOpportunity {
  return {
    id: 'opp-1',
    name: 'Ada King Lovelace',
    emails: ['ada@example.com', 'ada.work@example.com'],
    phones: [{ type: 'mobile', value: '+1 555 0100' }],
    location: 'London',
    tags: [],
    links: [],
    stage: null,
    applications: [{ id: 'app-1', posting: 'post-1' }],
    ...overrides,
  };
}

function posting(overrides: Partial<LeverPosting> = {}): LeverPosting {
  return {
    id: 'post-1',
    text: 'Analytical Engineer (posting)',
    categories: {
      team: 'Platform',
      department: 'Engineering',
      location: 'New York',
      commitment: 'Full-time',
    },
    tags: [],
    ...overrides,
  };
}

type Fields = Record<string, string | number | null | Record<string, unknown>>;

function offer(fields: Fields = {}, status = 'signed', id = 'offer-1'): LeverOffer {
  const base: Fields = {
    job_title: 'Analytical Engineer',
    salary_amount: 150000,
    compensation_currency: 'USD',
    salary_interval: 'year (salary)',
    hiring_manager: 'Charles Babbage',
    anticipated_start_date: START_MS,
  };
  const merged = { ...base, ...fields };
  return {
    id,
    status,
    fields: Object.entries(merged).map(([identifier, value]) => ({ text: identifier, identifier, value })),
  };
}

function source(overrides: Partial<PendingHireSource> = {}): PendingHireSource {
  return {
    opportunity: opportunity(),
    posting: posting(),
    offers: [offer()],
    settings: { memberType: 'employee', exemptionStatus: 'by-type-of-earnings' },
    ...overrides,
  };
}

function built(overrides: Partial<PendingHireSource> = {}) {
  const result = buildPendingHire(source(overrides));
  if (!result.ok) throw new Error(`expected a pending hire, got: ${result.reason}`);
  return result.hire;
}

function refused(overrides: Partial<PendingHireSource> = {}): string {
  const result = buildPendingHire(source(overrides));
  if (result.ok) throw new Error('expected a refusal');
  return result.reason;
}

describe('buildPendingHire', () => {
  it('maps every synced field from the opportunity, the posting and the signed offer', () => {
    const hire = built();
    expect(hire).toEqual({
      external_id: 'opp-1',
      member_type: 'employee',
      first_name: 'Ada',
      last_name: 'King Lovelace',
      home_email: 'ada@example.com',
      title: 'Analytical Engineer',
      department: 'Engineering',
      office: 'New York',
      manager: 'Charles Babbage',
      start_date: '2025-03-03',
      compensation: { amount: 150000, currency: 'USD', type_of_earnings: 'year (salary)' },
      exemption_status: 'exempt',
    });
    expect(pendingHireSchema.safeParse(hire).success).toBe(true);
  });

  it('sends exactly the contract fields: nothing about files, phones, tags or the resume', () => {
    const hire = built({
      opportunity: opportunity({ tags: ['resume attached'], links: ['https://files.example/cv.pdf'] }),
    });
    expect(Object.keys(hire).sort()).toEqual(
      [
        'compensation',
        'department',
        'exemption_status',
        'external_id',
        'first_name',
        'home_email',
        'last_name',
        'manager',
        'member_type',
        'office',
        'start_date',
        'title',
      ].sort(),
    );
  });

  it('prefers the direct manager over the hiring manager, and reads { name } objects', () => {
    expect(built({ offers: [offer({ direct_manager: 'Grace Hopper' })] }).manager).toBe('Grace Hopper');
    expect(built({ offers: [offer({ hiring_manager: { id: 'u1', name: 'Alan Turing' } })] }).manager).toBe(
      'Alan Turing',
    );
    expect(built({ offers: [offer({ hiring_manager: null })] }).manager).toBeNull();
  });

  it('falls back to the posting text for the title, and leaves department and office null without a posting category', () => {
    const hire = built({
      offers: [offer({ job_title: null })],
      posting: posting({ categories: { team: 'Platform' } }),
    });
    expect(hire.title).toBe('Analytical Engineer (posting)');
    expect(hire.department).toBeNull();
    expect(hire.office).toBeNull();
  });

  it('refuses without a posting and without a job title', () => {
    expect(refused({ posting: null, offers: [offer({ job_title: null })] })).toContain('no job title');
  });

  it.each([
    ['hour (wage)', 'hour (wage)'],
    ['Hour (Wage)', 'hour (wage)'],
    ['per-hour-wage', 'hour (wage)'],
    ['hourly', 'hour (wage)'],
    ['per hour', 'hour (wage)'],
    ['year (salary)', 'year (salary)'],
    ['per-year-salary', 'year (salary)'],
    ['yearly', 'year (salary)'],
    ['  Annual ', 'year (salary)'],
  ])('accepts the interval %j as %j', (interval, expected) => {
    expect(typeOfEarnings(interval)).toBe(expected);
    expect(built({ offers: [offer({ salary_interval: interval })] }).compensation.type_of_earnings).toBe(
      expected,
    );
  });

  it.each(['month', 'per-month-salary', 'week', 'one-time', 'day (wage)'])(
    'refuses the interval %j, naming it and the two accepted values',
    (interval) => {
      const reason = refused({ offers: [offer({ salary_interval: interval })] });
      expect(reason).toContain(`"${interval}"`);
      expect(reason).toContain('"hour (wage)"');
      expect(reason).toContain('"year (salary)"');
    },
  );

  it('refuses an offer without a type of earnings', () => {
    expect(refused({ offers: [offer({ salary_interval: null })] })).toMatch(
      /no type of earnings \(salary_interval\)/,
    );
  });

  describe('signed offer', () => {
    it('refuses when the opportunity has no offer, saying to complete the offer workflow', () => {
      const reason = refused({ offers: [] });
      expect(reason).toContain('no offer');
      expect(reason).toContain('mark the offer as signed');
    });

    it.each(['draft', 'approved', 'sent', 'sent-manually', 'opened', 'denied'])(
      'refuses an offer with status %s (manager and start date only exist once signed)',
      (status) => {
        const reason = refused({ offers: [offer({}, status)] });
        expect(reason).toContain(`not signed yet (status: ${status})`);
        expect(reason).toContain('mark the offer as signed');
      },
    );

    it('uses the signed offer among several, whatever their order', () => {
      const offers = [
        offer({ salary_amount: 1, job_title: 'Draft' }, 'draft', 'o1'),
        offer({ job_title: 'Signed' }, 'signed', 'o2'),
        offer({ job_title: 'Sent' }, 'sent', 'o3'),
      ];
      expect(signedOffer(offers)?.id).toBe('o2');
      expect(built({ offers }).title).toBe('Signed');
    });
  });

  describe('compensation', () => {
    it.each([
      [85000, 85000],
      ['150,000', 150000],
      ['$85000.50', 85000.5],
      [' 42.5 ', 42.5],
    ])('reads the amount %j as %j', (value, expected) => {
      expect(built({ offers: [offer({ salary_amount: value })] }).compensation.amount).toBe(expected);
    });

    it.each([0, -5, 'lots', '12abc'])('refuses the amount %j without quoting it', (value) => {
      const reason = refused({ offers: [offer({ salary_amount: value })] });
      expect(reason).toContain('salary_amount) is not a positive number');
      expect(reason).not.toContain(String(value));
    });

    it('refuses a missing amount', () => {
      expect(refused({ offers: [offer({ salary_amount: null })] })).toContain(
        'no compensation amount (salary_amount)',
      );
    });

    it('upper-cases the currency, defaults it to USD, and refuses a non-ISO code', () => {
      expect(built({ offers: [offer({ compensation_currency: 'eur' })] }).compensation.currency).toBe('EUR');
      expect(built({ offers: [offer({ compensation_currency: null })] }).compensation.currency).toBe('USD');
      expect(refused({ offers: [offer({ compensation_currency: 'dollars' })] })).toContain('"dollars"');
    });
  });

  describe('exemption status and member type', () => {
    it('derives the exemption from the type of earnings by default', () => {
      expect(built({ offers: [offer({ salary_interval: 'hour (wage)' })] }).exemption_status).toBe(
        'non-exempt',
      );
      expect(built().exemption_status).toBe('exempt');
    });

    it('uses the connection default, overridden by custom_exemption_status', () => {
      const settings = { memberType: 'employee', exemptionStatus: 'non-exempt' } as const;
      expect(built({ settings }).exemption_status).toBe('non-exempt');
      expect(
        built({ settings, offers: [offer({ custom_exemption_status: 'Exempt' })] }).exemption_status,
      ).toBe('exempt');
      expect(built({ offers: [offer({ custom_exemption_status: 'Non Exempt' })] }).exemption_status).toBe(
        'non-exempt',
      );
      expect(refused({ offers: [offer({ custom_exemption_status: 'maybe' })] })).toContain('"maybe"');
    });

    it('uses the connection member type, overridden by custom_member_type', () => {
      expect(built({ settings: { memberType: 'contractor', exemptionStatus: 'exempt' } }).member_type).toBe(
        'contractor',
      );
      expect(built({ offers: [offer({ custom_member_type: 'Contractor' })] }).member_type).toBe('contractor');
      expect(refused({ offers: [offer({ custom_member_type: 'intern' })] })).toContain('"intern"');
    });
  });

  describe('the candidate', () => {
    it('refuses a candidate without email or without a last name, listing every problem at once', () => {
      const reason = refused({
        opportunity: opportunity({ name: 'Cher', emails: [] }),
        offers: [offer({ salary_interval: 'month' })],
      });
      expect(reason).toContain('first and a last name');
      expect(reason).toContain('no email address');
      expect(reason).toContain('"month"');
      expect(reason).not.toContain('Cher');
    });

    it('refuses an invalid email without quoting it', () => {
      const reason = refused({ opportunity: opportunity({ emails: ['not-an-email'] }) });
      expect(reason).toContain('the home email');
      expect(reason).not.toContain('not-an-email');
    });
  });

  it.each([
    [START_MS, '2025-03-03'],
    [String(START_MS), '2025-03-03'],
    ['2025-12-31', '2025-12-31'],
    ['2025-02-30', null],
    ['next monday', null],
    [null, null],
  ])('reads the start date %j as %j', (value, expected) => {
    expect(toIsoDate(value)).toBe(expected);
    expect(built({ offers: [offer({ anticipated_start_date: value })] }).start_date).toBe(expected);
  });
});

describe('justworksIntegration connection input', () => {
  const admins = [
    { name: 'Maya', email: 'maya@acme.test', permissions: ['Manage employees', 'payroll'] },
    { name: 'Otto', email: 'otto@acme.test', permissions: ['view_reports'] },
  ];

  it('defaults member type and exemption, normalizes permissions, and keeps the API key secret', () => {
    const parsed = justworksIntegration.connectionInputSchema.parse({
      type: 'justworks',
      apiKey: 'jw-key',
      admins,
    });
    expect(parsed).toEqual({
      settings: {
        apiBaseUrl: 'https://api.justworks.com',
        memberType: 'employee',
        exemptionStatus: 'by-type-of-earnings',
        admins: [
          { name: 'Maya', email: 'maya@acme.test', permissions: ['manage_employees', 'payroll'] },
          { name: 'Otto', email: 'otto@acme.test', permissions: ['view_reports'] },
        ],
      },
      secrets: { apiKey: 'jw-key' },
    });
    expect(justworksIntegration.settingsSchema.parse(parsed.settings)).toEqual(parsed.settings);
    expect(justworksIntegration).toMatchObject({
      vendor: 'justworks',
      workflow: 'onboardHire',
      leverTrigger: 'hired',
      supportedAts: ['lever'],
    });
  });

  it('requires at least one admin with manage_employees', () => {
    const result = justworksIntegration.connectionInputSchema.safeParse({
      type: 'justworks',
      apiKey: 'jw-key',
      admins: [admins[1]],
    });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('manage_employees');
    expect(
      justworksIntegration.connectionInputSchema.safeParse({ type: 'justworks', apiKey: 'k', admins: [] })
        .success,
    ).toBe(false);
  });

  it('refuses an unknown exemption default or member type', () => {
    for (const extra of [{ exemptionStatus: 'sometimes' }, { memberType: 'intern' }]) {
      expect(
        justworksIntegration.connectionInputSchema.safeParse({
          type: 'justworks',
          apiKey: 'k',
          admins,
          ...extra,
        }).success,
      ).toBe(false);
    }
  });
});
