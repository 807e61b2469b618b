/** The floor workflow's activity: it does nothing (the floor measures Temporal's own cost of an activity). */
export function nothing(): Promise<void> {
  return Promise.resolve();
}
