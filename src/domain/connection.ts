import { z } from 'zod';
import { safeUrlSchema } from '../integrations/url-policy';

/**
 * Lever side of a connection, as the admin sends it. A stage trigger is given by name or by ID. Unknown keys are
 * refused: a misspelt setting must not be dropped silently.
 */
export const leverConnectionInputSchema = z
  .strictObject({
    apiBaseUrl: safeUrlSchema.default('https://api.lever.co/v1'),
    apiKey: z.string().min(1),
    signatureToken: z.string().min(1),
    triggerStageName: z.string().min(1).optional(),
    triggerStageId: z.string().min(1).optional(),
  })
  .refine((v) => v.triggerStageName === undefined || v.triggerStageId === undefined, {
    message: 'give triggerStageName or triggerStageId, not both',
    path: ['triggerStageName'],
  });
export type LeverConnectionInput = z.infer<typeof leverConnectionInputSchema>;

export const leverSettingsSchema = z.object({
  apiBaseUrl: z.url(),
  /** Set for integrations started by a stage change. */
  triggerStageId: z.string().min(1).optional(),
  triggerStageName: z.string().optional(),
});
export type LeverSettings = z.infer<typeof leverSettingsSchema>;

export const leverSecretsSchema = z.object({ apiKey: z.string().min(1), signatureToken: z.string().min(1) });
export type LeverSecrets = z.infer<typeof leverSecretsSchema>;

/** Ashby side: the organization's API key (for assessment.update) and the secret Ashby sends us. */
export const ashbyConnectionInputSchema = z.strictObject({
  apiBaseUrl: safeUrlSchema.default('https://api.ashbyhq.com'),
  apiKey: z.string().min(1),
  /** Shared secret Ashby sends as `Authorization: Bearer …`; generated when omitted. */
  partnerSecret: z.string().min(24, 'partnerSecret must be at least 24 characters').optional(),
});

export const ashbySettingsSchema = z.object({ apiBaseUrl: z.url() });
export type AshbySettings = z.infer<typeof ashbySettingsSchema>;
export const ashbySecretsSchema = z.object({ apiKey: z.string().min(1), partnerSecret: z.string().min(24) });
export type AshbySecrets = z.infer<typeof ashbySecretsSchema>;

export type AtsConfig =
  | { kind: 'lever'; settings: LeverSettings; secrets: LeverSecrets }
  | { kind: 'ashby'; settings: AshbySettings; secrets: AshbySecrets };

/**
 * Where a connection is in its life: `active`; `paused` (webhooks are verified and recorded but start nothing);
 * `deleted` (its webhook URLs are gone; checks already running finish, then its secrets are erased).
 */
export type ConnectionStatus = 'active' | 'paused' | 'deleted';

export interface ConnectionLifecycle {
  status: ConnectionStatus;
  /** Goes up by one with every change: PATCH with `If-Match` applies only to the version it was based on. */
  version: number;
  updatedAt: Date;
  pausedAt: Date | null;
  deletedAt: Date | null;
  /** Set once a deleted connection's secrets are erased (no check of it runs any more). */
  secretsErasedAt: Date | null;
}

/** A stored connection without its secrets: what the admin API shows, also after the secrets are erased. */
export interface ConnectionSummary {
  id: string;
  name: string;
  ats: { kind: AtsConfig['kind']; settings: AtsConfig['settings'] };
  vendor: string;
  /** Vendor settings, validated by the vendor's schema. */
  vendorSettings: unknown;
  createdAt: Date;
  lifecycle: ConnectionLifecycle;
}

/** A stored connection: one customer's ATS account linked to one vendor. Secrets never leave the service. */
export interface Connection extends ConnectionSummary {
  ats: AtsConfig;
  /** Vendor secrets, validated by the vendor's schema. */
  vendorSecrets: unknown;
}

/** What the admin API shows of a connection: everything but secrets, plus the URLs to give the ATS and vendor. */
export function publicView(
  connection: ConnectionSummary,
  baseUrl: string,
  options: { vendorCallbacks: boolean },
) {
  const urls =
    connection.ats.kind === 'lever'
      ? { webhookUrl: `${baseUrl}/webhooks/lever/${connection.id}` }
      : { partnerBaseUrl: `${baseUrl}/ashby/${connection.id}` };
  const { lifecycle } = connection;
  return {
    id: connection.id,
    name: connection.name,
    status: lifecycle.status,
    version: lifecycle.version,
    ats: connection.ats.kind,
    atsSettings: connection.ats.settings,
    vendor: connection.vendor,
    vendorSettings: connection.vendorSettings,
    ...urls,
    ...(options.vendorCallbacks
      ? { vendorCallbackUrl: `${baseUrl}/callbacks/${connection.vendor}/${connection.id}` }
      : {}),
    createdAt: connection.createdAt.toISOString(),
    updatedAt: lifecycle.updatedAt.toISOString(),
    ...(lifecycle.pausedAt === null ? {} : { pausedAt: lifecycle.pausedAt.toISOString() }),
    ...(lifecycle.deletedAt === null ? {} : { deletedAt: lifecycle.deletedAt.toISOString() }),
    ...(lifecycle.secretsErasedAt === null
      ? {}
      : { secretsErasedAt: lifecycle.secretsErasedAt.toISOString() }),
  };
}
