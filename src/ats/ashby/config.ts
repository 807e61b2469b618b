import { z } from 'zod';
import type { AtsConfigOf } from '../../domain/connection';
import { safeUrlSchema } from '../../integrations/url-policy';

/** Ashby side: the organization's API key (for assessment.update) and the secret Ashby sends us. */
export const ashbyConnectionInputSchema = z.strictObject({
  apiBaseUrl: safeUrlSchema.default('https://api.ashbyhq.com'),
  apiKey: z.string().min(1),
  /** Shared secret Ashby sends as `Authorization: Bearer …`; generated when omitted. */
  partnerSecret: z.string().min(24, 'partnerSecret must be at least 24 characters').optional(),
});
export type AshbyConnectionInput = z.infer<typeof ashbyConnectionInputSchema>;

export const ashbySettingsSchema = z.object({ apiBaseUrl: z.url() });
export type AshbySettings = z.infer<typeof ashbySettingsSchema>;
export const ashbySecretsSchema = z.object({ apiKey: z.string().min(1), partnerSecret: z.string().min(24) });
export type AshbySecrets = z.infer<typeof ashbySecretsSchema>;

/** The Ashby part of a stored connection. */
export type AshbyConfig = AtsConfigOf<'ashby', AshbySettings, AshbySecrets>;
