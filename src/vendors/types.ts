import type { z } from 'zod';
import type { CheckStatus } from '../domain/status';
import type { WorkflowKindName } from '../domain/workflow-ids';
import type { HttpLimits } from '../integrations/http-client';
import type { AtsKind, CandidateSnapshot, StatusReason } from '../domain/candidate';
import type { SignedEventVerdict } from '../integrations/signature';

/** What to order, decided from the connection settings and the candidate at trigger time. */
export type OrderPlan =
  | {
      kind: 'order';
      packageName: string;
      packageRef: string;
      /** Vendor-specific choices (sub-client, reference, forwarded tags...): JSON, no PII. */
      options: Record<string, string | string[] | null>;
    }
  | { kind: 'refuse'; status: 'Rejected' | 'Error'; reason: StatusReason; note: string | null };

/** Where a vendor order stands, mapped onto the canonical statuses. */
export interface VendorProgress {
  status: CheckStatus;
  /** The vendor's own status word, for the status log and notes. */
  vendorStatus: string;
  reason?: StatusReason;
  /** Whether results can be fetched now. */
  resultsAvailable: boolean;
}

/** Results of a check, as the vendor gives them. */
export interface VendorResults {
  /** Link to the report or result page. */
  url: string | null;
  /**
   * The vendor gave a link that is not a URL we may write (src/integrations/url-policy.ts, e.g. `javascript:`):
   * it was dropped (`url` is null), and the ATS is told so instead.
   */
  linkRefused?: boolean;
  /**
   * The vendor's id of the report, from a client whose report URLs expire (`reportUrl` signs a fresh one): the ATS
   * then gets the service's stable link to it instead of `url` (src/report-links.ts).
   */
  reportId?: string;
  /** Result lines for the secret note (VICTIG's summary, flag, decision...). */
  lines: string[];
  /** Result tags to put on the opportunity; existing tags starting with one of `tagPrefixes` are replaced. */
  tags: string[];
  tagPrefixes: string[];
}

export interface VendorCallback {
  eventId: string;
  eventType: string;
  /** The vendor's id of the order the event is about. */
  externalId: string;
}

export type CallbackVerdict =
  { ok: true; callback: VendorCallback } | { ok: false; status: 400 | 401; detail: string };

/** A header given once, as text (undefined when absent or repeated). */
export const singleHeader = (value: string | string[] | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined;

/** The callback of a verified vendor event that names itself, its order and the order's status. */
export function orderEventCallback(
  verdict: SignedEventVerdict<{ eventId: string; status: string; orderId: string }>,
): CallbackVerdict {
  if (!verdict.ok) return verdict;
  const { eventId, status, orderId } = verdict.event;
  return { ok: true, callback: { eventId, eventType: status, externalId: orderId } };
}

/** The vendor refused an order for a reason the customer can fix (shown in a note, status Rejected). */
export class VendorRefusal extends Error {
  override readonly name = 'VendorRefusal';
}

/** The I/O half of a vendor: each call is one request to the vendor's API. */
export interface VendorClient {
  /** Lists what can be ordered (products, sub-clients) when the plan depends on it. */
  catalog?(): Promise<unknown>;
  /** Places the order; the idempotency key makes a retried order the same order. Throws VendorRefusal. */
  order(request: {
    candidate: CandidateSnapshot;
    plan: Extract<OrderPlan, { kind: 'order' }>;
    reference: string;
    idempotencyKey: string;
  }): Promise<{ externalId: string }>;
  progress(externalId: string): Promise<VendorProgress>;
  results(externalId: string): Promise<VendorResults>;
  /** A freshly signed URL of a report (`VendorResults.reportId`); an ExternalApiError 404 when there is none. */
  reportUrl?(reportId: string): Promise<string>;
  cancel?(externalId: string): Promise<void>;
}

/** How a vendor's statuses look on a Lever opportunity. */
export interface LeverPresentation<Settings = unknown> {
  /** Every status tag this vendor writes; exactly one of them is on an opportunity at a time. */
  statusTags(settings: Settings): readonly string[];
  /** The tag for a status, or null when the vendor has none (the previous tag stays). */
  tagFor(settings: Settings, status: CheckStatus, reason?: StatusReason): string | null;
  /** Whether the results link also goes into the profile's links (not only into the secret note). */
  resultLink: boolean;
}

/** How a vendor's statuses look in Ashby (assessment status labels). */
export interface AshbyPresentation {
  statusFor(status: CheckStatus): string | null;
}

/** A package a customer can order, as listed to the ATS (Ashby assessment types). */
export interface PackageListing {
  id: string;
  name: string;
  description: string;
}

/** What every integration defines: the connection settings it takes and the workflow its trigger starts. */
export interface IntegrationDefinition<Settings = unknown, Secrets = unknown> {
  readonly vendor: string;
  /** Human name used in notes and logs. */
  readonly displayName: string;
  /** The vendor part of a connection as the admin API receives it (`type` selects the integration). */
  readonly connectionInputSchema: z.ZodType<{ settings: Settings; secrets: Secrets }>;
  readonly settingsSchema: z.ZodType<Settings>;
  readonly secretsSchema: z.ZodType<Secrets>;
  /** The ATSs this vendor can be connected to. */
  readonly supportedAts: readonly AtsKind[];
  /** The Lever event that starts work: a move into the trigger stage, or a hire. */
  readonly leverTrigger: 'stage-change' | 'hired';
  /** The trigger stage's name when a Lever connection names none (the vendor's documented default). */
  readonly defaultTriggerStageName?: string;
  /** The kind of workflow a trigger starts (src/workflows/kinds.ts). */
  readonly workflow: WorkflowKindName;
}

/**
 * Everything vendor-specific about a background check, behind one interface: workflows and the HTTP front
 * never branch on a vendor's name. Adding a vendor is one adapter (plus its emulator and tests).
 */
export interface CheckVendorAdapter<Settings = unknown, Secrets = unknown> extends IntegrationDefinition<
  Settings,
  Secrets
> {
  readonly workflow: 'backgroundCheck';
  readonly lever?: LeverPresentation<Settings>;
  readonly ashby?: AshbyPresentation;
  /** Statuses at which the results are published to the ATS. */
  readonly resultsOn: readonly CheckStatus[];
  /**
   * Whether `plan` or the order uses the candidate's position (the posting in Lever): without it, the posting is
   * not read (a Lever request saved per check).
   */
  readonly usesPosition: boolean;
  /** The packages of the connection, for ATSs that list them (Ashby). */
  packages(settings: Settings): PackageListing[];
  /** Decides what to order (or why not) from the settings, the candidate and the vendor's catalog. */
  plan(settings: Settings, candidate: CandidateSnapshot, catalog: unknown): OrderPlan;
  /** `limits`: the configured request timeout and response limit of its requests (src/config.ts). */
  client(settings: Settings, secrets: Secrets, limits?: HttpLimits): VendorClient;
  /** Authenticates and parses a callback from the vendor. */
  verifyCallback(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
    secrets: Secrets,
  ): CallbackVerdict;
}
