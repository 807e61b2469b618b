import type { Pool } from 'pg';
import type { z } from 'zod';
import type { AtsKind, CandidateSnapshot, StatusReason } from '../domain/candidate';
import type { DeliveryOutcome } from '../db/inbox';
import type { AtsConfigOf, AtsConfigShape, ConnectionLifecycle } from '../domain/connection';
import type { CheckStatus } from '../domain/status';
import type { HttpLimits } from '../integrations/http-client';
import type { CheckVendorAdapter, IntegrationDefinition, VendorResults } from '../vendors/types';
import type { LeverRateLimits } from './lever/rate-limiter';

/**
 * The ATS half of a check: where the candidate comes from and where statuses and results go. Lever shows them
 * as tags, notes and links on the opportunity; Ashby as assessment updates. Each call is retry-safe.
 */
export interface AtsSide {
  snapshot(): Promise<CandidateSnapshot>;
  /**
   * Before anything is ordered: whether the ATS shows the subject at the connection's trigger now (Lever: the
   * opportunity is in the trigger stage; the webhook that named it is signed, its data is not) and, if so, the
   * candidate.
   */
  atTrigger(): Promise<{ atTrigger: false } | { atTrigger: true; candidate: CandidateSnapshot }>;
  /** Shows a status; returns what was written (tag or label), or null when the vendor shows nothing for it. */
  publishStatus(
    adapter: CheckVendorAdapter,
    settings: unknown,
    update: {
      status: CheckStatus;
      reason?: StatusReason;
      at: number;
      /**
       * The subject's tags as this run read them just before (its first status): a tag replace then removes only
       * the status tags that are there. Unknown (undefined): it removes every other status tag.
       */
      presentTags?: readonly string[];
    },
  ): Promise<string | null>;
  publishResults(
    adapter: CheckVendorAdapter,
    update: { status: CheckStatus; results: VendorResults; at: number; marker: string },
  ): Promise<void>;
  /** A note for the recruiter (Lever: secret note, once per text); ATSs without notes ignore it. */
  addNote(text: string): Promise<void>;
}

/** What the ATS modules' calls to their ATS's API need from the process. */
export interface AtsCallDeps {
  /** Request timeout and response limit of each call (src/config.ts); their defaults when not given. */
  httpLimits?: HttpLimits;
  /** Lever's per-API-key limit, shared with the other processes; this process's own limiter when not given. */
  leverRateLimiter?: LeverRateLimits;
}

/** What a check's ATS side is made with, inside an activity of the check. */
export interface AtsSideContext extends AtsCallDeps {
  pool: Pool;
  /** Whether this is a retry of the activity: an earlier attempt may have written to the ATS already. */
  retry: boolean;
  /** Whether the vendor uses the candidate's position (`CheckVendorAdapter.usesPosition`). */
  withPosition: boolean;
}

/** A field of the admin API's connection body and what is wrong with it. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Why the admin API refuses a connection body: the HTTP status, the detail and the fields. */
export type Refusal = { ok: false; status: number; detail: string; errors?: FieldIssue[] };

export const refusal = (status: number, detail: string, errors?: FieldIssue[]): Refusal => ({
  ok: false,
  status,
  detail,
  ...(errors === undefined ? {} : { errors }),
});

/**
 * An ATS part of a connection body resolved into the config to store, or refused. `shownOnce`: secrets generated
 * for the admin, shown once in the answer (Ashby's partner secret).
 */
export type AtsResolution<Config> = { ok: true; ats: Config; shownOnce?: Record<string, string> } | Refusal;

/**
 * Everything the service does differently per ATS, behind one interface: the admin API, the connection store and
 * the check activities use it without knowing which ATS it is. One module per ATS (src/ats/<kind>/module.ts),
 * registered in src/ats/index.ts. `Config`: its part of a stored connection.
 */
export interface AtsModule<Config extends AtsConfigShape> {
  /** Which ATS: the key of its part in the admin API's connection body, and `connections.ats`. */
  readonly kind: Config['kind'];
  /** Its part of the admin API's connection body (`POST /admin/connections`), under the key `kind`. */
  readonly inputSchema: z.ZodType;
  readonly settingsSchema: z.ZodType<Config['settings']>;
  readonly secretsSchema: z.ZodType<Config['secrets']>;
  /** A stored connection's settings and secrets (as read from PostgreSQL) as its config; throws when not valid. */
  config(settings: unknown, secrets: unknown): Config;
  /** The URLs the admin gives the ATS, shown with the connection by the admin API. */
  publicUrls(baseUrl: string, connectionId: string): Record<string, string>;
  /** Its config written back as its part of the creation body (what a PATCH is applied to and compared as). */
  inputOf(config: Config): Record<string, unknown>;
  /** What a merge patch of its part of the body is applied to: `inputOf`, less what the patch replaces. */
  patchBase(config: Config, patch: Record<string, unknown>): Record<string, unknown>;
  /**
   * Checks its part of a connection body (`input`: valid by `inputSchema`) with the ATS where needed and resolves
   * it into the config to store, for the connection's integration.
   */
  resolve(
    input: unknown,
    integration: IntegrationDefinition,
    deps: AtsCallDeps,
  ): Promise<AtsResolution<Config>>;
  /**
   * What a start recorded in the inbox (`webhook_inbox`, source = kind) asks for, decided again by the inbox relay
   * from the stored event and data and the connection as it is now: start the workflow of a subject, or nothing
   * (with the outcome to record).
   */
  recordedStart(
    delivery: { event: string; data: unknown },
    connection: { ats: Config; lifecycle: ConnectionLifecycle },
    integration: IntegrationDefinition,
  ): RecordedStart;
  /** The ATS half of a check of `subjectId` (the opportunity, the assessment…), inside a check activity. */
  side(
    config: Config,
    subject: { connectionId: string; subjectId: string },
    context: AtsSideContext,
  ): AtsSide;
}

/** What a recorded start asks for now (`AtsModule.recordedStart`). */
export type RecordedStart =
  | { kind: 'start'; subjectId: string }
  | { kind: 'done'; outcome: DeliveryOutcome }
  | { kind: 'invalid'; detail: string };

/** `AtsModule.config` of an ATS: the stored settings and secrets parsed by its schemas. */
export function storedConfig<Kind extends AtsKind, Settings extends object, Secrets extends object>(
  kind: Kind,
  settingsSchema: z.ZodType<Settings>,
  secretsSchema: z.ZodType<Secrets>,
): (settings: unknown, secrets: unknown) => AtsConfigOf<Kind, Settings, Secrets> {
  return (settings, secrets) => ({
    kind,
    settings: settingsSchema.parse(settings),
    secrets: secretsSchema.parse(secrets),
  });
}
