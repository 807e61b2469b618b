import { z } from 'zod';
import { safeUrlSchema } from '../../integrations/url-policy';
import type { CheckStatus } from '../../domain/status';
import type { AshbyStatusLabel } from '../../ats/ashby/client';
import type { HttpLimits } from '../../integrations/http-client';
import {
  orderEventCallback,
  singleHeader,
  type CheckVendorAdapter,
  type OrderPlan,
  type VendorClient,
  type VendorProgress,
} from '../types';
import { vendorConnectionInput } from '../connection-input';
import { JustifactsClient, verifyJustifactsCallback, type JustifactsOrderStatus } from './client';
import { findPackageTag } from './package-tag';

/** Lever tags of the Justifacts integration (seed 000): exact strings, customers filter on them. */
export const JUSTIFACTS_TAGS = {
  Pending: '(Justifacts)In-Progress : Candidate',
  Analyzing: '(Justifacts)In-Progress: Justifacts',
  Complete: '(Justifacts)Complete',
} as const;

/** Ashby assessment statuses of the Justifacts integration: the seed's own words (seed 003). */
export const JUSTIFACTS_ASHBY_STATUSES: Partial<Record<CheckStatus, AshbyStatusLabel>> = {
  Pending: 'Justifacts Received',
  'In-Progress': 'Started',
  Analyzing: 'In Process Justifacts',
  Complete: 'Complete',
};

export const EXAMPLE_PACKAGE_TAG = 'JUSTIFACTS BGC PKG: EmpCod[ID : 13558]';

const packageSchema = z.object({
  code: z.string().min(1),
  id: z.string().min(1),
  name: z.string().min(1),
  description: z.string().default(''),
});

export const justifactsSettingsSchema = z.object({
  apiBaseUrl: z.url(),
  /** The packages offered to Ashby as assessment types (Lever takes the package from the posting's tag). */
  packages: z
    .array(packageSchema)
    .default([])
    .refine((p) => new Set(p.map((x) => x.id)).size === p.length, 'package ids must be unique'),
});
export type JustifactsSettings = z.infer<typeof justifactsSettingsSchema>;

export const justifactsSecretsSchema = z.object({
  apiKey: z.string().min(1),
  callbackSecret: z.string().min(1),
});
export type JustifactsSecrets = z.infer<typeof justifactsSecretsSchema>;

const connectionInputSchema = vendorConnectionInput('justifacts', {
  settings: { apiBaseUrl: safeUrlSchema, packages: justifactsSettingsSchema.shape.packages },
  secrets: justifactsSecretsSchema.shape,
});

export function justifactsProgress(status: JustifactsOrderStatus, hasResult: boolean): VendorProgress {
  switch (status) {
    case 'INVITED':
      return { status: 'Pending', vendorStatus: status, resultsAvailable: false };
    case 'APPLICANT_STARTED':
      return { status: 'In-Progress', vendorStatus: status, resultsAvailable: false };
    case 'APPLICANT_COMPLETED':
      return { status: 'Analyzing', vendorStatus: status, resultsAvailable: false };
    case 'COMPLETED':
      return { status: 'Complete', vendorStatus: status, resultsAvailable: hasResult };
    case 'CANCELLED':
      return { status: 'Error', vendorStatus: status, reason: 'vendor-ended', resultsAvailable: false };
  }
}

/** The package to order: the one Ashby asked for, or the package tag of the Lever posting/opportunity. */
export function justifactsPlan(
  settings: JustifactsSettings,
  candidate: Parameters<CheckVendorAdapter['plan']>[1],
): OrderPlan {
  let pkg: { code: string; id: string; name: string } | undefined;
  if (candidate.requestedPackageId !== null) {
    pkg = settings.packages.find((p) => p.id === candidate.requestedPackageId);
    if (pkg === undefined) {
      return {
        kind: 'refuse',
        status: 'Rejected',
        reason: 'no-package',
        note: `Justifacts package ${candidate.requestedPackageId} is not configured for this connection.`,
      };
    }
  } else {
    const tag = findPackageTag([...candidate.tags, ...(candidate.position?.tags ?? [])]);
    if (tag === null) {
      return {
        kind: 'refuse',
        status: 'Error',
        reason: 'no-package',
        note:
          `No Justifacts package tag was found on the opportunity or its job posting, so no background check was ` +
          `ordered. Add a tag such as "${EXAMPLE_PACKAGE_TAG}" to the posting, then move the candidate into the ` +
          `trigger stage again.`,
      };
    }
    pkg = { ...tag, name: `${tag.code}[ID : ${tag.id}]` };
  }
  if (candidate.email === null) {
    return {
      kind: 'refuse',
      status: 'Error',
      reason: 'no-email',
      note: 'The candidate has no email address, so Justifacts cannot send the invitation. Add one, then trigger again.',
    };
  }
  return { kind: 'order', packageName: pkg.name, packageRef: pkg.id, options: { packageCode: pkg.code } };
}

class JustifactsVendorClient implements VendorClient {
  private readonly api: JustifactsClient;
  constructor(settings: JustifactsSettings, secrets: JustifactsSecrets, limits: HttpLimits | undefined) {
    this.api = new JustifactsClient(settings.apiBaseUrl, secrets.apiKey, { limits });
  }

  async order(request: Parameters<VendorClient['order']>[0]) {
    const code = request.plan.options.packageCode;
    if (typeof code !== 'string') throw new Error('the plan has no Justifacts package code');
    const order = await this.api.createOrder(
      {
        package: { code, id: request.plan.packageRef },
        applicant: {
          firstName: request.candidate.firstName,
          lastName: request.candidate.lastName,
          email: request.candidate.email ?? '',
        },
        reference: request.reference,
      },
      request.idempotencyKey,
    );
    return { externalId: order.orderId };
  }

  async progress(externalId: string) {
    const order = await this.api.getOrder(externalId);
    return justifactsProgress(order.status, order.resultUrl !== null);
  }

  async results(externalId: string) {
    const order = await this.api.getOrder(externalId);
    return {
      url: order.resultUrl?.url ?? null,
      linkRefused: order.resultUrl?.refused ?? false,
      lines: [],
      tags: [],
      tagPrefixes: [],
    };
  }

  async cancel(externalId: string) {
    await this.api.cancelOrder(externalId);
  }
}

export const justifactsAdapter: CheckVendorAdapter<JustifactsSettings, JustifactsSecrets> = {
  vendor: 'justifacts',
  displayName: 'Justifacts',
  connectionInputSchema,
  settingsSchema: justifactsSettingsSchema,
  secretsSchema: justifactsSecretsSchema,
  supportedAts: ['lever', 'ashby'],
  leverTrigger: 'stage-change',
  // Seed 000: "Move the candidate opportunity to the 'Background Check' stage to trigger the integration".
  defaultTriggerStageName: 'Background Check',
  workflow: 'backgroundCheck',
  resultsOn: ['Complete'],
  // The package tag may be on the posting.
  usesPosition: true,

  lever: {
    statusTags: () => Object.values(JUSTIFACTS_TAGS),
    tagFor(_settings, status) {
      return status === 'Pending' || status === 'Analyzing' || status === 'Complete'
        ? JUSTIFACTS_TAGS[status]
        : null;
    },
    // The seed: "a secret note with the result URL" — no profile link.
    resultLink: false,
  },

  ashby: {
    statusFor: (status) => JUSTIFACTS_ASHBY_STATUSES[status] ?? null,
  },

  packages: (settings) =>
    settings.packages.map((p) => ({
      id: p.id,
      name: p.name,
      description: p.description || `Justifacts package ${p.code} (ID ${p.id})`,
    })),

  plan: (settings, candidate) => justifactsPlan(settings, candidate),

  client: (settings, secrets, limits) => new JustifactsVendorClient(settings, secrets, limits),

  verifyCallback: (rawBody, headers, secrets) =>
    orderEventCallback(
      verifyJustifactsCallback(
        rawBody,
        singleHeader(headers['x-justifacts-signature']),
        secrets.callbackSecret,
      ),
    ),
};
