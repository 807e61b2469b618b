export { backgroundCheck } from './background-check';
