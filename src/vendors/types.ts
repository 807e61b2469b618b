import type { z } from 'zod';
import type { CheckStatus } from '../domain/status';

/** Why a check reached its status, when the status alone does not say (e.g. Error because of no email). */
export type StatusReason = 'no-email' | 'vendor-ended' | 'access-denied' | 'failed';

/** The package the check orders: its name as customers see it and the vendor's reference for it. */
export interface PackageChoice {
  name: string;
  ref: string;
}

export interface CandidateContact {
  email: string;
  firstName: string;
  lastName: string;
}

/** Where a vendor case stands, mapped onto the canonical statuses. */
export interface VendorProgress {
  status: CheckStatus;
  /** The vendor's own status word, for the status log. */
  vendorStatus: string;
  reason?: StatusReason;
  /** Whether results (a report) can be fetched now. */
  resultsAvailable: boolean;
}

export interface VendorCallback {
  eventId: string;
  eventType: string;
  /** The vendor's id of the order the event is about. */
  externalId: string;
}

export type CallbackVerdict =
  { ok: true; callback: VendorCallback } | { ok: false; status: 400 | 401; detail: string };

/** The I/O half of a vendor: each call is one request to the vendor's API. */
export interface VendorClient {
  order(request: {
    candidate: CandidateContact;
    packageRef: string;
    reference: string;
    idempotencyKey: string;
  }): Promise<{ externalId: string }>;
  progress(externalId: string): Promise<VendorProgress>;
  /** A link to the current results report. */
  reportUrl(externalId: string): Promise<string>;
}

/**
 * Everything vendor-specific, behind one interface: workflows and the HTTP front never branch on a vendor's
 * name. Adding a vendor is one adapter (plus its emulator and tests) registered in vendors/index.ts.
 */
export interface VendorAdapter<Settings = unknown, Secrets = unknown> {
  readonly vendor: string;
  /** Human name used in notes. */
  readonly displayName: string;
  /** The vendor part of a connection as the admin API receives it (`type` selects the adapter). */
  readonly connectionInputSchema: z.ZodType<{ settings: Settings; secrets: Secrets }>;
  readonly settingsSchema: z.ZodType<Settings>;
  readonly secretsSchema: z.ZodType<Secrets>;
  /** Every status tag this vendor writes; exactly one of them is on an opportunity at a time. */
  readonly statusTags: readonly string[];
  /** The tag for a status, or null when the vendor has none (the previous tag stays). */
  tagFor(status: CheckStatus, reason?: StatusReason): string | null;
  /** The package for this candidate, from the connection settings and the opportunity's tags at trigger time. */
  choosePackage(settings: Settings, opportunityTags: readonly string[]): PackageChoice;
  client(settings: Settings, secrets: Secrets): VendorClient;
  /** Authenticates and parses a callback from the vendor. */
  verifyCallback(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
    secrets: Secrets,
  ): CallbackVerdict;
}
