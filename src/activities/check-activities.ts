import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { CheckStatus } from '../domain/status';
import { ConnectionRepository } from '../db/connections';
import { CheckRepository } from '../db/checks';
import { LeverClient, noteText } from '../integrations/lever/client';
import { vendorAdapter } from '../vendors';
import type { StatusReason, VendorProgress } from '../vendors/types';
import type { Logger } from '../logger';
import { classified } from './errors';

export interface OpportunityRef {
  connectionId: string;
  opportunityId: string;
}

export interface CheckPlan {
  hasEmail: boolean;
  packageName: string;
  packageRef: string;
}

export interface ActivityDeps {
  pool: Pool;
  logger: Logger;
}

/** Splits Lever's single name field; the vendor needs first and last name. */
export function splitName(name: string | null | undefined): { firstName: string; lastName: string } {
  const parts = (name ?? '').trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return { firstName: '', lastName: '' };
  return { firstName: parts[0] ?? '', lastName: parts.slice(1).join(' ') };
}

/** The workflow execution an activity runs for; notes and logs name it so retries can find their work. */
function execution(): { workflowId: string; runId: string } {
  const run = Context.current().info.workflowExecution;
  if (run === undefined) throw new Error('check activities run only inside a workflow');
  return run;
}

/** Activities of the background-check workflow: each one is one small, retry-safe side effect. */
export function createCheckActivities({ pool, logger }: ActivityDeps) {
  const connections = new ConnectionRepository(pool);
  const checks = new CheckRepository(pool);

  async function load(connectionId: string) {
    const connection = await connections.get(connectionId);
    const adapter = vendorAdapter(connection.vendor);
    if (adapter === undefined)
      throw new Error(`connection ${connectionId} names unknown vendor ${connection.vendor}`);
    const settings = adapter.settingsSchema.parse(connection.vendorSettings);
    const secrets = adapter.secretsSchema.parse(connection.vendorSecrets);
    const lever = new LeverClient(connection.lever.apiBaseUrl, connection.leverSecrets.apiKey);
    return { connection, adapter, settings, secrets, lever };
  }

  /** Adds a secret note unless the same text is already on the opportunity (a retried activity). */
  async function addNoteOnce(lever: LeverClient, opportunityId: string, text: string) {
    const notes = await lever.listNotes(opportunityId);
    if (notes.some((n) => noteText(n) === text)) return;
    await lever.addSecretNote(opportunityId, text);
  }

  function reference(): string {
    const { workflowId, runId } = execution();
    return `Check ${workflowId} (run ${runId})`;
  }

  return {
    /** Reads the opportunity as it is at trigger time and decides what to order. */
    async prepareCheck(ref: OpportunityRef): Promise<CheckPlan> {
      return classified(async () => {
        const { adapter, settings, lever } = await load(ref.connectionId);
        const opportunity = await lever.getOpportunity(ref.opportunityId);
        const choice = adapter.choosePackage(settings, opportunity.tags);
        return { hasEmail: opportunity.emails.length > 0, packageName: choice.name, packageRef: choice.ref };
      });
    },

    /** Orders the check; the idempotency key is the workflow run, so a retried order is the same order. */
    async orderCheck(
      ref: OpportunityRef & { packageRef: string; packageName: string },
    ): Promise<{ externalId: string }> {
      return classified(async () => {
        const { adapter, settings, secrets, lever } = await load(ref.connectionId);
        const opportunity = await lever.getOpportunity(ref.opportunityId);
        const email = opportunity.emails[0];
        if (email === undefined) throw new Error('the candidate has no email address any more');
        const { workflowId, runId } = execution();
        const { externalId } = await adapter.client(settings, secrets).order({
          candidate: { email, ...splitName(opportunity.name) },
          packageRef: ref.packageRef,
          reference: ref.opportunityId,
          idempotencyKey: `${workflowId}/${runId}`,
        });
        await checks.recordOrder({
          connectionId: ref.connectionId,
          vendor: adapter.vendor,
          externalId,
          workflowId,
          runId,
          packageName: ref.packageName,
        });
        logger.info({ connectionId: ref.connectionId, workflowId, externalId }, 'check ordered');
        return { externalId };
      });
    },

    async fetchProgress(ref: { connectionId: string; externalId: string }): Promise<VendorProgress> {
      return classified(async () => {
        const { adapter, settings, secrets } = await load(ref.connectionId);
        return adapter.client(settings, secrets).progress(ref.externalId);
      });
    },

    /** Puts exactly one of the vendor's status tags on the opportunity, never touching other tags. */
    async applyStatusTag(
      ref: OpportunityRef & { status: CheckStatus; reason?: StatusReason },
    ): Promise<{ tag: string | null }> {
      return classified(async () => {
        const { adapter, lever } = await load(ref.connectionId);
        const tag = adapter.tagFor(ref.status, ref.reason);
        if (tag === null) return { tag };
        const opportunity = await lever.getOpportunity(ref.opportunityId);
        const stale = opportunity.tags.filter((t) => t !== tag && adapter.statusTags.includes(t));
        if (!opportunity.tags.includes(tag)) await lever.addTags(ref.opportunityId, [tag]);
        if (stale.length > 0) await lever.removeTags(ref.opportunityId, stale);
        return { tag };
      });
    },

    /** Adds the report link to the profile, and the same link in a secret note. */
    async attachReport(ref: OpportunityRef & { externalId: string; status: CheckStatus }): Promise<void> {
      return classified(async () => {
        const { adapter, settings, secrets, lever } = await load(ref.connectionId);
        const notes = await lever.listNotes(ref.opportunityId);
        const marker = `${reference()}: ${ref.status} report`;
        if (notes.some((n) => noteText(n).includes(marker))) return;
        const url = await adapter.client(settings, secrets).reportUrl(ref.externalId);
        await lever.addLinks(ref.opportunityId, [url]);
        await lever.addSecretNote(
          ref.opportunityId,
          `${adapter.displayName} background check report (${ref.status}): ${url}\n${marker}`,
        );
      });
    },

    /** Explains on the opportunity why a check ended without results, and what to do. */
    async addCheckNote(
      ref: OpportunityRef & { kind: 'vendor-ended' | 'failed'; detail: string },
    ): Promise<void> {
      return classified(async () => {
        const { adapter, connection, lever } = await load(ref.connectionId);
        const text =
          ref.kind === 'vendor-ended'
            ? `${adapter.displayName} background check ended without results (vendor status: ${ref.detail}). ` +
              `Review the case in ${adapter.displayName}, then move the candidate into the trigger stage again to order a new check.`
            : `${adapter.displayName} background check failed: ${ref.detail}. ` +
              `Fix the cause, then move the candidate into the trigger stage again (connection "${connection.name}").`;
        await addNoteOnce(lever, ref.opportunityId, `${text}\n${reference()}`);
      });
    },

    /** Appends to the check's status log in PostgreSQL (idempotent per run and sequence number). */
    async recordStatus(
      ref: OpportunityRef & { seq: number; status: CheckStatus; detail?: string },
    ): Promise<void> {
      const { workflowId, runId } = execution();
      await checks.appendStatus({ ...ref, workflowId, runId });
    },
  };
}

export type CheckActivities = ReturnType<typeof createCheckActivities>;
