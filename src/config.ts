import { z } from 'zod';

/** Settings shared by every process (API and worker), read from the environment and validated at start. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/bgc'),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('background-checks'),
  /** How often a running check asks the vendor for its status when no callback arrived (ms). */
  VENDOR_POLL_INTERVAL_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(60 * 60 * 1000),
  /** Attempts per call to an ATS or vendor before a check gives up on it (backoff up to 2 minutes apart). */
  ACTIVITY_MAX_ATTEMPTS: z.coerce.number().int().positive().default(20),
});

/** The HTTP front (webhooks, vendor callbacks, admin API). */
export const apiConfigSchema = baseConfigSchema.extend({
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Public base URL of the API, used to build the webhook URLs handed to customers. */
  PUBLIC_BASE_URL: z.url().optional(),
  /** Bearer token for the admin endpoints. */
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters'),
  /** Largest webhook body accepted, in bytes. */
  WEBHOOK_BODY_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(100 * 1024),
});

/** The Temporal worker running workflows and activities. */
export const workerConfigSchema = baseConfigSchema.extend({
  /** SMTP server for notification e-mails (Justworks admins), e.g. smtp://user:pass@mail.example.com:587. */
  SMTP_URL: z.url().optional(),
  MAIL_FROM: z.string().min(3).default('bgc-bridge <no-reply@bgc-bridge.local>'),
  /** Activities run at once by this worker. */
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(100),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;
export type ApiConfig = z.infer<typeof apiConfigSchema>;
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}
