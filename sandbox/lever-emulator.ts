import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { leverSignature } from '../src/integrations/signature';
import { FaultyEmulator, faultRoutes } from './faults';
import { listen } from './kit';
import type { RunningServer } from './kit';

/**
 * An in-memory emulator of the parts of Lever's public API (v1) and webhooks that the bridge uses:
 * a real Express HTTP server for tests and the sandbox demo. Control methods (creating candidates,
 * moving them between stages, which fires signed webhooks with Lever's retry behaviour) are available
 * in-process and over HTTP under `/_sandbox/*`.
 */

export interface LeverEmulatorOptions {
  /** Token bucket per API key. Default `{ perSecond: 10, burst: 20 }`. */
  rateLimit?: { perSecond: number; burst: number };
  /** Waits before each retry of a failed webhook delivery. Default `[250, 500, 1000, 2000, 4000]`. */
  webhookRetryDelaysMs?: number[];
  /** Timeout of one webhook delivery attempt (a timeout counts as a failed attempt). Default 10000. */
  webhookTimeoutMs?: number;
  /** Port for `startLeverEmulator`; default 0 (a free port). */
  port?: number;
}

export const LEVER_WEBHOOK_EVENTS = [
  'candidateStageChange',
  'candidateHired',
  'candidateArchiveChange',
  'candidateDeleted',
  'applicationCreated',
] as const;
export type LeverWebhookEvent = (typeof LEVER_WEBHOOK_EVENTS)[number];

export const LEVER_OFFER_STATUSES = [
  'draft',
  'approval-sent',
  'approved',
  'sent',
  'sent-manually',
  'opened',
  'denied',
  'signed',
] as const;
export type LeverOfferStatus = (typeof LEVER_OFFER_STATUSES)[number];

export const DEFAULT_STAGE_NAMES = [
  'New applicant',
  'Phone screen',
  'On-site interview',
  'Background Check',
  'Offer',
  'Hired',
] as const;

export interface Stage {
  id: string;
  text: string;
}

export interface User {
  id: string;
  name: string;
  username: string;
  email: string;
  accessRole: 'super admin' | 'admin' | 'team member' | 'limited team member' | 'interviewer';
  createdAt: number;
  deactivatedAt: number | null;
}

export interface PostingCategories {
  team?: string;
  department?: string;
  location?: string;
  commitment?: string;
}

export interface Posting {
  id: string;
  text: string;
  state: 'published';
  distributionChannels: string[];
  categories: PostingCategories;
  tags: string[];
  content: { description: string; lists: { text: string; content: string }[]; closing: string };
  country: string | null;
  followers: string[];
  reqCode: string | null;
  requisitionCodes: string[];
  user: string;
  owner: string;
  hiringManager: string;
  createdAt: number;
  updatedAt: number;
}

export interface Phone {
  type?: string;
  value: string;
}

/** Lever's Opportunity object (without expansions: `stage` is an id, `applications` are ids). */
export interface Opportunity {
  id: string;
  name: string;
  contact: string;
  headline: string;
  stage: string;
  location: string;
  emails: string[];
  phones: Phone[];
  tags: string[];
  sources: string[];
  origin: 'applied';
  links: string[];
  archived: null;
  createdAt: number;
  updatedAt: number;
  applications: string[];
}

export interface Application {
  id: string;
  opportunityId: string;
  candidateId: string;
  type: 'posting';
  posting: string;
  createdAt: number;
}

export interface Note {
  id: string;
  text: string;
  value: string;
  secret: boolean;
  score: number | null;
  user: string | null;
  createdAt: number;
}

export interface OfferField {
  text: string;
  identifier: string;
  value: string | number | null;
}

export interface Offer {
  id: string;
  status: LeverOfferStatus;
  createdAt: number;
  fields: OfferField[];
}

export interface Webhook {
  id: string;
  event: LeverWebhookEvent;
  url: string;
  signatureToken: string;
}

export interface WebhookBody {
  id: string;
  event: string;
  triggeredAt: number;
  token: string;
  signature: string;
  data: Record<string, unknown>;
}

export interface WebhookDeliveryAttempt {
  /** HTTP status, or null for a network error / timeout. */
  status: number | null;
  at: number;
  /** Set when fault injection dropped this attempt: it was never sent, and Lever retries as after a timeout. */
  dropped?: true;
}

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  event: string;
  url: string;
  body: WebhookBody;
  attempts: WebhookDeliveryAttempt[];
  delivered: boolean;
  /** Set on a delivery made by `redeliver`: the id of the delivery whose body was sent again. */
  redeliveryOf: string | null;
}

export interface EmulatorStats {
  requests: number;
  rateLimited: number;
}

/** One answered /v1 request, as `onRequest` listeners see it (benchmarks count Lever's calls by route). */
export interface ApiRequestRecord {
  method: string;
  /** The route with its ids replaced: `/opportunities/:id/addTags`, `/postings/:id`, `/stages`. */
  route: string;
  /** The opportunity the request is about, if any. */
  opportunityId: string | undefined;
  /** The status answered (429 when rate-limited, 401 when refused). */
  status: number;
  /** `performance.now()` when the answer was sent. */
  at: number;
}

/** An opportunity's tags after an API call or a recruiter changed them, with `performance.now()` of the change. */
export interface TagChange {
  opportunityId: string;
  tags: string[];
  at: number;
}

export interface CreatePostingInput {
  text: string;
  categories?: PostingCategories;
  tags?: string[];
}

export interface CreateOpportunityInput {
  name: string;
  emails?: string[];
  phones?: Phone[];
  location?: string;
  tags?: string[];
  postingId?: string;
  stageId?: string;
}

export interface SetOfferInput {
  status: LeverOfferStatus;
  fields: OfferField[];
}

export interface AddWebhookInput {
  event: LeverWebhookEvent;
  url: string;
  signatureToken: string;
}

/** Thrown by control methods and turned into `{ code, message }` HTTP errors by the app. */
export class LeverEmulatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LeverEmulatorError';
  }
}

const notFound = (what: string, id: string): LeverEmulatorError =>
  new LeverEmulatorError(404, 'ResourceNotFound', `${what} ${id} not found`);

// ---------------------------------------------------------------------------------------------------
// Request body schemas (every body the emulator accepts is validated)

const tagSchema = z.string().trim().min(1).max(255);
const phoneSchema = z.object({ type: z.string().max(100).optional(), value: z.string().min(1).max(100) });
const categoriesSchema = z.object({
  team: z.string().optional(),
  department: z.string().optional(),
  location: z.string().optional(),
  commitment: z.string().optional(),
});

const tagsBodySchema = z.object({ tags: z.array(tagSchema).max(1000) });
const linksBodySchema = z.object({ links: z.array(z.string().trim().min(1).max(2000)).max(1000) });
const noteBodySchema = z.object({
  value: z.string().min(1).max(100_000),
  secret: z.boolean().optional(),
  score: z.number().int().min(1).max(4).optional(),
  notifyFollowers: z.boolean().optional(),
});
const apiKeyBodySchema = z.object({ key: z.string().min(1).max(500) });
const postingBodySchema = z.object({
  text: z.string().min(1).max(500),
  categories: categoriesSchema.optional(),
  tags: z.array(tagSchema).optional(),
});
const opportunityBodySchema = z.object({
  name: z.string().min(1).max(500),
  emails: z.array(z.string().min(1).max(500)).optional(),
  phones: z.array(phoneSchema).optional(),
  location: z.string().max(500).optional(),
  tags: z.array(tagSchema).optional(),
  postingId: z.string().min(1).optional(),
  stageId: z.string().min(1).optional(),
});
const emailsBodySchema = z.object({ emails: z.array(z.string().min(1).max(500)) });
const offerBodySchema = z.object({
  status: z.enum(LEVER_OFFER_STATUSES),
  fields: z.array(
    z.object({
      text: z.string(),
      identifier: z.string().min(1),
      value: z.union([z.string(), z.number(), z.null()]),
    }),
  ),
});
const webhookBodySchema = z.object({
  event: z.enum(LEVER_WEBHOOK_EVENTS),
  url: z.url(),
  signatureToken: z.string().min(1).max(500),
});
const moveBodySchema = z
  .object({ stageId: z.string().min(1).optional(), stageName: z.string().min(1).optional() })
  .refine((b) => b.stageId !== undefined || b.stageName !== undefined, {
    message: 'stageId or stageName is required',
  });
const failNextBodySchema = z.object({
  count: z.number().int().min(0).max(10_000),
  status: z.number().int().min(400).max(599).optional(),
});

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) throw new LeverEmulatorError(400, 'BadRequest', z.prettifyError(result.error));
  return result.data;
}

const unique = (values: readonly string[]): string[] => [...new Set(values)];

// ---------------------------------------------------------------------------------------------------

interface Bucket {
  tokens: number;
  last: number;
}

/**
 * Faults (`FaultyEmulator`): a dropped webhook attempt is never sent; Lever sees no answer and retries it on its
 * schedule (`webhookRetryDelaysMs`).
 */
export class LeverEmulator extends FaultyEmulator {
  readonly rateLimit: { perSecond: number; burst: number };
  readonly webhookRetryDelaysMs: readonly number[];
  readonly webhookTimeoutMs: number;

  private readonly apiKeys = new Set<string>();
  private readonly revokedKeys = new Set<string>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly stageList: Stage[] = [];
  private readonly userList: User[] = [];
  private readonly postingMap = new Map<string, Posting>();
  private readonly opportunityMap = new Map<string, Opportunity>();
  private readonly notesByOpportunity = new Map<string, Note[]>();
  private readonly offersByOpportunity = new Map<string, Offer[]>();
  private readonly applicationMap = new Map<string, Application>();
  private readonly webhookMap = new Map<string, Webhook>();
  private readonly deliveryList: WebhookDelivery[] = [];
  /** The exact bytes sent for each delivery (retries and redeliveries resend them unchanged). */
  private readonly rawBodies = new WeakMap<WebhookDelivery, string>();
  private counters: EmulatorStats = { requests: 0, rateLimited: 0 };
  private readonly requestListeners = new Set<(request: ApiRequestRecord) => void>();
  private readonly tagListeners = new Set<(change: TagChange) => void>();
  private failures: { remaining: number; status: number } = { remaining: 0, status: 503 };

  private closed = false;
  private readonly pendingSleeps = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly inflight = new Set<AbortController>();

  constructor(opts: LeverEmulatorOptions = {}) {
    super();
    this.rateLimit = { ...(opts.rateLimit ?? { perSecond: 10, burst: 20 }) };
    this.webhookRetryDelaysMs = [...(opts.webhookRetryDelaysMs ?? [250, 500, 1000, 2000, 4000])];
    this.webhookTimeoutMs = opts.webhookTimeoutMs ?? 10_000;
    for (const text of DEFAULT_STAGE_NAMES) this.addStage(text);
    const now = Date.now();
    this.userList.push(
      {
        id: randomUUID(),
        name: 'Riley Recruiter',
        username: 'riley',
        email: 'riley.recruiter@example.com',
        accessRole: 'super admin',
        createdAt: now,
        deactivatedAt: null,
      },
      {
        id: randomUUID(),
        name: 'Morgan Manager',
        username: 'morgan',
        email: 'morgan.manager@example.com',
        accessRole: 'team member',
        createdAt: now,
        deactivatedAt: null,
      },
    );
  }

  // ----- API keys, stats, failure injection -------------------------------------------------------

  addApiKey(key: string): void {
    this.apiKeys.add(key);
    this.revokedKeys.delete(key);
  }

  /** Afterwards every API call with this key answers 401 ("Authorized Apps > Revoke access"). */
  revokeApiKey(key: string): void {
    this.apiKeys.delete(key);
    this.revokedKeys.add(key);
    this.buckets.delete(key);
  }

  stats(): EmulatorStats {
    return { ...this.counters };
  }

  /** Calls `listener` with every answered /v1 request; returns the function that stops it. */
  onRequest(listener: (request: ApiRequestRecord) => void): () => void {
    this.requestListeners.add(listener);
    return () => this.requestListeners.delete(listener);
  }

  /** Calls `listener` after every change of an opportunity's tags; returns the function that stops it. */
  onTagsChanged(listener: (change: TagChange) => void): () => void {
    this.tagListeners.add(listener);
    return () => this.tagListeners.delete(listener);
  }

  /** Tells the request listeners about an answered /v1 request (the HTTP app calls it). */
  recordRequest(method: string, path: string, status: number): void {
    if (this.requestListeners.size === 0) return;
    const opportunityId = /^\/opportunities\/([^/]+)/.exec(path)?.[1];
    const route = path.replace(/^\/(opportunities|postings)\/[^/]+/, '/$1/:id');
    const record: ApiRequestRecord = { method, route, opportunityId, status, at: performance.now() };
    for (const listener of this.requestListeners) listener(record);
  }

  private tagsChanged(opportunityId: string, tags: readonly string[]): void {
    if (this.tagListeners.size === 0) return;
    const change: TagChange = { opportunityId, tags: [...tags], at: performance.now() };
    for (const listener of this.tagListeners) listener(change);
  }

  resetStats(): void {
    this.counters = { requests: 0, rateLimited: 0 };
  }

  /** Refills every API key's token bucket. */
  resetRateLimits(): void {
    this.buckets.clear();
  }

  /** The next `count` authenticated /v1 requests answer `status` (default 503) without doing anything. */
  failNext(count: number, status = 503): void {
    this.failures = { remaining: count, status };
  }

  // ----- Stages and users ---------------------------------------------------------------------------

  stages(): Stage[] {
    return this.stageList.map((s) => ({ ...s }));
  }

  stageIdByName(text: string): string {
    const stage = this.stageList.find((s) => s.text === text);
    if (!stage) throw notFound('Stage', text);
    return stage.id;
  }

  addStage(text: string): Stage {
    const stage = { id: randomUUID(), text };
    this.stageList.push(stage);
    return { ...stage };
  }

  users(): User[] {
    return this.userList.map((u) => ({ ...u }));
  }

  // ----- Postings and opportunities -----------------------------------------------------------------

  createPosting(input: CreatePostingInput): Posting {
    const now = Date.now();
    const owner = this.userList[0]?.id ?? '';
    const posting: Posting = {
      id: randomUUID(),
      text: input.text,
      state: 'published',
      distributionChannels: ['public', 'internal'],
      categories: { ...input.categories },
      tags: unique(input.tags ?? []),
      content: { description: '', lists: [], closing: '' },
      country: null,
      followers: [],
      reqCode: null,
      requisitionCodes: [],
      user: owner,
      owner,
      hiringManager: this.userList[1]?.id ?? owner,
      createdAt: now,
      updatedAt: now,
    };
    this.postingMap.set(posting.id, posting);
    return structuredClone(posting);
  }

  posting(id: string): Posting {
    const posting = this.postingMap.get(id);
    if (!posting) throw notFound('Posting', id);
    return structuredClone(posting);
  }

  /** Creates a candidate; with a posting, an application is created and the posting's tags are added. */
  createOpportunity(input: CreateOpportunityInput): Opportunity {
    const posting = input.postingId === undefined ? undefined : this.postingMap.get(input.postingId);
    if (input.postingId !== undefined && !posting) throw notFound('Posting', input.postingId);
    const stageId = input.stageId ?? this.stageList[0]?.id;
    if (stageId === undefined || !this.stageList.some((s) => s.id === stageId)) {
      throw notFound('Stage', stageId ?? '(none)');
    }
    const now = Date.now();
    const opportunity: Opportunity = {
      id: randomUUID(),
      name: input.name,
      contact: randomUUID(),
      headline: '',
      stage: stageId,
      location: input.location ?? '',
      emails: [...(input.emails ?? [])],
      phones: (input.phones ?? []).map((p) => ({ ...p })),
      tags: unique([...(input.tags ?? []), ...(posting?.tags ?? [])]),
      sources: [],
      origin: 'applied',
      links: [],
      archived: null,
      createdAt: now,
      updatedAt: now,
      applications: [],
    };
    if (posting) {
      const application: Application = {
        id: randomUUID(),
        opportunityId: opportunity.id,
        candidateId: opportunity.contact,
        type: 'posting',
        posting: posting.id,
        createdAt: now,
      };
      this.applicationMap.set(application.id, application);
      opportunity.applications.push(application.id);
    }
    this.opportunityMap.set(opportunity.id, opportunity);
    this.notesByOpportunity.set(opportunity.id, []);
    this.offersByOpportunity.set(opportunity.id, []);
    return this.opportunity(opportunity.id);
  }

  /** The current state of an opportunity (a copy). Throws if unknown. */
  opportunity(id: string): Opportunity {
    return structuredClone(this.stored(id));
  }

  application(id: string): Application {
    const application = this.applicationMap.get(id);
    if (!application) throw notFound('Application', id);
    return { ...application };
  }

  notes(opportunityId: string): Note[] {
    this.stored(opportunityId);
    return structuredClone(this.notesByOpportunity.get(opportunityId) ?? []);
  }

  offers(opportunityId: string): Offer[] {
    this.stored(opportunityId);
    return structuredClone(this.offersByOpportunity.get(opportunityId) ?? []);
  }

  setEmails(opportunityId: string, emails: string[]): Opportunity {
    const opp = this.stored(opportunityId);
    opp.emails = [...emails];
    opp.updatedAt = Date.now();
    return this.opportunity(opportunityId);
  }

  /** Adds tags as a recruiter would in Lever's UI (not through the API, so not counted in stats). */
  addTagsDirect(opportunityId: string, tags: string[]): Opportunity {
    return this.addTags(opportunityId, tags);
  }

  /**
   * Sets the opportunity's offer. The emulator keeps one offer per opportunity: a later call updates it
   * (same id and createdAt, new status and fields).
   */
  setOffer(opportunityId: string, offer: SetOfferInput): Offer {
    const opp = this.stored(opportunityId);
    const previous = this.offersByOpportunity.get(opportunityId)?.[0];
    const stored: Offer = {
      id: previous?.id ?? randomUUID(),
      status: offer.status,
      createdAt: previous?.createdAt ?? Date.now(),
      fields: offer.fields.map((f) => ({ ...f })),
    };
    this.offersByOpportunity.set(opportunityId, [stored]);
    opp.updatedAt = Date.now();
    return structuredClone(stored);
  }

  // ----- Webhooks -----------------------------------------------------------------------------------

  addWebhook(input: AddWebhookInput): Webhook {
    const webhook: Webhook = { id: randomUUID(), ...input };
    this.webhookMap.set(webhook.id, webhook);
    return { ...webhook };
  }

  removeWebhook(id: string): void {
    if (!this.webhookMap.delete(id)) throw notFound('Webhook', id);
  }

  webhooks(): Webhook[] {
    return [...this.webhookMap.values()].map((w) => ({ ...w }));
  }

  /** Moves the opportunity and delivers `candidateStageChange` to every webhook of that event. */
  async moveToStage(opportunityId: string, stageId: string): Promise<WebhookDelivery[]> {
    const { fromStageId, contact } = this.changeStage(opportunityId, stageId);
    return this.triggerEvent('candidateStageChange', {
      opportunityId,
      candidateId: contact,
      contactId: contact,
      fromStageId,
      toStageId: stageId,
    });
  }

  /** Moves the opportunity to `Hired` and delivers `candidateHired` (only that event). */
  async hire(opportunityId: string): Promise<WebhookDelivery[]> {
    const toStageId = this.stageIdByName('Hired');
    const { fromStageId, contact } = this.changeStage(opportunityId, toStageId);
    return this.triggerEvent('candidateHired', {
      opportunityId,
      candidateId: contact,
      contactId: contact,
      fromStageId,
      toStageId,
    });
  }

  /** Sends Lever's "Verify Connection" test event (signed, `data: {}`) to one webhook. */
  async verifyConnection(webhookId: string): Promise<WebhookDelivery> {
    const webhook = this.webhookMap.get(webhookId);
    if (!webhook) throw notFound('Webhook', webhookId);
    return this.deliver(webhook, webhook.event, {});
  }

  /** Delivers an arbitrary event with `data` to every webhook registered for it. */
  async triggerEvent(event: LeverWebhookEvent, data: Record<string, unknown>): Promise<WebhookDelivery[]> {
    const targets = [...this.webhookMap.values()].filter((w) => w.event === event);
    return Promise.all(targets.map((w) => this.deliver(w, event, data)));
  }

  /** Sends the identical body of an earlier delivery again (same id, token, signature); a new record. */
  async redeliver(deliveryId: string): Promise<WebhookDelivery> {
    const original = this.deliveryList.find((d) => d.id === deliveryId);
    if (!original) throw notFound('Delivery', deliveryId);
    const delivery: WebhookDelivery = {
      id: randomUUID(),
      webhookId: original.webhookId,
      event: original.event,
      url: original.url,
      body: structuredClone(original.body),
      attempts: [],
      delivered: false,
      redeliveryOf: original.id,
    };
    this.deliveryList.push(delivery);
    this.rawBodies.set(delivery, this.rawBodies.get(original) ?? JSON.stringify(original.body));
    return this.send(delivery);
  }

  deliveries(): WebhookDelivery[] {
    return structuredClone(this.deliveryList);
  }

  /** Stops pending webhook retries and aborts in-flight deliveries (their promises resolve). */
  async close(): Promise<void> {
    this.closed = true;
    this.faultInjector.stop();
    for (const sleep of this.pendingSleeps) {
      clearTimeout(sleep.timer);
      sleep.resolve();
    }
    this.pendingSleeps.clear();
    for (const controller of this.inflight) controller.abort();
    await Promise.resolve();
  }

  // ----- Used by the HTTP app -----------------------------------------------------------------------

  /** Counts a /v1 request, authenticates it and applies the rate limit; returns the API key. */
  admit(authorization: string | undefined): string {
    this.counters.requests += 1;
    const key = apiKeyFromAuthorization(authorization);
    if (key === undefined) throw new LeverEmulatorError(401, 'Unauthorized', 'Missing or malformed API key');
    if (this.revokedKeys.has(key)) {
      throw new LeverEmulatorError(401, 'Unauthorized', 'Access for this API key has been revoked');
    }
    if (!this.apiKeys.has(key)) throw new LeverEmulatorError(401, 'Unauthorized', 'Invalid API key');
    if (!this.takeToken(key)) {
      this.counters.rateLimited += 1;
      throw new LeverEmulatorError(429, 'TooManyRequests', 'Rate limit exceeded');
    }
    if (this.failures.remaining > 0) {
      this.failures.remaining -= 1;
      throw new LeverEmulatorError(this.failures.status, 'ServiceUnavailable', 'Injected failure');
    }
    return key;
  }

  /** Opportunity JSON with the requested expansions (`stage`, `applications`). */
  expandedOpportunity(id: string, expand: readonly string[]): Record<string, unknown> {
    const opportunity = this.opportunity(id);
    const result: Record<string, unknown> = { ...opportunity };
    if (expand.includes('stage')) {
      const stage = this.stageList.find((s) => s.id === opportunity.stage);
      result.stage = stage ? { ...stage } : opportunity.stage;
    }
    if (expand.includes('applications')) {
      result.applications = opportunity.applications.map((a) => this.application(a));
    }
    return result;
  }

  addTags(opportunityId: string, tags: string[]): Opportunity {
    const opp = this.stored(opportunityId);
    opp.tags = unique([...opp.tags, ...tags]);
    opp.updatedAt = Date.now();
    this.tagsChanged(opportunityId, opp.tags);
    return this.opportunity(opportunityId);
  }

  removeTags(opportunityId: string, tags: string[]): Opportunity {
    const opp = this.stored(opportunityId);
    const remove = new Set(tags);
    opp.tags = opp.tags.filter((t) => !remove.has(t));
    opp.updatedAt = Date.now();
    this.tagsChanged(opportunityId, opp.tags);
    return this.opportunity(opportunityId);
  }

  addLinks(opportunityId: string, links: string[]): Opportunity {
    const opp = this.stored(opportunityId);
    opp.links = unique([...opp.links, ...links]);
    opp.updatedAt = Date.now();
    return this.opportunity(opportunityId);
  }

  removeLinks(opportunityId: string, links: string[]): Opportunity {
    const opp = this.stored(opportunityId);
    const remove = new Set(links);
    opp.links = opp.links.filter((l) => !remove.has(l));
    opp.updatedAt = Date.now();
    return this.opportunity(opportunityId);
  }

  addNote(
    opportunityId: string,
    input: { value: string; secret?: boolean; score?: number },
    performAs?: string,
  ): Note {
    const opp = this.stored(opportunityId);
    const note: Note = {
      id: randomUUID(),
      text: input.value,
      value: input.value,
      secret: input.secret ?? false,
      score: input.score ?? null,
      user: performAs ?? null,
      createdAt: Date.now(),
    };
    const notes = this.notesByOpportunity.get(opportunityId) ?? [];
    notes.push(note);
    this.notesByOpportunity.set(opportunityId, notes);
    opp.updatedAt = note.createdAt;
    return { ...note };
  }

  // ----- Internals ----------------------------------------------------------------------------------

  private stored(id: string): Opportunity {
    const opp = this.opportunityMap.get(id);
    if (!opp) throw notFound('Opportunity', id);
    return opp;
  }

  private changeStage(opportunityId: string, stageId: string): { fromStageId: string; contact: string } {
    const opp = this.stored(opportunityId);
    if (!this.stageList.some((s) => s.id === stageId)) throw notFound('Stage', stageId);
    const fromStageId = opp.stage;
    opp.stage = stageId;
    opp.updatedAt = Date.now();
    return { fromStageId, contact: opp.contact };
  }

  private takeToken(key: string): boolean {
    const now = performance.now();
    const { perSecond, burst } = this.rateLimit;
    const bucket = this.buckets.get(key) ?? { tokens: burst, last: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.last) * perSecond) / 1000);
    bucket.last = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private async deliver(
    webhook: Webhook,
    event: string,
    data: Record<string, unknown>,
  ): Promise<WebhookDelivery> {
    const triggeredAt = Date.now();
    const token = randomBytes(24).toString('hex');
    const body: WebhookBody = {
      id: randomUUID(),
      event,
      triggeredAt,
      token,
      signature: leverSignature(webhook.signatureToken, token, triggeredAt),
      data: structuredClone(data),
    };
    const delivery: WebhookDelivery = {
      id: randomUUID(),
      webhookId: webhook.id,
      event,
      url: webhook.url,
      body,
      attempts: [],
      delivered: false,
      redeliveryOf: null,
    };
    this.deliveryList.push(delivery);
    this.rawBodies.set(delivery, JSON.stringify(body));
    return this.send(delivery);
  }

  /** First attempt, then one retry after each configured delay until a 2xx answer. */
  private async send(delivery: WebhookDelivery): Promise<WebhookDelivery> {
    const rawBody = this.rawBodies.get(delivery) ?? JSON.stringify(delivery.body);
    const waits = [0, ...this.webhookRetryDelaysMs];
    for (const [i, wait] of waits.entries()) {
      if (i > 0) await this.sleep(wait);
      if (this.closed) break;
      const fault = this.faultInjector.callback();
      if (fault.drop) {
        delivery.attempts.push({ status: null, at: Date.now(), dropped: true });
        continue;
      }
      if (fault.delayMs > 0) await this.sleep(fault.delayMs);
      if (this.closed) break;
      const status = await this.attempt(delivery.url, rawBody);
      delivery.attempts.push({ status, at: Date.now() });
      if (status !== null && status >= 200 && status < 300) {
        delivery.delivered = true;
        break;
      }
    }
    return structuredClone(delivery);
  }

  private async attempt(url: string, rawBody: string): Promise<number | null> {
    const controller = new AbortController();
    this.inflight.add(controller);
    const timer = setTimeout(() => controller.abort(), this.webhookTimeoutMs);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'Lever-Webhooks' },
        body: rawBody,
        redirect: 'manual', // a 3xx is a failed delivery, never followed
        signal: controller.signal,
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.status;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
      this.inflight.delete(controller);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.pendingSleeps.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.pendingSleeps.add(entry);
    });
  }
}

/** HTTP Basic (API key as username, empty password) or `Bearer <key>`. */
export function apiKeyFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const basic = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (basic?.[1] !== undefined) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    const key = separator === -1 ? decoded : decoded.slice(0, separator);
    return key.length > 0 ? key : undefined;
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return bearer?.[1];
}

function expandParam(value: unknown): string[] {
  const values = Array.isArray(value) ? value : [value];
  return values.flatMap((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : []));
}

function performAsParam(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

const FAULT_CODES: Record<number, string> = {
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
};

// ---------------------------------------------------------------------------------------------------

export function createLeverEmulatorApp(emulator: LeverEmulator): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const json = express.json({ limit: '1mb' });

  // ----- Public API v1 -----
  const v1 = express.Router();
  v1.use((req, res, next) => {
    const path = req.path; // within /v1 (an error handler outside sees the whole URL)
    res.on('finish', () => emulator.recordRequest(req.method, path, res.statusCode));
    next();
  });
  v1.use((req, _res, next) => {
    emulator.admit(req.get('authorization'));
    next();
  });
  v1.use(json);
  v1.use(
    emulator.faultInjector.middleware((status) => ({
      code: FAULT_CODES[status] ?? 'InternalError',
      message: 'Injected fault',
    })),
  );

  v1.get('/opportunities/:id', (req, res) => {
    res.json({ data: emulator.expandedOpportunity(req.params.id, expandParam(req.query.expand)) });
  });
  v1.get('/opportunities/:id/notes', (req, res) => {
    const notes = emulator.notes(req.params.id).map((n) => ({
      id: n.id,
      text: n.text,
      fields: [{ type: 'text', value: n.value }],
      secret: n.secret,
      score: n.score,
      user: n.user,
      createdAt: n.createdAt,
    }));
    res.json({ data: notes });
  });
  v1.post('/opportunities/:id/notes', (req, res) => {
    const body = parseBody(noteBodySchema, req.body);
    const note = emulator.addNote(req.params.id, body, performAsParam(req.query.perform_as));
    res.status(201).json({ data: { noteId: note.id } });
  });
  v1.post('/opportunities/:id/addTags', (req, res) => {
    const { tags } = parseBody(tagsBodySchema, req.body);
    res.json({ data: emulator.addTags(req.params.id, tags) });
  });
  v1.post('/opportunities/:id/removeTags', (req, res) => {
    const { tags } = parseBody(tagsBodySchema, req.body);
    res.json({ data: emulator.removeTags(req.params.id, tags) });
  });
  v1.post('/opportunities/:id/addLinks', (req, res) => {
    const { links } = parseBody(linksBodySchema, req.body);
    res.json({ data: emulator.addLinks(req.params.id, links) });
  });
  v1.post('/opportunities/:id/removeLinks', (req, res) => {
    const { links } = parseBody(linksBodySchema, req.body);
    res.json({ data: emulator.removeLinks(req.params.id, links) });
  });
  v1.get('/opportunities/:id/offers', (req, res) => {
    res.json({ data: emulator.offers(req.params.id) });
  });
  v1.get('/postings/:id', (req, res) => {
    res.json({ data: emulator.posting(req.params.id) });
  });
  v1.get('/stages', (_req, res) => {
    res.json({ data: emulator.stages() });
  });
  v1.get('/users', (_req, res) => {
    res.json({ data: emulator.users() });
  });
  v1.use((req, _res, next) => {
    next(new LeverEmulatorError(404, 'ResourceNotFound', `No route ${req.method} ${req.path}`));
  });

  // ----- Sandbox control (no API key, not rate-limited) -----
  const sandbox = express.Router();
  sandbox.use(json);
  sandbox.post('/api-keys', (req, res) => {
    const { key } = parseBody(apiKeyBodySchema, req.body);
    emulator.addApiKey(key);
    res.status(201).json({ key });
  });
  sandbox.delete('/api-keys/:key', (req, res) => {
    emulator.revokeApiKey(req.params.key);
    res.status(204).end();
  });
  sandbox.get('/stages', (_req, res) => {
    res.json(emulator.stages());
  });
  sandbox.get('/users', (_req, res) => {
    res.json(emulator.users());
  });
  sandbox.post('/postings', (req, res) => {
    res.status(201).json(emulator.createPosting(parseBody(postingBodySchema, req.body)));
  });
  sandbox.post('/opportunities', (req, res) => {
    res.status(201).json(emulator.createOpportunity(parseBody(opportunityBodySchema, req.body)));
  });
  sandbox.get('/opportunities/:id', (req, res) => {
    const id = req.params.id;
    res.json({
      opportunity: emulator.opportunity(id),
      notes: emulator.notes(id),
      offers: emulator.offers(id),
    });
  });
  sandbox.post('/opportunities/:id/emails', (req, res) => {
    const { emails } = parseBody(emailsBodySchema, req.body);
    res.json(emulator.setEmails(req.params.id, emails));
  });
  sandbox.post('/opportunities/:id/tags', (req, res) => {
    const { tags } = parseBody(tagsBodySchema, req.body);
    res.json(emulator.addTagsDirect(req.params.id, tags));
  });
  sandbox.post('/opportunities/:id/offers', (req, res) => {
    res.status(201).json(emulator.setOffer(req.params.id, parseBody(offerBodySchema, req.body)));
  });
  sandbox.post('/opportunities/:id/move', async (req, res) => {
    const body = parseBody(moveBodySchema, req.body);
    const stageId = body.stageId ?? emulator.stageIdByName(body.stageName ?? '');
    res.json(await emulator.moveToStage(req.params.id, stageId));
  });
  sandbox.post('/opportunities/:id/hire', async (req, res) => {
    res.json(await emulator.hire(req.params.id));
  });
  sandbox.post('/webhooks', (req, res) => {
    res.status(201).json(emulator.addWebhook(parseBody(webhookBodySchema, req.body)));
  });
  sandbox.delete('/webhooks/:id', (req, res) => {
    emulator.removeWebhook(req.params.id);
    res.status(204).end();
  });
  sandbox.post('/webhooks/:id/verify', async (req, res) => {
    res.json(await emulator.verifyConnection(req.params.id));
  });
  sandbox.get('/deliveries', (_req, res) => {
    res.json(emulator.deliveries());
  });
  sandbox.post('/deliveries/:id/redeliver', async (req, res) => {
    res.json(await emulator.redeliver(req.params.id));
  });
  sandbox.get('/stats', (_req, res) => {
    res.json(emulator.stats());
  });
  sandbox.post('/stats/reset', (_req, res) => {
    emulator.resetStats();
    emulator.resetRateLimits();
    res.status(204).end();
  });
  sandbox.post('/fail-next', (req, res) => {
    const { count, status } = parseBody(failNextBodySchema, req.body);
    emulator.failNext(count, status);
    res.status(204).end();
  });

  sandbox.use('/faults', faultRoutes(emulator.faultInjector));

  app.use('/v1', v1);
  app.use('/_sandbox', sandbox);
  app.use((req, _res, next) => {
    next(new LeverEmulatorError(404, 'ResourceNotFound', `No route ${req.method} ${req.path}`));
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, code, message } = toHttpError(err);
    res.status(status).json({ code, message });
  });
  return app;
}

function toHttpError(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof LeverEmulatorError) return { status: err.status, code: err.code, message: err.message };
  if (typeof err === 'object' && err !== null && 'type' in err) {
    if (err.type === 'entity.parse.failed') {
      return { status: 400, code: 'BadRequest', message: 'Malformed JSON body' };
    }
    if (err.type === 'entity.too.large') {
      return { status: 413, code: 'PayloadTooLarge', message: 'Request body exceeds 1 MB' };
    }
  }
  const status =
    typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number'
      ? err.status
      : 500;
  if (status >= 400 && status < 500) {
    return { status, code: 'BadRequest', message: err instanceof Error ? err.message : 'Bad request' };
  }
  return { status: 500, code: 'InternalError', message: 'Internal error' };
}

// ---------------------------------------------------------------------------------------------------

/** A LeverEmulator that is also listening over HTTP. */
export class RunningLeverEmulator extends LeverEmulator {
  private server: RunningServer | undefined;

  get url(): string {
    if (!this.server) throw new Error('Lever emulator is not listening');
    return this.server.url;
  }

  get port(): number {
    if (!this.server) throw new Error('Lever emulator is not listening');
    return this.server.port;
  }

  /** Base URL of the public API, `url + '/v1'`. */
  get apiBaseUrl(): string {
    return `${this.url}/v1`;
  }

  async listen(port = 0, host?: string): Promise<this> {
    if (this.server) throw new Error('Lever emulator is already listening');
    this.server = await listen(createLeverEmulatorApp(this), port, host);
    return this;
  }

  override async close(): Promise<void> {
    await super.close();
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }
}

export async function startLeverEmulator(opts: LeverEmulatorOptions = {}): Promise<RunningLeverEmulator> {
  return new RunningLeverEmulator(opts).listen(opts.port ?? 0);
}
