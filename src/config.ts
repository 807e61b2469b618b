import { z } from 'zod';

/** Every setting the service reads from its environment, validated once at start. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/bgc'),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('background-checks'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Public base URL of the API, used to build the webhook URLs handed to customers. */
  PUBLIC_BASE_URL: z.url().optional(),
  /** Bearer token for the admin endpoints. */
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters'),
  /** Largest webhook body accepted, in bytes. */
  WEBHOOK_BODY_LIMIT: z.coerce.number().int().positive().default(100 * 1024),
  /** How often a running check asks the vendor for its status when no callback arrived (ms). */
  VENDOR_POLL_INTERVAL_MS: z.coerce.number().int().positive().default(60 * 60 * 1000),
});
export type AppConfig = z.infer<typeof configSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}
