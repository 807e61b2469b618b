import { z } from 'zod';
import { safeUrlSchema } from '../../integrations/url-policy';
import type { CheckStatus } from '../../domain/status';
import { ExternalApiError, type HttpLimits } from '../../integrations/http-client';
import {
  VICTIG_SIGNATURE_HEADER,
  VictigClient,
  VictigRefusal,
  verifyVictigCallback,
  victigCatalogSchema,
  type VictigCatalog,
  type VictigOrder,
  type VictigOrderRequest,
} from './client';
import {
  VendorRefusal,
  orderEventCallback,
  singleHeader,
  type CheckVendorAdapter,
  type OrderPlan,
  type VendorClient,
  type VendorProgress,
  type VendorResults,
} from '../types';
import type { CandidateSnapshot, StatusReason } from '../../domain/candidate';

/**
 * Lever → VICTIG (spec §5, seed 001): the candidate's name, email, phone, position, location and prefixed tags
 * go to VICTIG, which sends the applicant a QuickApp; the product, sub-client and reference are chosen from
 * the opportunity's tags, location and posting as the connection's settings say. Statuses show as one
 * `<statusTagPrefix> <word>` tag; results go in a secret note, with optional flag and decision tags.
 */

export const DEFAULT_STATUS_TAG_PREFIX = 'Background Check Status: ';

/** The word after the status tag prefix, per canonical status VICTIG has (spec §4). */
export const VICTIG_STATUS_WORDS = {
  Pending: 'Pending',
  'In-Progress': 'In Progress',
  Complete: 'Complete',
  Rejected: 'Rejected',
  Error: 'Error',
} as const satisfies Partial<Record<CheckStatus, string>>;

/** Lever refuses tags longer than this. */
const LEVER_TAG_MAX = 255;
const PREFIX_MAX = 100;
/** The contract's limits on the order body. */
const TEXT_MAX = 500;
const EXTERNAL_ID_MAX = 200;
const TAGS_MAX = 200;

const prefixSchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(PREFIX_MAX, `must be at most ${PREFIX_MAX} characters`)
  .refine((s) => s.trimStart() === s, 'must not start with whitespace (Lever trims tags)');

const productSchema = z
  .string({ error: 'must be the exact name of a VICTIG product' })
  .min(1, 'must be the exact name of a VICTIG product')
  .max(200, 'must be at most 200 characters');

const unknownProductSchema = z.enum(['default', 'reject'], {
  error: 'must be "default" (order the default product) or "reject" (tag Rejected)',
});
const subClientMatchSchema = z.enum(['none', 'code', 'name', 'city'], {
  error: 'must be "none", "code", "name" or "city"',
});
const subClientNoMatchSchema = z.enum(['main', 'reject'], {
  error: 'must be "main" (order for the main client) or "reject" (tag Rejected)',
});
const referenceFieldSchema = z.enum(['none', 'jobTitle', 'jobDepartment', 'tags'], {
  error: 'must be "none", "jobTitle", "jobDepartment" or "tags"',
});

/** The choices that depend on each other, checked the same way on the admin input and on stored settings. */
interface VictigChoices {
  statusTagPrefix: string;
  productTagPrefix?: string | null;
  unknownProduct: 'default' | 'reject';
  subClientMatch: 'none' | 'code' | 'name' | 'city';
  subClientNoMatch: 'main' | 'reject';
  subClientTagPrefix?: string | null;
  referenceField: 'none' | 'jobTitle' | 'jobDepartment' | 'tags';
  referenceTagPrefix?: string | null;
  flagTagPrefix?: string | null;
  decisionTagPrefix?: string | null;
}

const overlaps = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);

function checkChoices(s: VictigChoices, ctx: z.RefinementCtx): void {
  const issue = (path: keyof VictigChoices, message: string) =>
    ctx.addIssue({ code: 'custom', path: [path], message });
  if (s.referenceField === 'tags' && !s.referenceTagPrefix) {
    issue('referenceTagPrefix', 'referenceTagPrefix is required when referenceField is "tags"');
  }
  if (s.referenceField !== 'tags' && s.referenceTagPrefix) {
    issue('referenceTagPrefix', 'referenceTagPrefix is only used when referenceField is "tags"');
  }
  if (s.unknownProduct === 'reject' && !s.productTagPrefix) {
    issue(
      'unknownProduct',
      'unknownProduct "reject" needs a productTagPrefix (without one, no tag names a product)',
    );
  }
  if (s.subClientNoMatch === 'reject' && s.subClientMatch === 'none' && !s.subClientTagPrefix) {
    issue(
      'subClientNoMatch',
      'subClientNoMatch "reject" needs subClientMatch "code", "name" or "city", or a subClientTagPrefix',
    );
  }
  // Results replace every tag starting with the flag or decision prefix: they must not reach other tags.
  const others: [keyof VictigChoices, string | null | undefined][] = [
    ['statusTagPrefix', s.statusTagPrefix],
    ['productTagPrefix', s.productTagPrefix],
    ['subClientTagPrefix', s.subClientTagPrefix],
    ['referenceTagPrefix', s.referenceTagPrefix],
  ];
  for (const key of ['flagTagPrefix', 'decisionTagPrefix'] as const) {
    const prefix = s[key];
    if (!prefix) continue;
    const clash = [
      ...others,
      ...(key === 'decisionTagPrefix' ? [['flagTagPrefix', s.flagTagPrefix] as const] : []),
    ].find(([, other]) => other && overlaps(prefix, other));
    if (clash)
      issue(key, `${key} must not overlap ${clash[0]}: result tags replace every tag starting with it`);
  }
}

export const victigSettingsSchema = z
  .object({
    apiBaseUrl: z.url(),
    defaultProduct: productSchema,
    statusTagPrefix: prefixSchema,
    /** null: no product override by tag. */
    productTagPrefix: prefixSchema.nullable(),
    unknownProduct: unknownProductSchema,
    subClientMatch: subClientMatchSchema,
    subClientNoMatch: subClientNoMatchSchema,
    /** null: no sub-client by tag. Connections stored before the setting existed have none. */
    subClientTagPrefix: prefixSchema.nullable().default(null),
    referenceField: referenceFieldSchema,
    referenceTagPrefix: prefixSchema.nullable(),
    forwardTagPrefixes: z.array(prefixSchema).max(50),
    flagTagPrefix: prefixSchema.nullable(),
    decisionTagPrefix: prefixSchema.nullable(),
  })
  .superRefine(checkChoices);
export type VictigSettings = z.infer<typeof victigSettingsSchema>;

export const victigSecretsSchema = z.object({
  accountId: z.string().min(1),
  apiKey: z.string().min(1),
  callbackSecret: z.string().min(1),
});
export type VictigSecrets = z.infer<typeof victigSecretsSchema>;

/** The vendor part of a connection as the admin API receives it. */
export const victigConnectionInputSchema = z
  .object({
    type: z.literal('victig'),
    apiBaseUrl: z.string({ error: 'must be the URL of the VICTIG API' }).pipe(safeUrlSchema),
    accountId: z
      .string({ error: 'must be the VICTIG account id' })
      .min(1, 'must be the VICTIG account id')
      .refine((s) => !s.includes(':'), 'must not contain ":"'),
    apiKey: z.string({ error: 'must be the VICTIG API key' }).min(1, 'must be the VICTIG API key'),
    callbackSecret: z
      .string({ error: 'must be the secret VICTIG signs callbacks with' })
      .min(1, 'must be the secret VICTIG signs callbacks with'),
    defaultProduct: productSchema,
    statusTagPrefix: prefixSchema.default(DEFAULT_STATUS_TAG_PREFIX),
    productTagPrefix: prefixSchema.optional(),
    unknownProduct: unknownProductSchema.default('default'),
    subClientMatch: subClientMatchSchema.default('none'),
    subClientNoMatch: subClientNoMatchSchema.default('main'),
    subClientTagPrefix: prefixSchema.optional(),
    referenceField: referenceFieldSchema.default('none'),
    referenceTagPrefix: prefixSchema.optional(),
    forwardTagPrefixes: z.array(prefixSchema).max(50).default([]),
    flagTagPrefix: prefixSchema.optional(),
    decisionTagPrefix: prefixSchema.optional(),
  })
  .superRefine(checkChoices)
  .transform(
    ({
      type: _type,
      accountId,
      apiKey,
      callbackSecret,
      ...s
    }): { settings: VictigSettings; secrets: VictigSecrets } => ({
      settings: {
        apiBaseUrl: s.apiBaseUrl,
        defaultProduct: s.defaultProduct,
        statusTagPrefix: s.statusTagPrefix,
        productTagPrefix: s.productTagPrefix ?? null,
        unknownProduct: s.unknownProduct,
        subClientMatch: s.subClientMatch,
        subClientNoMatch: s.subClientNoMatch,
        subClientTagPrefix: s.subClientTagPrefix ?? null,
        referenceField: s.referenceField,
        referenceTagPrefix: s.referenceTagPrefix ?? null,
        forwardTagPrefixes: s.forwardTagPrefixes,
        flagTagPrefix: s.flagTagPrefix ?? null,
        decisionTagPrefix: s.decisionTagPrefix ?? null,
      },
      secrets: { accountId, apiKey, callbackSecret },
    }),
  );

// ---------------------------------------------------------------------------------------------------
// Statuses and results

/**
 * A tag the service writes with a configured prefix (seed: prefix "Flag:" gives "Flag: True"): one space between
 * prefix and value unless the prefix already ends in whitespace, within Lever's tag length.
 */
export function prefixedTag(prefix: string, value: string): string {
  const separator = /\s$/.test(prefix) ? '' : ' ';
  return `${prefix}${separator}${value}`.slice(0, LEVER_TAG_MAX).trimEnd();
}

export function victigStatusTags(settings: Pick<VictigSettings, 'statusTagPrefix'>): string[] {
  return Object.values(VICTIG_STATUS_WORDS).map((word) => prefixedTag(settings.statusTagPrefix, word));
}

/** VICTIG's order status onto the canonical statuses. */
export function victigProgress(order: Pick<VictigOrder, 'status' | 'results'>): VendorProgress {
  switch (order.status) {
    case 'PENDING':
      return { status: 'Pending', vendorStatus: order.status, resultsAvailable: false };
    case 'IN_PROGRESS':
      return { status: 'In-Progress', vendorStatus: order.status, resultsAvailable: false };
    case 'COMPLETE':
      return { status: 'Complete', vendorStatus: order.status, resultsAvailable: true };
    case 'CANCELLED':
      return { status: 'Error', vendorStatus: order.status, reason: 'vendor-ended', resultsAvailable: false };
  }
}

/** The secret note's lines and the flag/decision tags of a completed order. */
export function victigResults(
  settings: Pick<VictigSettings, 'flagTagPrefix' | 'decisionTagPrefix'>,
  results: NonNullable<VictigOrder['results']>,
): VendorResults {
  const decision = results.decision.trim();
  const tags: string[] = [];
  const tagPrefixes: string[] = [];
  if (settings.flagTagPrefix !== null) {
    tags.push(prefixedTag(settings.flagTagPrefix, results.flagged ? 'True' : 'False'));
    tagPrefixes.push(settings.flagTagPrefix);
  }
  if (settings.decisionTagPrefix !== null && decision !== '') {
    tags.push(prefixedTag(settings.decisionTagPrefix, decision));
  }
  if (settings.decisionTagPrefix !== null) tagPrefixes.push(settings.decisionTagPrefix);
  return {
    url: results.reportUrl.url,
    linkRefused: results.reportUrl.refused,
    lines: [
      `Summary: ${results.summary.trim() || '(none)'}`,
      `Flagged: ${results.flagged ? 'Yes' : 'No'}`,
      `Decision: ${decision || '(none)'}`,
    ],
    tags,
    tagPrefixes,
  };
}

// ---------------------------------------------------------------------------------------------------
// Plan: what to order, decided from the settings, the candidate and VICTIG's catalog

const blank = (s: string | null | undefined): boolean => s === null || s === undefined || s.trim() === '';
/** Trimmed and within the contract's length, or null when blank. */
const text = (s: string | null | undefined): string | null => {
  const trimmed = s?.trim() ?? '';
  return trimmed === '' ? null : trimmed.slice(0, TEXT_MAX);
};

/** The Lever location: the opportunity's, else the posting's. */
export function leverLocation(candidate: CandidateSnapshot): string | null {
  return text(candidate.location) ?? text(candidate.position?.location);
}

/** The first tag with the prefix and its value after the prefix (trimmed), or undefined when no tag has it. */
function prefixedTagOf(
  tags: readonly string[],
  prefix: string | null,
): { tag: string; value: string } | undefined {
  if (prefix === null) return undefined;
  const tag = tags.find((t) => t.startsWith(prefix));
  return tag === undefined ? undefined : { tag, value: tag.slice(prefix.length).trim() };
}

function tagValue(tags: readonly string[], prefix: string | null): string | undefined {
  return prefixedTagOf(tags, prefix)?.value;
}

/** Sub-client fields a sub-client tag is matched against, in this order. */
const SUB_CLIENT_TAG_FIELDS = ['code', 'name', 'city'] as const;

function refuse(
  status: 'Rejected' | 'Error',
  reason: StatusReason,
  note: string,
): Extract<OrderPlan, { kind: 'refuse' }> {
  return { kind: 'refuse', status, reason, note };
}

const RETRIGGER = 'then move the candidate into the trigger stage again.';

function listForNote(values: string[]): string {
  const shown = values.slice(0, 20).map((v) => `"${v}"`);
  if (shown.length === 0) return 'none';
  return values.length > shown.length ? `${shown.join(', ')}, …` : shown.join(', ');
}

export function victigPlan(
  settings: VictigSettings,
  candidate: CandidateSnapshot,
  catalog: VictigCatalog,
): OrderPlan {
  if (blank(candidate.firstName) && blank(candidate.lastName)) {
    return refuse(
      'Rejected',
      'refused',
      `The candidate has no name in Lever; VICTIG needs one. Add it, ${RETRIGGER}`,
    );
  }
  if (blank(candidate.email)) {
    return refuse(
      'Rejected',
      'no-email',
      `The candidate has no email address in Lever; VICTIG needs one to send the QuickApp. Add it, ${RETRIGGER}`,
    );
  }

  // Product: the default, or the one a `<productTagPrefix><name>` tag names (the first such tag).
  let product = settings.defaultProduct;
  let productSource = 'default';
  const productTag = prefixedTagOf(candidate.tags, settings.productTagPrefix);
  if (productTag !== undefined) {
    const requested = productTag.value;
    if (catalog.products.some((p) => p.name === requested)) {
      product = requested;
      productSource = 'tag';
    } else if (settings.unknownProduct === 'reject') {
      return refuse(
        'Rejected',
        'no-package',
        `The product "${requested}" named by the tag "${productTag.tag}" does not exist in ` +
          `VICTIG (products: ${listForNote(catalog.products.map((p) => p.name))}). Fix or remove the tag, ${RETRIGGER}`,
      );
    } else {
      productSource = 'default-unknown-tag';
    }
  }

  // Sub-client: the one a `<subClientTagPrefix><code, name or city>` tag names (the first such tag), else the
  // Lever location matched exactly against one field of VICTIG's sub-clients.
  let subClientCode: string | null = null;
  let subClientSource = 'not-supported';
  const subClientTag = prefixedTagOf(candidate.tags, settings.subClientTagPrefix);
  if (subClientTag !== undefined) {
    const named = subClientTag.value;
    const match = SUB_CLIENT_TAG_FIELDS.map((field) =>
      catalog.subClients.find((s) => s[field] === named),
    ).find((s) => s !== undefined);
    if (match !== undefined) {
      subClientCode = match.code;
      subClientSource = 'tag';
    } else if (settings.subClientNoMatch === 'reject') {
      return refuse(
        'Rejected',
        'refused',
        `The sub-client "${named}" named by the tag "${subClientTag.tag}" matches no VICTIG sub-client code, name ` +
          `or city (sub-client codes: ${listForNote(catalog.subClients.map((s) => s.code))}). Fix or remove the tag, ${RETRIGGER}`,
      );
    } else {
      subClientSource = 'main-unknown-tag';
    }
  } else if (settings.subClientMatch !== 'none') {
    const field = settings.subClientMatch;
    const location = leverLocation(candidate);
    const match = location === null ? undefined : catalog.subClients.find((s) => s[field] === location);
    if (match !== undefined) {
      subClientCode = match.code;
      subClientSource = 'matched';
    } else if (settings.subClientNoMatch === 'reject') {
      return refuse(
        'Rejected',
        'refused',
        `${location === null ? 'The candidate has no location in Lever' : "The candidate's Lever location matches no VICTIG sub-client"} ` +
          `(sub-client ${field}s: ${listForNote(catalog.subClients.map((s) => s[field]))}). Set the location, ${RETRIGGER}`,
      );
    } else {
      subClientSource = 'main-no-match';
    }
  }

  const reference = ((): string | null => {
    switch (settings.referenceField) {
      case 'none':
        return null;
      case 'jobTitle':
        return text(candidate.position?.title);
      case 'jobDepartment':
        return text(candidate.position?.department);
      case 'tags':
        return text(tagValue(candidate.tags, settings.referenceTagPrefix));
    }
  })();

  // Only tags with a configured prefix go to VICTIG; the product, sub-client and reference prefixes count too.
  const prefixes = [
    ...settings.forwardTagPrefixes,
    ...(settings.productTagPrefix === null ? [] : [settings.productTagPrefix]),
    ...(settings.subClientTagPrefix === null ? [] : [settings.subClientTagPrefix]),
    ...(settings.referenceField === 'tags' && settings.referenceTagPrefix !== null
      ? [settings.referenceTagPrefix]
      : []),
  ];
  const tags = [...new Set(candidate.tags.filter((t) => prefixes.some((p) => t.startsWith(p))))].slice(
    0,
    TAGS_MAX,
  );

  return {
    kind: 'order',
    packageName: product,
    packageRef: product,
    options: {
      product,
      productSource,
      subClientCode,
      subClientSource,
      referenceField: settings.referenceField,
      reference,
      tags,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Client

function option(plan: Extract<OrderPlan, { kind: 'order' }>, key: string): string | null {
  const value = plan.options[key];
  return typeof value === 'string' ? value : null;
}

function optionList(plan: Extract<OrderPlan, { kind: 'order' }>, key: string): string[] {
  const value = plan.options[key];
  return Array.isArray(value) ? value : [];
}

/** The `POST /api/v1/orders` body for a plan (docs/vendors/victig.md). */
export function victigOrderBody(
  candidate: CandidateSnapshot,
  plan: Extract<OrderPlan, { kind: 'order' }>,
  externalId: string,
): VictigOrderRequest {
  const email = text(candidate.email);
  if (email === null) throw new VendorRefusal('The applicant has no email address.');
  return {
    product: plan.packageRef,
    subClientCode: option(plan, 'subClientCode'),
    reference: option(plan, 'reference'),
    applicant: {
      firstName: candidate.firstName.trim().slice(0, TEXT_MAX),
      lastName: candidate.lastName.trim().slice(0, TEXT_MAX),
      email,
      phone: text(candidate.phone),
    },
    position: {
      title: text(candidate.position?.title),
      department: text(candidate.position?.department),
      location: leverLocation(candidate),
    },
    tags: optionList(plan, 'tags'),
    externalId: externalId.slice(0, EXTERNAL_ID_MAX),
  };
}

class VictigVendorClient implements VendorClient {
  private readonly api: VictigClient;

  constructor(
    private readonly settings: VictigSettings,
    secrets: VictigSecrets,
    limits: HttpLimits | undefined,
  ) {
    this.api = new VictigClient(settings.apiBaseUrl, secrets.accountId, secrets.apiKey, { limits });
  }

  catalog(): Promise<VictigCatalog> {
    return this.api.catalog();
  }

  /** The check run's idempotency key is also the order's externalId (our check id). */
  async order(request: Parameters<VendorClient['order']>[0]): Promise<{ externalId: string }> {
    const body = victigOrderBody(request.candidate, request.plan, request.idempotencyKey);
    try {
      const created = await this.api.createOrder(body, request.idempotencyKey);
      return { externalId: created.orderId };
    } catch (err) {
      if (err instanceof VictigRefusal) throw new VendorRefusal(err.description);
      throw err;
    }
  }

  async progress(externalId: string): Promise<VendorProgress> {
    return victigProgress(await this.api.getOrder(externalId));
  }

  async results(externalId: string): Promise<VendorResults> {
    const order = await this.api.getOrder(externalId);
    if (order.results === null) {
      throw new ExternalApiError('VICTIG', null, `VICTIG has no results for the order yet (${order.status})`);
    }
    return victigResults(this.settings, order.results);
  }
}

// ---------------------------------------------------------------------------------------------------
// The adapter

export const victigAdapter: CheckVendorAdapter<VictigSettings, VictigSecrets> = {
  vendor: 'victig',
  displayName: 'VICTIG',
  connectionInputSchema: victigConnectionInputSchema,
  settingsSchema: victigSettingsSchema,
  secretsSchema: victigSecretsSchema,
  supportedAts: ['lever'],
  leverTrigger: 'stage-change',
  workflow: 'backgroundCheck',
  resultsOn: ['Complete'],
  // The order carries the position (title, department, location).
  usesPosition: true,

  lever: {
    statusTags: victigStatusTags,
    tagFor(settings, status) {
      const word = (VICTIG_STATUS_WORDS as Partial<Record<CheckStatus, string>>)[status];
      return word === undefined ? null : prefixedTag(settings.statusTagPrefix, word);
    },
    resultLink: false,
  },

  packages: (settings) => [
    {
      id: settings.defaultProduct,
      name: settings.defaultProduct,
      description: `VICTIG product ${settings.defaultProduct}`,
    },
  ],

  plan(settings, candidate, catalog) {
    return victigPlan(settings, candidate, victigCatalogSchema.parse(catalog));
  },

  client(settings, secrets, limits) {
    return new VictigVendorClient(settings, secrets, limits);
  },

  verifyCallback: (rawBody, headers, secrets) =>
    orderEventCallback(
      verifyVictigCallback(rawBody, singleHeader(headers[VICTIG_SIGNATURE_HEADER]), secrets.callbackSecret),
    ),
};
