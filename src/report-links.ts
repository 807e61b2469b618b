import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import {
  developmentKeysAllowed,
  missingKeyError,
  type BaseConfig,
  type DevelopmentKeysConfig,
  type WorkerConfig,
} from './config';

/**
 * Report links that keep working. A vendor's own report URL may expire (Certn signs its `pdf_url` for an hour),
 * so the candidate's profile gets `<PUBLIC_BASE_URL>/reports/<connection>/<report>?token=<token>` instead, which
 * the API (src/api/report-links.ts) answers with a redirect to a URL the vendor signs at that moment. The token
 * is HMAC-SHA256 under REPORT_LINK_KEY of the connection and the report, so it opens that report only; the worker
 * writes the links and the API checks them, so both need the same key. Changing the key breaks every link
 * already on a profile.
 */

/**
 * Stands in for REPORT_LINK_KEY with BGC_DEVELOPMENT_KEYS so `npm run demo` works without setup. It is public
 * (derived from this text), so anyone could sign links with it: without the switch, and always in production, the
 * processes refuse to start without a real key.
 */
const DEVELOPMENT_KEY = createHash('sha256')
  .update('bgc-bridge development report link key: not a secret, never use in production')
  .digest();

export class ReportLinkKey {
  readonly #key: Buffer;

  constructor(
    key: Buffer,
    /** True when the public development key is in use (no REPORT_LINK_KEY). */
    readonly development = false,
  ) {
    this.#key = Buffer.from(key);
  }

  /** base64url of HMAC-SHA256 over both ids, JSON-encoded so that no two pairs give the same message. */
  token(connectionId: string, reportId: string): string {
    return createHmac('sha256', this.#key)
      .update(JSON.stringify(['bgc-bridge/report-link/v1', connectionId, reportId]))
      .digest('base64url');
  }

  /** Whether `token` opens this report of this connection, compared in constant time. */
  matches(connectionId: string, reportId: string, token: string): boolean {
    const expected = Buffer.from(this.token(connectionId, reportId));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Never the key material, if it is ever logged or serialized. */
  toJSON() {
    return { development: this.development };
  }

  [inspect.custom]() {
    return `ReportLinkKey { development: ${this.development} }`;
  }
}

/** Builds the links the worker writes onto profiles. */
export class ReportLinks {
  readonly #baseUrl: string;

  constructor(
    baseUrl: string,
    readonly key: ReportLinkKey,
  ) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
  }

  url(connectionId: string, reportId: string): string {
    const path = `/reports/${encodeURIComponent(connectionId)}/${encodeURIComponent(reportId)}`;
    return `${this.#baseUrl}${path}?token=${this.key.token(connectionId, reportId)}`;
  }
}

/**
 * The key from validated configuration; throws (refusing to start) without REPORT_LINK_KEY unless
 * BGC_DEVELOPMENT_KEYS (never in production) lets the public development key stand in.
 */
export function reportLinkKeyFromConfig(
  config: DevelopmentKeysConfig & Pick<BaseConfig, 'REPORT_LINK_KEY'>,
): ReportLinkKey {
  if (config.REPORT_LINK_KEY !== undefined) return new ReportLinkKey(config.REPORT_LINK_KEY);
  if (!developmentKeysAllowed(config)) {
    throw missingKeyError(
      config,
      'REPORT_LINK_KEY',
      'base64 of at least 32 random bytes (openssl rand -base64 32), the same for the API and the worker',
    );
  }
  return new ReportLinkKey(DEVELOPMENT_KEY, true);
}

/**
 * The worker's links, under PUBLIC_BASE_URL. Throws (refusing to start) without REPORT_LINK_KEY (see
 * reportLinkKeyFromConfig) and, in production, without PUBLIC_BASE_URL; elsewhere, without PUBLIC_BASE_URL,
 * undefined: profiles get the vendor's own URL.
 */
export function reportLinksFromConfig(
  config: DevelopmentKeysConfig & Pick<WorkerConfig, 'REPORT_LINK_KEY' | 'PUBLIC_BASE_URL'>,
): ReportLinks | undefined {
  const key = reportLinkKeyFromConfig(config);
  if (config.PUBLIC_BASE_URL !== undefined) return new ReportLinks(config.PUBLIC_BASE_URL, key);
  if (config.NODE_ENV === 'production') {
    throw new Error(
      "Invalid configuration: PUBLIC_BASE_URL is required in production: the API's public address, which the " +
        'report links on candidate profiles point at',
    );
  }
  return undefined;
}
