/**
 * The IDs of the service's workflows: the business key of each, so a repeated start finds the same workflow.
 * Pure functions below both the workflows and their starters (the API, the activities).
 */

/** One check at a time per connection and subject: the workflow ID is the business key. */
export function checkWorkflowId(connectionId: string, subjectId: string): string {
  return `check:${connectionId}:${subjectId}`;
}

/** One onboarding per hire, ever: a repeated Candidate Hired webhook finds the same workflow. */
export function hireWorkflowId(connectionId: string, opportunityId: string): string {
  return `hire:${connectionId}:${opportunityId}`;
}

/**
 * The kinds of workflow (src/workflows/kinds.ts): each name is the workflow's type and its `BgcKind` search
 * attribute. Here, below everything, so that an integration can name its kind (src/vendors/types.ts).
 */
export type WorkflowKindName = 'backgroundCheck' | 'onboardHire';
