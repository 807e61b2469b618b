import { z } from 'zod';
import { requestJson } from '../http-error';

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

/** Lever REST API v1 with the customer's API key (HTTP Basic, key as username, empty password). */
export class LeverClient {
  private readonly authorization: string;

  constructor(
    private readonly baseUrl: string,
    apiKey: string,
  ) {
    this.authorization = `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}`;
  }

  private async call<T extends z.ZodType>(
    path: string,
    schema: T,
    method = 'GET',
    body?: unknown,
  ): Promise<z.infer<T>> {
    const raw = await requestJson('Lever', `${this.baseUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: { Authorization: this.authorization },
      body,
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
