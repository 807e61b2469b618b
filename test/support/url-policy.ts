import { baseConfigSchema, loadConfig } from '../../src/config';
import { applyUrlPolicy } from '../../src/integrations/url-policy';

const urlPolicyConfigSchema = baseConfigSchema.pick({ NODE_ENV: true, ALLOW_HTTP_URLS: true });

/**
 * Applies the URL policy the way src/main.ts and src/worker.ts do, from these environment variables (the global
 * setup's ALLOW_HTTP_URLS=true by default): what a process started with them would allow. A configuration an entry
 * point would refuse (ALLOW_HTTP_URLS with NODE_ENV=production) throws, leaving the policy as it was.
 */
export function applyUrlPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): void {
  applyUrlPolicy(loadConfig(urlPolicyConfigSchema, env));
}
