import { LeverClient, noteText, type LeverOpportunity } from '../integrations/lever/client';
import type { CandidateSnapshot, CheckVendorAdapter } from '../vendors/types';
import type { AtsSide } from './types';

/** Splits Lever's single name field; vendors need first and last name. */
export function splitName(name: string | null | undefined): { firstName: string; lastName: string } {
  const parts = (name ?? '').trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return { firstName: '', lastName: '' };
  return { firstName: parts[0] ?? '', lastName: parts.slice(1).join(' ') };
}

/** Said in the results note instead of a vendor's link that is not a URL we may write (e.g. `javascript:`). */
export function refusedLinkText(vendor: string): string {
  return (
    `${vendor} gave a link to the results that is not a safe https:// link, so it was left out: ` +
    `open the results in ${vendor}.`
  );
}

/** A Lever opportunity as the subject of a check: tags, secret notes and links. */
export class LeverSide implements AtsSide {
  /** `triggerStageId`: the connection's trigger stage; without one, no opportunity is at the trigger. */
  constructor(
    private readonly lever: LeverClient,
    private readonly opportunityId: string,
    private readonly triggerStageId: string | undefined,
  ) {}

  async snapshot(): Promise<CandidateSnapshot> {
    return this.candidate(await this.lever.getOpportunity(this.opportunityId));
  }

  async atTrigger(): Promise<{ atTrigger: false } | { atTrigger: true; candidate: CandidateSnapshot }> {
    const opportunity = await this.lever.getOpportunity(this.opportunityId);
    const stageId = typeof opportunity.stage === 'string' ? opportunity.stage : opportunity.stage?.id;
    if (this.triggerStageId === undefined || stageId !== this.triggerStageId) return { atTrigger: false };
    return { atTrigger: true, candidate: await this.candidate(opportunity) };
  }

  private async candidate(opportunity: LeverOpportunity): Promise<CandidateSnapshot> {
    const postingId = opportunity.applications
      .map((a) => (typeof a === 'string' ? null : (a.posting ?? null)))
      .find((p): p is string => p !== null);
    const posting = postingId === undefined ? null : await this.lever.getPosting(postingId);
    return {
      ...splitName(opportunity.name),
      email: opportunity.emails[0] ?? null,
      phone: opportunity.phones[0]?.value ?? null,
      location: opportunity.location ?? null,
      tags: opportunity.tags,
      position:
        posting === null
          ? null
          : {
              title: posting.text,
              department: posting.categories.department ?? null,
              team: posting.categories.team ?? null,
              location: posting.categories.location ?? null,
              tags: posting.tags,
            },
      requestedPackageId: null,
    };
  }

  /** Exactly one of the vendor's status tags stays on the opportunity; other tags are never touched. */
  async publishStatus(
    adapter: CheckVendorAdapter,
    settings: unknown,
    update: Parameters<AtsSide['publishStatus']>[2],
  ) {
    const presentation = adapter.lever;
    if (presentation === undefined) throw new Error(`${adapter.displayName} has no Lever presentation`);
    const tag = presentation.tagFor(settings, update.status, update.reason);
    if (tag === null) return null;
    const statusTags = presentation.statusTags(settings);
    const opportunity = await this.lever.getOpportunity(this.opportunityId);
    const stale = opportunity.tags.filter((t) => t !== tag && statusTags.includes(t));
    if (!opportunity.tags.includes(tag)) await this.lever.addTags(this.opportunityId, [tag]);
    if (stale.length > 0) await this.lever.removeTags(this.opportunityId, stale);
    return tag;
  }

  /**
   * Result link (when the vendor's results are a report), result tags, and a secret note with both. The note
   * goes first: it carries the marker and the link, so a retried attempt (even one whose earlier write took
   * effect but whose answer was lost) finds it and only completes what is missing: the same link, the tags.
   */
  async publishResults(adapter: CheckVendorAdapter, update: Parameters<AtsSide['publishResults']>[1]) {
    const { results, marker } = update;
    const notes = await this.lever.listNotes(this.opportunityId);
    const written = notes.map(noteText).find((text) => text.includes(marker));
    let url = results.url;
    if (written === undefined) {
      const lines = [
        `${adapter.displayName} background check ${update.status === 'Complete' ? 'results' : `results so far (${update.status})`}:`,
        ...(results.url === null ? [] : [results.url]),
        ...(results.linkRefused === true ? [refusedLinkText(adapter.displayName)] : []),
        ...results.lines,
        marker,
      ];
      await this.lever.addSecretNote(this.opportunityId, lines.join('\n'));
    } else {
      // The link of the note already written: a new results call may have produced another (signed) URL.
      url = written.split('\n').find((line) => /^https?:\/\/\S+$/.test(line.trim())) ?? null;
    }
    const link = url !== null && adapter.lever?.resultLink === true ? url.trim() : null;
    if (link !== null && written === undefined && results.tags.length === 0) {
      // The note was only written now, so no earlier attempt got as far as the link: no need to look first.
      await this.lever.addLinks(this.opportunityId, [link]);
      return;
    }
    if (link === null && results.tags.length === 0) return;
    const opportunity = await this.lever.getOpportunity(this.opportunityId);
    if (link !== null && !opportunity.links.includes(link))
      await this.lever.addLinks(this.opportunityId, [link]);
    if (results.tags.length > 0) {
      const missing = results.tags.filter((t) => !opportunity.tags.includes(t));
      const replaced = opportunity.tags.filter(
        (t) => !results.tags.includes(t) && results.tagPrefixes.some((prefix) => t.startsWith(prefix)),
      );
      if (missing.length > 0) await this.lever.addTags(this.opportunityId, missing);
      if (replaced.length > 0) await this.lever.removeTags(this.opportunityId, replaced);
    }
  }

  async addNote(text: string) {
    const notes = await this.lever.listNotes(this.opportunityId);
    if (notes.some((n) => noteText(n) === text)) return;
    await this.lever.addSecretNote(this.opportunityId, text);
  }
}
