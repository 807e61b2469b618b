import { z } from 'zod';
import type { IntegrationDefinition } from '../types';
import { EXEMPTION_STATUSES, MANAGE_EMPLOYEES_PERMISSION, MEMBER_TYPES } from './client';

/**
 * Lever → Justworks (spec §5, seed 002): when a candidate is hired in Lever, the service creates a pending
 * hire in Justworks from the opportunity, its posting and its signed offer, and e-mails every Justworks admin
 * with the "Manage employees" permission a link to review it (contract: docs/vendors/justworks.md).
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
 * - `admins`: the Justworks admins `{ name, email, permissions }`. Those holding `manage_employees` (also
 *   written `Manage employees`) get the e-mail, one message each; at least one is required. The list on the
 *   connection is the source of truth (Justworks' `GET /v1/admins` is not consulted at hire time), so the
 *   customer decides who is notified.
 */

/** Permission names as people write them ("Manage employees", "manage-employees") → `manage_employees`. */
function normalizePermission(value: string): string {
  return value
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

const adminSchema = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.email(),
  permissions: z.array(z.string().trim().min(1).max(100).transform(normalizePermission)).default([]),
});
export type JustworksConnectionAdmin = z.infer<typeof adminSchema>;

export const EXEMPTION_DEFAULTS = [...EXEMPTION_STATUSES, 'by-type-of-earnings'] as const;
export type ExemptionDefault = (typeof EXEMPTION_DEFAULTS)[number];

const adminsSchema = z
  .array(adminSchema)
  .min(1, 'at least one Justworks admin is required')
  .max(100)
  .refine(
    (admins) => admins.some((a) => a.permissions.includes(MANAGE_EMPLOYEES_PERMISSION)),
    `at least one admin needs the "${MANAGE_EMPLOYEES_PERMISSION}" permission (they receive the hire e-mail)`,
  );

export const justworksSettingsSchema = z.object({
  apiBaseUrl: z.url(),
  companyName: z.string().trim().min(1).max(200).optional(),
  memberType: z.enum(MEMBER_TYPES),
  exemptionStatus: z.enum(EXEMPTION_DEFAULTS),
  admins: adminsSchema,
});
export type JustworksSettings = z.infer<typeof justworksSettingsSchema>;

export const justworksSecretsSchema = z.object({ apiKey: z.string().min(1) });
export type JustworksSecrets = z.infer<typeof justworksSecretsSchema>;

const justworksConnectionInputSchema = z
  .object({
    type: z.literal('justworks'),
    apiBaseUrl: z.url().default('https://api.justworks.com'),
    apiKey: z.string().min(1),
    companyName: justworksSettingsSchema.shape.companyName,
    memberType: z.enum(MEMBER_TYPES).default('employee'),
    exemptionStatus: z.enum(EXEMPTION_DEFAULTS).default('by-type-of-earnings'),
    admins: adminsSchema,
  })
  .transform(({ apiKey, type: _type, ...settings }) => ({ settings, secrets: { apiKey } }));

/** The admins who receive the hire e-mail: those with "Manage employees". */
export function notifiedAdmins(settings: JustworksSettings): JustworksConnectionAdmin[] {
  return settings.admins.filter((a) => a.permissions.includes(MANAGE_EMPLOYEES_PERMISSION));
}

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
