/**
 * The candidate and the check's outcome as the service sees them, whichever ATS and vendor: plain types, shared by
 * workflows, activities, the ATS modules (src/ats) and the vendor adapters (src/vendors).
 */

/** Why a check reached its status, when the status alone does not say (e.g. Error because of no email). */
export type StatusReason =
  | 'no-email'
  | 'no-package'
  | 'refused'
  | 'vendor-ended'
  | 'cancelled'
  /** An admin deleted the connection and had its running checks cancelled. */
  | 'integration-removed'
  | 'access-denied'
  | 'communication'
  | 'failed'
  /**
   * The ATS does not show the subject at the connection's trigger (Lever: the opportunity is not in the trigger
   * stage), though a trigger named it: it left the stage at once, or the webhook's unsigned data was not Lever's.
   */
  | 'not-in-trigger-stage';

/** Which ATS a connection is on. */
export type AtsKind = 'lever' | 'ashby';

/**
 * The candidate as the ATS shows it when the check is prepared or ordered. It carries PII, so it only lives
 * inside activities: workflows get decisions (`OrderPlan`), never the snapshot.
 */
export interface CandidateSnapshot {
  firstName: string;
  lastName: string;
  email: string | null;
  phone: string | null;
  /** The candidate's location (Lever: the opportunity's location). */
  location: string | null;
  /** Tags on the candidate (Lever: the opportunity's tags, posting tags included). */
  tags: string[];
  /** The job the candidate applied to. */
  position: {
    title: string | null;
    department: string | null;
    team: string | null;
    location: string | null;
    tags: string[];
  } | null;
  /** The package the ATS asked for explicitly (Ashby: the assessment type). */
  requestedPackageId: string | null;
}
