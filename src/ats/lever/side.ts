import { LeverClient, noteText, postingIdOf, type LeverOpportunity } from './client';
import type { CheckVendorAdapter } from '../../vendors/types';
import type { CandidateSnapshot } from '../../domain/candidate';
import type { AtsSide } from '../types';

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

export interface LeverSideOptions {
  /** The connection's trigger stage; without one, no opportunity is at the trigger. */
  triggerStageId: string | undefined;
  /**
   * Whether an earlier attempt of this activity may have written already (a retry): then each write first reads
   * what is there, so that nothing is written twice. A first attempt writes without looking (Lever's tag and link
   * calls are idempotent; a note is only ever added by the attempt that composed it).
   */
  lookFirst: boolean;
  /** Whether the candidate's position is needed (the posting is read only then). */
  withPosition: boolean;
}

/** A Lever opportunity as the subject of a check: tags, secret notes and links. */
export class LeverSide implements AtsSide {
  constructor(
    private readonly lever: LeverClient,
    private readonly opportunityId: string,
    private readonly options: LeverSideOptions,
  ) {}

  async snapshot(): Promise<CandidateSnapshot> {
    return this.candidate(await this.lever.getOpportunity(this.opportunityId));
  }

  async atTrigger(): Promise<{ atTrigger: false } | { atTrigger: true; candidate: CandidateSnapshot }> {
    const opportunity = await this.lever.getOpportunity(this.opportunityId);
    const stageId = typeof opportunity.stage === 'string' ? opportunity.stage : opportunity.stage?.id;
    const trigger = this.options.triggerStageId;
    if (trigger === undefined || stageId !== trigger) return { atTrigger: false };
    return { atTrigger: true, candidate: await this.candidate(opportunity) };
  }

  private async candidate(opportunity: LeverOpportunity): Promise<CandidateSnapshot> {
    const postingId = this.options.withPosition ? postingIdOf(opportunity) : undefined;
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

  /**
   * Exactly one of the vendor's status tags stays on the opportunity; other tags are never touched. A first
   * attempt adds the tag and removes every other status tag of the vendor (the previous one, and any left by an
   * earlier check) without reading: two calls; one for a check's first status when the tags the run read just
   * before (`presentTags`) hold no other status tag. A retry reads first and writes only what is missing.
   */
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
    if (!this.options.lookFirst) {
      const present = update.presentTags;
      if (present === undefined || !present.includes(tag))
        await this.lever.addTags(this.opportunityId, [tag]);
      const others = statusTags.filter((t) => t !== tag && (present === undefined || present.includes(t)));
      if (others.length > 0) await this.lever.removeTags(this.opportunityId, others);
      return tag;
    }
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
    // Only an earlier attempt can have written the note: a first attempt does not look for it.
    const written = this.options.lookFirst
      ? (await this.lever.listNotes(this.opportunityId)).map(noteText).find((text) => text.includes(marker))
      : undefined;
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
    if (this.options.lookFirst) await this.lever.addSecretNoteOnce(this.opportunityId, text);
    else await this.lever.addSecretNote(this.opportunityId, text);
  }
}
