import type { SearchAttributePair, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Connection } from '../ats/connection';
import { checkWorkflowId, hireWorkflowId, type WorkflowKindName } from '../domain/workflow-ids';
import {
  CONNECTION_KEY,
  HIRE_STATUS,
  HIRE_STATUS_KEY,
  KIND_KEY,
  VENDOR_KEY,
} from '../temporal/search-attributes';
import type * as workflows from './index';

/**
 * The kinds of workflow a trigger starts, each with its own definition: a background check (`backgroundCheck`) and
 * a hire's onboarding (`onboardHire`). Starting one is a lookup here (src/api/check-starter.ts), not a branch; an
 * integration names its kind (`IntegrationDefinition.workflow`, src/vendors/types.ts).
 *
 * Pure data and functions, importable from the API and from workflow code alike: the workflow functions are only
 * imported as types, so nothing here pulls the workflows (nor Node) into the API, nor the API into the bundle.
 */

/** What every start of a kind gets from the service's configuration. */
export interface KindStartOptions {
  /** A check: how long to wait for a vendor callback before asking the vendor anyway. */
  pollIntervalMs: number;
  /** Attempts per activity before a call to the ATS or vendor counts as failed. */
  maxAttempts?: number;
}

/** The connection a workflow is started for: only its id and vendor reach the start. */
export type KindConnection = Pick<Connection, 'id' | 'vendor'>;

type WorkflowFunctions = typeof workflows;

export type { WorkflowKindName };

export interface WorkflowKind<Type extends WorkflowKindName & keyof WorkflowFunctions> {
  /** The workflow type the worker registers (the workflow function's name); also the kind's `BgcKind` value. */
  readonly workflowType: Type;
  /** The workflow ID: the business key, so a second start for the same subject finds the first. */
  workflowId(connectionId: string, subjectId: string): string;
  /** Whether a subject's workflow may run again once an earlier one closed. */
  readonly idReusePolicy: WorkflowIdReusePolicy;
  /** The workflow's argument. No candidate data: activities read it from the ATS. */
  input(
    connection: KindConnection,
    subjectId: string,
    options: KindStartOptions,
  ): Parameters<WorkflowFunctions[Type]>[0];
  /** Search attributes set at start (the workflow itself keeps its status attribute up to date). */
  startAttributes(connection: KindConnection): SearchAttributePair[];
}

/** The search attributes every kind starts with: its kind, connection and vendor. */
function commonAttributes(kind: WorkflowKindName, connection: KindConnection): SearchAttributePair[] {
  return [
    { key: KIND_KEY, value: kind },
    { key: CONNECTION_KEY, value: connection.id },
    { key: VENDOR_KEY, value: connection.vendor },
  ];
}

/** A background check: one at a time per subject; a finished check may run again (a new trigger). */
const backgroundCheck: WorkflowKind<'backgroundCheck'> = {
  workflowType: 'backgroundCheck',
  workflowId: checkWorkflowId,
  idReusePolicy: 'ALLOW_DUPLICATE',
  input: ({ id }, subjectId, { pollIntervalMs, maxAttempts }) => ({
    connectionId: id,
    subjectId,
    pollIntervalMs,
    maxAttempts,
  }),
  // Its status (`BgcStatus`) is set by the workflow at its first status.
  startAttributes: (connection) => commonAttributes('backgroundCheck', connection),
};

/** A hire's onboarding: once per hire, ever (hiring the candidate again starts nothing). */
const onboardHire: WorkflowKind<'onboardHire'> = {
  workflowType: 'onboardHire',
  workflowId: hireWorkflowId,
  idReusePolicy: 'REJECT_DUPLICATE',
  // The subject is a Lever opportunity; a hire does not poll anyone.
  input: ({ id }, opportunityId, { maxAttempts }) => ({ connectionId: id, opportunityId, maxAttempts }),
  startAttributes: (connection) => [
    ...commonAttributes('onboardHire', connection),
    { key: HIRE_STATUS_KEY, value: HIRE_STATUS.running },
  ],
};

/** Every kind, by name (the name is the workflow type). */
export const WORKFLOW_KINDS: { readonly [K in WorkflowKindName]: WorkflowKind<K> } = {
  backgroundCheck,
  onboardHire,
};
