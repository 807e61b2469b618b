import { z } from 'zod';
import type { AtsConfigOf } from '../../domain/connection';
import { safeUrlSchema } from '../../integrations/url-policy';

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

/** The Lever part of a stored connection. */
export type LeverConfig = AtsConfigOf<'lever', LeverSettings, LeverSecrets>;
