import { createHmac } from 'node:crypto';
import { JUSTIFACTS_ORDER_STATUSES } from '../../src/vendors/justifacts/client';
import { VICTIG_STATUSES } from '../../src/vendors/victig/client';
import { expressJson } from './json-doc';
import type { RawHeader } from './raw-http';

/**
 * What the service should answer, worked out independently of its code from the contracts (README, docs/):
 * the fuzz properties compare every answer with these. `accept` means a 2xx that records the request.
 */
export type Verdict<A> =
  | { accept: true; value: A }
  /** `recordedToken`: refused, but its (signed) token is recorded, used up: a later delivery with it is a duplicate. */
  | { accept: false; status?: number; why: string; recordedToken?: string };

const reject = (why: string, status?: number): { accept: false; status?: number; why: string } => ({
  accept: false,
  status,
  why,
});

type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, min: number, max = Infinity): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max;
const isOptionalText = (v: unknown) => v === undefined || typeof v === 'string';
const isNullishText = (v: unknown) => v === undefined || v === null || typeof v === 'string';

export const hmacHex = (key: string, message: string | Buffer) =>
  createHmac('sha256', key).update(message).digest('hex');

const hasNul = (s: string) => s.includes('\u0000');
const hasLoneSurrogate = (s: string) =>
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

/** PostgreSQL `text` cannot hold NUL; `jsonb` cannot hold NUL nor unpaired surrogates, in keys or values. */
export const textStorable = (s: string) => !hasNul(s);
export function jsonStorable(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (hasNul(v) || hasLoneSurrogate(v)) return false;
    } else if (Array.isArray(v)) {
      stack.push(...(v as unknown[]));
    } else if (isObject(v)) {
      for (const [k, inner] of Object.entries(v)) {
        if (hasNul(k) || hasLoneSurrogate(k)) return false;
        stack.push(inner);
      }
    }
  }
  return true;
}

/** Nesting depth of a JSON value: a scalar is 0, `{}` and `[]` are 1. */
export function depth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    max = Math.max(max, d + 1);
    for (const inner of Object.values(v)) stack.push([inner, d + 1]);
  }
  return max;
}

/** Node's view of a request header: first one for a few names, the others joined with ", "; trimmed. */
export function headerValue(headers: readonly RawHeader[], name: string): string | undefined {
  const values = headers
    .filter(([n]) => n.toLowerCase() === name.toLowerCase())
    .map(([, v]) => (typeof v === 'string' ? v : v.toString('latin1')).replace(/^[ \t]+|[ \t]+$/g, ''));
  if (values.length === 0) return undefined;
  const firstWins = ['authorization', 'content-type', 'content-length', 'host', 'user-agent'];
  return firstWins.includes(name.toLowerCase()) ? values[0] : values.join(', ');
}

// ---------------------------------------------------------------------------------------------------------------
// Lever webhooks (README: signature = hex HMAC-SHA256(signature token, token + triggeredAt))

export const LEVER_LIMITS = { token: 200, signature: 200, event: 100, opportunityId: 200, dataDepth: 32 };
/** The largest time a JavaScript Date (and so a timestamptz) holds: 8.64e15 ms after the epoch. */
export const MAX_TRIGGERED_AT = 8.64e15;
/** README, Security: triggeredAt older than 24 h (the default) or more than 5 minutes ahead is refused. */
export const LEVER_WINDOW = { maxAgeMs: 24 * 60 * 60 * 1000, aheadMs: 5 * 60 * 1000 };

export interface LeverContext {
  signatureToken: string;
  trigger: 'stage-change' | 'hired';
  triggerStageId?: string;
}
export interface LeverAccepted {
  status: 200 | 202;
  /** The outcome the answer gives. */
  outcomes: string[];
  /**
   * A trigger is answered `queued` once recorded and started right after: the outcome its inbox row ends with.
   * Without it, the row already has the answer's outcome when the answer comes.
   */
  startOutcomes?: string[];
  token: string;
  opportunityId?: string;
}

export function expectLever(body: Buffer, ctx: LeverContext, now = Date.now()): Verdict<LeverAccepted> {
  const parsed = expressJson(body);
  if (!parsed.ok) return reject('not JSON', 400);
  const v = parsed.value;
  const token = isObject(v) ? v.token : undefined;
  const triggeredAt = isObject(v) ? v.triggeredAt : undefined;
  const signature = isObject(v) ? v.signature : undefined;
  if (
    !isObject(v) ||
    !isText(token, 1, LEVER_LIMITS.token) ||
    typeof triggeredAt !== 'number' ||
    !Number.isSafeInteger(triggeredAt) ||
    triggeredAt < 0 ||
    triggeredAt > MAX_TRIGGERED_AT ||
    !isText(signature, 1, LEVER_LIMITS.signature)
  ) {
    const hasSignature = typeof v === 'object' && v !== null && 'signature' in v;
    return reject('signed fields missing or malformed', hasSignature ? 400 : 401);
  }
  const expected = hmacHex(ctx.signatureToken, token + String(triggeredAt));
  if (!/^[0-9a-fA-F]+$/.test(signature) || signature.toLowerCase() !== expected) {
    return reject('wrong signature', 401);
  }
  // Signed from here on: a refusal still records the token (when PostgreSQL text can hold it).
  const refuse = (why: string) => ({
    ...reject(why, 400),
    ...(textStorable(token) ? { recordedToken: token } : {}),
  });
  if (now - triggeredAt > LEVER_WINDOW.maxAgeMs || triggeredAt - now > LEVER_WINDOW.aheadMs)
    return refuse('triggeredAt outside the window');
  if (!isText(v.event, 1, LEVER_LIMITS.event) || !isOptionalText(v.id)) return refuse('bad envelope');
  if (v.data !== undefined && v.data !== null && !isObject(v.data)) return refuse('data is not an object');
  // zod's record drops a top-level "__proto__" key of data.
  const data = isObject(v.data)
    ? Object.fromEntries(Object.entries(v.data).filter(([k]) => k !== '__proto__'))
    : undefined;
  if (data !== undefined && depth(data) > LEVER_LIMITS.dataDepth) return refuse('data nested too deeply');

  const event = v.event;
  let accepted: Omit<LeverAccepted, 'token'>;
  if (data === undefined || Object.keys(data).length === 0) {
    accepted = { status: 200, outcomes: ['verified'] };
  } else if (ctx.trigger === 'stage-change' && event === 'candidateStageChange') {
    if (
      !isText(data.opportunityId, 1) ||
      !isText(data.toStageId, 1) ||
      !isOptionalText(data.candidateId) ||
      !isOptionalText(data.contactId) ||
      !isNullishText(data.fromStageId)
    ) {
      return refuse('stage change data incomplete');
    }
    if (data.toStageId !== ctx.triggerStageId) {
      accepted = { status: 200, outcomes: ['ignored-stage'] };
    } else if (data.opportunityId.length > LEVER_LIMITS.opportunityId) {
      return refuse('opportunityId too long');
    } else {
      accepted = {
        status: 202,
        outcomes: ['queued'],
        startOutcomes: ['started', 'already-running'],
        opportunityId: data.opportunityId,
      };
    }
  } else if (ctx.trigger === 'hired' && event === 'candidateHired') {
    if (
      !isText(data.opportunityId, 1) ||
      !isOptionalText(data.candidateId) ||
      !isOptionalText(data.contactId)
    ) {
      return refuse('hired data incomplete');
    }
    if (data.opportunityId.length > LEVER_LIMITS.opportunityId) return refuse('opportunityId too long');
    accepted = {
      status: 202,
      outcomes: ['queued'],
      startOutcomes: ['started', 'already-running'],
      opportunityId: data.opportunityId,
    };
  } else {
    accepted = { status: 200, outcomes: ['ignored-event'] };
  }
  // Recorded in webhook_inbox: token and event as text, data as jsonb.
  if (!textStorable(token) || !textStorable(event) || !jsonStorable(data ?? null)) {
    return refuse('not storable');
  }
  return { accept: true, value: { ...accepted, token } };
}

// ---------------------------------------------------------------------------------------------------------------
// Vendor callbacks (README; docs/vendors/*.md)

export type CallbackVendor = 'certn' | 'justifacts' | 'victig';
export const SIGNATURE_HEADER: Record<CallbackVendor, string> = {
  certn: 'X-Signature',
  justifacts: 'X-Justifacts-Signature',
  victig: 'X-Victig-Signature',
};
/** The signature header value a vendor puts on a body. */
export const signCallback = (vendor: CallbackVendor, secret: string, body: Buffer) =>
  vendor === 'justifacts' ? `sha256=${hmacHex(secret, body)}` : hmacHex(secret, body);

export function expectCallback(
  vendor: CallbackVendor,
  secret: string,
  body: Buffer,
  headers: readonly RawHeader[],
): Verdict<{ eventId: string }> {
  const given = headerValue(headers, SIGNATURE_HEADER[vendor]);
  const expected = hmacHex(secret, body);
  const hex = vendor === 'justifacts' ? /^sha256=([0-9a-fA-F]+)$/.exec(given ?? '')?.[1] : given;
  if (hex === undefined || !/^[0-9a-fA-F]+$/.test(hex) || hex.toLowerCase() !== expected) {
    return reject('wrong signature', 401);
  }
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return reject('not JSON', 400);
  }
  if (!isObject(v)) return reject('not an object', 400);
  let fields: { eventId: unknown; eventType: unknown; objectId: unknown };
  if (vendor === 'certn') {
    if (
      !isText(v.id, 1, 200) ||
      !isText(v.event_type, 1, 100) ||
      !isText(v.object_id, 1, 200) ||
      !isText(v.object_type, 1, 100)
    ) {
      return reject('not a Certn event', 400);
    }
    fields = { eventId: v.id, eventType: v.event_type, objectId: v.object_id };
  } else {
    const statuses: readonly string[] = vendor === 'justifacts' ? JUSTIFACTS_ORDER_STATUSES : VICTIG_STATUSES;
    if (
      !isText(v.eventId, 1, 200) ||
      !isText(v.orderId, 1, 200) ||
      typeof v.status !== 'string' ||
      !statuses.includes(v.status) ||
      !isText(v.occurredAt, vendor === 'justifacts' ? 1 : 0, 100)
    ) {
      return reject(`not a ${vendor} event`, 400);
    }
    fields = { eventId: v.eventId, eventType: v.status, objectId: v.orderId };
  }
  const texts = [fields.eventId, fields.eventType, fields.objectId] as string[];
  if (!texts.every(textStorable)) return reject('not storable', 400);
  return { accept: true, value: { eventId: fields.eventId as string } };
}

// ---------------------------------------------------------------------------------------------------------------
// Ashby assessment partner (docs/ashby-partner.md)

/** `Authorization: Bearer <partner secret>`: the first header counts, any case, one or more spaces. */
export function ashbyAuthorized(headers: readonly RawHeader[], secret: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headerValue(headers, 'authorization') ?? '');
  return match?.[1] === secret;
}

export interface AshbyStartAccepted {
  candidateAshbyId: string;
  assessmentTypeId: string;
}

/** assessment.start once authorized: 422 for what Ashby can fix, 400 for text that cannot be stored. */
export function expectAshbyStart(value: unknown, packageIds: readonly string[]): Verdict<AshbyStartAccepted> {
  if (!isObject(value) || !isText(value.assessment_type_id, 1) || !isObject(value.candidate)) {
    return reject('not an assessment request', 422);
  }
  const c = value.candidate;
  if (
    !isText(c.ashby_id, 1) ||
    typeof c.first_name !== 'string' ||
    typeof c.last_name !== 'string' ||
    !isNullishText(c.email) ||
    !isNullishText(c.ashby_profile_url)
  ) {
    return reject('candidate incomplete', 422);
  }
  const { application, job } = value;
  if (
    application !== undefined &&
    (!isObject(application) || !isText(application.ashby_id, 1) || !isNullishText(application.status))
  ) {
    return reject('application malformed', 422);
  }
  if (job !== undefined && (!isObject(job) || !isText(job.ashby_id, 1) || typeof job.name !== 'string')) {
    return reject('job malformed', 422);
  }
  if (!packageIds.includes(value.assessment_type_id)) return reject('unknown assessment type', 422);
  const email = typeof c.email === 'string' ? c.email.trim() : '';
  if (email === '') return reject('no email', 422);
  const candidate = {
    firstName: c.first_name,
    lastName: c.last_name,
    email,
    profileUrl: typeof c.ashby_profile_url === 'string' ? c.ashby_profile_url.trim() : null,
  };
  const jobName = isObject(job) ? job.name : null;
  if (!textStorable(c.ashby_id) || !jsonStorable(candidate) || !jsonStorable(jobName)) {
    return reject('not storable', 400);
  }
  return {
    accept: true,
    value: { candidateAshbyId: c.ashby_id, assessmentTypeId: value.assessment_type_id },
  };
}

/** assessment.cancel once authorized: 200 for a known assessment, 404 for an unknown one. */
export function expectAshbyCancel(
  value: unknown,
  known: ReadonlySet<string>,
): Verdict<{ assessmentId: string }> {
  if (!isObject(value) || !isText(value.assessment_id, 1)) return reject('not a cancel request', 422);
  if (!textStorable(value.assessment_id)) return reject('not storable', 400);
  if (!known.has(value.assessment_id)) return reject('unknown assessment', 404);
  return { accept: true, value: { assessmentId: value.assessment_id } };
}

// ---------------------------------------------------------------------------------------------------------------
// Admin API (README: bearer ADMIN_TOKEN)

export function adminAuthorized(headers: readonly RawHeader[], token: string): boolean {
  return /^Bearer (.+)$/i.exec(headerValue(headers, 'authorization') ?? '')?.[1] === token;
}
