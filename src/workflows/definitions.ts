import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CheckStatus } from '../domain/status';
import type { StatusReason } from '../domain/candidate';

/** Input of one check. No candidate PII: activities read it from the ATS when they need it. */
export interface BackgroundCheckInput {
  connectionId: string;
  /** The ATS object the check is about: a Lever opportunity ID or an Ashby assessment ID. */
  subjectId: string;
  /** How long to wait for a vendor callback before asking the vendor for the status anyway. */
  pollIntervalMs: number;
  /** Attempts per activity before a call to the ATS or vendor counts as failed (communication failure). */
  maxAttempts?: number;
}

export interface StatusEntry {
  status: CheckStatus;
  at: string;
  reason?: StatusReason;
  detail?: string;
}

export interface CheckState {
  status: CheckStatus | null;
  packageName?: string;
  externalId?: string;
  history: StatusEntry[];
}

/** A vendor told us something changed; the workflow asks the vendor for the order's current status. */
export interface VendorEvent {
  eventId: string;
  eventType: string;
}

/**
 * Every signal carries an argument, and the workflows ignore one without it: an argument reaches the workflow only
 * if it decrypts with PAYLOAD_KEYS, so a signal without one could come from anyone who reaches Temporal. Histories
 * from before this rule (an argless cancelCheck or stopOnboarding was acted upon) replay as they ran.
 */
export const SIGNAL_ARGUMENT_REQUIRED_PATCH = 'signal-argument-required';

/**
 * Patch: once ordered, each status change is one activity (`applyStatus`: results or the vendor's end note, the
 * status log, the ATS) instead of up to four (publishResults, addCheckNote, recordStatus, publishStatus): fewer
 * tasks for the worker and the server per vendor callback. Checks ordered before it replay as they ran.
 */
export const STATUS_IN_ONE_STEP_PATCH = 'status-in-one-step';

export const vendorEventSignal = defineSignal<[VendorEvent]>('vendorEvent');
/**
 * Who asked to stop a check: the ATS withdrew the request (Ashby's assessment.cancel), or an admin deleted the
 * connection with `cancelRunning` (the candidate is told in a note, the ATS sees the check end).
 */
export interface CancelRequest {
  by: 'ats' | 'admin';
}

/** Cancel the vendor order (if one was placed) and stop. */
export const cancelCheckSignal = defineSignal<[CancelRequest]>('cancelCheck');
export const checkStateQuery = defineQuery<CheckState>('checkState');

/** The check's workflow ID (src/domain/workflow-ids.ts), here too for the callers of the workflow's contract. */
export { checkWorkflowId } from '../domain/workflow-ids';
