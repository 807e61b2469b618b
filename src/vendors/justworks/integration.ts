import { z } from 'zod';
import { safeUrlSchema } from '../../integrations/url-policy';
import type { IntegrationDefinition } from '../types';
import { vendorConnectionInput } from '../connection-input';
import { EXEMPTION_STATUSES, MANAGE_EMPLOYEES_PERMISSION, MEMBER_TYPES } from './client';

/**
 * Lever → Justworks (spec §5, seed 002): when a candidate is hired in Lever, the service creates a pending
 * hire in Justworks from the opportunity, its posting and its offer, and e-mails every Justworks admin with
 * the "Manage employees" permission a link to review it (contract: docs/vendors/justworks.md).
 *
 * Connection settings (the `vendor` part of `POST /admin/connections`):
 * - `apiBaseUrl` (default `https://api.justworks.com`), `apiKey` (secret).
 * - `companyName` (optional): shown in the admin e-mail.
 * - `memberType` (default `employee`): the member type of every hire; an offer custom field
 *   `custom_member_type` (`employee` / `contractor`) overrides it for one hire.
 * - `exemptionStatus` (default `by-type-of-earnings`): `exempt`, `non-exempt`, or `by-type-of-earnings`
 *   (hourly wage → `non-exempt`, yearly salary → `exempt`, the usual FLSA classification). An offer custom
 *   field `custom_exemption_status` (`exempt` / `non-exempt`) overrides it for one hire. The admin can still
 *   change it in Justworks' Review & Invite before inviting.
 *
 * Who gets the e-mail is not a setting: Justworks is asked at each hire (`GET /v1/admins`), so a permission
 * changed in Justworks changes the next e-mail's recipients. The former `admins` setting is refused on input;
 * connections stored with it still load (the settings schema drops it).
 */

export const EXEMPTION_DEFAULTS = [...EXEMPTION_STATUSES, 'by-type-of-earnings'] as const;
export type ExemptionDefault = (typeof EXEMPTION_DEFAULTS)[number];

export const justworksSettingsSchema = z.object({
  apiBaseUrl: z.url(),
  companyName: z.string().trim().min(1).max(200).optional(),
  memberType: z.enum(MEMBER_TYPES),
  exemptionStatus: z.enum(EXEMPTION_DEFAULTS),
});
export type JustworksSettings = z.infer<typeof justworksSettingsSchema>;

export const justworksSecretsSchema = z.object({ apiKey: z.string().min(1) });
export type JustworksSecrets = z.infer<typeof justworksSecretsSchema>;

const justworksConnectionInputSchema = vendorConnectionInput('justworks', {
  settings: {
    apiBaseUrl: safeUrlSchema.default('https://api.justworks.com'),
    companyName: justworksSettingsSchema.shape.companyName,
    memberType: z.enum(MEMBER_TYPES).default('employee'),
    exemptionStatus: z.enum(EXEMPTION_DEFAULTS).default('by-type-of-earnings'),
  },
  secrets: justworksSecretsSchema.shape,
  refused: {
    // Refused rather than ignored, so whoever still sends it learns that it no longer decides anything.
    admins: z
      .never({
        error:
          'admins is no longer a setting: the hire e-mail goes to every Justworks admin with ' +
          `"Manage employees" (${MANAGE_EMPLOYEES_PERMISSION}) as Justworks lists them at each hire; ` +
          'change who receives it in Justworks and remove admins from the request',
      })
      .optional(),
  },
});

export const justworksIntegration: IntegrationDefinition<JustworksSettings, JustworksSecrets> = {
  vendor: 'justworks',
  displayName: 'Justworks',
  connectionInputSchema: justworksConnectionInputSchema,
  settingsSchema: justworksSettingsSchema,
  secretsSchema: justworksSecretsSchema,
  supportedAts: ['lever'],
  leverTrigger: 'hired',
  workflow: 'onboardHire',
};
