import { randomBytes, randomUUID } from 'node:crypto';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { hexSignatureMatches, hmacSha256Hex } from '../src/integrations/signature';
import {
  baseUrlOf,
  bearerOf,
  bodyParser,
  canonicalJson,
  clone,
  codedErrorRoutes,
  definitionListPage,
  emulatorApp,
  now,
  param,
  startEmulator,
} from './kit';
import type { Running } from './kit';
import { CallbackEmulator, callbackControlRoutes, type CallbackEmulatorOptions } from './vendor-emulator';
import type { DeliveryAttempt, DeliveryRecord } from './webhook-sender';

/**
 * Emulator of the Justifacts order API defined in docs/vendors/justifacts.md (Justifacts has no public API):
 * Bearer-key accounts with their packages, orders (with Idempotency-Key) that "email" the applicant an
 * invitation, progress driven by hand (`advance`/`setStatus`) or by a timer, signed status callbacks with
 * retries, and a tokenised result page. A real HTTP server; control endpoints live under `/_sandbox/*`.
 */

export const JUSTIFACTS_ORDER_STATUSES = [
  'INVITED',
  'APPLICANT_STARTED',
  'APPLICANT_COMPLETED',
  'COMPLETED',
  'CANCELLED',
] as const;
export type JustifactsOrderStatus = (typeof JUSTIFACTS_ORDER_STATUSES)[number];

export type JustifactsErrorCode =
  | 'unauthorized'
  | 'invalid_request'
  | 'invalid_applicant'
  | 'unknown_package'
  | 'idempotency_conflict'
  | 'order_completed'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'internal';

export interface JustifactsPackageDefinition {
  code: string;
  id: string;
  name: string;
  description: string;
}

/** An order as the API returns it. */
export interface JustifactsOrderView {
  orderId: string;
  status: JustifactsOrderStatus;
  package: { code: string; id: string };
  reference: string;
  /** Set (absolute URL of the result page) exactly when the status is COMPLETED. */
  resultUrl: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface JustifactsEmulatorOptions extends CallbackEmulatorOptions {
  port?: number;
}

export interface AddJustifactsAccountInput {
  apiKey: string;
  callbackUrl?: string;
  /** Required with callbackUrl: callbacks are always signed. */
  callbackSecret?: string;
  /** Default: EmpCod/13558 (Employment Screening) and CrimCod/20417 (Criminal Screening). */
  packages?: { code: string; id: string; name: string; description?: string }[];
}

export interface JustifactsOrderRequestRecord {
  id: string;
  at: string;
  apiKey: string;
  idempotencyKey: string;
  body: unknown;
  orderId: string;
  replayed: boolean;
}

export interface JustifactsInvitationRecord {
  orderId: string;
  email: string;
  firstName: string;
  lastName: string;
  packageCode: string;
  packageName: string;
  at: string;
}

export interface JustifactsCallbackEvent {
  eventId: string;
  orderId: string;
  status: JustifactsOrderStatus;
  occurredAt: string;
}

export type JustifactsDeliveryAttempt = DeliveryAttempt;

export interface JustifactsDelivery extends DeliveryRecord {
  orderId: string;
  event: JustifactsCallbackEvent;
  /** The X-Justifacts-Signature header value: `sha256=<hex>`. */
  signature: string;
}

/** An error answered as `{ error: { code, message } }` with its HTTP status. */
export class JustifactsEmulatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: JustifactsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'JustifactsEmulatorError';
  }
}

interface Account {
  /** The account's first key, which also identifies it; `addApiKey` gives it more. */
  apiKey: string;
  callback: { url: string; secret: string } | null;
  packages: JustifactsPackageDefinition[];
}

interface OrderEntry {
  apiKey: string;
  applicant: { firstName: string; lastName: string; email: string };
  packageName: string;
  data: Omit<JustifactsOrderView, 'resultUrl'>;
}

export const DEFAULT_JUSTIFACTS_PACKAGES: readonly JustifactsPackageDefinition[] = [
  {
    code: 'EmpCod',
    id: '13558',
    name: 'Employment Screening',
    description: 'Identity, county criminal search and employment verification.',
  },
  {
    code: 'CrimCod',
    id: '20417',
    name: 'Criminal Screening',
    description: 'Identity, national and county criminal searches.',
  },
];

/** JSON with object keys sorted, so two bodies that differ only in key order compare equal. */
// ---------------------------------------------------------------------------------------------------
// Request bodies

const text = (max: number) => z.string().max(max);

/** The order body; the email is checked separately so that a bad one is a 422 `invalid_applicant`. */
const orderSchema = z.object({
  package: z.object({ code: text(100).min(1), id: text(100).min(1) }),
  applicant: z.object({
    firstName: text(200),
    lastName: text(200),
    email: text(320).nullish(),
  }),
  reference: text(200).min(1),
});
const emailSchema = z.email();

const packageDefinitionSchema = z.object({
  code: z.string().min(1),
  id: z.string().min(1),
  name: z.string().min(1),
  description: z.string().default(''),
});

const callbackSchema = z.object({ url: z.url(), secret: z.string().min(1) });

const addAccountSchema = z
  .object({
    apiKey: z.string().min(1),
    callbackUrl: z.url().optional(),
    callbackSecret: z.string().min(1).optional(),
    packages: z
      .array(packageDefinitionSchema)
      .refine((p) => new Set(p.map((x) => x.id)).size === p.length, { error: 'package ids must be unique' })
      .optional(),
  })
  .refine((a) => (a.callbackUrl === undefined) === (a.callbackSecret === undefined), {
    error: 'callbackUrl and callbackSecret go together',
  });

const setStatusSchema = z.object({ status: z.enum(JUSTIFACTS_ORDER_STATUSES) });

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

const parseBody = bodyParser(
  (error) => new JustifactsEmulatorError(400, 'invalid_request', describeIssues(error)),
);

// ---------------------------------------------------------------------------------------------------
// The emulator

/**
 * Faults (`FaultyEmulator`): a dropped callback is never sent nor retried; only polling sees that change.
 * `publicUrl` is what the result URLs start with.
 */
export class JustifactsEmulator extends CallbackEmulator<JustifactsDelivery> {
  #accounts = new Map<string, Account>();
  /** Every key issued, to the account (its first key) it belongs to. */
  #keys = new Map<string, string>();
  #revokedKeys = new Set<string>();
  #orders = new Map<string, OrderEntry>();
  #orderRequests: JustifactsOrderRequestRecord[] = [];
  #invitations: JustifactsInvitationRecord[] = [];
  #idempotency = new Map<string, { fingerprint: string; orderId: string }>();
  readonly #signingSecret = randomUUID();

  constructor(opts: JustifactsEmulatorOptions = {}) {
    super(opts, {
      signatureHeader: 'X-Justifacts-Signature',
      userAgent: 'Justifacts-Callbacks',
      redirect: 'manual',
    });
  }

  // ----- accounts

  addAccount(input: AddJustifactsAccountInput): { packages: JustifactsPackageDefinition[] } {
    const parsed = addAccountSchema.safeParse(input);
    if (!parsed.success) {
      throw new JustifactsEmulatorError(
        400,
        'invalid_request',
        `invalid account: ${describeIssues(parsed.error)}`,
      );
    }
    const a = parsed.data;
    const packages = clone(a.packages ?? [...DEFAULT_JUSTIFACTS_PACKAGES]);
    this.#accounts.set(a.apiKey, {
      apiKey: a.apiKey,
      callback:
        a.callbackUrl !== undefined && a.callbackSecret !== undefined
          ? { url: a.callbackUrl, secret: a.callbackSecret }
          : null,
      packages,
    });
    this.#keys.set(a.apiKey, a.apiKey);
    this.#revokedKeys.delete(a.apiKey);
    return { packages: clone(packages) };
  }

  /** Issues another key for the account of `existingKey` (key rotation: both work until one is revoked). */
  addApiKey(existingKey: string, newKey: string): void {
    const account = this.#account(existingKey);
    if (this.#keys.has(newKey)) {
      throw new JustifactsEmulatorError(400, 'invalid_request', 'That API key is already issued.');
    }
    this.#keys.set(newKey, account.apiKey);
  }

  setCallback(apiKey: string, callback: { url: string; secret: string }): void {
    const account = this.#account(apiKey);
    const parsed = callbackSchema.safeParse(callback);
    if (!parsed.success) {
      throw new JustifactsEmulatorError(
        400,
        'invalid_request',
        `invalid callback: ${describeIssues(parsed.error)}`,
      );
    }
    account.callback = parsed.data;
  }

  /** The key stops working (401); the account, its other keys and its orders stay. */
  revokeApiKey(apiKey: string): void {
    this.#account(apiKey);
    this.#revokedKeys.add(apiKey);
  }

  /** The account's first key if the Bearer value is a valid key, or null (missing, unknown, revoked). */
  authenticate(apiKey: string | null | undefined): string | null {
    if (!apiKey || this.#revokedKeys.has(apiKey)) return null;
    const accountKey = this.#keys.get(apiKey);
    return accountKey !== undefined && this.#accounts.has(accountKey) ? accountKey : null;
  }

  // ----- inspection

  order(orderId: string): JustifactsOrderView {
    return this.#view(this.#entry(orderId));
  }

  orders(): JustifactsOrderView[] {
    return [...this.#orders.values()].map((e) => this.#view(e));
  }

  /** Every POST /orders that was accepted (201 or 200), replays flagged. */
  orderRequests(): JustifactsOrderRequestRecord[] {
    return clone(this.#orderRequests);
  }

  /** The invitation emails "sent" to applicants, one per new order. */
  invitations(): JustifactsInvitationRecord[] {
    return clone(this.#invitations);
  }

  // ----- progress

  /**
   * Moves the order one step: INVITED (or APPLICANT_STARTED) → APPLICANT_COMPLETED → COMPLETED.
   * APPLICANT_STARTED is only reached through setStatus(). Resolves after the first delivery attempt of the
   * callback. 409 when there is no next step.
   */
  override async advance(orderId: string): Promise<JustifactsOrderView> {
    const entry = this.#entry(orderId);
    const next = nextStatus(entry.data.status);
    if (!next) {
      throw new JustifactsEmulatorError(
        409,
        'conflict',
        `order ${orderId} is ${entry.data.status}: nothing to advance (use setStatus)`,
      );
    }
    await this.#change(entry, next);
    return this.#view(entry);
  }

  /** Sets any status directly; a change sends a callback. Resolves like advance(). */
  async setStatus(orderId: string, status: JustifactsOrderStatus): Promise<JustifactsOrderView> {
    if (!(JUSTIFACTS_ORDER_STATUSES as readonly string[]).includes(status)) {
      throw new JustifactsEmulatorError(400, 'invalid_request', `unknown order status ${String(status)}`);
    }
    const entry = this.#entry(orderId);
    await this.#change(entry, status);
    this.scheduleAuto(orderId);
    return this.#view(entry);
  }

  protected override deliveryNotFound(deliveryId: string): Error {
    return new JustifactsEmulatorError(404, 'not_found', `no delivery ${deliveryId}`);
  }

  // ----- public API operations (account-scoped; used by the HTTP routes)

  packages(apiKey: string): JustifactsPackageDefinition[] {
    return clone(this.#activeAccount(apiKey).packages);
  }

  /** Creates an order (or replays one); throws JustifactsEmulatorError for every refusal. */
  createOrder(
    apiKey: string,
    rawBody: unknown,
    idempotencyKey: string | null,
    baseUrl?: string,
  ): { order: JustifactsOrderView; replayed: boolean } {
    const account = this.#activeAccount(apiKey);
    if (!idempotencyKey) {
      throw new JustifactsEmulatorError(400, 'invalid_request', 'The Idempotency-Key header is required.');
    }
    if (idempotencyKey.length > 200) {
      throw new JustifactsEmulatorError(400, 'invalid_request', 'The Idempotency-Key header is too long.');
    }
    const fingerprint = canonicalJson(rawBody ?? null);
    const idemKey = `${account.apiKey}\n${idempotencyKey}`;
    const previous = this.#idempotency.get(idemKey);
    if (previous) {
      if (previous.fingerprint !== fingerprint) {
        throw new JustifactsEmulatorError(
          409,
          'idempotency_conflict',
          'This Idempotency-Key was already used with a different request body.',
        );
      }
      this.#recordRequest(apiKey, idempotencyKey, rawBody, previous.orderId, true);
      return { order: this.#view(this.#entry(previous.orderId), baseUrl), replayed: true };
    }

    const body = parseBody(orderSchema, rawBody);
    const email = body.applicant.email?.trim() ?? '';
    if (!emailSchema.safeParse(email).success) {
      throw new JustifactsEmulatorError(
        422,
        'invalid_applicant',
        email === '' ? 'The applicant has no email address.' : 'The applicant email address is not valid.',
      );
    }
    const pkg = account.packages.find(
      (p) => p.id === body.package.id && p.code.toLowerCase() === body.package.code.toLowerCase(),
    );
    if (!pkg) {
      throw new JustifactsEmulatorError(
        422,
        'unknown_package',
        `Package ${body.package.code} [ID ${body.package.id}] is not available on this account.`,
      );
    }

    const createdAt = now();
    const entry: OrderEntry = {
      apiKey: account.apiKey,
      applicant: { firstName: body.applicant.firstName, lastName: body.applicant.lastName, email },
      packageName: pkg.name,
      data: {
        orderId: `JF-${randomBytes(8).toString('hex').toUpperCase()}`,
        status: 'INVITED',
        package: { code: pkg.code, id: pkg.id },
        reference: body.reference,
        createdAt,
        updatedAt: createdAt,
      },
    };
    this.#orders.set(entry.data.orderId, entry);
    this.#idempotency.set(idemKey, { fingerprint, orderId: entry.data.orderId });
    this.#recordRequest(apiKey, idempotencyKey, rawBody, entry.data.orderId, false);
    this.#invitations.push({
      orderId: entry.data.orderId,
      email,
      firstName: entry.applicant.firstName,
      lastName: entry.applicant.lastName,
      packageCode: pkg.code,
      packageName: pkg.name,
      at: createdAt,
    });
    this.scheduleAuto(entry.data.orderId);
    return { order: this.#view(entry, baseUrl), replayed: false };
  }

  /** The order if the account may see it; 404 otherwise. */
  accountOrder(apiKey: string, orderId: string, baseUrl?: string): JustifactsOrderView {
    return this.#view(this.#accountEntry(apiKey, orderId), baseUrl);
  }

  /** Cancels an order (no-op when already cancelled; 409 when completed). The callback is not awaited. */
  cancel(apiKey: string, orderId: string, baseUrl?: string): JustifactsOrderView {
    const entry = this.#accountEntry(apiKey, orderId);
    if (entry.data.status === 'COMPLETED') {
      throw new JustifactsEmulatorError(409, 'order_completed', 'A completed order cannot be cancelled.');
    }
    void this.#change(entry, 'CANCELLED');
    return this.#view(entry, baseUrl);
  }

  /** The HTML result page behind a result URL; 403 for a wrong token, 404 when there are no results. */
  resultPage(orderId: string, token: string | undefined): string {
    if (!hexSignatureMatches(this.#resultToken(orderId), token)) {
      throw new JustifactsEmulatorError(403, 'unauthorized', 'This result link is not valid.');
    }
    const entry = this.#orders.get(orderId);
    if (!entry || entry.data.status !== 'COMPLETED') {
      throw new JustifactsEmulatorError(404, 'not_found', 'No results for this order.');
    }
    const { data, applicant } = entry;
    const rows: [string, string][] = [
      ['Order', data.orderId],
      ['Applicant', `${applicant.firstName} ${applicant.lastName}`.trim()],
      ['Package', `${entry.packageName} (${data.package.code} / ${data.package.id})`],
      ['Status', data.status],
      ['Result', 'Clear'],
      ['Completed', data.updatedAt],
    ];
    return definitionListPage('Justifacts background check results', rows);
  }

  // ----- internals

  #resultToken(orderId: string): string {
    return hmacSha256Hex(this.#signingSecret, `result:${orderId}`);
  }

  #view(entry: OrderEntry, baseUrl?: string): JustifactsOrderView {
    const { data } = entry;
    const base = (this.publicUrl ?? baseUrl ?? '').replace(/\/+$/, '');
    const resultUrl =
      data.status === 'COMPLETED'
        ? `${base}/results/${encodeURIComponent(data.orderId)}?token=${this.#resultToken(data.orderId)}`
        : null;
    return { ...clone(data), resultUrl };
  }

  #account(apiKey: string): Account {
    const account = this.#accounts.get(this.#keys.get(apiKey) ?? apiKey);
    if (!account) throw new JustifactsEmulatorError(404, 'not_found', `no account with API key ${apiKey}`);
    return account;
  }

  #activeAccount(apiKey: string): Account {
    const accountKey = this.authenticate(apiKey);
    const account = accountKey === null ? undefined : this.#accounts.get(accountKey);
    if (!account) {
      throw new JustifactsEmulatorError(401, 'unauthorized', 'The API key is missing, unknown or revoked.');
    }
    return account;
  }

  #entry(orderId: string): OrderEntry {
    const entry = this.#orders.get(orderId);
    if (!entry) throw new JustifactsEmulatorError(404, 'not_found', `no order ${orderId}`);
    return entry;
  }

  #accountEntry(apiKey: string, orderId: string): OrderEntry {
    const account = this.#activeAccount(apiKey);
    const entry = this.#orders.get(orderId);
    if (!entry || entry.apiKey !== account.apiKey) {
      throw new JustifactsEmulatorError(404, 'not_found', 'No such order.');
    }
    return entry;
  }

  #recordRequest(
    apiKey: string,
    idempotencyKey: string,
    body: unknown,
    orderId: string,
    replayed: boolean,
  ): void {
    this.#orderRequests.push({
      id: randomUUID(),
      at: now(),
      apiKey,
      idempotencyKey,
      body: clone(body),
      orderId,
      replayed,
    });
  }

  /** Applies a status change and sends its callback; resolves after the first delivery attempt. */
  async #change(entry: OrderEntry, status: JustifactsOrderStatus): Promise<void> {
    if (entry.data.status === status) return;
    const occurredAt = now();
    entry.data.status = status;
    entry.data.updatedAt = occurredAt;
    const callback = this.#accounts.get(entry.apiKey)?.callback;
    if (!callback) return;
    const event: JustifactsCallbackEvent = {
      eventId: randomUUID(),
      orderId: entry.data.orderId,
      status,
      occurredAt,
    };
    const body = JSON.stringify(event);
    await this.webhooks.send({
      id: randomUUID(),
      orderId: entry.data.orderId,
      url: callback.url,
      event,
      body,
      signature: `sha256=${hmacSha256Hex(callback.secret, body)}`,
      attempts: [],
      status: 'pending',
    });
  }

  protected override hasNextStep(orderId: string): boolean {
    const entry = this.#orders.get(orderId);
    return entry !== undefined && nextStatus(entry.data.status) !== null;
  }
}

function nextStatus(status: JustifactsOrderStatus): JustifactsOrderStatus | null {
  switch (status) {
    case 'INVITED':
    case 'APPLICANT_STARTED':
      return 'APPLICANT_COMPLETED';
    case 'APPLICANT_COMPLETED':
      return 'COMPLETED';
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------------
// HTTP

function sendError(res: Response, status: number, code: JustifactsErrorCode, message: string): void {
  res.status(status).json({ error: { code, message } });
}

const FAULT_CODES: Record<number, string> = {
  429: 'rate_limited',
  500: 'internal',
  502: 'bad_gateway',
  503: 'unavailable',
};

export function createJustifactsEmulatorApp(emulator: JustifactsEmulator): express.Express {
  const app = emulatorApp();
  app.use(express.json({ limit: '1mb' }));

  // ----- public API (Bearer API key)

  const api = express.Router();
  api.use((req: Request, res: Response, next: NextFunction) => {
    if (!emulator.authenticate(bearerOf(req))) {
      sendError(res, 401, 'unauthorized', 'The API key is missing, unknown or revoked.');
      return;
    }
    next();
  });
  api.use(
    emulator.faultInjector.middleware((status) => ({
      error: { code: FAULT_CODES[status] ?? 'internal', message: `Injected fault (${status}).` },
    })),
  );
  const key = (req: Request): string => bearerOf(req) ?? '';

  api.get('/packages', (req, res) => {
    res.json({ packages: emulator.packages(key(req)) });
  });
  api.post('/orders', (req, res) => {
    const idempotencyKey = req.get('idempotency-key')?.trim() || null;
    const { order, replayed } = emulator.createOrder(
      key(req),
      req.body as unknown,
      idempotencyKey,
      baseUrlOf(req),
    );
    res.status(replayed ? 200 : 201).json(order);
  });
  api.get('/orders/:id', (req, res) => {
    res.json(emulator.accountOrder(key(req), param(req, 'id'), baseUrlOf(req)));
  });
  api.post('/orders/:id/cancel', (req, res) => {
    res.json(emulator.cancel(key(req), param(req, 'id'), baseUrlOf(req)));
  });
  app.use('/api/v1', api);

  // ----- result pages (token in the URL, no API key)

  app.get('/results/:id', (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    res
      .status(200)
      .type('text/html')
      .send(emulator.resultPage(param(req, 'id'), token));
  });

  // ----- sandbox control (no auth)

  const sandbox = express.Router();
  sandbox.post('/accounts', (req, res) => {
    const body = parseBody(addAccountSchema, req.body as unknown);
    res.status(201).json(emulator.addAccount(body));
  });
  sandbox.post('/accounts/:apiKey/callback', (req, res) => {
    const body = parseBody(callbackSchema, req.body as unknown);
    emulator.setCallback(param(req, 'apiKey'), body);
    res.json({ ok: true });
  });
  sandbox.post('/accounts/:apiKey/keys', (req, res) => {
    const body = parseBody(z.object({ apiKey: z.string().min(1) }), req.body as unknown);
    emulator.addApiKey(param(req, 'apiKey'), body.apiKey);
    res.status(201).json({ ok: true });
  });
  sandbox.delete('/accounts/:apiKey', (req, res) => {
    emulator.revokeApiKey(param(req, 'apiKey'));
    res.status(204).end();
  });
  sandbox.get('/orders', (_req, res) => {
    res.json(emulator.orders());
  });
  sandbox.get('/orders/:id', (req, res) => {
    res.json(emulator.order(param(req, 'id')));
  });
  sandbox.post('/orders/:id/advance', async (req, res) => {
    res.json(await emulator.advance(param(req, 'id')));
  });
  sandbox.post('/orders/:id/status', async (req, res) => {
    const body = parseBody(setStatusSchema, req.body as unknown);
    res.json(await emulator.setStatus(param(req, 'id'), body.status));
  });
  sandbox.get('/order-requests', (_req, res) => {
    res.json(emulator.orderRequests());
  });
  sandbox.get('/invitations', (_req, res) => {
    res.json(emulator.invitations());
  });
  sandbox.use(callbackControlRoutes(emulator));
  app.use('/_sandbox', sandbox);

  codedErrorRoutes(app, sendError, (err) => (err instanceof JustifactsEmulatorError ? err : null), {
    notFound: 'not_found',
    invalid: 'invalid_request',
    tooLarge: { code: 'payload_too_large', message: 'The request body is too large.' },
    internal: 'internal',
  });
  return app;
}

/** Listening: `apiBaseUrl` (= url) is the base URL of JustifactsClient; API paths start with /api/v1. */
export type RunningJustifactsEmulator = Running<JustifactsEmulator>;

export async function startJustifactsEmulator(
  opts: JustifactsEmulatorOptions = {},
): Promise<RunningJustifactsEmulator> {
  return startEmulator(new JustifactsEmulator(opts), createJustifactsEmulatorApp, opts.port ?? 0);
}
