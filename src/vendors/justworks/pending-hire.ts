import type { LeverOffer, LeverOpportunity, LeverPosting } from '../../ats/lever/client';
import {
  pendingHireSchema,
  TYPES_OF_EARNINGS,
  type ExemptionStatus,
  type MemberType,
  type PendingHire,
  type TypeOfEarnings,
} from './client';
import type { JustworksSettings } from './integration';

/**
 * Builds the Justworks pending hire of a Lever hire (spec §5, seed 002). Pure: the activity reads Lever and
 * passes the opportunity, its posting and its offers in. Decisions:
 *
 * - A hire is never dropped because of its offer. The seed stars only manager and start date as pulled
 *   "after completion of Lever's offer workflow": they come only from a **signed** offer (the last signed one
 *   when Lever lists several). The other offer fields (title, compensation, type of earnings, member type,
 *   exemption status) come from the signed offer, else from the latest offer that is not denied, whatever its
 *   status (draft, sent, ...): the seed syncs them without waiting for the signature. A denied offer gives
 *   nothing. Without an offer the hire has what the opportunity and the posting give.
 * - A field that cannot be filled this way is **left out** (`null`) and each omission says why, for the
 *   secret note; the admin completes it in Justworks' Review & Invite. A type of earnings other than hourly
 *   or yearly, a missing or unusable amount or currency leave out the compensation (and the exemption status
 *   when it follows the type of earnings); an unusable member type or exemption override leaves that field
 *   out.
 * - Only what Justworks needs to create anything refuses the hire: the names and the home email. Every
 *   problem is listed in one reason so the recruiter fixes them at once.
 * - Type of earnings (`salary_interval`): only hourly or yearly, in Lever's and people's wordings (`hour
 *   (wage)`, `per-hour-wage`, `hourly`; `year (salary)`, `per-year-salary`, `yearly`, `annual`, ...).
 * - Currency: `compensation_currency`, upper-cased; `USD` when the offer has none (Justworks pays in USD).
 * - Start date: `anticipated_start_date` in ms, read as a UTC calendar date (Lever's date fields), or an
 *   ISO date `YYYY-MM-DD`.
 * - Reasons never quote candidate data (names, e-mail, pay): they travel through workflow history.
 * - Files and resumes are never read nor sent: the body has exactly the fields of `pendingHireSchema`.
 */

/** The pending hire's fields that can be left out, in the order a note names them. */
export const OMITTABLE_FIELDS = [
  'title',
  'member_type',
  'compensation',
  'type_of_earnings',
  'exemption_status',
  'manager',
  'start_date',
  'department',
  'office',
] as const;
export type OmittedField = (typeof OMITTABLE_FIELDS)[number];

/** Fields left out of a pending hire and why (no candidate data: it travels through workflow history). */
export interface Omission {
  fields: OmittedField[];
  why: string;
}

export type PendingHireBuild =
  { ok: true; hire: PendingHire; omitted: Omission[] } | { ok: false; reason: string };

export interface PendingHireSource {
  opportunity: LeverOpportunity;
  /** The posting of the opportunity's application, when it has one. */
  posting: LeverPosting | null;
  offers: LeverOffer[];
  settings: Pick<JustworksSettings, 'memberType' | 'exemptionStatus'>;
}

export const SIGNED_OFFER_STATUS = 'signed';
/** An offer the candidate turned down: nothing is read from it. */
const DENIED_OFFER_STATUS = 'denied';

/** Offer custom fields that override the connection's defaults for one hire. */
export const OFFER_FIELDS = {
  jobTitle: 'job_title',
  amount: 'salary_amount',
  currency: 'compensation_currency',
  interval: 'salary_interval',
  directManager: 'direct_manager',
  hiringManager: 'hiring_manager',
  startDate: 'anticipated_start_date',
  exemptionStatus: 'custom_exemption_status',
  memberType: 'custom_member_type',
} as const;

const [HOUR, YEAR] = TYPES_OF_EARNINGS;

/** How people and Lever write the two accepted intervals (compared lower-cased, spaces collapsed). */
const INTERVAL_WORDS: Record<string, TypeOfEarnings> = Object.fromEntries([
  ...[
    'hour (wage)',
    'hour',
    'hourly',
    'per hour',
    'per-hour',
    'per-hour-wage',
    'hourly wage',
    'wage (hourly)',
  ].map((w) => [w, HOUR]),
  ...[
    'year (salary)',
    'year',
    'yearly',
    'per year',
    'per-year',
    'per-year-salary',
    'annual',
    'annually',
    'annual salary',
    'salary (yearly)',
  ].map((w) => [w, YEAR]),
]) as Record<string, TypeOfEarnings>;

const normalizeWord = (value: string) => value.trim().toLowerCase().replace(/\s+/g, ' ');

/** The text of an offer field: strings trimmed, numbers as text, `{ name }` / `{ text }` objects by name. */
function fieldText(offer: LeverOffer, identifier: string): string | null {
  const value = offer.fields.find((f) => f.identifier === identifier)?.value;
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'object' && value !== null) {
    const named = (value as { name?: unknown; text?: unknown }).name ?? (value as { text?: unknown }).text;
    if (typeof named === 'string' && named.trim() !== '') return named.trim();
  }
  return null;
}

function fieldValue(offer: LeverOffer, identifier: string): unknown {
  return offer.fields.find((f) => f.identifier === identifier)?.value;
}

/** A positive amount from a number or a text such as `150,000.00` or `$85000`. */
function parseAmount(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : null;
  if (typeof value !== 'string') return null;
  const compact = value.replace(/[\s,]/g, '').replace(/^[$€£]/, '');
  if (!/^\d+(\.\d+)?$/.test(compact)) return null;
  const amount = Number(compact);
  return amount > 0 ? amount : null;
}

/** `YYYY-MM-DD` from epoch milliseconds (number or digits), read in UTC, or from an ISO date; else null. */
export function toIsoDate(value: unknown): string | null {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value.trim())) {
    const date = new Date(`${value.trim()}T00:00:00.000Z`);
    return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value.trim()
      ? null
      : value.trim();
  }
  const ms = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString().slice(0, 10);
}

/** The accepted type of earnings for a Lever `salary_interval` value, or null. */
export function typeOfEarnings(value: string): TypeOfEarnings | null {
  return INTERVAL_WORDS[normalizeWord(value)] ?? null;
}

function exemptionOverride(value: string): ExemptionStatus | null {
  const word = normalizeWord(value).replace(/[\s_]+/g, '-');
  if (word === 'exempt') return 'exempt';
  if (word === 'non-exempt' || word === 'nonexempt') return 'non-exempt';
  return null;
}

function memberTypeOverride(value: string): MemberType | null {
  const word = normalizeWord(value);
  if (word === 'employee') return 'employee';
  if (word === 'contractor') return 'contractor';
  return null;
}

/** Lever's single name field: first word, then the rest. */
function splitName(name: string | null | undefined): { first: string; last: string } {
  const parts = (name ?? '').trim().split(/\s+/).filter(Boolean);
  return { first: parts[0] ?? '', last: parts.slice(1).join(' ') };
}

const optional = (value: string | null | undefined): string | null => {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? null : trimmed;
};

/** The signed offer (the last one Lever lists when several are signed), or null. */
export function signedOffer(offers: readonly LeverOffer[]): LeverOffer | null {
  return offers.filter((o) => o.status === SIGNED_OFFER_STATUS).at(-1) ?? null;
}

/** The offer whose terms are synced when none is signed: the latest one that is not denied, or null. */
function pendingOffer(offers: readonly LeverOffer[]): LeverOffer | null {
  return offers.filter((o) => o.status !== DENIED_OFFER_STATUS).at(-1) ?? null;
}

/** Human names of the fields that refuse a hire, for reasons built from schema issues (never their values). */
const REQUIRED_FIELD_LABELS: Record<string, string> = {
  external_id: 'the opportunity id',
  first_name: 'the first name (opportunity name)',
  last_name: 'the last name (opportunity name)',
  home_email: 'the home email (first email of the opportunity)',
};

const NULLABLE_FIELDS = [
  'member_type',
  'title',
  'department',
  'office',
  'manager',
  'start_date',
  'compensation',
  'exemption_status',
] as const;

const ordered = (fields: readonly OmittedField[]): OmittedField[] =>
  OMITTABLE_FIELDS.filter((f) => fields.includes(f));

/** The pending hire for this Lever hire and what was left out, or why none can be created (no PII). */
export function buildPendingHire(source: PendingHireSource): PendingHireBuild {
  const { opportunity, posting, offers, settings } = source;

  const name = splitName(opportunity.name);
  const homeEmail = opportunity.emails.map((e) => e.trim()).find((e) => e !== '') ?? null;
  if (name.first === '' || name.last === '' || homeEmail === null) {
    const problems = [
      ...(name.first === '' || name.last === ''
        ? ['The opportunity needs a first and a last name (Lever name field).']
        : []),
      ...(homeEmail === null ? ['The opportunity has no email address (sent as the home email).'] : []),
    ];
    return { ok: false, reason: problems.join(' ') };
  }

  const signed = signedOffer(offers);
  const offer = signed ?? pendingOffer(offers);
  const text = (identifier: string) => (offer === null ? null : fieldText(offer, identifier));
  const omitted: Omission[] = [];
  const leaveOut = (fields: OmittedField[], why: string) => omitted.push({ fields: ordered(fields), why });

  const postingTitle = optional(posting?.text);
  const title = text(OFFER_FIELDS.jobTitle) ?? postingTitle;
  if (offer !== null && title === null) {
    leaveOut(['title'], 'the offer has no job title (job_title) and the opportunity no posting');
  }

  let memberType: MemberType | null = settings.memberType;
  const memberText = text(OFFER_FIELDS.memberType);
  if (memberText !== null) {
    memberType = memberTypeOverride(memberText);
    if (memberType === null) {
      leaveOut(
        ['member_type'],
        `member type "${memberText}" (offer field ${OFFER_FIELDS.memberType}) is not "employee" or "contractor"`,
      );
    }
  }

  const interval = text(OFFER_FIELDS.interval);
  const earnings = interval === null ? null : typeOfEarnings(interval);
  const exemptionText = text(OFFER_FIELDS.exemptionStatus);
  // The exemption follows the type of earnings unless the connection or the offer sets it.
  const exemptionFollowsEarnings =
    settings.exemptionStatus === 'by-type-of-earnings' && exemptionText === null;
  let exemption: ExemptionStatus | null =
    settings.exemptionStatus !== 'by-type-of-earnings'
      ? settings.exemptionStatus
      : earnings === null
        ? null
        : earnings === HOUR
          ? 'non-exempt'
          : 'exempt';
  if (exemptionText !== null) exemption = exemptionOverride(exemptionText);
  const withEarnings: OmittedField[] = [
    'compensation',
    'type_of_earnings',
    ...(exemptionFollowsEarnings ? (['exemption_status'] as const) : []),
  ];

  let compensation: PendingHire['compensation'] = null;
  if (offer !== null) {
    const accepted = `"${HOUR}" or "${YEAR}"`;
    if (interval === null) {
      leaveOut(
        withEarnings,
        `the offer has no type of earnings (salary_interval), Justworks accepts only ${accepted}`,
      );
    } else if (earnings === null) {
      leaveOut(
        withEarnings,
        `type of earnings "${interval}" is not accepted by Justworks, it accepts only ${accepted}`,
      );
    }
    const rawAmount = fieldValue(offer, OFFER_FIELDS.amount);
    const amount = parseAmount(rawAmount);
    if (amount === null) {
      leaveOut(
        ['compensation', 'type_of_earnings'],
        rawAmount === undefined || rawAmount === null || rawAmount === ''
          ? 'the offer has no compensation amount (salary_amount)'
          : 'the offer’s compensation amount (salary_amount) is not a positive number',
      );
    }
    const currencyText = text(OFFER_FIELDS.currency);
    const currency = currencyText === null ? 'USD' : currencyText.toUpperCase();
    const currencyOk = /^[A-Z]{3}$/.test(currency);
    if (!currencyOk) {
      leaveOut(
        ['compensation', 'type_of_earnings'],
        `the offer’s currency (compensation_currency) "${currencyText ?? ''}" is not an ISO 4217 code such as USD`,
      );
    }
    if (exemptionText !== null && exemption === null) {
      leaveOut(
        ['exemption_status'],
        `exemption status "${exemptionText}" (offer field ${OFFER_FIELDS.exemptionStatus}) is not "exempt" or "non-exempt"`,
      );
    }
    if (amount !== null && earnings !== null && currencyOk) {
      compensation = { amount, currency, type_of_earnings: earnings };
    }
  }

  if (offer === null) {
    leaveOut(
      [...(title === null ? (['title'] as const) : []), ...withEarnings, 'manager', 'start_date'],
      offers.length === 0 ? 'the opportunity has no offer' : 'the offer was denied (status: denied)',
    );
  } else if (signed === null) {
    leaveOut(
      ['manager', 'start_date'],
      `the offer is not signed yet (status: ${offer.status}), Justworks takes them only from a signed offer`,
    );
  }

  const hire: PendingHire = {
    external_id: opportunity.id,
    member_type: memberType,
    first_name: name.first,
    last_name: name.last,
    home_email: homeEmail,
    title,
    department: optional(posting?.categories.department),
    office: optional(posting?.categories.location),
    manager:
      signed === null
        ? null
        : (fieldText(signed, OFFER_FIELDS.directManager) ?? fieldText(signed, OFFER_FIELDS.hiringManager)),
    start_date: signed === null ? null : toIsoDate(fieldValue(signed, OFFER_FIELDS.startDate)),
    compensation,
    exemption_status: exemption,
  };

  // Justworks' own limits (lengths, formats): a value it would refuse is left out rather than sent.
  const unacceptable = NULLABLE_FIELDS.filter(
    (key) => !pendingHireSchema.shape[key].safeParse(hire[key]).success,
  );
  if (unacceptable.length > 0) {
    for (const key of unacceptable) hire[key] = null;
    leaveOut(
      unacceptable.flatMap((key): OmittedField[] =>
        key === 'compensation' ? ['compensation', 'type_of_earnings'] : [key],
      ),
      'Justworks would not accept the value in Lever (too long or not valid)',
    );
  }
  const checked = pendingHireSchema.safeParse(hire);
  if (!checked.success) {
    const invalid = [
      ...new Set(checked.error.issues.map((i) => REQUIRED_FIELD_LABELS[String(i.path[0])] ?? 'a field')),
    ];
    return { ok: false, reason: `Justworks would not accept ${invalid.join(', ')}: correct it in Lever.` };
  }
  return { ok: true, hire: checked.data, omitted };
}
