export { backgroundCheck } from './background-check';
export { onboardHire } from './onboard-hire';
