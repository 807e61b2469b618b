import type { Omission, OmittedField } from './pending-hire';

/** What the onboarding workflow tells the recruiter, as secret notes on the opportunity. */
export type OnboardingNote =
  | { kind: 'refused'; reason: string; watchDays: number }
  | { kind: 'unreachable'; watchDays: number }
  | { kind: 'gave-up'; reason: string; watchDays: number }
  | { kind: 'cannot-create'; cause: string }
  | { kind: 'vendor-access-denied' }
  | { kind: 'integration-removed' }
  | { kind: 'created'; reviewUrl: string | null; notified: number; omitted: Omission[] }
  | { kind: 'mail-failed'; reviewUrl: string | null; error: string; omitted: Omission[] };

const FIELD_NAMES: Record<OmittedField, string> = {
  title: 'title',
  member_type: 'member type',
  compensation: 'compensation',
  type_of_earnings: 'type of earnings',
  exemption_status: 'exemption status',
  manager: 'manager',
  start_date: 'start date',
  department: 'department',
  office: 'office',
};

/** "Manager and start date were left out: <why>." */
export function omissionText(omission: Omission): string {
  const names = [...new Set(omission.fields)].map((f) => FIELD_NAMES[f]);
  const listed =
    names.length === 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
  const verb = names.length === 1 ? 'was' : 'were';
  return `${listed.charAt(0).toUpperCase()}${listed.slice(1)} ${verb} left out: ${omission.why}.`;
}

/** The lines that tell the recruiter what the pending hire lacks, or nothing when it is complete. */
function omissionsText(omitted: readonly Omission[]): string {
  if (omitted.length === 0) return '';
  return `\n${omitted.map(omissionText).join('\n')}\nComplete them in Justworks (Review & Invite) before inviting the new member.`;
}

/**
 * Where to review the pending hire: its link, or, when Justworks gave one that is not a URL we may write
 * (e.g. `javascript:`), the way there in Justworks and why there is no link.
 */
function reviewAt(reviewUrl: string | null): string {
  return reviewUrl === null
    ? ' in Justworks (Manage > Employees > Pending hire). The review link Justworks gave is not a safe https:// ' +
        'link, so it was left out.'
    : `: ${reviewUrl}`;
}

export function onboardingNoteText(note: OnboardingNote): string {
  switch (note.kind) {
    case 'refused':
      return (
        `Justworks: no pending hire was created for this hire. ${note.reason}\n` +
        `Once this is fixed in Lever, the pending hire is created automatically (this opportunity is ` +
        `checked again for ${note.watchDays} days); there is no need to hire the candidate again.`
      );
    case 'unreachable':
      return (
        'Justworks: the pending hire could not be created yet because Lever or Justworks could not be ' +
        `reached. The integration keeps trying for ${note.watchDays} days.`
      );
    case 'gave-up':
      return (
        `Justworks: stopped waiting for this hire after ${note.watchDays} days; no pending hire was created. ` +
        `Last reason: ${note.reason} Add the new member in Justworks by hand.`
      );
    case 'cannot-create':
      return `Justworks: no pending hire was created for this hire: ${note.cause}. Add the new member in Justworks by hand.`;
    case 'vendor-access-denied':
      return (
        'Justworks: no pending hire was created for this hire: Justworks refused the connection’s API key ' +
        '(the integration may have been disconnected). Add the new member in Justworks by hand.'
      );
    case 'integration-removed':
      return (
        'Justworks: stopped waiting for this hire: the Justworks integration was removed from this Lever account ' +
        'by an administrator, so no pending hire was created. Add the new member in Justworks by hand.'
      );
    case 'created':
      return (
        (note.notified > 0
          ? `Justworks: a pending hire was created for this hire and ${note.notified} Justworks admin(s) with ` +
            `"Manage employees" were e-mailed ${note.reviewUrl === null ? 'to review it' : 'a link to review it'}` +
            reviewAt(note.reviewUrl)
          : 'Justworks: a pending hire was created for this hire, but no Justworks admin with "Manage ' +
            'employees" could be e-mailed (Justworks lists none, or the mail server refused their addresses). ' +
            `Ask a Justworks admin to review it${reviewAt(note.reviewUrl)}`) + omissionsText(note.omitted)
      );
    case 'mail-failed':
      return (
        `Justworks: a pending hire was created, but the e-mail to the Justworks admins could not be sent ` +
        `(${note.error}). Ask an admin with "Manage employees" to review it${reviewAt(note.reviewUrl)}` +
        omissionsText(note.omitted)
      );
  }
}
