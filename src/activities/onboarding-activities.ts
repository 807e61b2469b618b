import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ConnectionRepository } from '../db/connections';
import { FAILURE } from '../domain/failures';
import { hireWorkflowId } from '../domain/workflow-ids';
import { postingIdOf } from '../ats/lever/client';
import { JustworksClient, MANAGE_EMPLOYEES_PERMISSION } from '../vendors/justworks/client';
import { justworksIntegration } from '../vendors/justworks/integration';
import { sendHireNotification, type SmtpSettings } from '../vendors/justworks/mailer';
import { onboardingNoteText, type OnboardingNote } from '../vendors/justworks/notes';
import { buildPendingHire, type Omission } from '../vendors/justworks/pending-hire';
import type { ActivityDeps } from './check-activities';
import { classified } from './errors';
import { activityLeverClient } from '../ats/lever/activity-client';

/** The Lever hire an onboarding is about. No PII: activities read the candidate from Lever. */
export interface HireRef {
  connectionId: string;
  opportunityId: string;
}

export type PendingHireOutcome =
  /** `reviewUrl` null: Justworks gave a review link that is not a URL we may write. */
  | { kind: 'created'; pendingHireId: string; reviewUrl: string | null; omitted: Omission[] }
  | { kind: 'refused'; reason: string };

export interface NotifyOutcome {
  /** Admins whose message the SMTP server accepted (in this or an earlier attempt). */
  notified: number;
  /** Admins whose address the SMTP server refused for good (reported, not retried). */
  refused: number;
}

/** `smtp://user:pass@host:port` or `smtps://…` → the mailer's settings. */
export function smtpSettings(smtpUrl: string): SmtpSettings {
  const url = new URL(smtpUrl);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error('the SMTP URL must start with smtp:// or smtps://');
  }
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname,
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    ...(url.username === ''
      ? {}
      : { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }),
  };
}

/** Heartbeat details of notifyAdmins: hashes of the admins already mailed, so a retry skips them. */
const mailedHash = (key: string, address: string) =>
  createHash('sha256').update(`${key}\n${address.trim().toLowerCase()}`).digest('hex').slice(0, 32);

/** Activities of the onboardHire workflow (Lever → Justworks): each one small and retry-safe. */
export function createOnboardingActivities({
  pool,
  logger,
  mail,
  secretBox,
  leverRateLimiter,
  httpLimits,
}: ActivityDeps) {
  const connections = new ConnectionRepository(pool, secretBox);

  /** A connection that is gone or not Lever → Justworks will not fix itself: fail for good, not retried. */
  const misconfigured = (message: string) =>
    ApplicationFailure.create({ message, type: FAILURE.Permanent, nonRetryable: true });

  async function load(ref: HireRef) {
    const connection = await connections.find(ref.connectionId);
    if (connection === undefined) throw misconfigured(`connection ${ref.connectionId} no longer exists`);
    if (connection.vendor !== justworksIntegration.vendor || connection.ats.kind !== 'lever') {
      throw misconfigured(`connection ${connection.id} is not a Lever → Justworks connection`);
    }
    const settings = justworksIntegration.settingsSchema.safeParse(connection.vendorSettings);
    const secrets = justworksIntegration.secretsSchema.safeParse(connection.vendorSecrets);
    if (!settings.success || !secrets.success) {
      throw misconfigured(`connection ${connection.id} has invalid Justworks settings`);
    }
    return {
      connection,
      settings: settings.data,
      lever: activityLeverClient(connection.ats.settings.apiBaseUrl, connection.ats.secrets.apiKey, {
        rateLimiter: leverRateLimiter,
        limits: httpLimits,
      }),
      justworks: new JustworksClient(settings.data.apiBaseUrl, secrets.data.apiKey, { limits: httpLimits }),
    };
  }

  return {
    /**
     * Reads the hire in Lever (opportunity, posting, offers), builds the pending hire, and creates it in
     * Justworks. The idempotency key is the hire's workflow ID, and Justworks also dedupes on the opportunity
     * id, so a retry (or any later attempt) returns the same pending hire. Nothing but the pending hire's id,
     * its review link and what was left out of it (field names and reasons, no candidate data) leaves the
     * activity.
     */
    async createPendingHire(ref: HireRef): Promise<PendingHireOutcome> {
      return classified(async () => {
        const { settings, lever, justworks } = await load(ref);
        const opportunity = await lever.getOpportunity(ref.opportunityId);
        const postingId = postingIdOf(opportunity);
        const posting = postingId === undefined ? null : await lever.getPosting(postingId);
        const offers = await lever.listOffers(ref.opportunityId);
        const built = buildPendingHire({ opportunity, posting, offers, settings });
        if (!built.ok) {
          logger.info({ connectionId: ref.connectionId }, 'Justworks pending hire refused');
          return { kind: 'refused', reason: built.reason };
        }
        const record = await justworks.createPendingHire(
          built.hire,
          hireWorkflowId(ref.connectionId, ref.opportunityId),
        );
        logger.info(
          { connectionId: ref.connectionId, pendingHireId: record.id },
          'Justworks pending hire created',
        );
        return {
          kind: 'created',
          pendingHireId: record.id,
          reviewUrl: record.review_url.url,
          omitted: built.omitted,
        };
      });
    },

    /** A secret note on the opportunity; a note with the same text already there is not added again. */
    async addOnboardingNote(ref: HireRef, note: OnboardingNote): Promise<{ added: boolean }> {
      const text = onboardingNoteText(note);
      return classified(async () => {
        const { lever } = await load(ref);
        return lever.addSecretNoteOnce(ref.opportunityId, text);
      });
    },

    /**
     * E-mails `A candidate has been hired in Lever!` with the review link to every Justworks admin with
     * "Manage employees", as Justworks lists them now (`GET /v1/admins`), one message each. The idempotency
     * key comes from the pending hire, so a retry sends messages with the same Message-IDs; admins already
     * mailed by an earlier attempt (recorded in the heartbeat) are skipped. A temporary failure for any admin
     * throws after trying all of them (retried). Nobody to e-mail is not a failure: `notified` is 0.
     */
    async notifyAdmins(
      ref: HireRef,
      hire: { pendingHireId: string; reviewUrl: string | null },
    ): Promise<NotifyOutcome> {
      return classified(async () => {
        if (mail === undefined) throw new Error('no SMTP server is configured for hire notifications');
        const { settings, justworks } = await load(ref);
        const record = await justworks.getPendingHire(hire.pendingHireId);
        const key = `hire-${hire.pendingHireId}`;
        const context = Context.current();
        const previous: unknown = context.info.heartbeatDetails;
        const mailed = new Set(
          Array.isArray(previous) ? previous.filter((h): h is string => typeof h === 'string') : [],
        );
        const smtp = smtpSettings(mail.smtpUrl);
        const review = {
          candidateName: `${record.first_name} ${record.last_name}`,
          reviewUrl: hire.reviewUrl,
          ...(settings.companyName === undefined ? {} : { companyName: settings.companyName }),
        };
        let refused = 0;
        const failures: string[] = [];
        // Justworks filters by permission; checked again here, as a message sent to the wrong admin stays sent.
        const admins = (await justworks.listAdmins(MANAGE_EMPLOYEES_PERMISSION)).filter(
          (a, i, all) =>
            a.permissions.includes(MANAGE_EMPLOYEES_PERMISSION) &&
            all.findIndex((b) => b.email.toLowerCase() === a.email.toLowerCase()) === i,
        );
        for (const admin of admins) {
          const hash = mailedHash(key, admin.email);
          if (mailed.has(hash)) continue;
          try {
            const result = await sendHireNotification(smtp, mail.from, [admin.email], review, {
              idempotencyKey: key,
            });
            if (result.accepted.length > 0) mailed.add(hash);
            else refused += 1;
          } catch (err) {
            // The message names the admin: it stays in the worker's log, not in the workflow history.
            const message = err instanceof Error ? err.message : String(err);
            logger.warn({ connectionId: ref.connectionId, err: message }, 'hire notification not delivered');
            failures.push(message);
          }
          context.heartbeat([...mailed]);
        }
        if (failures.length > 0) {
          throw new Error(
            `the hire notification could not be delivered to ${failures.length} admin(s) (SMTP server unavailable or refusing for now)`,
          );
        }
        const notified = admins.filter((a) => mailed.has(mailedHash(key, a.email))).length;
        logger.info({ connectionId: ref.connectionId, notified, refused }, 'Justworks admins notified');
        return { notified, refused };
      });
    },
  };
}

export type OnboardingActivities = ReturnType<typeof createOnboardingActivities>;
