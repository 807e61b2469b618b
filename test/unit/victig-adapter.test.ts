import type { CheckStatus } from '../../src/domain/status';
import { checkAdapterFor, integrationFor } from '../../src/vendors';
import type { OrderPlan } from '../../src/vendors/types';
import type { CandidateSnapshot } from '../../src/domain/candidate';
import { VendorRefusal } from '../../src/vendors/types';
import {
  prefixedTag,
  victigAdapter,
  victigOrderBody,
  victigProgress,
  victigResults,
  type VictigSettings,
} from '../../src/vendors/victig/adapter';
import { victigSignature, type VictigCatalog } from '../../src/vendors/victig/client';

const catalog: VictigCatalog = {
  products: [{ name: 'Criminal Package 1' }, { name: 'Criminal Package 2' }, { name: 'Employment Package' }],
  subClients: [
    { code: 'NYC01', name: 'Acme New York', city: 'New York' },
    { code: 'SF02', name: 'Acme San Francisco', city: 'San Francisco' },
  ],
};

const base: VictigSettings = {
  apiBaseUrl: 'http://victig.test',
  defaultProduct: 'Criminal Package 1',
  statusTagPrefix: 'Background Check Status: ',
  productTagPrefix: 'Product: ',
  unknownProduct: 'default',
  subClientMatch: 'none',
  subClientNoMatch: 'main',
  subClientTagPrefix: null,
  referenceField: 'none',
  referenceTagPrefix: null,
  forwardTagPrefixes: [],
  flagTagPrefix: 'Flag: ',
  decisionTagPrefix: 'Decision: ',
};

function candidate(overrides: Partial<CandidateSnapshot> = {}): CandidateSnapshot {
  return {
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    phone: '+1 555 0100',
    location: 'New York',
    tags: [],
    position: {
      title: 'Backend Engineer',
      department: 'Engineering',
      team: 'Platform',
      location: 'San Francisco',
      tags: [],
    },
    requestedPackageId: null,
    ...overrides,
  };
}

type Order = Extract<OrderPlan, { kind: 'order' }>;

function planFor(settings: Partial<VictigSettings>, who: Partial<CandidateSnapshot> = {}): OrderPlan {
  return victigAdapter.plan({ ...base, ...settings }, candidate(who), catalog);
}

function order(settings: Partial<VictigSettings>, who: Partial<CandidateSnapshot> = {}): Order {
  const plan = planFor(settings, who);
  if (plan.kind !== 'order') throw new Error(`expected an order, got ${JSON.stringify(plan)}`);
  return plan;
}

describe('VICTIG connection settings', () => {
  const input = {
    type: 'victig',
    apiBaseUrl: 'http://victig.test',
    accountId: 'acme',
    apiKey: 'key',
    callbackSecret: 'cbsec',
    defaultProduct: 'Criminal Package 1',
  };
  const parse = (extra: Record<string, unknown>) =>
    victigAdapter.connectionInputSchema.safeParse({ ...input, ...extra });
  const messages = (extra: Record<string, unknown>) => {
    const result = parse(extra);
    if (result.success) throw new Error('expected the input to be refused');
    return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('splits secrets from settings and fills the defaults', () => {
    const result = parse({});
    expect(result.success && result.data).toEqual({
      settings: {
        apiBaseUrl: 'http://victig.test',
        defaultProduct: 'Criminal Package 1',
        statusTagPrefix: 'Background Check Status: ',
        productTagPrefix: null,
        unknownProduct: 'default',
        subClientMatch: 'none',
        subClientNoMatch: 'main',
        subClientTagPrefix: null,
        referenceField: 'none',
        referenceTagPrefix: null,
        forwardTagPrefixes: [],
        flagTagPrefix: null,
        decisionTagPrefix: null,
      },
      secrets: { accountId: 'acme', apiKey: 'key', callbackSecret: 'cbsec' },
    });
  });

  it('reads settings stored before subClientTagPrefix existed as having none', () => {
    const stored: Partial<VictigSettings> = { ...base };
    delete stored.subClientTagPrefix;
    expect(victigAdapter.settingsSchema.parse(stored)).toEqual({ ...base, subClientTagPrefix: null });
  });

  it('keeps every configured choice, and the stored settings pass the settings schema', () => {
    const result = parse({
      statusTagPrefix: 'BGC: ',
      productTagPrefix: 'Product: ',
      unknownProduct: 'reject',
      subClientMatch: 'city',
      subClientNoMatch: 'reject',
      subClientTagPrefix: 'Office: ',
      referenceField: 'tags',
      referenceTagPrefix: 'Ref: ',
      forwardTagPrefixes: ['Region: '],
      flagTagPrefix: 'Flag: ',
      decisionTagPrefix: 'Decision: ',
    });
    if (!result.success) throw new Error(JSON.stringify(result.error.issues));
    expect(result.data.settings).toMatchObject({
      statusTagPrefix: 'BGC: ',
      unknownProduct: 'reject',
      subClientMatch: 'city',
      subClientTagPrefix: 'Office: ',
      referenceTagPrefix: 'Ref: ',
      forwardTagPrefixes: ['Region: '],
    });
    expect(victigAdapter.settingsSchema.parse(result.data.settings)).toEqual(result.data.settings);
    expect(victigAdapter.secretsSchema.parse(result.data.secrets)).toEqual(result.data.secrets);
    expect(JSON.stringify(result.data.settings)).not.toMatch(/acme|key|cbsec/);
  });

  it('requires the credentials, the callback secret, the base URL and a default product', () => {
    for (const field of ['apiBaseUrl', 'accountId', 'apiKey', 'callbackSecret', 'defaultProduct'] as const) {
      const rest: Record<string, unknown> = { ...input };
      delete rest[field];
      expect(victigAdapter.connectionInputSchema.safeParse(rest).success).toBe(false);
    }
    expect(messages({ accountId: 'a:b' })).toEqual(['accountId: must not contain ":"']);
    expect(messages({ defaultProduct: '' })).toEqual([
      'defaultProduct: must be the exact name of a VICTIG product',
    ]);
  });

  it('requires a reference tag prefix exactly when the reference comes from tags', () => {
    expect(messages({ referenceField: 'tags' })).toEqual([
      'referenceTagPrefix: referenceTagPrefix is required when referenceField is "tags"',
    ]);
    expect(messages({ referenceField: 'jobTitle', referenceTagPrefix: 'Ref: ' })).toEqual([
      'referenceTagPrefix: referenceTagPrefix is only used when referenceField is "tags"',
    ]);
    expect(parse({ referenceField: 'tags', referenceTagPrefix: 'Ref: ' }).success).toBe(true);
    expect(
      victigAdapter.settingsSchema.safeParse({ ...base, referenceField: 'tags', referenceTagPrefix: null })
        .success,
    ).toBe(false);
  });

  it('refuses choices that can never apply', () => {
    expect(messages({ unknownProduct: 'reject' })).toEqual([
      'unknownProduct: unknownProduct "reject" needs a productTagPrefix (without one, no tag names a product)',
    ]);
    expect(messages({ subClientNoMatch: 'reject' })).toEqual([
      'subClientNoMatch: subClientNoMatch "reject" needs subClientMatch "code", "name" or "city", or a subClientTagPrefix',
    ]);
    // A sub-client tag can name an unknown sub-client even when the location is not matched.
    expect(parse({ subClientNoMatch: 'reject', subClientTagPrefix: 'Office: ' }).success).toBe(true);
  });

  it('refuses unknown options with the allowed values', () => {
    expect(messages({ subClientMatch: 'zip' })).toEqual([
      'subClientMatch: must be "none", "code", "name" or "city"',
    ]);
    expect(messages({ referenceField: 'title' })).toEqual([
      'referenceField: must be "none", "jobTitle", "jobDepartment" or "tags"',
    ]);
    expect(messages({ unknownProduct: 'error' })[0]).toMatch(/^unknownProduct: must be "default"/);
    expect(messages({ subClientNoMatch: 'error' })[0]).toMatch(/^subClientNoMatch: must be "main"/);
  });

  it('refuses empty prefixes and prefixes Lever would trim', () => {
    expect(messages({ statusTagPrefix: '' })).toEqual(['statusTagPrefix: must not be empty']);
    expect(messages({ productTagPrefix: ' Product: ' })).toEqual([
      'productTagPrefix: must not start with whitespace (Lever trims tags)',
    ]);
    expect(messages({ forwardTagPrefixes: ['Region: ', ''] })).toEqual([
      'forwardTagPrefixes.1: must not be empty',
    ]);
    expect(messages({ subClientTagPrefix: ' Office:' })).toEqual([
      'subClientTagPrefix: must not start with whitespace (Lever trims tags)',
    ]);
    expect(messages({ subClientTagPrefix: '' })).toEqual(['subClientTagPrefix: must not be empty']);
  });

  it('refuses flag and decision prefixes that would replace status, product or each other’s tags', () => {
    expect(messages({ flagTagPrefix: 'Background Check' })).toEqual([
      'flagTagPrefix: flagTagPrefix must not overlap statusTagPrefix: result tags replace every tag starting with it',
    ]);
    expect(messages({ productTagPrefix: 'Product: ', decisionTagPrefix: 'Product: Decision ' })).toEqual([
      'decisionTagPrefix: decisionTagPrefix must not overlap productTagPrefix: result tags replace every tag starting with it',
    ]);
    expect(messages({ flagTagPrefix: 'Result: ', decisionTagPrefix: 'Result: ' })).toEqual([
      'decisionTagPrefix: decisionTagPrefix must not overlap flagTagPrefix: result tags replace every tag starting with it',
    ]);
    expect(messages({ subClientTagPrefix: 'Office: ', flagTagPrefix: 'Office:' })).toEqual([
      'flagTagPrefix: flagTagPrefix must not overlap subClientTagPrefix: result tags replace every tag starting with it',
    ]);
    expect(messages({ subClientTagPrefix: 'Decision: Office ', decisionTagPrefix: 'Decision:' })).toEqual([
      'decisionTagPrefix: decisionTagPrefix must not overlap subClientTagPrefix: result tags replace every tag starting with it',
    ]);
  });
});

describe('VICTIG integration definition', () => {
  it('is registered as a Lever stage-change background check', () => {
    expect(checkAdapterFor('victig')).toBe(victigAdapter);
    expect(integrationFor('victig')).toBe(victigAdapter);
    expect(victigAdapter).toMatchObject({
      vendor: 'victig',
      displayName: 'VICTIG',
      supportedAts: ['lever'],
      leverTrigger: 'stage-change',
      workflow: 'backgroundCheck',
      resultsOn: ['Complete'],
    });
    expect(victigAdapter.lever?.resultLink).toBe(false);
  });
});

describe('VICTIG status tags', () => {
  const tagFor = (status: CheckStatus, settings: VictigSettings = base) =>
    victigAdapter.lever!.tagFor(settings, status);

  it('has the exact tag strings with the default prefix', () => {
    expect(tagFor('Pending')).toBe('Background Check Status: Pending');
    expect(tagFor('In-Progress')).toBe('Background Check Status: In Progress');
    expect(tagFor('Complete')).toBe('Background Check Status: Complete');
    expect(tagFor('Rejected')).toBe('Background Check Status: Rejected');
    expect(tagFor('Error')).toBe('Background Check Status: Error');
    expect(victigAdapter.lever!.statusTags(base)).toEqual([
      'Background Check Status: Pending',
      'Background Check Status: In Progress',
      'Background Check Status: Complete',
      'Background Check Status: Rejected',
      'Background Check Status: Error',
    ]);
  });

  it('uses the configured prefix and has no tag for statuses VICTIG does not have', () => {
    const custom = { ...base, statusTagPrefix: 'BGC - ' };
    expect(tagFor('In-Progress', custom)).toBe('BGC - In Progress');
    expect(victigAdapter.lever!.statusTags(custom)).toContain('BGC - Error');
    expect(tagFor('Analyzing')).toBeNull();
    expect(tagFor('Partial')).toBeNull();
  });

  it('puts one space after a prefix that does not end in whitespace (seed: "Background Check Status:")', () => {
    const bare = { ...base, statusTagPrefix: 'Background Check Status:' };
    expect(tagFor('Pending', bare)).toBe('Background Check Status: Pending');
    expect(tagFor('In-Progress', bare)).toBe('Background Check Status: In Progress');
    expect(victigAdapter.lever!.statusTags(bare)).toEqual(victigAdapter.lever!.statusTags(base));
    expect(tagFor('Error', { ...base, statusTagPrefix: 'BGC -' })).toBe('BGC - Error');
  });

  it.each(['Background Check Status: ', 'Background Check Status:', 'BGC-'])(
    'lists exactly the tags tagFor writes, so the previous one is removed (prefix %p)',
    (statusTagPrefix) => {
      const settings = { ...base, statusTagPrefix };
      const written = (
        ['Pending', 'In-Progress', 'Analyzing', 'Partial', 'Complete', 'Rejected', 'Error'] as const
      )
        .map((status) => tagFor(status, settings))
        .filter((tag): tag is string => tag !== null);
      expect([...victigAdapter.lever!.statusTags(settings)].sort()).toEqual([...written].sort());
    },
  );
});

describe('VICTIG prefixed tags (seed 001: prefix "Flag:" gives "Flag: True")', () => {
  it('adds one space unless the prefix already ends in whitespace', () => {
    expect(prefixedTag('Flag:', 'True')).toBe('Flag: True');
    expect(prefixedTag('Flag: ', 'True')).toBe('Flag: True');
    expect(prefixedTag('Package –', 'Basic')).toBe('Package – Basic');
    expect(prefixedTag('Package – ', 'Basic')).toBe('Package – Basic');
    expect(prefixedTag('Flag:\t', 'False')).toBe('Flag:\tFalse');
  });

  it('keeps the tag within Lever’s tag length, without trailing whitespace', () => {
    expect(prefixedTag('Decision:', 'x'.repeat(400))).toHaveLength(255);
    expect(prefixedTag('Decision:', `${'x'.repeat(244)}   yz`)).toBe(`Decision: ${'x'.repeat(244)}`);
  });
});

describe('VICTIG plan: name and email', () => {
  it('rejects a candidate without email with a note and orders nothing', () => {
    for (const email of [null, '', '   ']) {
      const plan = planFor({}, { email });
      expect(plan).toEqual({
        kind: 'refuse',
        status: 'Rejected',
        reason: 'no-email',
        note: expect.stringContaining('The candidate has no email address in Lever') as string,
      });
    }
  });

  it('rejects a candidate without a name', () => {
    expect(planFor({}, { firstName: '', lastName: ' ' })).toMatchObject({
      kind: 'refuse',
      status: 'Rejected',
      note: expect.stringContaining('no name') as string,
    });
    expect(planFor({}, { firstName: 'Cher', lastName: '' }).kind).toBe('order');
  });
});

describe('VICTIG plan: product', () => {
  it('orders the default product without a product tag', () => {
    const plan = order({}, { tags: ['Referral', 'Criminal Package 2'] });
    expect(plan.packageName).toBe('Criminal Package 1');
    expect(plan.packageRef).toBe('Criminal Package 1');
    expect(plan.options).toMatchObject({ product: 'Criminal Package 1', productSource: 'default' });
  });

  it('orders the product a prefixed tag names exactly, the first such tag winning', () => {
    expect(order({}, { tags: ['Referral', 'Product: Criminal Package 2'] })).toMatchObject({
      packageName: 'Criminal Package 2',
      packageRef: 'Criminal Package 2',
      options: { product: 'Criminal Package 2', productSource: 'tag' },
    });
    expect(
      order({}, { tags: ['Product: Employment Package', 'Product: Criminal Package 2'] }).packageName,
    ).toBe('Employment Package');
    // A prefix without its space (seed: prefix "Product:", tag "Product: Criminal Package 2").
    expect(
      order({ productTagPrefix: 'Product:' }, { tags: ['Product: Criminal Package 2'] }).packageName,
    ).toBe('Criminal Package 2');
  });

  it('needs the exact prefix: other tags leave the default', () => {
    for (const tag of ['product: Criminal Package 2', 'Products: Criminal Package 2', 'Criminal Package 2']) {
      expect(order({}, { tags: [tag] }).packageName).toBe('Criminal Package 1');
    }
  });

  it('ignores product tags when no product prefix is configured', () => {
    expect(order({ productTagPrefix: null }, { tags: ['Product: Criminal Package 2'] }).packageName).toBe(
      'Criminal Package 1',
    );
  });

  it('falls back to the default for an unknown product when unknownProduct is "default"', () => {
    for (const tag of ['Product: Criminal Package 9', 'Product: criminal package 2']) {
      expect(order({ unknownProduct: 'default' }, { tags: [tag] }).options).toMatchObject({
        product: 'Criminal Package 1',
        productSource: 'default-unknown-tag',
      });
    }
  });

  it('rejects an unknown product with a note when unknownProduct is "reject"', () => {
    const plan = planFor({ unknownProduct: 'reject' }, { tags: ['Product: Criminal Package 9'] });
    expect(plan).toEqual({
      kind: 'refuse',
      status: 'Rejected',
      reason: 'no-package',
      note: expect.stringContaining('The product "Criminal Package 9"') as string,
    });
    expect(plan.kind === 'refuse' && plan.note).toContain('"Criminal Package 2"');
  });
});

describe('VICTIG plan: sub-client', () => {
  it('orders for the main client when sub-clients are not supported', () => {
    expect(order({ subClientMatch: 'none' }, { location: 'NYC01' }).options).toMatchObject({
      subClientCode: null,
      subClientSource: 'not-supported',
    });
  });

  it('matches the Lever location exactly against the configured sub-client field', () => {
    expect(order({ subClientMatch: 'code' }, { location: 'SF02' }).options.subClientCode).toBe('SF02');
    expect(order({ subClientMatch: 'name' }, { location: 'Acme New York' }).options.subClientCode).toBe(
      'NYC01',
    );
    expect(order({ subClientMatch: 'city' }, { location: 'San Francisco' }).options).toMatchObject({
      subClientCode: 'SF02',
      subClientSource: 'matched',
    });
    // A city is not a code, and matching is case-sensitive.
    expect(order({ subClientMatch: 'code' }, { location: 'New York' }).options.subClientCode).toBeNull();
    expect(order({ subClientMatch: 'city' }, { location: 'new york' }).options.subClientCode).toBeNull();
  });

  it('falls back to the posting’s location when the opportunity has none', () => {
    for (const location of [null, '', '  ']) {
      expect(order({ subClientMatch: 'city' }, { location }).options.subClientCode).toBe('SF02');
    }
  });

  it('orders for the main client when nothing matches and subClientNoMatch is "main"', () => {
    expect(
      order({ subClientMatch: 'city', subClientNoMatch: 'main' }, { location: 'Boston' }).options,
    ).toMatchObject({ subClientCode: null, subClientSource: 'main-no-match' });
    expect(
      order({ subClientMatch: 'city' }, { location: null, position: null }).options.subClientCode,
    ).toBeNull();
  });

  it('rejects with a note when nothing matches and subClientNoMatch is "reject"', () => {
    const plan = planFor({ subClientMatch: 'city', subClientNoMatch: 'reject' }, { location: 'Boston' });
    expect(plan).toMatchObject({ kind: 'refuse', status: 'Rejected', reason: 'refused' });
    const note = plan.kind === 'refuse' ? plan.note : null;
    expect(note).toContain('matches no VICTIG sub-client');
    expect(note).toContain('"New York", "San Francisco"');
    expect(note).not.toContain('Boston');
    expect(
      planFor({ subClientMatch: 'code', subClientNoMatch: 'reject' }, { location: null, position: null }),
    ).toMatchObject({ kind: 'refuse', note: expect.stringContaining('no location') as string });
  });
});

describe('VICTIG plan: sub-client by tag (subClientTagPrefix)', () => {
  const byTag = { subClientTagPrefix: 'Office: ' };

  it('picks the sub-client a tag names by code, name or city, trimmed and exact', () => {
    expect(order(byTag, { tags: ['Office: SF02'] }).options).toMatchObject({
      subClientCode: 'SF02',
      subClientSource: 'tag',
    });
    expect(order(byTag, { tags: ['Office: Acme New York'] }).options.subClientCode).toBe('NYC01');
    expect(order(byTag, { tags: ['Office:   San Francisco  '] }).options.subClientCode).toBe('SF02');
    // Seed-style prefix without its space.
    expect(order({ subClientTagPrefix: 'Office:' }, { tags: ['Office: NYC01'] }).options.subClientCode).toBe(
      'NYC01',
    );
  });

  it('matches the code first, then the name, then the city', () => {
    const tricky: VictigCatalog = {
      products: catalog.products,
      subClients: [
        { code: 'Boston', name: 'Acme Boston', city: 'Cambridge' },
        { code: 'BOS02', name: 'Boston', city: 'Boston' },
        { code: 'CAM01', name: 'Acme Cambridge', city: 'Acme Boston' },
      ],
    };
    const pick = (tag: string) => {
      const plan = victigAdapter.plan({ ...base, ...byTag }, candidate({ tags: [tag] }), tricky);
      return plan.kind === 'order' ? plan.options.subClientCode : plan.kind;
    };
    expect(pick('Office: Boston')).toBe('Boston');
    expect(pick('Office: Acme Boston')).toBe('Boston');
    expect(pick('Office: Cambridge')).toBe('Boston');
    expect(pick('Office: Acme Cambridge')).toBe('CAM01');
  });

  it('wins over the location match; the first sub-client tag counts', () => {
    expect(
      order({ ...byTag, subClientMatch: 'city' }, { location: 'New York', tags: ['Office: SF02'] }).options,
    ).toMatchObject({ subClientCode: 'SF02', subClientSource: 'tag' });
    expect(order(byTag, { tags: ['Office: NYC01', 'Office: SF02'] }).options.subClientCode).toBe('NYC01');
    // Without the tag, the location decides as before.
    expect(order({ ...byTag, subClientMatch: 'city' }, { location: 'New York' }).options).toMatchObject({
      subClientCode: 'NYC01',
      subClientSource: 'matched',
    });
  });

  it('works with subClientMatch "none": the tag picks, no tag means the main client', () => {
    expect(order(byTag, { location: 'New York', tags: ['Office: SF02'] }).options.subClientCode).toBe('SF02');
    expect(order(byTag, { location: 'New York' }).options).toMatchObject({
      subClientCode: null,
      subClientSource: 'not-supported',
    });
  });

  it('needs the exact prefix and ignores sub-client tags when no prefix is configured', () => {
    expect(order(byTag, { tags: ['office: SF02', 'Offices: SF02'] }).options.subClientCode).toBeNull();
    expect(order({ subClientTagPrefix: null }, { tags: ['Office: SF02'] }).options.subClientCode).toBeNull();
  });

  it('orders for the main client for an unknown sub-client when subClientNoMatch is "main", even if the location matches', () => {
    for (const tag of ['Office: LA03', 'Office: sf02', 'Office: ']) {
      expect(
        order({ ...byTag, subClientMatch: 'city' }, { location: 'New York', tags: [tag] }).options,
      ).toMatchObject({ subClientCode: null, subClientSource: 'main-unknown-tag' });
    }
  });

  it('rejects an unknown sub-client with a note when subClientNoMatch is "reject"', () => {
    for (const subClientMatch of ['none', 'city'] as const) {
      const plan = planFor(
        { ...byTag, subClientMatch, subClientNoMatch: 'reject' },
        { location: 'New York', tags: ['Office: LA03'] },
      );
      expect(plan).toMatchObject({ kind: 'refuse', status: 'Rejected', reason: 'refused' });
      const note = plan.kind === 'refuse' ? plan.note : null;
      expect(note).toContain('The sub-client "LA03" named by the tag "Office: LA03"');
      expect(note).toContain('"NYC01", "SF02"');
      expect(note).not.toContain('New York');
    }
    // No tag and sub-clients not matched by location: nothing was asked for, the main client is ordered.
    expect(
      order({ ...byTag, subClientMatch: 'none', subClientNoMatch: 'reject' }, { location: 'Boston' }).options
        .subClientCode,
    ).toBeNull();
  });

  it('forwards the sub-client tags to VICTIG like the product and reference tags', () => {
    expect(
      order(byTag, { tags: ['Referral', 'Office: SF02', 'Product: Criminal Package 2'] }).options.tags,
    ).toEqual(['Office: SF02', 'Product: Criminal Package 2']);
  });
});

describe('VICTIG plan: reference and forwarded tags', () => {
  it('takes the reference from the configured Lever field', () => {
    const tags = ['Ref: REQ-42'];
    expect(order({ referenceField: 'none' }, { tags }).options.reference).toBeNull();
    expect(order({ referenceField: 'jobTitle' }, { tags }).options.reference).toBe('Backend Engineer');
    expect(order({ referenceField: 'jobDepartment' }, { tags }).options.reference).toBe('Engineering');
    expect(order({ referenceField: 'tags', referenceTagPrefix: 'Ref: ' }, { tags }).options.reference).toBe(
      'REQ-42',
    );
    expect(
      order({ referenceField: 'tags', referenceTagPrefix: 'Ref: ' }, { tags: [] }).options.reference,
    ).toBeNull();
    expect(order({ referenceField: 'jobTitle' }, { position: null }).options.reference).toBeNull();
  });

  it('forwards only tags with a configured prefix, product and reference prefixes included', () => {
    const tags = [
      'Referral',
      'Region: East',
      'Product: Criminal Package 2',
      'Ref: REQ-42',
      'Background Check Status: Error',
      'region: west',
    ];
    expect(
      order(
        { forwardTagPrefixes: ['Region: '], referenceField: 'tags', referenceTagPrefix: 'Ref: ' },
        { tags },
      ).options.tags,
    ).toEqual(['Region: East', 'Product: Criminal Package 2', 'Ref: REQ-42']);
    expect(order({ productTagPrefix: null }, { tags }).options.tags).toEqual([]);
  });

  it('keeps the plan free of the candidate’s personal data', () => {
    const plan = order(
      { subClientMatch: 'city', referenceField: 'jobTitle', forwardTagPrefixes: ['Region: '] },
      { tags: ['Region: East'] },
    );
    const json = JSON.stringify(plan);
    for (const pii of ['Ada', 'Lovelace', 'ada@example.com', '555', 'New York']) {
      expect(json).not.toContain(pii);
    }
  });
});

describe('VICTIG order body', () => {
  it('sends the candidate, the position, the location, the forwarded tags and the plan’s choices', () => {
    const plan = order(
      { subClientMatch: 'code', referenceField: 'jobDepartment', forwardTagPrefixes: ['Region: '] },
      { location: 'NYC01', tags: ['Region: East', 'Referral', 'Product: Employment Package'] },
    );
    expect(victigOrderBody(candidate({ location: 'NYC01' }), plan, 'check-1/run-1')).toEqual({
      product: 'Employment Package',
      subClientCode: 'NYC01',
      reference: 'Engineering',
      applicant: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '+1 555 0100' },
      position: { title: 'Backend Engineer', department: 'Engineering', location: 'NYC01' },
      tags: ['Region: East', 'Product: Employment Package'],
      externalId: 'check-1/run-1',
    });
  });

  it('sends nulls for what Lever does not have and the posting’s location as a fallback', () => {
    const plan = order({});
    const body = victigOrderBody(candidate({ phone: '', location: '' }), plan, 'k');
    expect(body.applicant.phone).toBeNull();
    expect(body.position.location).toBe('San Francisco');
    expect(victigOrderBody(candidate({ position: null, location: null }), plan, 'k').position).toEqual({
      title: null,
      department: null,
      location: null,
    });
  });

  it('refuses to order for a candidate whose email disappeared after planning', () => {
    expect(() => victigOrderBody(candidate({ email: null }), order({}), 'k')).toThrow(VendorRefusal);
  });
});

describe('VICTIG progress and results', () => {
  it('maps VICTIG order statuses onto canonical statuses', () => {
    const map = (status: 'PENDING' | 'IN_PROGRESS' | 'COMPLETE' | 'CANCELLED') =>
      victigProgress({ status, results: null });
    expect(map('PENDING')).toEqual({ status: 'Pending', vendorStatus: 'PENDING', resultsAvailable: false });
    expect(map('IN_PROGRESS')).toEqual({
      status: 'In-Progress',
      vendorStatus: 'IN_PROGRESS',
      resultsAvailable: false,
    });
    expect(map('COMPLETE')).toEqual({ status: 'Complete', vendorStatus: 'COMPLETE', resultsAvailable: true });
    expect(map('CANCELLED')).toEqual({
      status: 'Error',
      vendorStatus: 'CANCELLED',
      reason: 'vendor-ended',
      resultsAvailable: false,
    });
  });

  const report = {
    summary: '1 record found.',
    flagged: true,
    decision: 'Review',
    reportUrl: { url: 'http://victig.test/reports/o1?token=ab', refused: false as const },
  };

  it('gives the report URL, readable lines and the flag and decision tags', () => {
    expect(victigResults(base, report)).toEqual({
      url: 'http://victig.test/reports/o1?token=ab',
      linkRefused: false,
      lines: ['Summary: 1 record found.', 'Flagged: Yes', 'Decision: Review'],
      tags: ['Flag: True', 'Decision: Review'],
      tagPrefixes: ['Flag: ', 'Decision: '],
    });
    expect(victigResults(base, { ...report, flagged: false, decision: 'Eligible' }).tags).toEqual([
      'Flag: False',
      'Decision: Eligible',
    ]);
  });

  it('puts one space between a flag or decision prefix and the value (seed: "Flag:" → "Flag: True")', () => {
    const seed = { flagTagPrefix: 'Flag:', decisionTagPrefix: 'Decision:' };
    expect(victigResults(seed, report)).toMatchObject({
      tags: ['Flag: True', 'Decision: Review'],
      tagPrefixes: ['Flag:', 'Decision:'],
    });
    expect(victigResults(seed, { ...report, flagged: false, decision: 'Eligible' }).tags).toEqual([
      'Flag: False',
      'Decision: Eligible',
    ]);
  });

  it('adds no result tags for prefixes that are not configured', () => {
    const results = victigResults({ flagTagPrefix: null, decisionTagPrefix: null }, report);
    expect(results.tags).toEqual([]);
    expect(results.tagPrefixes).toEqual([]);
    expect(results.lines).toContain('Flagged: Yes');
    expect(victigResults({ flagTagPrefix: 'Flag: ', decisionTagPrefix: null }, report).tags).toEqual([
      'Flag: True',
    ]);
  });

  it('keeps the decision tag within Lever’s tag length', () => {
    const long = victigResults(base, { ...report, decision: 'x'.repeat(400) });
    expect(long.tags[1]!.length).toBe(255);
  });
});

describe('VICTIG callback verification', () => {
  const secrets = { accountId: 'acme', apiKey: 'k', callbackSecret: 'cbsec' };
  const body = Buffer.from(
    JSON.stringify({
      eventId: 'evt-1',
      orderId: 'order-1',
      status: 'IN_PROGRESS',
      occurredAt: '2025-01-01T00:00:00.000Z',
    }),
  );

  it('accepts a body signed with the callback secret; the order id is the external id', () => {
    expect(
      victigAdapter.verifyCallback(body, { 'x-victig-signature': victigSignature('cbsec', body) }, secrets),
    ).toEqual({
      ok: true,
      callback: { eventId: 'evt-1', eventType: 'IN_PROGRESS', externalId: 'order-1' },
    });
  });

  it('rejects a missing or wrong signature with 401 and a signed body of another shape with 400', () => {
    expect(victigAdapter.verifyCallback(body, {}, secrets)).toMatchObject({ ok: false, status: 401 });
    expect(
      victigAdapter.verifyCallback(body, { 'x-victig-signature': victigSignature('other', body) }, secrets),
    ).toMatchObject({ ok: false, status: 401 });
    expect(
      victigAdapter.verifyCallback(body, { 'x-signature': victigSignature('cbsec', body) }, secrets),
    ).toMatchObject({ ok: false, status: 401 });
    const junk = Buffer.from('{"hello":1}');
    expect(
      victigAdapter.verifyCallback(junk, { 'x-victig-signature': victigSignature('cbsec', junk) }, secrets),
    ).toMatchObject({ ok: false, status: 400 });
  });
});
