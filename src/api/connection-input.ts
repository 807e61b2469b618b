import { apply as applyMergePatch, generate as mergePatchBetween } from 'json-merge-patch';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { atsModuleFor, atsModules, perAts } from '../ats';
import type { AtsConfig, Connection } from '../ats/connection';
import { refusal, type AtsCallDeps, type FieldIssue, type Refusal } from '../ats/types';
import type { NewConnection, SettingChange } from '../db/connections';
import { withoutNulls } from '../domain/connection';
import { integrationFor, integrationNames } from '../vendors';
import type { IntegrationDefinition } from '../vendors/types';

export type { FieldIssue, Refusal } from '../ats/types';

/** Each ATS's part of the connection body, by its kind (`lever`, `ashby`): exactly one is given. */
const atsParts = perAts((m) => m.inputSchema.optional());

/** The body of `POST /admin/connections`: one ATS (Lever or Ashby) and one vendor. */
export const connectionInputSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    ...atsParts,
    vendor: z.looseObject({ type: z.string().min(1) }),
  })
  .refine((v) => atsModules.filter((m) => v[m.kind] !== undefined).length === 1, {
    message: `give exactly one ATS: ${atsModules.map((m) => m.kind).join(' or ')}`,
    path: [atsModules[0].kind],
  });

/**
 * The body of `PATCH /admin/connections/:id`: a JSON merge patch (RFC 7396) of the creation body. Only the parts
 * given change; `null` removes an optional setting; arrays (e.g. packages) are replaced whole.
 */
const patchSchema = z.strictObject({
  name: z.string().optional(),
  ...perAts(() => z.record(z.string(), z.unknown()).optional()),
  vendor: z.record(z.string(), z.unknown()).optional(),
});

export type Resolution =
  | {
      ok: true;
      connection: NewConnection;
      integration: IntegrationDefinition;
      /** Secrets generated for the admin, shown once in the answer (e.g. Ashby's partner secret). */
      shownOnce?: Record<string, string>;
    }
  | Refusal;

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

/**
 * A stored connection written back as the creation body that would make it: what a PATCH is applied to, and
 * what two versions of a connection are compared as. Its ATS part is the ATS module's (Lever: the trigger stage
 * is the resolved ID, the name is shown for reading only); vendor settings are read through the vendor's schema, so settings it no longer has drop out.
 */
export function inputOf(connection: Connection): Record<string, unknown> & {
  vendor: Record<string, unknown>;
} {
  const integration = integrationFor(connection.vendor);
  const settings = integration?.settingsSchema.safeParse(connection.vendorSettings);
  return {
    name: connection.name,
    [connection.ats.kind]: atsModuleFor(connection.ats.kind).inputOf(connection.ats),
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
 * when the body did not change it, so a change of vendor settings alone does not call Lever. `deps`: what the
 * ATS's calls need (for Lever's stages: the API's rate limit, shared with the workers, and the request limits).
 */
export async function resolveConnection(
  body: unknown,
  current?: Connection,
  deps: AtsCallDeps = {},
): Promise<Resolution> {
  const input = connectionInputSchema.safeParse(body);
  if (!input.success) return refusal(400, 'The connection is not valid.', fieldIssues(input.error));
  const integration = integrationFor(input.data.vendor.type);
  if (integration === undefined) {
    return refusal(422, `Unknown vendor type; use one of: ${integrationNames().join(', ')}.`, [
      { path: 'vendor.type', message: `one of: ${integrationNames().join(', ')}` },
    ]);
  }
  const atsModule = atsModules.find((m) => input.data[m.kind] !== undefined);
  if (atsModule === undefined) throw new Error('the connection schema lets no body without an ATS through');
  const atsKind = atsModule.kind;
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
  let shownOnce: Record<string, string> | undefined;
  const unchanged =
    current !== undefined && isDeepStrictEqual(input.data[atsKind], inputOf(current)[atsKind]);
  if (unchanged) {
    ats = current.ats;
  } else {
    const resolved = await atsModule.resolve(input.data[atsKind], integration, deps);
    if (!resolved.ok) return resolved;
    ({ ats, shownOnce } = resolved);
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
  return { ok: true, connection, integration, ...(shownOnce === undefined ? {} : { shownOnce }) };
}

/**
 * Applies a PATCH body to a stored connection and validates the result as a whole, exactly like a new one (the
 * Lever key and trigger stage are checked with Lever again when the Lever part changes).
 */
export async function resolvePatch(
  current: Connection,
  body: unknown,
  deps: AtsCallDeps = {},
): Promise<Resolution> {
  const patch = patchSchema.safeParse(body);
  if (!patch.success) {
    return refusal(
      400,
      'The change is not a valid JSON merge patch of a connection.',
      fieldIssues(patch.error),
    );
  }
  const { vendor } = patch.data;
  const kind = current.ats.kind;
  const other = atsModules.find((m) => m.kind !== kind && patch.data[m.kind] !== undefined);
  if (other !== undefined) {
    return refusal(400, `This connection is on ${kind}; its ATS cannot change.`, [
      { path: other.kind, message: `the connection is on ${kind}` },
    ]);
  }
  if (vendor?.type !== undefined && vendor.type !== current.vendor) {
    return refusal(400, 'The vendor of a connection cannot change; create a new connection instead.', [
      { path: 'vendor.type', message: `the connection's vendor is ${current.vendor}` },
    ]);
  }
  const base = inputOf(current);
  const atsPatch = patch.data[kind];
  if (atsPatch !== undefined) base[kind] = atsModuleFor(kind).patchBase(current.ats, atsPatch);
  const next: unknown = applyMergePatch(base, patch.data);
  return resolveConnection(next, current, deps);
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
