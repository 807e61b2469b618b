import type { LeverOffer, LeverOpportunity, LeverPosting } from '../../integrations/lever/client';
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
 * - Only a **signed** offer counts (the last signed one when Lever lists several). Without one there is no
 *   compensation to send, so nothing is created: the hire is refused with a note asking to complete Lever's
 *   offer workflow (mark the offer as signed). Manager and start date therefore always come from the signed
 *   offer, as the seed requires ("only after completion of Lever's offer workflow").
 * - Fields Justworks requires (names, home email, title, compensation, type of earnings, member type,
 *   exemption status) refuse the hire when missing or unusable; every problem is listed in one reason so the
 *   recruiter fixes them at once. Optional fields (manager, start date, department, office) are `null` when
 *   Lever has nothing usable; the admin completes them in Justworks' Review & Invite.
 * - Type of earnings (`salary_interval`): only hourly or yearly, in Lever's and people's wordings (`hour
 *   (wage)`, `per-hour-wage`, `hourly`; `year (salary)`, `per-year-salary`, `yearly`, `annual`, ...). Anything
 *   else (month, week, one-time...) is refused with a reason naming the value and the two accepted ones.
 * - Currency: `compensation_currency`, upper-cased; `USD` when the offer has none (Justworks pays in USD).
 * - Start date: `anticipated_start_date` in ms, read as a UTC calendar date (Lever's date fields), or an
 *   ISO date `YYYY-MM-DD`.
 * - Reasons never quote candidate data (names, e-mail, pay): they travel through workflow history.
 * - Files and resumes are never read nor sent: the body has exactly the fields of `pendingHireSchema`.
 */

export type PendingHireBuild = { ok: true; hire: PendingHire } | { ok: false; reason: string };

export interface PendingHireSource {
  opportunity: LeverOpportunity;
  /** The posting of the opportunity's application, when it has one. */
  posting: LeverPosting | null;
  offers: LeverOffer[];
  settings: Pick<JustworksSettings, 'memberType' | 'exemptionStatus'>;
}

export const SIGNED_OFFER_STATUS = 'signed';

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

/** Human names of the pending hire's fields, for reasons built from schema issues (never their values). */
const FIELD_LABELS: Record<string, string> = {
  external_id: 'the opportunity id',
  member_type: 'member type',
  first_name: 'the first name (opportunity name)',
  last_name: 'the last name (opportunity name)',
  home_email: 'the home email (first email of the opportunity)',
  title: 'the title (offer job_title or posting)',
  department: 'the department (posting department)',
  office: 'the office (posting location)',
  manager: 'the manager (offer direct_manager / hiring_manager)',
  start_date: 'the start date (offer anticipated_start_date)',
  'compensation.amount': 'the compensation amount (offer salary_amount)',
  'compensation.currency': 'the currency (offer compensation_currency)',
  'compensation.type_of_earnings': 'the type of earnings (offer salary_interval)',
  exemption_status: 'the exemption status',
};

function noSignedOfferReason(offers: readonly LeverOffer[]): string {
  const statuses = [...new Set(offers.map((o) => o.status))];
  const what =
    offers.length === 0
      ? 'The opportunity has no offer.'
      : `The offer is not signed yet (status: ${statuses.join(', ')}).`;
  return (
    `${what} Justworks needs the compensation, manager and start date of a completed offer: ` +
    'create the offer in Lever, complete the offer workflow and mark the offer as signed ' +
    '(Candidate Signed > Mark offer as signed).'
  );
}

/** The pending hire for this Lever hire, or why none can be created (no PII in the reason). */
export function buildPendingHire(source: PendingHireSource): PendingHireBuild {
  const { opportunity, posting, offers, settings } = source;
  const offer = signedOffer(offers);
  if (offer === null) return { ok: false, reason: noSignedOfferReason(offers) };

  const problems: string[] = [];

  const name = splitName(opportunity.name);
  if (name.first === '' || name.last === '') {
    problems.push('The opportunity needs a first and a last name (Lever name field).');
  }
  const homeEmail = opportunity.emails.map((e) => e.trim()).find((e) => e !== '') ?? null;
  if (homeEmail === null) problems.push('The opportunity has no email address (sent as the home email).');

  const title = fieldText(offer, OFFER_FIELDS.jobTitle) ?? optional(posting?.text);
  if (title === null) problems.push('The offer has no job title (job_title) and the opportunity no posting.');

  const rawAmount = fieldValue(offer, OFFER_FIELDS.amount);
  const amount = parseAmount(rawAmount);
  if (amount === null) {
    problems.push(
      rawAmount === undefined || rawAmount === null || rawAmount === ''
        ? 'The offer has no compensation amount (salary_amount).'
        : 'The offer’s compensation amount (salary_amount) is not a positive number.',
    );
  }

  const currencyText = fieldText(offer, OFFER_FIELDS.currency);
  const currency = currencyText === null ? 'USD' : currencyText.toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) {
    problems.push(
      `The offer’s currency (compensation_currency) "${currencyText ?? ''}" is not an ISO 4217 code such as USD.`,
    );
  }

  const accepted = `"${HOUR}" or "${YEAR}"`;
  const interval = fieldText(offer, OFFER_FIELDS.interval);
  const earnings = interval === null ? null : typeOfEarnings(interval);
  if (interval === null) {
    problems.push(`The offer has no type of earnings (salary_interval); Justworks accepts only ${accepted}.`);
  } else if (earnings === null) {
    problems.push(
      `Type of earnings "${interval}" is not accepted by Justworks: it accepts only ${accepted}. ` +
        'Change the offer’s type of earnings (salary_interval).',
    );
  }

  let memberType: MemberType = settings.memberType;
  const memberText = fieldText(offer, OFFER_FIELDS.memberType);
  if (memberText !== null) {
    const override = memberTypeOverride(memberText);
    if (override === null) {
      problems.push(
        `Member type "${memberText}" (offer field ${OFFER_FIELDS.memberType}) is not "employee" or "contractor".`,
      );
    } else memberType = override;
  }

  let exemption: ExemptionStatus | null =
    settings.exemptionStatus === 'by-type-of-earnings'
      ? earnings === null
        ? null
        : earnings === HOUR
          ? 'non-exempt'
          : 'exempt'
      : settings.exemptionStatus;
  const exemptionText = fieldText(offer, OFFER_FIELDS.exemptionStatus);
  if (exemptionText !== null) {
    const override = exemptionOverride(exemptionText);
    if (override === null) {
      problems.push(
        `Exemption status "${exemptionText}" (offer field ${OFFER_FIELDS.exemptionStatus}) is not "exempt" or "non-exempt".`,
      );
    } else exemption = override;
  }

  if (problems.length > 0 || amount === null || earnings === null || exemption === null) {
    return { ok: false, reason: problems.join(' ') };
  }

  const hire: PendingHire = {
    external_id: opportunity.id,
    member_type: memberType,
    first_name: name.first,
    last_name: name.last,
    home_email: homeEmail ?? '',
    title: title ?? '',
    department: optional(posting?.categories.department),
    office: optional(posting?.categories.location),
    manager: fieldText(offer, OFFER_FIELDS.directManager) ?? fieldText(offer, OFFER_FIELDS.hiringManager),
    start_date: toIsoDate(fieldValue(offer, OFFER_FIELDS.startDate)),
    compensation: { amount, currency, type_of_earnings: earnings },
    exemption_status: exemption,
  };

  // Justworks' own limits (lengths, e-mail format): refuse here with a clear reason rather than a 4xx later.
  const checked = pendingHireSchema.safeParse(hire);
  if (!checked.success) {
    const invalid = [
      ...new Set(checked.error.issues.map((i) => FIELD_LABELS[i.path.map(String).join('.')] ?? 'a field')),
    ];
    return {
      ok: false,
      reason: `Justworks would not accept ${invalid.join(', ')}: correct it in Lever.`,
    };
  }
  return { ok: true, hire: checked.data };
}
