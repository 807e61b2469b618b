/** Failure types raised by activities and told apart by workflows (pure: workflows import it). */
export const FAILURE = {
  AtsAccessDenied: 'AtsAccessDenied',
  VendorAccessDenied: 'VendorAccessDenied',
  Permanent: 'PermanentError',
  RateLimited: 'RateLimited',
} as const;
