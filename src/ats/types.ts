import type { CheckStatus } from '../domain/status';
import type { CheckVendorAdapter, VendorResults } from '../vendors/types';
import type { CandidateSnapshot, StatusReason } from '../domain/candidate';

/**
 * The ATS half of a check: where the candidate comes from and where statuses and results go. Lever shows them
 * as tags, notes and links on the opportunity; Ashby as assessment updates. Each call is retry-safe.
 */
export interface AtsSide {
  snapshot(): Promise<CandidateSnapshot>;
  /**
   * Before anything is ordered: whether the ATS shows the subject at the connection's trigger now (Lever: the
   * opportunity is in the trigger stage; the webhook that named it is signed, its data is not) and, if so, the
   * candidate.
   */
  atTrigger(): Promise<{ atTrigger: false } | { atTrigger: true; candidate: CandidateSnapshot }>;
  /** Shows a status; returns what was written (tag or label), or null when the vendor shows nothing for it. */
  publishStatus(
    adapter: CheckVendorAdapter,
    settings: unknown,
    update: {
      status: CheckStatus;
      reason?: StatusReason;
      at: number;
      /**
       * The subject's tags as this run read them just before (its first status): a tag replace then removes only
       * the status tags that are there. Unknown (undefined): it removes every other status tag.
       */
      presentTags?: readonly string[];
    },
  ): Promise<string | null>;
  publishResults(
    adapter: CheckVendorAdapter,
    update: { status: CheckStatus; results: VendorResults; at: number; marker: string },
  ): Promise<void>;
  /** A note for the recruiter (Lever: secret note, once per text); ATSs without notes ignore it. */
  addNote(text: string): Promise<void>;
}
