import type { AssessmentRepository } from './assessments';
import { isTerminal } from '../../domain/status';
import { ExternalApiError } from '../../integrations/http-client';
import { AshbyClient, cancelledUpdate, resultUpdate, statusUpdate } from './client';
import type { CheckVendorAdapter } from '../../vendors/types';
import type { CandidateSnapshot, StatusReason } from '../../domain/candidate';
import type { AtsSide } from '../types';

/**
 * What Ashby shows when a check ends without results (`cancelled_reason`): what happened and what to do, from
 * the reason alone, so no candidate data and no vendor error text reaches Ashby.
 */
export function cancelledReason(vendor: string, reason: StatusReason | undefined): string {
  switch (reason) {
    case 'vendor-ended':
      return (
        `${vendor} ended the background check without results (the order was cancelled or expired at ${vendor}). ` +
        `Review the order in ${vendor}, then start a new assessment to order again.`
      );
    case 'failed':
      return (
        `The ${vendor} background check stopped: ${vendor} refused a request of the integration (for example, ` +
        `its ${vendor} API key was revoked or replaced). Have the integration's ${vendor} settings fixed, then ` +
        `start a new assessment.`
      );
    case 'communication':
      return (
        `The ${vendor} background check stopped: ${vendor} could not be reached, even after retrying for a while. ` +
        `Start a new assessment to try again.`
      );
    case 'no-email':
      return (
        `The ${vendor} background check was not ordered: the candidate has no email address for the invitation. ` +
        `Add one in Ashby, then start a new assessment.`
      );
    case 'no-package':
      return (
        `The ${vendor} background check was not ordered: this assessment type is no longer offered by the ` +
        `integration. Start a new assessment with another package.`
      );
    case 'refused':
      return (
        `${vendor} refused the background check order. Check the candidate's name and email address in Ashby, ` +
        `then start a new assessment.`
      );
    case 'cancelled':
      return `The ${vendor} background check was cancelled. Start a new assessment to order it again.`;
    case 'integration-removed':
      return (
        `The ${vendor} background check was cancelled: the ${vendor} integration was removed from this Ashby ` +
        `account by its administrator.`
      );
    case 'access-denied':
      return (
        `The ${vendor} background check stopped: the integration lost its access to Ashby (its Ashby API key was ` +
        `revoked). Have the key replaced, then start a new assessment.`
      );
    case 'not-in-trigger-stage':
      return (
        `The ${vendor} background check was not ordered: the candidate was no longer where the assessment ` +
        `was started. Start a new assessment to order it.`
      );
    case undefined:
      return `The ${vendor} background check ended with an error. Start a new assessment to try again.`;
  }
}

/** What Ashby shows when the vendor's results link is not a URL we may write (e.g. `javascript:`). */
export function refusedLinkReason(vendor: string): string {
  return (
    `${vendor} completed the background check, but its link to the results is not a safe https:// link, so it ` +
    `was not passed on to Ashby. Open the results in ${vendor}.`
  );
}

/** An Ashby assessment as the subject of a check: progress goes to Ashby through assessment.update. */
export class AshbySide implements AtsSide {
  constructor(
    private readonly ashby: AshbyClient,
    private readonly assessments: AssessmentRepository,
    private readonly connectionId: string,
    private readonly assessmentId: string,
  ) {}

  async snapshot(): Promise<CandidateSnapshot> {
    const assessment = await this.assessments.find(this.connectionId, this.assessmentId);
    if (assessment === undefined) throw new Error(`assessment ${this.assessmentId} is not recorded`);
    return {
      firstName: assessment.candidate.firstName,
      lastName: assessment.candidate.lastName,
      email: assessment.candidate.email,
      phone: null,
      location: null,
      tags: [],
      position:
        assessment.jobName === null
          ? null
          : { title: assessment.jobName, department: null, team: null, location: null, tags: [] },
      requestedPackageId: assessment.assessmentTypeId,
    };
  }

  /** Ashby itself started the assessment, authenticated with the partner secret: it is at its trigger. */
  async atTrigger(): Promise<{ atTrigger: true; candidate: CandidateSnapshot }> {
    return { atTrigger: true, candidate: await this.snapshot() };
  }

  async publishStatus(
    adapter: CheckVendorAdapter,
    _settings: unknown,
    update: Parameters<AtsSide['publishStatus']>[2],
  ) {
    // A check that ends without results (Error, Rejected) cancels the assessment, or Ashby would wait forever.
    if (isTerminal(update.status) && update.status !== 'Complete') {
      return this.cancel(cancelledReason(adapter.displayName, update.reason), update.at);
    }
    const label = adapter.ashby?.statusFor(update.status) ?? null;
    // Complete is sent with the result URL by publishResults: Ashby needs both in one update.
    if (label === null || update.status === 'Complete') return label;
    await this.ashby.updateAssessment(statusUpdate(this.assessmentId, label, update.at));
    return label;
  }

  private async cancel(reason: string, at: number): Promise<string | null> {
    try {
      await this.ashby.updateAssessment(cancelledUpdate(this.assessmentId, reason, at));
    } catch (err) {
      // The check ends either way; a refusal (e.g. the assessment was deleted) would fail it again on every retry.
      if (err instanceof ExternalApiError && err.permanent) return null;
      throw err;
    }
    return reason;
  }

  async publishResults(adapter: CheckVendorAdapter, update: Parameters<AtsSide['publishResults']>[1]) {
    if (update.status !== 'Complete') return;
    // Ashby completes an assessment only with a profile URL: without a link we may pass on, it is ended instead.
    if (update.results.linkRefused === true) {
      await this.cancel(refusedLinkReason(adapter.displayName), update.at);
      return;
    }
    if (update.results.url === null) return;
    await this.ashby.updateAssessment(
      resultUpdate({
        assessmentId: this.assessmentId,
        resultUrl: update.results.url,
        timestamp: update.at,
        result: update.results.lines[0] ?? 'Complete',
      }),
    );
  }

  /** Ashby assessments have no notes; what a Lever note would say shows in the assessment status instead. */
  async addNote(): Promise<void> {}
}
