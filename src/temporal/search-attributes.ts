import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes: operators filter checks by status, vendor and connection in the Web UI. */
export const CHECK_STATUS_KEY = defineSearchAttributeKey('BgcStatus', SearchAttributeType.KEYWORD);
export const VENDOR_KEY = defineSearchAttributeKey('BgcVendor', SearchAttributeType.KEYWORD);
export const CONNECTION_KEY = defineSearchAttributeKey('BgcConnection', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_KEYS = [CHECK_STATUS_KEY, VENDOR_KEY, CONNECTION_KEY];
