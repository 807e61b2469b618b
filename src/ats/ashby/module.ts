import { randomBytes } from 'node:crypto';
import { withoutNulls } from '../../domain/connection';
import { storedConfig, type AtsModule } from '../types';
import { ASSESSMENT_START_EVENT, AssessmentRepository, recordedAssessmentSchema } from './assessments';
import { AshbyClient } from './client';
import {
  ashbyConnectionInputSchema,
  ashbySecretsSchema,
  ashbySettingsSchema,
  type AshbyConfig,
} from './config';
import { AshbySide } from './side';

const inputOf = (config: AshbyConfig): Record<string, unknown> =>
  withoutNulls({ ...config.settings, ...config.secrets });

/**
 * Ashby: the service is the organization's assessment partner (`/ashby/:connectionId/…`, ./partner.ts), Ashby
 * authenticating with the connection's partner secret; a check reports through `assessment.update` (./side.ts).
 */
export const ashbyAts: AtsModule<AshbyConfig> = {
  kind: 'ashby',
  inputSchema: ashbyConnectionInputSchema,
  settingsSchema: ashbySettingsSchema,
  secretsSchema: ashbySecretsSchema,
  config: storedConfig('ashby', ashbySettingsSchema, ashbySecretsSchema),
  publicUrls: (baseUrl, connectionId) => ({ partnerBaseUrl: `${baseUrl}/ashby/${connectionId}` }),
  inputOf,
  patchBase: (config) => inputOf(config),
  resolve: (input) => {
    // Valid by inputSchema already: parsing its output again only gives it its type.
    const ashby = ashbyConnectionInputSchema.parse(input);
    const secret = ashby.partnerSecret ?? randomBytes(32).toString('base64url');
    return Promise.resolve({
      ok: true,
      ats: {
        kind: 'ashby',
        settings: { apiBaseUrl: ashby.apiBaseUrl },
        secrets: { apiKey: ashby.apiKey, partnerSecret: secret },
      },
      // A generated secret is shown once, in the answer: the admin gives it to Ashby with the partner base URL.
      ...(ashby.partnerSecret === undefined ? { shownOnce: { partnerSecret: secret } } : {}),
    });
  },
  // Recorded by assessment.start with the assessment, while the connection was active: Ashby was told it started,
  // so it starts also when the connection was paused since; a cancelled one was marked processed (cancelPending).
  recordedStart(delivery) {
    const data = recordedAssessmentSchema.safeParse(delivery.data);
    if (delivery.event !== ASSESSMENT_START_EVENT || !data.success) {
      return { kind: 'invalid', detail: 'not a recorded assessment.start' };
    }
    return { kind: 'start', subjectId: data.data.assessmentId };
  },
  side: (config, { connectionId, subjectId }, context) =>
    new AshbySide(
      new AshbyClient(config.settings.apiBaseUrl, config.secrets.apiKey, { limits: context.httpLimits }),
      new AssessmentRepository(context.pool),
      connectionId,
      subjectId,
    ),
};
