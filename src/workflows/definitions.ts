import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CheckStatus } from '../domain/status';
import type { StatusReason } from '../vendors/types';

/** Input of one check. No candidate PII: activities read it from the ATS when they need it. */
export interface BackgroundCheckInput {
  connectionId: string;
  opportunityId: string;
  /** How long to wait for a vendor callback before asking the vendor for the status anyway. */
  pollIntervalMs: number;
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

/** A vendor told us something changed; the workflow asks the vendor for the case's current status. */
export interface VendorEvent {
  eventId: string;
  eventType: string;
}

export const vendorEventSignal = defineSignal<[VendorEvent]>('vendorEvent');
export const checkStateQuery = defineQuery<CheckState>('checkState');

export function checkWorkflowId(connectionId: string, opportunityId: string): string {
  return `check:${connectionId}:${opportunityId}`;
}
