import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { OmittedField } from '../vendors/justworks/pending-hire';

/** Input of the Justworks-style onboarding of one hire. No PII: activities read it from Lever. */
export interface OnboardHireInput {
  connectionId: string;
  opportunityId: string;
  maxAttempts?: number;
}

export type OnboardingState =
  | { status: 'running' }
  | {
      status: 'created';
      pendingHireId: string;
      /** null: Justworks gave a review link that is not a URL we may write (left out of the e-mail and note). */
      reviewUrl: string | null;
      notified: number;
      /** Fields of the pending hire left out for the admin to complete (the note says why). */
      leftOut: OmittedField[];
    }
  | { status: 'refused'; reason: string };

/**
 * Patch: the hire's status goes into its own search attribute, `BgcHireStatus` (src/temporal/search-attributes.ts),
 * no longer into the checks' `BgcStatus`. Hires running across the upgrade switch at their next status; the
 * statuses they wrote before replay as they ran.
 */
export const HIRE_STATUS_ATTRIBUTE_PATCH = 'hire-status-attribute';

export const onboardingStateQuery = defineQuery<OnboardingState>('onboardingState');
/** Who asked to stop an onboarding: an admin, by deleting the connection with `cancelRunning`. */
export interface StopOnboardingRequest {
  by: 'admin';
}

/** An admin deleted the connection with `cancelRunning`: stop watching a refused hire (a note says why). */
export const stopOnboardingSignal = defineSignal<[StopOnboardingRequest]>('stopOnboarding');

/** The onboarding's workflow ID (src/domain/workflow-ids.ts), here too for the callers of the workflow's contract. */
export { hireWorkflowId } from '../domain/workflow-ids';
