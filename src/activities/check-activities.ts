import { Context } from '@temporalio/activity';
import { LRUCache } from 'lru-cache';
import type { Pool } from 'pg';
import { atsModuleFor } from '../ats';
import type { Connection } from '../ats/connection';
import type { LeverRateLimits } from '../ats/lever/rate-limiter';
import type { AtsSide } from '../ats/types';
import { CheckRepository } from '../db/checks';
import { ConnectionRepository } from '../db/connections';
import type { SecretBox } from '../db/secret-box';
import type { CheckStatus } from '../domain/status';
import type { HttpLimits } from '../integrations/http-client';
import type { Logger } from '../logger';
import type { ReportLinks } from '../report-links';
import { checkAdapterFor } from '../vendors';
import {
  VendorRefusal,
  type CheckVendorAdapter,
  type OrderPlan,
  type VendorProgress,
} from '../vendors/types';
import type { CandidateSnapshot, StatusReason } from '../domain/candidate';
import { classified } from './errors';

/** The ATS object a check is about: a Lever opportunity or an Ashby assessment. */
export interface SubjectRef {
  connectionId: string;
  subjectId: string;
}

/**
 * What `prepareCheck` decided: the vendor's plan, or nothing at all because the ATS does not show the subject at
 * the trigger (a webhook's data named it, but Lever signs only the envelope's token and time).
 */
export type PreparedCheck = OrderPlan | { kind: 'not-at-trigger' };

/** Why a check ended without results, for the note that tells the recruiter. */
export type CheckNote =
  { kind: 'refused' | 'vendor-ended' | 'failed'; detail: string } | { kind: 'cancelled'; ordered: boolean };

/** A refusal's text stays in the activity (it may quote candidate data): the workflow only learns that it happened. */
export type OrderOutcome = { kind: 'ordered'; externalId: string } | { kind: 'refused' };

export interface ActivityDeps {
  pool: Pool;
  logger: Logger;
  /** Where notification e-mails go out; without it, e-mail notifications fail (and are retried). */
  mail?: { smtpUrl: string; from: string };
  /**
   * Per-API-key limit of Lever calls shared by every activity of the worker, and by every process when it is a
   * SharedLeverRateLimiter (this process's default limiter if not given).
   */
  leverRateLimiter?: LeverRateLimits;
  /** Encrypts connection secrets at rest (src/worker.ts: secretBoxFromConfig). */
  secretBox: SecretBox;
  /** The service's stable links to vendor reports whose URLs expire; without it, the ATS gets the vendor's URL. */
  reportLinks?: ReportLinks;
  /**
   * The request timeout and response limit of every ATS and vendor call (VENDOR_REQUEST_TIMEOUT_MS,
   * VENDOR_RESPONSE_LIMIT_BYTES); their defaults when not given.
   */
  httpLimits?: HttpLimits;
}

/** The workflow execution an activity runs for; notes and logs name it so retries can find their work. */
function execution(): { workflowId: string; runId: string } {
  const run = Context.current().info.workflowExecution;
  if (run === undefined) throw new Error('check activities run only inside a workflow');
  return run;
}

/** Whether this is a retry of the activity: an earlier attempt may have written to the ATS already. */
function isRetry(): boolean {
  return Context.current().info.attempt > 1;
}

/** Written into notes so a retried activity finds the note it already added. */
function reference(): string {
  const { workflowId, runId } = execution();
  return `Check ${workflowId} (run ${runId})`;
}

/** Activities of the background-check workflow: each one is one small, retry-safe side effect. */
export function createCheckActivities({
  pool,
  logger,
  secretBox,
  leverRateLimiter,
  reportLinks,
  httpLimits,
}: ActivityDeps) {
  const connections = new ConnectionRepository(pool, secretBox);
  const checks = new CheckRepository(pool);
  /**
   * The candidate as `prepareCheck` read them, kept in memory only (never in the workflow's history) until the
   * run's first status is shown, on this worker: the order does not read the ATS again, and the first status knows
   * which status tags are there. A worker that did not prepare the check (another process, a restart) reads.
   */
  const prepared = new LRUCache<string, CandidateSnapshot>({ max: 5_000, ttl: 10 * 60 * 1000 });
  const runKey = () => {
    const { workflowId, runId } = execution();
    return `${workflowId}/${runId}`;
  };
  /** For the run's first status: the tags prepareCheck read (then forgotten); otherwise unknown. */
  const tagsBeforeFirstStatus = (first: boolean): string[] | undefined => {
    if (!first) return undefined;
    const key = runKey();
    const tags = prepared.get(key)?.tags;
    prepared.delete(key);
    return tags;
  };

  function atsSide(connection: Connection, subjectId: string, adapter: CheckVendorAdapter): AtsSide {
    return atsModuleFor(connection.ats.kind).side(
      connection.ats,
      { connectionId: connection.id, subjectId },
      { pool, leverRateLimiter, httpLimits, retry: isRetry(), withPosition: adapter.usesPosition },
    );
  }

  async function load(ref: SubjectRef) {
    const connection = await connections.get(ref.connectionId);
    const adapter = checkAdapterFor(connection.vendor);
    if (adapter === undefined)
      throw new Error(`connection ${connection.id} is not a background-check connection`);
    const settings = adapter.settingsSchema.parse(connection.vendorSettings);
    const secrets = adapter.secretsSchema.parse(connection.vendorSecrets);
    return {
      connection,
      adapter,
      settings,
      ats: atsSide(connection, ref.subjectId, adapter),
      vendor: adapter.client(settings, secrets, httpLimits),
    };
  }

  type Loaded = Awaited<ReturnType<typeof load>>;

  /** Fetches the results and shows them in the ATS, at the statuses the vendor publishes results. */
  async function showResults(
    { adapter, ats, vendor, connection }: Loaded,
    ref: { externalId: string; status: CheckStatus; at: number },
  ): Promise<void> {
    if (!adapter.resultsOn.includes(ref.status)) return;
    const results = await vendor.results(ref.externalId);
    // The vendor's URL may expire: the ATS keeps a link to the service, which signs (and checks) a fresh one
    // when opened, so whether this one was refused does not matter then.
    const stable =
      results.reportId !== undefined && vendor.reportUrl !== undefined && reportLinks !== undefined
        ? { url: reportLinks.url(connection.id, results.reportId), linkRefused: false }
        : { url: results.url, linkRefused: results.linkRefused === true };
    await ats.publishResults(adapter, {
      status: ref.status,
      results: { ...results, ...stable },
      at: ref.at,
      marker: `${reference()}: ${ref.status} results`,
    });
  }

  /** Explains to the recruiter why a check ended without results, and what to do. */
  async function explain({ adapter, connection, ats }: Loaded, note: CheckNote): Promise<void> {
    const name = adapter.displayName;
    let text: string;
    if (note.kind === 'cancelled') {
      text =
        `${name} background check cancelled: the ${name} integration was removed from this account ` +
        `(connection "${connection.name}"), so ${note.ordered ? `the order was cancelled with ${name}` : 'nothing was ordered'} ` +
        `and nothing more will be written for this check.`;
    } else {
      const detail = note.detail.replace(/\.+$/, '');
      text = {
        refused: `${name} background check not ordered: ${detail}.`,
        'vendor-ended':
          `${name} background check ended without results (vendor status: ${detail}). ` +
          `Review the order in ${name}, then move the candidate into the trigger stage again to order a new check.`,
        failed:
          `${name} background check failed: ${detail}. ` +
          `Fix the cause, then move the candidate into the trigger stage again (connection "${connection.name}").`,
      }[note.kind];
    }
    await ats.addNote(`${text}\n${reference()}`);
  }

  return {
    /**
     * Confirms with the ATS that the subject is at the trigger, reads the candidate as they are then and decides
     * what to order, or why nothing is ordered.
     */
    async prepareCheck(ref: SubjectRef): Promise<PreparedCheck> {
      return classified(async () => {
        const { adapter, settings, ats, vendor } = await load(ref);
        const read = await ats.atTrigger();
        if (!read.atTrigger) {
          logger.warn(
            {
              connectionId: ref.connectionId,
              workflowId: execution().workflowId,
              reason: 'not-in-trigger-stage',
            },
            'nothing ordered: the ATS does not show the subject at the trigger',
          );
          return { kind: 'not-at-trigger' };
        }
        const catalog = vendor.catalog ? await vendor.catalog() : undefined;
        const plan = adapter.plan(settings, read.candidate, catalog);
        prepared.set(runKey(), read.candidate);
        return plan;
      });
    },

    /** Orders the check; the idempotency key is the workflow run, so a retried order is the same order. */
    async orderCheck(
      ref: SubjectRef & { plan: Extract<OrderPlan, { kind: 'order' }> },
    ): Promise<OrderOutcome> {
      return classified(async () => {
        const { adapter, ats, vendor } = await load(ref);
        const candidate = prepared.get(runKey()) ?? (await ats.snapshot());
        const { workflowId, runId } = execution();
        let externalId: string;
        try {
          ({ externalId } = await vendor.order({
            candidate,
            plan: ref.plan,
            reference: ref.subjectId,
            idempotencyKey: `${workflowId}/${runId}`,
          }));
        } catch (err) {
          if (err instanceof VendorRefusal) {
            const detail = err.message.replace(/\.+$/, '');
            await ats.addNote(
              `${adapter.displayName} background check not ordered: ${detail}.\n${reference()}`,
            );
            return { kind: 'refused' };
          }
          throw err;
        }
        await checks.recordOrder({
          connectionId: ref.connectionId,
          vendor: adapter.vendor,
          externalId,
          workflowId,
          runId,
          packageName: ref.plan.packageName,
        });
        logger.info({ connectionId: ref.connectionId, workflowId, externalId }, 'check ordered');
        return { kind: 'ordered', externalId };
      });
    },

    async fetchProgress(ref: SubjectRef & { externalId: string }): Promise<VendorProgress> {
      return classified(async () => (await load(ref)).vendor.progress(ref.externalId));
    },

    /** Shows the status in the ATS (Lever: exactly one status tag; Ashby: the assessment status). */
    async publishStatus(
      ref: SubjectRef & {
        status: CheckStatus;
        reason?: StatusReason;
        at: number;
        /** The run's first status: the tags prepareCheck read are still there (see presentTags). */
        first?: boolean;
      },
    ): Promise<{ shown: string | null }> {
      return classified(async () => {
        const { adapter, settings, ats } = await load(ref);
        const presentTags = tagsBeforeFirstStatus(ref.first === true);
        const shown = await ats.publishStatus(adapter, settings, {
          status: ref.status,
          reason: ref.reason,
          at: ref.at,
          presentTags,
        });
        return { shown };
      });
    },

    /** Fetches the results and shows them in the ATS, at the statuses the vendor publishes results. */
    async publishResults(
      ref: SubjectRef & { externalId: string; status: CheckStatus; at: number },
    ): Promise<void> {
      return classified(async () => showResults(await load(ref), ref));
    },

    /** Explains to the recruiter why a check ended without results, and what to do. */
    async addCheckNote(ref: SubjectRef & CheckNote): Promise<void> {
      return classified(async () => explain(await load(ref), ref));
    },

    /**
     * A status change in one step (one activity task instead of up to four): the results or the vendor's end
     * note when the change brings them, the status log, then the status shown in the ATS. Each part is
     * retry-safe, so a retried attempt completes what an earlier one left (see LeverSide's `lookFirst`).
     */
    async applyStatus(
      ref: SubjectRef & {
        seq: number;
        status: CheckStatus;
        reason?: StatusReason;
        detail?: string;
        at: number;
        publish: boolean;
        /** The vendor's case whose results the change publishes (at the statuses its vendor gives results). */
        resultsOf?: string;
        /** The vendor's status, for the note of a check the vendor ended without results. */
        vendorEnded?: string;
      },
    ): Promise<void> {
      return classified(async () => {
        const loaded = await load(ref);
        if (ref.resultsOf !== undefined)
          await showResults(loaded, { externalId: ref.resultsOf, status: ref.status, at: ref.at });
        if (ref.vendorEnded !== undefined)
          await explain(loaded, { kind: 'vendor-ended', detail: ref.vendorEnded });
        const { workflowId, runId } = execution();
        await checks.appendStatus({
          connectionId: ref.connectionId,
          subjectId: ref.subjectId,
          seq: ref.seq,
          status: ref.status,
          detail: ref.detail,
          workflowId,
          runId,
        });
        // The run's first status (seq 1, just after the order): the tags read before the order are still there.
        const presentTags = tagsBeforeFirstStatus(ref.seq === 1);
        if (ref.publish)
          await loaded.ats.publishStatus(loaded.adapter, loaded.settings, {
            status: ref.status,
            reason: ref.reason,
            at: ref.at,
            presentTags,
          });
      });
    },

    async cancelOrder(ref: SubjectRef & { externalId: string }): Promise<void> {
      return classified(async () => {
        const { vendor } = await load(ref);
        await vendor.cancel?.(ref.externalId);
      });
    },

    /** Appends to the check's status log in PostgreSQL (idempotent per run and sequence number). */
    async recordStatus(
      ref: SubjectRef & { seq: number; status: CheckStatus; detail?: string },
    ): Promise<void> {
      const { workflowId, runId } = execution();
      await checks.appendStatus({ ...ref, workflowId, runId });
    },
  };
}

export type CheckActivities = ReturnType<typeof createCheckActivities>;
