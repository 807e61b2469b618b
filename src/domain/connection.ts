import { z } from 'zod';

/** Lever side of a connection, as the admin sends it. A stage trigger is given by name or by ID. */
export const leverConnectionInputSchema = z
  .object({
    apiBaseUrl: z.url().default('https://api.lever.co/v1'),
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
export const ashbyConnectionInputSchema = z.object({
  apiBaseUrl: z.url().default('https://api.ashbyhq.com'),
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

/** A stored connection: one customer's ATS account linked to one vendor. Secrets never leave the service. */
export interface Connection {
  id: string;
  name: string;
  ats: AtsConfig;
  vendor: string;
  /** Vendor settings, validated by the vendor's schema. */
  vendorSettings: unknown;
  /** Vendor secrets, validated by the vendor's schema. */
  vendorSecrets: unknown;
  createdAt: Date;
}

/** What the admin API shows of a connection: everything but secrets, plus the URLs to give the ATS and vendor. */
export function publicView(connection: Connection, baseUrl: string, options: { vendorCallbacks: boolean }) {
  const urls =
    connection.ats.kind === 'lever'
      ? { webhookUrl: `${baseUrl}/webhooks/lever/${connection.id}` }
      : { partnerBaseUrl: `${baseUrl}/ashby/${connection.id}` };
  return {
    id: connection.id,
    name: connection.name,
    ats: connection.ats.kind,
    atsSettings: connection.ats.settings,
    vendor: connection.vendor,
    vendorSettings: connection.vendorSettings,
    ...urls,
    ...(options.vendorCallbacks
      ? { vendorCallbackUrl: `${baseUrl}/callbacks/${connection.vendor}/${connection.id}` }
      : {}),
    createdAt: connection.createdAt.toISOString(),
  };
}
