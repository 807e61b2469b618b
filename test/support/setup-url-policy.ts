// Jest `setupFiles`: every test file's modules start with the policy the global setup's environment gives a
// service process (ALLOW_HTTP_URLS=true: the emulators serve plain http).
import { applyUrlPolicyFromEnv } from './url-policy';

applyUrlPolicyFromEnv();
