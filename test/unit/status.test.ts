import { CHECK_STATUSES, isTerminal, transition } from '../../src/domain/status';

describe('check status machine', () => {
  it('starts at any status', () => {
    expect(transition(null, 'Pending')).toEqual({ kind: 'moved', from: null, to: 'Pending' });
    expect(transition(null, 'Error').kind).toBe('moved');
  });

  it('moves forward through the canonical order', () => {
    const path = ['Pending', 'In-Progress', 'Analyzing', 'Partial', 'Complete'] as const;
    for (let i = 1; i < path.length; i++) {
      expect(transition(path[i - 1]!, path[i]!).kind).toBe('moved');
    }
    expect(transition('Pending', 'Complete').kind).toBe('moved');
  });

  it('never moves backwards', () => {
    expect(transition('Analyzing', 'Pending')).toMatchObject({ kind: 'ignored', reason: 'backwards' });
    expect(transition('Partial', 'Analyzing')).toMatchObject({ kind: 'ignored', reason: 'backwards' });
    expect(transition('In-Progress', 'Pending')).toMatchObject({ kind: 'ignored', reason: 'backwards' });
  });

  it('ignores a repeated status', () => {
    expect(transition('Pending', 'Pending')).toMatchObject({ kind: 'ignored', reason: 'same' });
  });

  it('keeps terminal statuses terminal', () => {
    for (const terminal of ['Complete', 'Rejected', 'Error'] as const) {
      expect(isTerminal(terminal)).toBe(true);
      for (const next of CHECK_STATUSES) {
        expect(transition(terminal, next)).toMatchObject({ kind: 'ignored', reason: 'terminal' });
      }
    }
    expect(isTerminal('Partial')).toBe(false);
  });

  it('lets any running status end in Error or Rejected', () => {
    for (const running of ['Pending', 'In-Progress', 'Analyzing', 'Partial'] as const) {
      expect(transition(running, 'Error').kind).toBe('moved');
      expect(transition(running, 'Rejected').kind).toBe('moved');
    }
  });
});
