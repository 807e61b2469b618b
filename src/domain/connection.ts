import { z } from 'zod';

/** Lever side of a connection, as the admin sends it. The trigger stage is given by name or by ID. */
export const leverConnectionInputSchema = z
  .object({
    apiBaseUrl: z.url().default('https://api.lever.co/v1'),
    apiKey: z.string().min(1),
    signatureToken: z.string().min(1),
    triggerStageName: z.string().min(1).optional(),
    triggerStageId: z.string().min(1).optional(),
  })
  .refine((v) => (v.triggerStageName === undefined) !== (v.triggerStageId === undefined), {
    message: 'give exactly one of triggerStageName or triggerStageId',
    path: ['triggerStageName'],
  });

/** Lever settings kept on the connection (no secrets). */
export const leverSettingsSchema = z.object({
  apiBaseUrl: z.url(),
  triggerStageId: z.string().min(1),
  triggerStageName: z.string().optional(),
});
export type LeverSettings = z.infer<typeof leverSettingsSchema>;

export const leverSecretsSchema = z.object({
  apiKey: z.string().min(1),
  signatureToken: z.string().min(1),
});
export type LeverSecrets = z.infer<typeof leverSecretsSchema>;

/** A stored connection: settings are plain configuration, secrets never leave the service after creation. */
export interface Connection {
  id: string;
  name: string;
  ats: 'lever';
  vendor: string;
  lever: LeverSettings;
  leverSecrets: LeverSecrets;
  /** Vendor settings, validated by the vendor adapter's schema. */
  vendorSettings: unknown;
  /** Vendor secrets, validated by the vendor adapter's schema. */
  vendorSecrets: unknown;
  createdAt: Date;
}

/** What the admin API shows of a connection: everything but secrets. */
export function publicView(connection: Connection, webhookBaseUrl: string) {
  return {
    id: connection.id,
    name: connection.name,
    ats: connection.ats,
    vendor: connection.vendor,
    lever: connection.lever,
    vendorSettings: connection.vendorSettings,
    webhookUrl: `${webhookBaseUrl}/webhooks/lever/${connection.id}`,
    vendorCallbackUrl: `${webhookBaseUrl}/callbacks/${connection.vendor}/${connection.id}`,
    createdAt: connection.createdAt.toISOString(),
  };
}
