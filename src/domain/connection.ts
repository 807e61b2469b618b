import type { AtsKind } from './candidate';

/**
 * The ATS part of a connection as its module (src/ats) parses it: the kind and that ATS's settings and secrets.
 * `AtsConfig` in src/ats/connection.ts is the union of every module's.
 */
export interface AtsConfigOf<Kind extends AtsKind, Settings extends object, Secrets extends object> {
  kind: Kind;
  settings: Settings;
  secrets: Secrets;
}

export type AtsConfigShape = AtsConfigOf<AtsKind, object, object>;

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

/**
 * A stored connection without its secrets: what the admin API shows, also after the secrets are erased. `Ats`: the
 * ATS configs it may hold (src/ats/connection.ts: `ConnectionSummary`).
 */
export interface ConnectionSummaryOf<Ats extends AtsConfigShape> {
  id: string;
  name: string;
  ats: { kind: Ats['kind']; settings: Ats['settings'] };
  vendor: string;
  /** Vendor settings, validated by the vendor's schema. */
  vendorSettings: unknown;
  createdAt: Date;
  lifecycle: ConnectionLifecycle;
}

/**
 * A stored connection: one customer's ATS account linked to one vendor. Secrets never leave the service. `Ats`: the
 * ATS configs it may hold (src/ats/connection.ts: `Connection`).
 */
export interface ConnectionOf<Ats extends AtsConfigShape> extends ConnectionSummaryOf<Ats> {
  ats: Ats;
  /** Vendor secrets, validated by the vendor's schema. */
  vendorSecrets: unknown;
}

/**
 * What the admin API shows of a connection: everything but secrets, plus the URLs to give the ATS (`atsUrls`, from
 * its module) and the vendor.
 */
export function publicView(
  connection: ConnectionSummaryOf<AtsConfigShape>,
  baseUrl: string,
  options: { vendorCallbacks: boolean; atsUrls: Record<string, string> },
) {
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
    ...options.atsUrls,
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

/** An object's entries without the null ones: what a JSON merge patch leaves out (a connection as its body). */
export const withoutNulls = (value: unknown): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(typeof value === 'object' && value !== null ? value : {}).filter(([, v]) => v !== null),
  );
