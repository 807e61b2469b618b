import { withoutNulls } from '../../domain/connection';
import { ExternalApiError } from '../../integrations/http-client';
import type { IntegrationDefinition } from '../../vendors/types';
import { refusal, storedConfig, type AtsCallDeps, type AtsModule, type AtsResolution } from '../types';
import { activityLeverClient } from './activity-client';
import { LeverClient } from './client';
import {
  leverConnectionInputSchema,
  leverSecretsSchema,
  leverSettingsSchema,
  type LeverConfig,
  type LeverConnectionInput,
} from './config';
import { decideLeverDelivery } from './delivery';
import { LeverSide } from './side';
import { leverWebhookSchema } from './webhook-schema';

/**
 * Lever: checks the API key against Lever (reading the pipeline stages) and resolves the trigger stage, given by
 * name or ID (or the integration's default name), to the stage ID that webhooks carry — when the integration is
 * started by a stage change.
 */
async function resolveLever(
  input: LeverConnectionInput,
  integration: IntegrationDefinition,
  deps: AtsCallDeps,
): Promise<AtsResolution<LeverConfig>> {
  const secrets = { apiKey: input.apiKey, signatureToken: input.signatureToken };
  let stages: { id: string; text: string }[];
  try {
    stages = await new LeverClient(input.apiBaseUrl, input.apiKey, {
      rateLimiter: deps.leverRateLimiter,
      limits: deps.httpLimits,
    }).listStages();
  } catch (err) {
    if (err instanceof ExternalApiError && err.accessDenied) {
      return refusal(422, 'Lever refused the API key while reading the pipeline stages.', [
        { path: 'lever.apiKey', message: 'Lever refused this API key' },
      ]);
    }
    if (err instanceof ExternalApiError && err.permanent) {
      // Lever answered, and will answer the same again: the given base URL or key is wrong (e.g. 404, a redirect).
      // Its status is not echoed: the answer must not make this a probe of what lies behind a base URL.
      return refusal(
        422,
        'Lever refused to list the pipeline stages; check lever.apiBaseUrl and lever.apiKey.',
      );
    }
    return refusal(502, 'Lever could not be asked for the pipeline stages; try again.');
  }
  if (integration.leverTrigger !== 'stage-change') {
    return { ok: true, ats: { kind: 'lever', settings: { apiBaseUrl: input.apiBaseUrl }, secrets } };
  }
  const triggerStageId = input.triggerStageId;
  const triggerStageName =
    triggerStageId === undefined
      ? (input.triggerStageName ?? integration.defaultTriggerStageName)
      : undefined;
  if (triggerStageId === undefined && triggerStageName === undefined) {
    return refusal(400, `${integration.displayName} needs lever.triggerStageName or lever.triggerStageId.`, [
      { path: 'lever.triggerStageName', message: 'required (or lever.triggerStageId)' },
    ]);
  }
  const stage = stages.find((s) =>
    triggerStageId !== undefined ? s.id === triggerStageId : s.text === triggerStageName,
  );
  if (stage === undefined) {
    const wanted =
      triggerStageId !== undefined ? `with ID "${triggerStageId}"` : `named "${triggerStageName}"`;
    return refusal(422, `Lever has no pipeline stage ${wanted}.`, [
      {
        path: triggerStageId !== undefined ? 'lever.triggerStageId' : 'lever.triggerStageName',
        message: `Lever has no pipeline stage ${wanted}`,
      },
    ]);
  }
  return {
    ok: true,
    ats: {
      kind: 'lever',
      settings: { apiBaseUrl: input.apiBaseUrl, triggerStageId: stage.id, triggerStageName: stage.text },
      secrets,
    },
  };
}

/**
 * The trigger stage is the resolved ID (the name is shown for reading only), so the body that would make the
 * connection names it by ID.
 */
const inputOf = (config: LeverConfig): Record<string, unknown> =>
  withoutNulls({ ...config.settings, triggerStageName: null, ...config.secrets });

/**
 * Lever: an API key and a webhook signature token per connection; the trigger is a webhook (a stage change or a
 * hire) to `/webhooks/lever/:connectionId` (./webhooks.ts); a check writes tags, secret notes and links on the
 * opportunity (./side.ts).
 */
export const leverAts: AtsModule<LeverConfig> = {
  kind: 'lever',
  inputSchema: leverConnectionInputSchema,
  settingsSchema: leverSettingsSchema,
  secretsSchema: leverSecretsSchema,
  config: storedConfig('lever', leverSettingsSchema, leverSecretsSchema),
  publicUrls: (baseUrl, connectionId) => ({ webhookUrl: `${baseUrl}/webhooks/lever/${connectionId}` }),
  inputOf,
  patchBase(config, patch) {
    const base = inputOf(config);
    // A trigger stage is given by name or by ID: a new one of either kind replaces the stored one.
    if (patch.triggerStageName !== undefined) delete base.triggerStageId;
    return base;
  },
  // Valid by inputSchema already: parsing its output again only gives it its type.
  resolve: (input, integration, deps) =>
    resolveLever(leverConnectionInputSchema.parse(input), integration, deps),
  recordedStart(delivery, connection, integration) {
    const data = leverWebhookSchema.shape.data.safeParse(delivery.data);
    if (!data.success) return { kind: 'invalid', detail: 'stored data is not an object' };
    const decision = decideLeverDelivery(
      { event: delivery.event, data: data.data },
      integration,
      connection.ats.settings,
    );
    if (decision.kind !== 'start') return decision;
    // A paused connection verifies and records deliveries but starts nothing.
    if (connection.lifecycle.status === 'paused') return { kind: 'done', outcome: 'paused' };
    return { kind: 'start', subjectId: decision.opportunityId };
  },
  side: (config, { subjectId }, context) =>
    new LeverSide(
      activityLeverClient(config.settings.apiBaseUrl, config.secrets.apiKey, {
        rateLimiter: context.leverRateLimiter,
        limits: context.httpLimits,
      }),
      subjectId,
      {
        triggerStageId: config.settings.triggerStageId,
        lookFirst: context.retry,
        withPosition: context.withPosition,
      },
    ),
};
