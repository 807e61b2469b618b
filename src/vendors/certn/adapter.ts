import { z } from 'zod';
import { offeredLinkSchema, safeUrlSchema } from '../../integrations/url-policy';
import type { CheckStatus } from '../../domain/status';
import { certnSignature, hexSignatureMatches, signedJsonEvent } from '../../integrations/signature';
import { RefusedUrlError, requestJson, type HttpLimits } from '../../integrations/http-client';
import type { CallbackVerdict, CheckVendorAdapter, VendorClient, VendorProgress } from '../types';
import type { StatusReason } from '../../domain/candidate';
import { vendorConnectionInput } from '../connection-input';

export const CERTN_TAGS = {
  Pending: 'CERTN - Pending',
  Analyzing: 'CERTN - Analyzing',
  Partial: 'CERTN - Partial',
  Complete: 'CERTN - Complete',
  ErrorNoEmail: 'CERTN - Error (No Email)',
} as const;

const packageSchema = z.object({
  name: z.string().min(1),
  packageId: z.string().min(1),
  default: z.boolean().default(false),
});

export const certnSettingsSchema = z.object({
  apiBaseUrl: z.url(),
  packages: z
    .array(packageSchema)
    .min(1, 'at least one package is required')
    .refine((p) => p.filter((x) => x.default).length === 1, 'exactly one package must be marked default')
    .refine((p) => new Set(p.map((x) => x.name)).size === p.length, 'package names must be unique'),
});
export type CertnSettings = z.infer<typeof certnSettingsSchema>;

export const certnSecretsSchema = z.object({ apiKey: z.string().min(1), webhookSecret: z.string().min(1) });
export type CertnSecrets = z.infer<typeof certnSecretsSchema>;

const certnConnectionInputSchema = vendorConnectionInput('certn', {
  settings: {
    apiBaseUrl: safeUrlSchema.default('https://api.certn.co'),
    packages: certnSettingsSchema.shape.packages,
  },
  secrets: certnSecretsSchema.shape,
});

export const CERTN_CASE_STATUS_VALUES = [
  'CASE_ORDERED',
  'APPLICANT_INVITED',
  'APPLICANT_OPENED',
  'APPLICANT_STARTED',
  'APPLICANT_SUBMITTED',
  'IN_PROGRESS',
  'IN_DISPUTE',
  'APPLICANT_ACTION_REQUIRED',
  'CLIENT_ACTION_REQUIRED',
  'INVITE_UNDELIVERABLE',
  'APPLICANT_EXPIRED',
  'CANCELLED',
  'COMPLETE',
] as const;

export const certnCaseSchema = z.object({
  id: z.string(),
  overall_status: z.enum(CERTN_CASE_STATUS_VALUES),
  check_executions: z
    .array(z.object({ id: z.string(), check_type: z.string(), status: z.string() }))
    .default([]),
});
export type CertnCase = z.infer<typeof certnCaseSchema>;

const certnCallbackSchema = z.object({
  id: z.string().min(1).max(200),
  event_type: z.string().min(1).max(100),
  object_id: z.string().min(1).max(200),
  object_type: z.string().min(1).max(100),
});

/**
 * Certn's case status onto the canonical statuses. The applicant working on the form is In-Progress (Certn has
 * no tag for it, so `CERTN - Pending` stays); Certn working with some checks back is Partial.
 */
export function certnProgress(caseBody: CertnCase): VendorProgress {
  const s = caseBody.overall_status;
  const done = caseBody.check_executions.filter((c) => c.status === 'COMPLETE').length;
  const some = done > 0;
  const status = ((): { status: CheckStatus; reason?: StatusReason } => {
    switch (s) {
      case 'CASE_ORDERED':
      case 'APPLICANT_INVITED':
        return { status: 'Pending' };
      case 'APPLICANT_OPENED':
      case 'APPLICANT_STARTED':
        return { status: 'In-Progress' };
      case 'APPLICANT_SUBMITTED':
      case 'IN_PROGRESS':
      case 'IN_DISPUTE':
      case 'APPLICANT_ACTION_REQUIRED':
      case 'CLIENT_ACTION_REQUIRED':
        return { status: some && done < caseBody.check_executions.length ? 'Partial' : 'Analyzing' };
      case 'COMPLETE':
        return { status: 'Complete' };
      case 'INVITE_UNDELIVERABLE':
      case 'APPLICANT_EXPIRED':
      case 'CANCELLED':
        return { status: 'Error', reason: 'vendor-ended' };
    }
  })();
  return { ...status, vendorStatus: s, resultsAvailable: some };
}

class CertnClient implements VendorClient {
  constructor(
    private readonly settings: CertnSettings,
    private readonly secrets: CertnSecrets,
    private readonly limits: HttpLimits | undefined,
  ) {}

  private call(path: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
    return requestJson('Certn', `${this.settings.apiBaseUrl.replace(/\/$/, '')}/api/public${path}`, {
      method,
      body,
      headers: { Authorization: `Api-Key ${this.secrets.apiKey}`, ...headers },
      limits: this.limits,
    });
  }

  async order(request: Parameters<VendorClient['order']>[0]) {
    const body = await this.call(
      '/cases/order-package/',
      'POST',
      {
        email_address: request.candidate.email,
        first_name: request.candidate.firstName,
        last_name: request.candidate.lastName,
        package_id: request.plan.packageRef,
        send_invite_email: true,
        external_reference: request.reference,
      },
      { 'Idempotency-Key': request.idempotencyKey },
    );
    return { externalId: certnCaseSchema.parse(body).id };
  }

  async progress(externalId: string) {
    return certnProgress(certnCaseSchema.parse(await this.call(`/cases/${encodeURIComponent(externalId)}/`)));
  }

  /** The PDF report: Certn generates it on request and serves it through a signed `pdf_url`. */
  async results(externalId: string) {
    const report = z
      .object({ id: z.string().min(1) })
      .parse(await this.call(`/cases/${encodeURIComponent(externalId)}/generate-report/`, 'POST', {}));
    const link = await this.signedReport(report.id);
    return {
      url: link.url,
      linkRefused: link.refused,
      reportId: report.id,
      lines: [],
      tags: [],
      tagPrefixes: [],
    };
  }

  /** Certn signs a report file's `pdf_url` for an hour: each call signs a new one. */
  async reportUrl(reportId: string) {
    const link = await this.signedReport(reportId);
    if (link.url === null) {
      throw new RefusedUrlError('Certn', 'Certn answered with a report link that is not an https:// URL');
    }
    return link.url;
  }

  private async signedReport(reportId: string) {
    const file = z
      .object({ pdf_url: offeredLinkSchema })
      .parse(await this.call(`/report-files/${encodeURIComponent(reportId)}/`));
    return file.pdf_url;
  }

  async cancel(externalId: string) {
    await this.call(`/cases/${encodeURIComponent(externalId)}/cancel/`, 'POST', {});
  }
}

export const certnAdapter: CheckVendorAdapter<CertnSettings, CertnSecrets> = {
  vendor: 'certn',
  displayName: 'Certn',
  connectionInputSchema: certnConnectionInputSchema,
  settingsSchema: certnSettingsSchema,
  secretsSchema: certnSecretsSchema,
  supportedAts: ['lever'],
  leverTrigger: 'stage-change',
  workflow: 'backgroundCheck',
  resultsOn: ['Partial', 'Complete'],
  // Certn orders by name, e-mail and the package: the posting is never read.
  usesPosition: false,

  lever: {
    statusTags: () => Object.values(CERTN_TAGS),
    tagFor(_settings, status, reason) {
      switch (status) {
        case 'Pending':
          return CERTN_TAGS.Pending;
        case 'Analyzing':
          return CERTN_TAGS.Analyzing;
        case 'Partial':
          return CERTN_TAGS.Partial;
        case 'Complete':
          return CERTN_TAGS.Complete;
        case 'Error':
          return reason === 'no-email' ? CERTN_TAGS.ErrorNoEmail : null;
        default:
          return null;
      }
    },
    resultLink: true,
  },

  packages: (settings) =>
    settings.packages.map((p) => ({ id: p.packageId, name: p.name, description: `Certn package ${p.name}` })),

  /** Default package, or another package whose name equals one of the candidate's tags; no email → Error. */
  plan(settings, candidate) {
    if (candidate.email === null) {
      return { kind: 'refuse', status: 'Error', reason: 'no-email', note: null };
    }
    const tags = new Set(candidate.tags);
    const chosen =
      settings.packages.find((p) => !p.default && tags.has(p.name)) ??
      settings.packages.find((p) => p.default);
    if (chosen === undefined) throw new Error('connection has no default Certn package');
    return { kind: 'order', packageName: chosen.name, packageRef: chosen.packageId, options: {} };
  },

  client(settings, secrets, limits) {
    return new CertnClient(settings, secrets, limits);
  },

  verifyCallback(rawBody, headers, secrets): CallbackVerdict {
    const signature = headers['x-signature'];
    const signed =
      typeof signature === 'string' &&
      hexSignatureMatches(certnSignature(secrets.webhookSecret, rawBody), signature);
    const verdict = signedJsonEvent(rawBody, signed, certnCallbackSchema, {
      header: 'X-Signature',
      what: 'a Certn webhook event',
    });
    if (!verdict.ok) return verdict;
    const { id, event_type, object_id } = verdict.event;
    return { ok: true, callback: { eventId: id, eventType: event_type, externalId: object_id } };
  },
};
