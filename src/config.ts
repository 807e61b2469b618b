import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { z } from 'zod';

/** A whole number above zero, from an environment variable's text. */
const positiveInt = () => z.coerce.number().int().positive();

/** Ids of the keys that encrypt connection secrets; stored next to each ciphertext, so not secret themselves. */
const SECRET_KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const SECRET_KEY_ID_MESSAGE = 'a key id is 1-64 letters, digits, "_", "." or "-"';

/** Base64 that decodes to exactly these bytes (no stray character the decoder would skip), else undefined. */
function strictBase64(text: string): Buffer | undefined {
  const key = Buffer.from(text, 'base64');
  const canonical = key.toString('base64').replace(/=+$/, '') === text.replace(/=+$/, '');
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) && canonical ? key : undefined;
}

/**
 * `id:base64` entries, comma-separated, read into keys; each problem is an issue naming the entry or the key id,
 * never key material. `badKey` says what is wrong with a key (undefined: not base64), or undefined when it is good.
 */
function keyList(
  text: string,
  ctx: z.RefinementCtx,
  rules: {
    id: RegExp;
    badEntry: (entry: number) => string;
    badKey: (id: string, key: Buffer | undefined) => string | undefined;
  },
): { id: string; key: Buffer }[] {
  const keys: { id: string; key: Buffer }[] = [];
  for (const [index, entry] of text.split(',').entries()) {
    const item = entry.trim();
    const colon = item.indexOf(':');
    const id = colon < 0 ? '' : item.slice(0, colon);
    if (colon < 0 || !rules.id.test(id)) {
      ctx.addIssue({ code: 'custom', message: rules.badEntry(index + 1) });
      continue;
    }
    const key = strictBase64(item.slice(colon + 1));
    const problem =
      rules.badKey(id, key) ?? (keys.some((k) => k.id === id) ? `key id "${id}" is given twice` : undefined);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    else if (key !== undefined) keys.push({ id, key });
  }
  return keys;
}

/**
 * `id:base64(32 bytes)`, comma-separated: the AES-256 keys connection secrets are encrypted with at rest
 * (src/db/secret-box.ts). Messages name the entry, never its key material.
 */
const secretKeysSchema = z.string().transform((text, ctx) =>
  keyList(text, ctx, {
    id: SECRET_KEY_ID,
    badEntry: (entry) => `entry ${entry} is not id:base64 (${SECRET_KEY_ID_MESSAGE})`,
    badKey: (id, key) =>
      key?.length === 32
        ? undefined
        : `key "${id}" must be 32 random bytes in base64 (e.g. openssl rand -base64 32)`,
  }),
);

/** An unset variable and one set to the empty string (`${VAR:-}` in docker-compose.yml) mean the same. */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);

/** Ids of the keys that encrypt Temporal payloads; written into each encrypted payload's metadata. */
const PAYLOAD_KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const PAYLOAD_KEY_ID_MESSAGE = 'a payload key id is 1-64 letters, digits, ".", "_" or "-"';

/**
 * PAYLOAD_KEYS: `id:base64key` entries, comma-separated; each key is 32 random bytes (AES-256-GCM, see
 * src/temporal/codec.ts). Messages name the entry, never its key material.
 */
const payloadKeysSchema = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .transform((text, ctx) =>
      keyList(text, ctx, {
        id: PAYLOAD_KEY_ID,
        badEntry: (entry) => `entry ${entry} is not id:base64key (${PAYLOAD_KEY_ID_MESSAGE})`,
        badKey: (id, key) =>
          key === undefined
            ? `key "${id}" is not base64 (e.g. openssl rand -base64 32)`
            : key.length !== 32
              ? `key "${id}" is ${key.length} bytes; AES-256 needs exactly 32 (openssl rand -base64 32)`
              : undefined,
      }),
    )
    .optional(),
);

/** REPORT_LINK_KEY: base64 of at least 32 random bytes. Messages never quote the value. */
const reportLinkKeySchema = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .transform((text, ctx) => {
      const key = strictBase64(text);
      if (key === undefined || key.length < 32) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be at least 32 random bytes in base64 (e.g. openssl rand -base64 32)',
        });
        return z.NEVER;
      }
      return key;
    })
    .optional(),
);

/**
 * Defaults of the public routes' protections (README, Security: floods and rate limits). Lever bulk moves send
 * hundreds of deliveries a minute per connection; these leave ample room above that.
 */
export const PUBLIC_LIMIT_DEFAULTS: Readonly<
  Record<
    | 'RATE_LIMIT_WINDOW_MS'
    | 'RATE_LIMIT_SOURCE_REFUSED'
    | 'RATE_LIMIT_CONNECTION_ACCEPTED'
    | 'CONNECTION_CACHE_TTL_MS'
    | 'CONNECTION_CACHE_MAX'
    | 'DATABASE_POOL_TIMEOUT_MS',
    number
  >
> = Object.freeze({
  RATE_LIMIT_WINDOW_MS: 60_000,
  RATE_LIMIT_SOURCE_REFUSED: 1000,
  RATE_LIMIT_CONNECTION_ACCEPTED: 3000,
  CONNECTION_CACHE_TTL_MS: 5000,
  CONNECTION_CACHE_MAX: 10_000,
  DATABASE_POOL_TIMEOUT_MS: 3000,
});

/** One `TRUST_PROXY` entry: an IPv4/IPv6 address or subnet, or one of Express's names for address ranges. */
function isTrustProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/**
 * A PEM certificate or private key for the Temporal connection's TLS: the PEM text itself or the path of a file
 * holding it. Parsed here, so a wrong file stops the process at start; messages never quote the value (a key).
 */
function pemSchema(kind: 'certificate' | 'private key') {
  return z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .transform((value, ctx) => {
        let pem: Buffer;
        try {
          pem = value.includes('-----BEGIN ') ? Buffer.from(value, 'utf8') : readFileSync(value);
        } catch {
          ctx.addIssue({
            code: 'custom',
            message: `neither PEM text nor the path of a readable ${kind} file`,
          });
          return z.NEVER;
        }
        try {
          if (kind === 'certificate') new X509Certificate(pem);
          else createPrivateKey(pem);
        } catch {
          ctx.addIssue({ code: 'custom', message: `does not hold a PEM ${kind}` });
          return z.NEVER;
        }
        return pem;
      })
      .optional(),
  );
}

/** Workflows one worker keeps cached unless WORKER_MAX_CACHED_WORKFLOWS says otherwise. */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 100;

/** Activities one worker runs at once unless WORKER_MAX_CONCURRENT_ACTIVITIES says otherwise. */
export const DEFAULT_MAX_CONCURRENT_ACTIVITIES = 500;

/**
 * The limit of Lever calls per API key, in the API (reading the stages of a new connection) and the worker: the
 * same on every process (README, Lever rate limit).
 */
const leverRateLimitSettings = {
  /**
   * Lever requests per second per API key (Lever allows 10/s with bursts to 20 and answers 429 beyond), the
   * burst, and how long one call may wait for its turn before it fails (retryable) instead. See
   * src/ats/lever/rate-limiter.ts.
   */
  LEVER_RATE_PER_SECOND: z.coerce.number().positive().default(9),
  LEVER_RATE_BURST: z.coerce.number().int().min(1).default(15),
  LEVER_RATE_MAX_WAIT_MS: z.coerce.number().int().min(0).default(20_000),
  /**
   * The limit holds across every API and worker process, through the service's PostgreSQL
   * (src/ats/lever/shared-rate-limit.ts); false: per process, for a deployment of one process.
   */
  LEVER_RATE_SHARED: z.preprocess(unsetIfEmpty, z.stringbool().default(true)),
  /**
   * Longest a request slot's reservation in PostgreSQL may take (ms), the wait for a connection included; a
   * reservation that fails or takes longer fails the Lever call as rate-limited (retried), sending nothing.
   */
  LEVER_RATE_SHARED_TIMEOUT_MS: positiveInt().max(60_000).default(2_000),
};

/** Settings shared by every process (API and worker), read from the environment and validated at start. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/bgc'),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('background-checks'),
  /**
   * TLS to Temporal (src/temporal/connection.ts): on when TEMPORAL_TLS is true or any TEMPORAL_TLS_* is set.
   * TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (together) are the client certificate for mTLS, TEMPORAL_TLS_CA the CA
   * that signed the server's certificate (default: the system's), TEMPORAL_TLS_SERVER_NAME the name the server's
   * certificate must carry (default: the host of TEMPORAL_ADDRESS). Each is PEM text or a file path.
   */
  TEMPORAL_TLS: z.preprocess(unsetIfEmpty, z.stringbool().default(false)),
  TEMPORAL_TLS_CERT: pemSchema('certificate'),
  TEMPORAL_TLS_KEY: pemSchema('private key'),
  TEMPORAL_TLS_CA: pemSchema('certificate'),
  TEMPORAL_TLS_SERVER_NAME: z.preprocess(unsetIfEmpty, z.string().min(1).optional()),
  /** How often a running check asks the vendor for its status when no callback arrived (ms). */
  VENDOR_POLL_INTERVAL_MS: positiveInt().default(60 * 60 * 1000),
  /** Attempts per call to an ATS or vendor before a check gives up on it (backoff up to 2 minutes apart). */
  ACTIVITY_MAX_ATTEMPTS: positiveInt().default(20),
  /**
   * Timeout of one request to an ATS or vendor API (ms) when its client sets none. Inside an activity every
   * request also ends before the attempt's start-to-close timeout (30 s), so a retry never overlaps it.
   */
  VENDOR_REQUEST_TIMEOUT_MS: positiveInt().max(120_000).default(15_000),
  /**
   * Largest response body read from an ATS or vendor API (bytes): a longer one is abandoned as it arrives, never
   * buffered whole (src/integrations/http-client.ts).
   */
  VENDOR_RESPONSE_LIMIT_BYTES: positiveInt().default(5 * 1024 * 1024),
  /**
   * Lets the ATS and vendor URLs we call and write be `http:` as well as `https:` (the sandbox emulators: the
   * demo and the tests set it). Refused when NODE_ENV is production (src/integrations/url-policy.ts).
   */
  ALLOW_HTTP_URLS: z.preprocess(unsetIfEmpty, z.stringbool().default(false)),
  /**
   * Lets the API and the worker start without SECRETS_KEYS, PAYLOAD_KEYS and REPORT_LINK_KEY: public development
   * keys stand in and payloads stay plain (`npm run demo`). Refused when NODE_ENV is production.
   */
  BGC_DEVELOPMENT_KEYS: z.preprocess(unsetIfEmpty, z.stringbool().default(false)),
  /**
   * Keys that encrypt connection secrets at rest: every key decrypts, SECRETS_KEY_ID encrypts. Required (checked
   * by secretBoxFromConfig, src/db/secret-box.ts) unless BGC_DEVELOPMENT_KEYS lets a public development key stand in.
   */
  SECRETS_KEYS: secretKeysSchema.optional(),
  /** The id in SECRETS_KEYS that new and re-encrypted secrets use; may be omitted with a single key. */
  SECRETS_KEY_ID: z.string().regex(SECRET_KEY_ID, SECRET_KEY_ID_MESSAGE).optional(),
  /**
   * Keys that encrypt every Temporal payload (workflow inputs, results, signals, failures): every key decrypts,
   * PAYLOAD_KEY_ID encrypts. Required (checked by createDataConverter, src/temporal/data-converter.ts) unless
   * BGC_DEVELOPMENT_KEYS lets payloads stay plain. With keys, a payload that is not encrypted with one of them is
   * refused.
   */
  PAYLOAD_KEYS: payloadKeysSchema,
  /** The id in PAYLOAD_KEYS that new payloads are encrypted with; may be omitted with a single key. */
  PAYLOAD_KEY_ID: z.preprocess(
    unsetIfEmpty,
    z.string().regex(PAYLOAD_KEY_ID, PAYLOAD_KEY_ID_MESSAGE).optional(),
  ),
  /**
   * Accepts plain (unencrypted) payloads although PAYLOAD_KEYS is set: only while checks started before
   * encryption was turned on still run (their histories hold plain payloads). Anyone who reaches Temporal can
   * then forge inputs.
   */
  PAYLOAD_ALLOW_PLAINTEXT: z.preprocess(unsetIfEmpty, z.stringbool().default(false)),
  /**
   * HMAC key of the report links on candidate profiles: the worker signs them, the API checks them
   * (src/report-links.ts). Required unless BGC_DEVELOPMENT_KEYS lets a public development key stand in.
   */
  REPORT_LINK_KEY: reportLinkKeySchema,
});

/** The HTTP front's settings, each on its own (`apiConfigSchema` adds the checks between them). */
const apiSettingsSchema = baseConfigSchema.extend({
  ...leverRateLimitSettings,
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Public base URL of the API, used to build the webhook URLs handed to customers. */
  PUBLIC_BASE_URL: z.url().optional(),
  /** Bearer token for the admin endpoints. */
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters'),
  /** Largest webhook body accepted, in bytes. */
  WEBHOOK_BODY_LIMIT: positiveInt().default(100 * 1024),
  /**
   * Pause between two passes of the inbox relay (ms), which starts the workflows of recorded deliveries that
   * could not be started on arrival (Temporal unreachable).
   */
  INBOX_RELAY_INTERVAL_MS: positiveInt().default(1000),
  /**
   * Pause between two looks for deleted connections whose last running check has ended (ms): their secrets are
   * erased then (src/api/connection-retirement.ts).
   */
  CONNECTION_SWEEP_INTERVAL_MS: positiveInt().default(10_000),
  /**
   * A signed Lever delivery whose triggeredAt is older than this (ms) is refused: Lever signs only token +
   * triggeredAt, so this is how long a captured envelope could be replayed. Hours, wider than Lever's retries.
   */
  LEVER_WEBHOOK_MAX_AGE_MS: positiveInt().default(24 * 60 * 60 * 1000),
  /**
   * How long processed rows of webhook_inbox and vendor_callbacks (the dedupe records) are kept (ms); at least
   * LEVER_WEBHOOK_MAX_AGE_MS, so a token is remembered until the window refuses it anyway.
   */
  WEBHOOK_RETENTION_MS: positiveInt().default(7 * 24 * 60 * 60 * 1000),
  /**
   * Bearer token of the payload codec endpoint (/codec) for the Temporal Web UI and CLI. Required in production,
   * and different from ADMIN_TOKEN (checked by codecRouter, src/api/codec-router.ts); elsewhere ADMIN_TOKEN by
   * default.
   */
  CODEC_TOKEN: z.preprocess(
    unsetIfEmpty,
    z.string().min(16, 'CODEC_TOKEN must be at least 16 characters').optional(),
  ),
  /** Browser origins (the Temporal Web UI) allowed to call /codec, comma-separated. */
  CODEC_CORS_ORIGINS: z
    .string()
    .transform((text, ctx) => {
      const origins = text
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      for (const origin of origins) {
        if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
          ctx.addIssue({
            code: 'custom',
            message: `"${origin}" is not an origin like http://localhost:8233`,
          });
        }
      }
      return origins;
    })
    .prefault('http://127.0.0.1:8233,http://localhost:8233'),
  /**
   * Lets /codec answer without a token: the local dev server's Web UI cannot send one (it passes only its own
   * OIDC access token). Refused when NODE_ENV is production.
   */
  CODEC_ALLOW_ANONYMOUS: z.preprocess(unsetIfEmpty, z.stringbool().default(false)),
  /**
   * Proxies in front of the API whose X-Forwarded-For is believed (Express's `trust proxy`): a hop count, or
   * addresses, subnets and `loopback`/`linklocal`/`uniquelocal`, comma-separated. Unset: none, so the source of a
   * request is the peer address (see README, Security: floods and rate limits).
   */
  TRUST_PROXY: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .transform((text, ctx) => {
        if (/^\d{1,2}$/.test(text.trim())) return Number(text.trim());
        const entries = text
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean);
        if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'names no proxy' });
        for (const entry of entries) {
          if (!isTrustProxyEntry(entry)) {
            ctx.addIssue({
              code: 'custom',
              message: `"${entry}" is not a hop count, an address, a subnet or loopback/linklocal/uniquelocal`,
            });
          }
        }
        return entries;
      })
      .optional(),
  ),
  /** Window of the public routes' rate limits (ms). */
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(PUBLIC_LIMIT_DEFAULTS.RATE_LIMIT_WINDOW_MS),
  /** Refused requests (any 4xx/5xx) one source may make to the public routes per window; then 429 until it ends. */
  RATE_LIMIT_SOURCE_REFUSED: positiveInt().default(PUBLIC_LIMIT_DEFAULTS.RATE_LIMIT_SOURCE_REFUSED),
  /** Accepted requests one connection's public URLs may take per window; then 429 until it ends. */
  RATE_LIMIT_CONNECTION_ACCEPTED: positiveInt().default(PUBLIC_LIMIT_DEFAULTS.RATE_LIMIT_CONNECTION_ACCEPTED),
  /**
   * How long the public routes keep a connection (and the fact that an id is unknown) in memory (ms): the longest
   * another API process may act on a connection changed, paused or deleted through this one.
   */
  CONNECTION_CACHE_TTL_MS: positiveInt().max(60_000).default(PUBLIC_LIMIT_DEFAULTS.CONNECTION_CACHE_TTL_MS),
  /** Connections kept at most, and unknown ids kept at most (each its own LRU). */
  CONNECTION_CACHE_MAX: positiveInt().default(PUBLIC_LIMIT_DEFAULTS.CONNECTION_CACHE_MAX),
  /**
   * Longest wait for a database connection from the API's pool (ms), queue included; a request that waits longer
   * is answered 503 problem+json with Retry-After (Lever and the vendors retry).
   */
  DATABASE_POOL_TIMEOUT_MS: positiveInt().default(PUBLIC_LIMIT_DEFAULTS.DATABASE_POOL_TIMEOUT_MS),
});

/** The HTTP front (webhooks, vendor callbacks, admin API). */
export const apiConfigSchema = apiSettingsSchema.superRefine((config, ctx) => {
  if (config.WEBHOOK_RETENTION_MS < config.LEVER_WEBHOOK_MAX_AGE_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['WEBHOOK_RETENTION_MS'],
      message:
        'must be at least LEVER_WEBHOOK_MAX_AGE_MS: a token is remembered until its replays are refused anyway',
    });
  }
});

const SMTP_URL_EXAMPLE = 'smtp://user:pass@mail.example.com:587';

/** The Temporal worker running workflows and activities. */
export const workerConfigSchema = baseConfigSchema.extend({
  /**
   * Public base URL of the API: report links on candidate profiles point there. Required when NODE_ENV is
   * production; elsewhere, without it, profiles get the vendor's own report URL (which may expire).
   */
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * SMTP server of the Justworks hire e-mails, e.g. smtp://user:pass@mail.example.com:587 (smtps:// for TLS from
   * the first byte). Required, so a worker without it stops at start rather than at the first hire. Messages
   * never echo the value, which may hold a password.
   */
  SMTP_URL: z.preprocess(
    unsetIfEmpty,
    z.url({
      protocol: /^smtps?$/,
      error: (issue) =>
        issue.input === undefined
          ? `required: the SMTP server the worker sends the Justworks hire e-mails through, e.g. ${SMTP_URL_EXAMPLE}`
          : `must be an smtp:// or smtps:// URL, e.g. ${SMTP_URL_EXAMPLE}`,
    }),
  ),
  /** Sender of the Justworks hire e-mails. */
  MAIL_FROM: z.string().min(3).default('bgc-bridge <no-reply@bgc-bridge.local>'),
  /**
   * Activities run at once by this worker. Activities waiting for a Lever request slot hold theirs, up to about
   * LEVER_RATE_PER_SECOND × LEVER_RATE_MAX_WAIT_MS of them per Lever API key (≈ 180 by default): the default
   * leaves room for other connections' checks while one connection's bulk waits (see README, Lever rate limit).
   */
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt().default(DEFAULT_MAX_CONCURRENT_ACTIVITIES),
  ...leverRateLimitSettings,
  /**
   * Workflows this worker keeps in memory between their tasks. A check waits days on its vendor between two
   * short bursts of work: one that is not cached is replayed from its history (a few dozen events) when its next
   * callback comes, which costs milliseconds, while every cached one costs about a megabyte. See README,
   * Performance.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(DEFAULT_MAX_CACHED_WORKFLOWS),
  /**
   * A workflow bundle built ahead (`npm run build:workflows`, as the image does): the worker starts without
   * bundling the workflow code itself, which takes seconds and memory. Unset: it bundles src/workflows at start.
   */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
});

/**
 * `npm run migrate` (src/db/migrate-cli.ts): the only process that changes the schema. It connects as the
 * migration role, which owns the schema, so the API and the worker can run as a role that cannot (README, Security).
 */
export const migrationConfigSchema = z.object({
  NODE_ENV: baseConfigSchema.shape.NODE_ENV,
  /** The migration role; without it DATABASE_URL (a setup with one role for everything, e.g. development). */
  MIGRATION_DATABASE_URL: z.preprocess(unsetIfEmpty, z.url().optional()),
  DATABASE_URL: z.preprocess(unsetIfEmpty, z.url().optional()),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** What BGC_DEVELOPMENT_KEYS decides on; unset means false. */
export type DevelopmentKeysConfig = Pick<BaseConfig, 'NODE_ENV'> &
  Partial<Pick<BaseConfig, 'BGC_DEVELOPMENT_KEYS'>>;

/** Whether a missing key may be replaced by a public development key (or, for payloads, no encryption). */
export function developmentKeysAllowed(config: DevelopmentKeysConfig): boolean {
  return config.NODE_ENV !== 'production' && config.BGC_DEVELOPMENT_KEYS === true;
}

/** The refusal of a process without `variable`, saying what it is for (`purpose`) and how to get past it. */
export function missingKeyError(config: DevelopmentKeysConfig, variable: string, purpose: string): Error {
  const where =
    config.NODE_ENV === 'production'
      ? 'required in production'
      : 'required unless BGC_DEVELOPMENT_KEYS=true (public development keys, never in production)';
  return new Error(`Invalid configuration: ${variable} is ${where}: ${purpose}`);
}

/** The keys the API and the worker both need. */
export const KEY_VARIABLES = ['SECRETS_KEYS', 'PAYLOAD_KEYS', 'REPORT_LINK_KEY'] as const;

/**
 * Refuses to start (throws) without SECRETS_KEYS, PAYLOAD_KEYS and REPORT_LINK_KEY, naming every missing one,
 * unless BGC_DEVELOPMENT_KEYS is set; refuses BGC_DEVELOPMENT_KEYS in production.
 */
export function requireKeys(
  config: DevelopmentKeysConfig & Pick<BaseConfig, (typeof KEY_VARIABLES)[number]>,
): void {
  if (config.BGC_DEVELOPMENT_KEYS === true && config.NODE_ENV === 'production') {
    throw new Error('Invalid configuration: BGC_DEVELOPMENT_KEYS: not allowed when NODE_ENV is production');
  }
  const missing = KEY_VARIABLES.filter((name) => {
    const value = config[name];
    return value === undefined || (Array.isArray(value) && value.length === 0);
  });
  if (missing.length === 0 || developmentKeysAllowed(config)) return;
  throw new Error(
    `Invalid configuration: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set. ` +
      'Generate each key once (openssl rand -base64 32; SECRETS_KEYS and PAYLOAD_KEYS take id:key) and give the ' +
      'same to the API and the worker (README, Security), or set BGC_DEVELOPMENT_KEYS=true to run with public ' +
      'development keys and plain payloads (development only, refused in production)',
  );
}
export type ApiConfig = z.infer<typeof apiConfigSchema>;
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}
