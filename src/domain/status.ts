import { z } from 'zod';

/** Canonical status of one background check, whatever the vendor. Order matters: it is the forward direction. */
export const CHECK_STATUSES = [
  'Pending',
  'In-Progress',
  'Analyzing',
  'Partial',
  'Complete',
  'Rejected',
  'Error',
] as const;
export const checkStatusSchema = z.enum(CHECK_STATUSES);
export type CheckStatus = z.infer<typeof checkStatusSchema>;

export const TERMINAL_STATUSES: readonly CheckStatus[] = ['Complete', 'Rejected', 'Error'];

export function isTerminal(status: CheckStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

const rank: Record<CheckStatus, number> = {
  Pending: 0,
  'In-Progress': 1,
  Analyzing: 2,
  Partial: 3,
  Complete: 4,
  Rejected: 4,
  Error: 4,
};

export type Transition =
  | { kind: 'moved'; from: CheckStatus | null; to: CheckStatus }
  | { kind: 'ignored'; from: CheckStatus | null; to: CheckStatus; reason: 'same' | 'backwards' | 'terminal' };

/**
 * The check's state machine: a status only moves forward, and a terminal status never changes.
 * A late or duplicate vendor update therefore yields `ignored`, never a backward move.
 */
export function transition(current: CheckStatus | null, next: CheckStatus): Transition {
  if (current === null) return { kind: 'moved', from: null, to: next };
  if (isTerminal(current)) return { kind: 'ignored', from: current, to: next, reason: 'terminal' };
  if (current === next) return { kind: 'ignored', from: current, to: next, reason: 'same' };
  if (rank[next] < rank[current]) return { kind: 'ignored', from: current, to: next, reason: 'backwards' };
  return { kind: 'moved', from: current, to: next };
}
