import { createCheckActivities, type ActivityDeps } from './check-activities';

export function createActivities(deps: ActivityDeps) {
  return { ...createCheckActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps };
