import { createCheckActivities, type ActivityDeps } from './check-activities';
import { createOnboardingActivities } from './onboarding-activities';

export function createActivities(deps: ActivityDeps) {
  return { ...createCheckActivities(deps), ...createOnboardingActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps };
