import type { LeverOffer, LeverOpportunity, LeverPosting } from '../../src/ats/lever/client';
import { pendingHireSchema } from '../../src/vendors/justworks/client';
import { justworksIntegration } from '../../src/vendors/justworks/integration';
import { omissionText } from '../../src/vendors/justworks/notes';
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

function build(overrides: Partial<PendingHireSource> = {}) {
  const result = buildPendingHire(source(overrides));
  if (!result.ok) throw new Error(`expected a pending hire, got: ${result.reason}`);
  return result;
}

function built(overrides: Partial<PendingHireSource> = {}) {
  return build(overrides).hire;
}

/** The omissions as the recruiter reads them in the note. */
function leftOut(overrides: Partial<PendingHireSource> = {}): string[] {
  return build(overrides).omitted.map(omissionText);
}

function refused(overrides: Partial<PendingHireSource> = {}): string {
  const result = buildPendingHire(source(overrides));
  if (result.ok) throw new Error('expected a refusal');
  return result.reason;
}

describe('buildPendingHire', () => {
  it('maps every synced field from the opportunity, the posting and the signed offer, leaving nothing out', () => {
    const result = build();
    expect(result.hire).toEqual({
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
    expect(result.omitted).toEqual([]);
    expect(pendingHireSchema.safeParse(result.hire).success).toBe(true);
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

  it('leaves the title out, saying why, without a posting and without a job title', () => {
    const result = build({ posting: null, offers: [offer({ job_title: null })] });
    expect(result.hire.title).toBeNull();
    expect(result.hire.compensation).not.toBeNull();
    expect(result.omitted.map(omissionText)).toEqual([
      'Title was left out: the offer has no job title (job_title) and the opportunity no posting.',
    ]);
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
    expect(built({ offers: [offer({ salary_interval: interval })] }).compensation?.type_of_earnings).toBe(
      expected,
    );
  });

  it.each(['month', 'per-month-salary', 'week', 'one-time', 'day (wage)'])(
    'leaves compensation, type of earnings and the derived exemption status out for the interval %j, naming it and the two accepted values',
    (interval) => {
      const result = build({ offers: [offer({ salary_interval: interval })] });
      expect(result.hire).toMatchObject({
        compensation: null,
        exemption_status: null,
        manager: 'Charles Babbage',
        start_date: '2025-03-03',
        title: 'Analytical Engineer',
      });
      expect(result.omitted.map(omissionText)).toEqual([
        `Compensation, type of earnings and exemption status were left out: type of earnings "${interval}" ` +
          'is not accepted by Justworks, it accepts only "hour (wage)" or "year (salary)".',
      ]);
      expect(pendingHireSchema.safeParse(result.hire).success).toBe(true);
    },
  );

  it('keeps an exemption status that does not depend on the type of earnings', () => {
    const settings = { memberType: 'employee', exemptionStatus: 'non-exempt' } as const;
    const result = build({ settings, offers: [offer({ salary_interval: 'month' })] });
    expect(result.hire).toMatchObject({ compensation: null, exemption_status: 'non-exempt' });
    expect(leftOut({ settings, offers: [offer({ salary_interval: 'month' })] })[0]).toMatch(
      /^Compensation and type of earnings were left out: type of earnings "month"/,
    );
    expect(
      built({ offers: [offer({ salary_interval: 'month', custom_exemption_status: 'exempt' })] })
        .exemption_status,
    ).toBe('exempt');
  });

  it('leaves compensation out for an offer without a type of earnings', () => {
    expect(leftOut({ offers: [offer({ salary_interval: null })] })).toEqual([
      'Compensation, type of earnings and exemption status were left out: the offer has no type of earnings ' +
        '(salary_interval), Justworks accepts only "hour (wage)" or "year (salary)".',
    ]);
  });

  describe('an offer that is not signed, or no offer', () => {
    it('creates the hire without an offer, with what the opportunity and the posting give', () => {
      const result = build({ offers: [] });
      expect(result.hire).toEqual({
        external_id: 'opp-1',
        member_type: 'employee',
        first_name: 'Ada',
        last_name: 'King Lovelace',
        home_email: 'ada@example.com',
        title: 'Analytical Engineer (posting)',
        department: 'Engineering',
        office: 'New York',
        manager: null,
        start_date: null,
        compensation: null,
        exemption_status: null,
      });
      expect(result.omitted.map(omissionText)).toEqual([
        'Compensation, type of earnings, exemption status, manager and start date were left out: ' +
          'the opportunity has no offer.',
      ]);
      expect(leftOut({ offers: [], posting: null })).toEqual([
        'Title, compensation, type of earnings, exemption status, manager and start date were left out: ' +
          'the opportunity has no offer.',
      ]);
    });

    it.each(['draft', 'approval-sent', 'approved', 'sent', 'sent-manually', 'opened'])(
      'takes everything but the manager and the start date from an offer with status %s',
      (status) => {
        const result = build({ offers: [offer({ direct_manager: 'Grace Hopper' }, status)] });
        expect(result.hire).toMatchObject({
          title: 'Analytical Engineer',
          compensation: { amount: 150000, currency: 'USD', type_of_earnings: 'year (salary)' },
          exemption_status: 'exempt',
          manager: null,
          start_date: null,
        });
        expect(result.omitted.map(omissionText)).toEqual([
          `Manager and start date were left out: the offer is not signed yet (status: ${status}), ` +
            'Justworks takes them only from a signed offer.',
        ]);
      },
    );

    it('lists every reason when an unsigned offer also has a type of earnings Justworks refuses', () => {
      expect(leftOut({ offers: [offer({ salary_interval: 'month' }, 'sent')] })).toEqual([
        'Compensation, type of earnings and exemption status were left out: type of earnings "month" is not ' +
          'accepted by Justworks, it accepts only "hour (wage)" or "year (salary)".',
        'Manager and start date were left out: the offer is not signed yet (status: sent), Justworks takes ' +
          'them only from a signed offer.',
      ]);
    });

    it('reads nothing from a denied offer', () => {
      const result = build({ offers: [offer({}, 'denied')] });
      expect(result.hire).toMatchObject({
        compensation: null,
        manager: null,
        title: 'Analytical Engineer (posting)',
      });
      expect(result.omitted.map(omissionText)).toEqual([
        'Compensation, type of earnings, exemption status, manager and start date were left out: ' +
          'the offer was denied (status: denied).',
      ]);
    });

    it('uses the signed offer among several, whatever their order', () => {
      const offers = [
        offer({ salary_amount: 1, job_title: 'Draft' }, 'draft', 'o1'),
        offer({ job_title: 'Signed' }, 'signed', 'o2'),
        offer({ job_title: 'Sent' }, 'sent', 'o3'),
      ];
      expect(signedOffer(offers)?.id).toBe('o2');
      expect(build({ offers })).toMatchObject({
        hire: { title: 'Signed', manager: 'Charles Babbage' },
        omitted: [],
      });
    });

    it('uses the latest unsigned offer that is not denied when none is signed', () => {
      const offers = [
        offer({ job_title: 'Older' }, 'sent', 'o1'),
        offer({ job_title: 'Newer' }, 'draft', 'o2'),
        offer({ job_title: 'Denied' }, 'denied', 'o3'),
      ];
      expect(built({ offers }).title).toBe('Newer');
    });
  });

  describe('compensation', () => {
    it.each([
      [85000, 85000],
      ['150,000', 150000],
      ['$85000.50', 85000.5],
      [' 42.5 ', 42.5],
    ])('reads the amount %j as %j', (value, expected) => {
      expect(built({ offers: [offer({ salary_amount: value })] }).compensation?.amount).toBe(expected);
    });

    it.each([0, -5, 'lots', '12abc'])(
      'leaves the compensation out for the amount %j without quoting it',
      (value) => {
        const result = build({ offers: [offer({ salary_amount: value })] });
        expect(result.hire).toMatchObject({ compensation: null, exemption_status: 'exempt' });
        const [text, ...rest] = result.omitted.map(omissionText);
        expect(rest).toEqual([]);
        expect(text).toBe(
          'Compensation and type of earnings were left out: the offer’s compensation amount (salary_amount) is not a positive number.',
        );
        expect(text).not.toContain(String(value));
      },
    );

    it('leaves the compensation out without an amount', () => {
      expect(leftOut({ offers: [offer({ salary_amount: null })] })).toEqual([
        'Compensation and type of earnings were left out: the offer has no compensation amount (salary_amount).',
      ]);
    });

    it('upper-cases the currency, defaults it to USD, and leaves the compensation out for a non-ISO code', () => {
      expect(built({ offers: [offer({ compensation_currency: 'eur' })] }).compensation?.currency).toBe('EUR');
      expect(built({ offers: [offer({ compensation_currency: null })] }).compensation?.currency).toBe('USD');
      expect(built({ offers: [offer({ compensation_currency: 'dollars' })] }).compensation).toBeNull();
      expect(leftOut({ offers: [offer({ compensation_currency: 'dollars' })] })).toEqual([
        'Compensation and type of earnings were left out: the offer’s currency (compensation_currency) "dollars" is not an ISO 4217 code such as USD.',
      ]);
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
      expect(built({ offers: [offer({ custom_exemption_status: 'maybe' })] }).exemption_status).toBeNull();
      expect(leftOut({ offers: [offer({ custom_exemption_status: 'maybe' })] })).toEqual([
        'Exemption status was left out: exemption status "maybe" (offer field custom_exemption_status) is not "exempt" or "non-exempt".',
      ]);
    });

    it('uses the connection member type, overridden by custom_member_type', () => {
      expect(built({ settings: { memberType: 'contractor', exemptionStatus: 'exempt' } }).member_type).toBe(
        'contractor',
      );
      expect(built({ offers: [offer({ custom_member_type: 'Contractor' })] }).member_type).toBe('contractor');
      expect(built({ offers: [offer({ custom_member_type: 'intern' })] }).member_type).toBeNull();
      expect(leftOut({ offers: [offer({ custom_member_type: 'intern' })] })).toEqual([
        'Member type was left out: member type "intern" (offer field custom_member_type) is not "employee" or "contractor".',
      ]);
    });
  });

  it('leaves out a posting or offer value longer than Justworks accepts, without quoting it', () => {
    const long = 'x'.repeat(201);
    const result = build({ offers: [offer({ job_title: long, direct_manager: long })] });
    expect(result.hire).toMatchObject({ title: null, manager: null, department: 'Engineering' });
    expect(result.omitted.map(omissionText)).toEqual([
      'Title and manager were left out: Justworks would not accept the value in Lever (too long or not valid).',
    ]);
  });

  describe('the candidate', () => {
    it('refuses a candidate without email or without a last name, listing every problem at once', () => {
      const reason = refused({
        opportunity: opportunity({ name: 'Cher', emails: [] }),
        offers: [offer({ salary_interval: 'month' })],
      });
      expect(reason).toContain('first and a last name');
      expect(reason).toContain('no email address');
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
  it('defaults member type and exemption and keeps the API key secret', () => {
    const parsed = justworksIntegration.connectionInputSchema.parse({ type: 'justworks', apiKey: 'jw-key' });
    expect(parsed).toEqual({
      settings: {
        apiBaseUrl: 'https://api.justworks.com',
        memberType: 'employee',
        exemptionStatus: 'by-type-of-earnings',
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

  it('refuses the removed admins setting, naming it and saying where recipients come from', () => {
    const result = justworksIntegration.connectionInputSchema.safeParse({
      type: 'justworks',
      apiKey: 'jw-key',
      admins: [{ name: 'Maya', email: 'maya@acme.test', permissions: ['Manage employees'] }],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toEqual([['admins']]);
    expect(result.error?.issues[0]?.message).toMatch(/no longer a setting.*Manage employees.*Justworks/);
  });

  it('still loads the stored settings of a connection created with admins, without them', () => {
    const stored = {
      apiBaseUrl: 'https://api.justworks.com',
      companyName: 'Acme',
      memberType: 'employee',
      exemptionStatus: 'exempt',
      admins: [{ name: 'Maya', email: 'maya@acme.test', permissions: ['manage_employees'] }],
    };
    expect(justworksIntegration.settingsSchema.parse(stored)).toEqual({
      apiBaseUrl: 'https://api.justworks.com',
      companyName: 'Acme',
      memberType: 'employee',
      exemptionStatus: 'exempt',
    });
  });

  it('refuses an unknown exemption default or member type', () => {
    for (const extra of [{ exemptionStatus: 'sometimes' }, { memberType: 'intern' }]) {
      expect(
        justworksIntegration.connectionInputSchema.safeParse({ type: 'justworks', apiKey: 'k', ...extra })
          .success,
      ).toBe(false);
    }
  });
});
