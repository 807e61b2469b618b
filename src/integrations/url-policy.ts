import { z } from 'zod';
import type { BaseConfig } from '../config';

/**
 * Which URLs the service calls and writes. The base URL of every ATS and vendor API, and every link a vendor or an
 * ATS hands us that we write somewhere (Lever notes and links, Ashby's `assessment_profile_url`, the Justworks
 * admin e-mail, the report links' redirect), must be an absolute `https:` URL with a host and without user or
 * password: a `javascript:` or `data:` link in a recruiter's Lever runs script when clicked, and an `http:` base
 * URL would send API keys in clear. `http:` is allowed only with ALLOW_HTTP_URLS=true (the sandbox emulators),
 * which production refuses.
 *
 * The policy is the process's, like its configuration: each entry point (src/main.ts, src/worker.ts) applies it
 * once from the configuration it loaded (`applyUrlPolicy`), and every schema and client below reads it from here.
 * Until then only `https:` passes.
 */

export type UrlPolicyConfig = Pick<BaseConfig, 'NODE_ENV' | 'ALLOW_HTTP_URLS'>;

let allowHttp = false;

/** Throws (refusing to start) when ALLOW_HTTP_URLS is set with NODE_ENV=production. */
export function checkUrlPolicy(config: UrlPolicyConfig): void {
  if (config.ALLOW_HTTP_URLS && config.NODE_ENV === 'production') {
    throw new Error('Invalid configuration: ALLOW_HTTP_URLS: not allowed when NODE_ENV is production');
  }
}

/** Checks the configuration (as `checkUrlPolicy`) and makes it this process's policy. */
export function applyUrlPolicy(config: UrlPolicyConfig): void {
  checkUrlPolicy(config);
  allowHttp = config.ALLOW_HTTP_URLS;
}

/** Whether `http:` URLs are allowed: ALLOW_HTTP_URLS=true (never in production), as the entry point applied it. */
export function httpUrlsAllowed(): boolean {
  return allowHttp;
}

/**
 * The scheme written out, and no whitespace or control character anywhere: the URL parser would drop or re-encode
 * them (so the text written would not be the URL checked), and a line break would split a note.
 */
const PLAIN_HTTP_URL = /^https?:\/\/[^\s\p{Cc}]+$/iu;

/** What is wrong with `value` as a URL we may call or write, or undefined. Never quotes the value. */
export function unsafeUrlReason(value: string): string | undefined {
  const url = PLAIN_HTTP_URL.test(value) && URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || url.hostname === '') return 'must be an absolute https:// URL';
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  if (url.protocol === 'http:' && !httpUrlsAllowed()) {
    return 'must be an https:// URL (http:// only with ALLOW_HTTP_URLS=true, never in production)';
  }
  return undefined;
}

/** A URL we may call or write (see above); the issue says what is wrong without quoting the value. */
export const safeUrlSchema = z.string().superRefine((value, ctx) => {
  const reason = unsafeUrlReason(value);
  if (reason !== undefined) ctx.addIssue({ code: 'custom', message: reason });
});

/** A link handed to us to pass on: the URL when we may write it, else refused, its value dropped. */
export type OfferedLink = { url: string; refused: false } | { url: null; refused: true };

/**
 * A link a vendor or an ATS hands us to show people (results, reports, review pages), checked with
 * `safeUrlSchema`. A link it refuses does not fail the whole answer: the answer is taken without the link, marked
 * `refused`, so the check goes on and says so instead of writing it.
 */
export const offeredLinkSchema = z
  .string()
  .transform((value): OfferedLink =>
    safeUrlSchema.safeParse(value).success ? { url: value, refused: false } : { url: null, refused: true },
  );
