import { z } from 'zod';
import { requestJson, type HttpLimits } from '../../integrations/http-client';
import {
  DEFAULT_429_PAUSE_MS,
  processLeverRateLimiter,
  type KeyRateLimit,
  type LeverRateLimits,
} from './rate-limiter';

const stageSchema = z.object({ id: z.string(), text: z.string() });

export const leverOpportunitySchema = z.object({
  id: z.string(),
  name: z.string().nullable().optional(),
  emails: z.array(z.string()).default([]),
  phones: z.array(z.object({ type: z.string().nullable().optional(), value: z.string() })).default([]),
  location: z.string().nullable().optional(),
  tags: z.array(z.string()).default([]),
  links: z.array(z.string()).default([]),
  stage: z.union([z.string(), stageSchema]).nullable().optional(),
  archived: z.unknown().optional(),
  applications: z
    .array(z.union([z.string(), z.object({ id: z.string(), posting: z.string().nullable().optional() })]))
    .default([]),
});
export type LeverOpportunity = z.infer<typeof leverOpportunitySchema>;

/** The posting the opportunity applied to (its first application naming one), if any. */
export function postingIdOf(opportunity: LeverOpportunity): string | undefined {
  return opportunity.applications
    .map((a) => (typeof a === 'string' ? null : (a.posting ?? null)))
    .find((p): p is string => p !== null);
}

export const leverPostingSchema = z.object({
  id: z.string(),
  text: z.string(),
  categories: z
    .object({
      team: z.string().nullable().optional(),
      department: z.string().nullable().optional(),
      location: z.string().nullable().optional(),
      commitment: z.string().nullable().optional(),
    })
    .partial()
    .default({}),
  tags: z.array(z.string()).default([]),
});
export type LeverPosting = z.infer<typeof leverPostingSchema>;

export const leverNoteSchema = z.object({
  id: z.string(),
  text: z.string().nullable().optional(),
  fields: z.array(z.object({ value: z.unknown() })).optional(),
  secret: z.boolean().optional(),
});
export type LeverNote = z.infer<typeof leverNoteSchema>;

export const leverOfferSchema = z.object({
  id: z.string(),
  status: z.string(),
  fields: z
    .array(z.object({ text: z.string().optional(), identifier: z.string(), value: z.unknown() }))
    .default([]),
});
export type LeverOffer = z.infer<typeof leverOfferSchema>;

export interface LeverClientOptions {
  /**
   * The per-API-key limit every call waits on (shared across processes in the API and the worker); defaults to
   * this process's own limiter with default settings.
   */
  rateLimiter?: LeverRateLimits;
  /**
   * Epoch ms by which any wait for a request slot must be over (an activity's start-to-close budget minus
   * room for the calls themselves); a longer wait fails at once with a retryable 429-like error.
   */
  waitUntil?: number;
  /** Cancels waiting for a request slot (an activity's cancellation signal). */
  signal?: AbortSignal;
  /** The configured request timeout and response limit (VENDOR_REQUEST_TIMEOUT_MS, VENDOR_RESPONSE_LIMIT_BYTES). */
  limits?: HttpLimits;
}

/**
 * Lever REST API v1 with the customer's API key (HTTP Basic, key as username, empty password). Every call
 * first takes a token of the key's rate limit (see rate-limiter.ts). Use one client per unit of work (an
 * activity attempt): its second and later calls are served before units of work that have not started yet.
 */
export class LeverClient {
  private readonly authorization: string;
  private readonly rateLimit: KeyRateLimit;
  private callsMade = 0;

  constructor(
    private readonly baseUrl: string,
    apiKey: string,
    private readonly options: LeverClientOptions = {},
  ) {
    this.authorization = `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}`;
    this.rateLimit = (options.rateLimiter ?? processLeverRateLimiter()).forKey(apiKey);
  }

  private async call<T extends z.ZodType>(
    path: string,
    schema: T,
    method = 'GET',
    body?: unknown,
  ): Promise<z.infer<T>> {
    const { waitUntil, signal, limits } = this.options;
    const raw = await requestJson('Lever', `${this.baseUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: { Authorization: this.authorization },
      body,
      limits,
      // Every try, quick retries included, takes a token of the key's limit.
      beforeTry: async () => {
        await this.rateLimit.acquire({
          continuing: this.callsMade > 0,
          ...(waitUntil === undefined ? {} : { maxWaitMs: waitUntil - Date.now() }),
          ...(signal === undefined ? {} : { signal }),
        });
        this.callsMade += 1;
      },
      // Over Lever's limit after all (another process uses the key too) or unavailable: slow this key down.
      onFailure: (err) => {
        if (err.status === 429 || err.status === 503) {
          this.rateLimit.pause(err.retryAfterMs ?? (err.status === 429 ? DEFAULT_429_PAUSE_MS : 0));
        }
      },
    });
    const wrapped = z.object({ data: z.unknown() }).parse(raw);
    return schema.parse(wrapped.data);
  }

  getOpportunity(id: string): Promise<LeverOpportunity> {
    return this.call(
      `/opportunities/${encodeURIComponent(id)}?expand=applications&expand=stage`,
      leverOpportunitySchema,
    );
  }

  getPosting(id: string): Promise<LeverPosting> {
    return this.call(`/postings/${encodeURIComponent(id)}`, leverPostingSchema);
  }

  listStages(): Promise<{ id: string; text: string }[]> {
    return this.call('/stages', z.array(stageSchema));
  }

  addTags(opportunityId: string, tags: string[]): Promise<LeverOpportunity> {
    return this.call(
      `/opportunities/${encodeURIComponent(opportunityId)}/addTags`,
      leverOpportunitySchema,
      'POST',
      {
        tags,
      },
    );
  }

  removeTags(opportunityId: string, tags: string[]): Promise<LeverOpportunity> {
    return this.call(
      `/opportunities/${encodeURIComponent(opportunityId)}/removeTags`,
      leverOpportunitySchema,
      'POST',
      { tags },
    );
  }

  listNotes(opportunityId: string): Promise<LeverNote[]> {
    return this.call(`/opportunities/${encodeURIComponent(opportunityId)}/notes`, z.array(leverNoteSchema));
  }

  addSecretNote(opportunityId: string, value: string): Promise<{ noteId: string }> {
    return this.call(
      `/opportunities/${encodeURIComponent(opportunityId)}/notes`,
      z.object({ noteId: z.string() }),
      'POST',
      { value, secret: true },
    );
  }

  /** A secret note, unless a note with the same text is already there (a retry writes it once): two requests. */
  async addSecretNoteOnce(opportunityId: string, value: string): Promise<{ added: boolean }> {
    const notes = await this.listNotes(opportunityId);
    if (notes.some((n) => noteText(n) === value)) return { added: false };
    await this.addSecretNote(opportunityId, value);
    return { added: true };
  }

  addLinks(opportunityId: string, links: string[]): Promise<LeverOpportunity> {
    return this.call(
      `/opportunities/${encodeURIComponent(opportunityId)}/addLinks`,
      leverOpportunitySchema,
      'POST',
      {
        links,
      },
    );
  }

  listOffers(opportunityId: string): Promise<LeverOffer[]> {
    return this.call(`/opportunities/${encodeURIComponent(opportunityId)}/offers`, z.array(leverOfferSchema));
  }
}

/** Text of a note, whichever of Lever's note shapes carries it. */
export function noteText(note: LeverNote): string {
  if (typeof note.text === 'string') return note.text;
  return (note.fields ?? []).map((f) => (typeof f.value === 'string' ? f.value : '')).join('\n');
}
