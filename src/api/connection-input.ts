import { randomBytes } from 'node:crypto';
import { apply as applyMergePatch, generate as mergePatchBetween } from 'json-merge-patch';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { NewConnection, SettingChange } from '../db/connections';
import {
  ashbyConnectionInputSchema,
  leverConnectionInputSchema,
  type AtsConfig,
  type Connection,
  type LeverConnectionInput,
} from '../domain/connection';
import { ExternalApiError } from '../integrations/http-error';
import { LeverClient, type LeverClientOptions } from '../ats/lever/client';
import { integrationFor, integrationNames } from '../vendors';
import type { IntegrationDefinition } from '../vendors/types';

/** The body of `POST /admin/connections`: one ATS (Lever or Ashby) and one vendor. */
export const connectionInputSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    lever: leverConnectionInputSchema.optional(),
    ashby: ashbyConnectionInputSchema.optional(),
    vendor: z.looseObject({ type: z.string().min(1) }),
  })
  .refine((v) => (v.lever === undefined) !== (v.ashby === undefined), {
    message: 'give exactly one ATS: lever or ashby',
    path: ['lever'],
  });

/**
 * The body of `PATCH /admin/connections/:id`: a JSON merge patch (RFC 7396) of the creation body. Only the parts
 * given change; `null` removes an optional setting; arrays (e.g. packages) are replaced whole.
 */
const patchSchema = z.strictObject({
  name: z.string().optional(),
  lever: z.record(z.string(), z.unknown()).optional(),
  ashby: z.record(z.string(), z.unknown()).optional(),
  vendor: z.record(z.string(), z.unknown()).optional(),
});

export interface FieldIssue {
  path: string;
  message: string;
}

export type Refusal = { ok: false; status: number; detail: string; errors?: FieldIssue[] };

export type Resolution =
  | { ok: true; connection: NewConnection; integration: IntegrationDefinition; partnerSecret?: string }
  | Refusal;

const refusal = (status: number, detail: string, errors?: FieldIssue[]): Refusal => ({
  ok: false,
  status,
  detail,
  ...(errors === undefined ? {} : { errors }),
});

/** Zod's issues as `{ path, message }`, one per field: an unknown key is named by its own path. */
export function fieldIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  const path = (parts: PropertyKey[]) =>
    [...(prefix === undefined ? [] : [prefix]), ...parts.map(String)].join('.');
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((key) => ({ path: path([...i.path, key]), message: 'not a known setting' }))
      : [{ path: path(i.path), message: i.message }],
  );
}

type AtsResolution = { ok: true; ats: AtsConfig } | Refusal;

/**
 * Lever: checks the API key against Lever (reading the pipeline stages) and resolves the trigger stage, given by
 * name or ID (or the integration's default name), to the stage ID that webhooks carry — when the integration is
 * started by a stage change.
 */
async function resolveLever(
  input: LeverConnectionInput,
  integration: IntegrationDefinition,
  leverClient: LeverClientOptions,
): Promise<AtsResolution> {
  const secrets = { apiKey: input.apiKey, signatureToken: input.signatureToken };
  let stages: { id: string; text: string }[];
  try {
    stages = await new LeverClient(input.apiBaseUrl, input.apiKey, leverClient).listStages();
  } catch (err) {
    if (err instanceof ExternalApiError && err.accessDenied) {
      return refusal(422, 'Lever refused the API key while reading the pipeline stages.', [
        { path: 'lever.apiKey', message: 'Lever refused this API key' },
      ]);
    }
    if (err instanceof ExternalApiError && err.permanent) {
      // Lever answered, and will answer the same again: the given base URL or key is wrong (e.g. 404, a redirect).
      // Its status is not echoed: the answer must not make this a probe of what lies behind a base URL.
      return refusal(
        422,
        'Lever refused to list the pipeline stages; check lever.apiBaseUrl and lever.apiKey.',
      );
    }
    return refusal(502, 'Lever could not be asked for the pipeline stages; try again.');
  }
  if (integration.leverTrigger !== 'stage-change') {
    return { ok: true, ats: { kind: 'lever', settings: { apiBaseUrl: input.apiBaseUrl }, secrets } };
  }
  const triggerStageId = input.triggerStageId;
  const triggerStageName =
    triggerStageId === undefined
      ? (input.triggerStageName ?? integration.defaultTriggerStageName)
      : undefined;
  if (triggerStageId === undefined && triggerStageName === undefined) {
    return refusal(400, `${integration.displayName} needs lever.triggerStageName or lever.triggerStageId.`, [
      { path: 'lever.triggerStageName', message: 'required (or lever.triggerStageId)' },
    ]);
  }
  const stage = stages.find((s) =>
    triggerStageId !== undefined ? s.id === triggerStageId : s.text === triggerStageName,
  );
  if (stage === undefined) {
    const wanted =
      triggerStageId !== undefined ? `with ID "${triggerStageId}"` : `named "${triggerStageName}"`;
    return refusal(422, `Lever has no pipeline stage ${wanted}.`, [
      {
        path: triggerStageId !== undefined ? 'lever.triggerStageId' : 'lever.triggerStageName',
        message: `Lever has no pipeline stage ${wanted}`,
      },
    ]);
  }
  return {
    ok: true,
    ats: {
      kind: 'lever',
      settings: { apiBaseUrl: input.apiBaseUrl, triggerStageId: stage.id, triggerStageName: stage.text },
      secrets,
    },
  };
}

const withoutNulls = (value: unknown): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(typeof value === 'object' && value !== null ? value : {}).filter(([, v]) => v !== null),
  );

/**
 * A stored connection written back as the creation body that would make it: what a PATCH is applied to, and
 * what two versions of a connection are compared as. The trigger stage is the resolved ID (the name is shown
 * for reading only); vendor settings are read through the vendor's schema, so settings it no longer has drop out.
 */
export function inputOf(connection: Connection): Record<string, unknown> & {
  vendor: Record<string, unknown>;
} {
  const integration = integrationFor(connection.vendor);
  const settings = integration?.settingsSchema.safeParse(connection.vendorSettings);
  const ats =
    connection.ats.kind === 'lever'
      ? {
          lever: withoutNulls({
            ...connection.ats.settings,
            triggerStageName: null,
            ...connection.ats.secrets,
          }),
        }
      : { ashby: withoutNulls({ ...connection.ats.settings, ...connection.ats.secrets }) };
  return {
    name: connection.name,
    ...ats,
    vendor: {
      type: connection.vendor,
      ...withoutNulls(settings?.success ? settings.data : connection.vendorSettings),
      ...withoutNulls(connection.vendorSecrets),
    },
  };
}

/** The keys of a vendor's part of the body that it stores: anything else in the body is not one of its settings. */
function unknownVendorKeys(given: Record<string, unknown>, built: NewConnection): string[] {
  const known = new Set([
    'type',
    ...Object.keys(withoutNulls(built.vendorSettings)),
    ...Object.keys(withoutNulls(built.vendorSecrets)),
  ]);
  return Object.keys(given).filter((k) => !known.has(k));
}

/**
 * Validates a connection body and resolves what it names (the Lever key and trigger stage, through Lever) into a
 * connection to store. `current` is the stored connection a PATCH started from: its ATS part is reused unchanged
 * when the body did not change it, so a change of vendor settings alone does not call Lever. `leverClient`: the
 * options of the Lever client that reads the stages (the API's rate limit, shared with the workers).
 */
export async function resolveConnection(
  body: unknown,
  current?: Connection,
  leverClient: LeverClientOptions = {},
): Promise<Resolution> {
  const input = connectionInputSchema.safeParse(body);
  if (!input.success) return refusal(400, 'The connection is not valid.', fieldIssues(input.error));
  const integration = integrationFor(input.data.vendor.type);
  if (integration === undefined) {
    return refusal(422, `Unknown vendor type; use one of: ${integrationNames().join(', ')}.`, [
      { path: 'vendor.type', message: `one of: ${integrationNames().join(', ')}` },
    ]);
  }
  const atsKind = input.data.lever ? 'lever' : 'ashby';
  if (!integration.supportedAts.includes(atsKind)) {
    return refusal(422, `${integration.displayName} cannot be connected to ${atsKind}.`, [
      { path: atsKind, message: `${integration.displayName} cannot be connected to ${atsKind}` },
    ]);
  }
  const vendor = integration.connectionInputSchema.safeParse(input.data.vendor);
  if (!vendor.success) {
    return refusal(400, 'The vendor settings are not valid.', fieldIssues(vendor.error, 'vendor'));
  }

  let ats: AtsConfig;
  let partnerSecret: string | undefined;
  const unchanged =
    current !== undefined && isDeepStrictEqual(input.data[atsKind], inputOf(current)[atsKind]);
  if (unchanged) {
    ats = current.ats;
  } else if (input.data.lever) {
    const resolved = await resolveLever(input.data.lever, integration, leverClient);
    if (!resolved.ok) return resolved;
    ats = resolved.ats;
  } else {
    const ashby = input.data.ashby!;
    const secret = ashby.partnerSecret ?? randomBytes(32).toString('base64url');
    // A generated secret is shown once, in the answer: the admin gives it to Ashby with the partner base URL.
    if (ashby.partnerSecret === undefined) partnerSecret = secret;
    ats = {
      kind: 'ashby',
      settings: { apiBaseUrl: ashby.apiBaseUrl },
      secrets: { apiKey: ashby.apiKey, partnerSecret: secret },
    };
  }
  const connection: NewConnection = {
    name: input.data.name,
    ats,
    vendor: integration.vendor,
    vendorSettings: vendor.data.settings,
    vendorSecrets: vendor.data.secrets,
  };
  const unknown = unknownVendorKeys(input.data.vendor, connection);
  if (unknown.length > 0) {
    return refusal(
      400,
      'The vendor settings are not valid.',
      unknown.map((key) => ({
        path: `vendor.${key}`,
        message: `not a setting of ${integration.displayName}`,
      })),
    );
  }
  return { ok: true, connection, integration, ...(partnerSecret === undefined ? {} : { partnerSecret }) };
}

/**
 * Applies a PATCH body to a stored connection and validates the result as a whole, exactly like a new one (the
 * Lever key and trigger stage are checked with Lever again when the Lever part changes).
 */
export async function resolvePatch(
  current: Connection,
  body: unknown,
  leverClient: LeverClientOptions = {},
): Promise<Resolution> {
  const patch = patchSchema.safeParse(body);
  if (!patch.success) {
    return refusal(
      400,
      'The change is not a valid JSON merge patch of a connection.',
      fieldIssues(patch.error),
    );
  }
  const { lever, ashby, vendor } = patch.data;
  const other = current.ats.kind === 'lever' ? 'ashby' : 'lever';
  if ((other === 'ashby' ? ashby : lever) !== undefined) {
    return refusal(400, `This connection is on ${current.ats.kind}; its ATS cannot change.`, [
      { path: other, message: `the connection is on ${current.ats.kind}` },
    ]);
  }
  if (vendor?.type !== undefined && vendor.type !== current.vendor) {
    return refusal(400, 'The vendor of a connection cannot change; create a new connection instead.', [
      { path: 'vendor.type', message: `the connection's vendor is ${current.vendor}` },
    ]);
  }
  const base = inputOf(current);
  // A trigger stage is given by name or by ID: a new one of either kind replaces the stored one.
  if (lever?.triggerStageName !== undefined && typeof base.lever === 'object' && base.lever !== null) {
    delete (base.lever as Record<string, unknown>).triggerStageId;
  }
  const next: unknown = applyMergePatch(base, patch.data);
  return resolveConnection(next, current, leverClient);
}

/**
 * What changed between two versions of a connection, for the event log: each changed setting with its old and
 * new value, or only its path when it is a secret.
 */
export function settingChanges(before: Connection, after: Connection): SettingChange[] {
  const secretPaths = new Set([
    ...Object.keys(after.ats.secrets).map((k) => `${after.ats.kind}.${k}`),
    ...Object.keys(withoutNulls(before.vendorSecrets)).map((k) => `vendor.${k}`),
    ...Object.keys(withoutNulls(after.vendorSecrets)).map((k) => `vendor.${k}`),
  ]);
  const old = inputOf(before);
  const now = inputOf(after);
  const changes: SettingChange[] = [];
  const walk = (patch: unknown, path: string[]) => {
    const key = path.join('.');
    if (secretPaths.has(key)) {
      changes.push({ path: key, secret: true });
      return;
    }
    const isObject = typeof patch === 'object' && patch !== null && !Array.isArray(patch);
    if (isObject && path.length < 2) {
      for (const [k, v] of Object.entries(patch)) walk(v, [...path, k]);
      return;
    }
    changes.push({ path: key, from: valueAt(old, path) ?? null, to: valueAt(now, path) ?? null });
  };
  walk(mergePatchBetween(old, now) ?? {}, []);
  return changes;
}

function valueAt(root: unknown, path: string[]): unknown {
  let value: unknown = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
