/** What the onboarding workflow tells the recruiter, as secret notes on the opportunity. */
export type OnboardingNote =
  | { kind: 'refused'; reason: string; watchDays: number }
  | { kind: 'unreachable'; watchDays: number }
  | { kind: 'gave-up'; reason: string; watchDays: number }
  | { kind: 'cannot-create'; cause: string }
  | { kind: 'vendor-access-denied' }
  | { kind: 'created'; reviewUrl: string; notified: number }
  | { kind: 'mail-failed'; reviewUrl: string; error: string };

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
    case 'created':
      return (
        `Justworks: a pending hire was created for this hire and ${note.notified} Justworks admin(s) with ` +
        `"Manage employees" were e-mailed a link to review it: ${note.reviewUrl}`
      );
    case 'mail-failed':
      return (
        `Justworks: a pending hire was created, but the e-mail to the Justworks admins could not be sent ` +
        `(${note.error}). Ask an admin with "Manage employees" to review it: ${note.reviewUrl}`
      );
  }
}
