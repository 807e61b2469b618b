import { z } from 'zod';

/** Lever webhook delivery envelope (Settings > Integrations and API > Webhooks). */
export const leverWebhookSchema = z.object({
  id: z.string().optional(),
  event: z.string().min(1).max(100),
  triggeredAt: z.number().int().nonnegative(),
  token: z.string().min(1).max(200),
  signature: z.string().min(1).max(200),
  data: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type LeverWebhook = z.infer<typeof leverWebhookSchema>;

export const stageChangeDataSchema = z.object({
  opportunityId: z.string().min(1),
  candidateId: z.string().optional(),
  contactId: z.string().optional(),
  fromStageId: z.string().nullable().optional(),
  toStageId: z.string().min(1),
});
export type StageChangeData = z.infer<typeof stageChangeDataSchema>;

export const hiredDataSchema = z.object({
  opportunityId: z.string().min(1),
  candidateId: z.string().optional(),
  contactId: z.string().optional(),
});

/** "Verify Connection" sends a signed event whose data is empty. */
export function isVerifyConnection(hook: LeverWebhook): boolean {
  return hook.data == null || Object.keys(hook.data).length === 0;
}
