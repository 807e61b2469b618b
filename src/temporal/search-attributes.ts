import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes: operators filter the service's workflows by kind, status, vendor and connection in the
 * Web UI. Each kind keeps its status in an attribute of its own, so their values never mix: a check's status
 * (Pending … Complete, Rejected, Error) in `BgcStatus`, a hire's (Running, Created, Refused) in `BgcHireStatus`.
 */
export const CHECK_STATUS_KEY = defineSearchAttributeKey('BgcStatus', SearchAttributeType.KEYWORD);
export const VENDOR_KEY = defineSearchAttributeKey('BgcVendor', SearchAttributeType.KEYWORD);
export const CONNECTION_KEY = defineSearchAttributeKey('BgcConnection', SearchAttributeType.KEYWORD);
/** The workflow's kind (src/workflows/kinds.ts), set at start: `backgroundCheck` or `onboardHire`. */
export const KIND_KEY = defineSearchAttributeKey('BgcKind', SearchAttributeType.KEYWORD);
/** A hire's onboarding status: `Running`, `Created` or `Refused` (HIRE_STATUS). */
export const HIRE_STATUS_KEY = defineSearchAttributeKey('BgcHireStatus', SearchAttributeType.KEYWORD);
/** The values of `BgcHireStatus`, by the onboarding's state (src/workflows/onboarding-definitions.ts). */
export const HIRE_STATUS = { running: 'Running', created: 'Created', refused: 'Refused' } as const;

export const SEARCH_ATTRIBUTE_KEYS = [
  CHECK_STATUS_KEY,
  VENDOR_KEY,
  CONNECTION_KEY,
  KIND_KEY,
  HIRE_STATUS_KEY,
];
