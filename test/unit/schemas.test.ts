import {
  isVerifyConnection,
  leverWebhookSchema,
  stageChangeDataSchema,
} from '../../src/ats/lever/webhook-schema';
import { leverConnectionInputSchema } from '../../src/ats/lever/config';
import { apiConfigSchema, loadConfig, workerConfigSchema } from '../../src/config';
import { splitName } from '../../src/ats/lever/side';

describe('Lever webhook schemas', () => {
  const hook = {
    event: 'candidateStageChange',
    triggeredAt: 1732330000000,
    token: 't'.repeat(48),
    signature: 'ab',
    data: { opportunityId: 'o1', toStageId: 's2', fromStageId: 's1', contactId: 'c1' },
  };

  it('accepts a stage change delivery', () => {
    const parsed = leverWebhookSchema.parse(hook);
    expect(stageChangeDataSchema.parse(parsed.data)).toMatchObject({ opportunityId: 'o1', toStageId: 's2' });
    expect(isVerifyConnection(parsed)).toBe(false);
  });

  it('recognises the Verify Connection test event by its empty data', () => {
    expect(isVerifyConnection(leverWebhookSchema.parse({ ...hook, data: {} }))).toBe(true);
  });

  it('rejects malformed envelopes and stage changes without the ids', () => {
    expect(leverWebhookSchema.safeParse({ ...hook, triggeredAt: 'yesterday' }).success).toBe(false);
    expect(leverWebhookSchema.safeParse({ ...hook, event: undefined }).success).toBe(false);
    expect(stageChangeDataSchema.safeParse({ opportunityId: 'o1' }).success).toBe(false);
  });
});

describe('Lever connection input', () => {
  const base = { apiKey: 'k', signatureToken: 's' };
  it('takes a trigger stage by name or by ID, not both (hire-triggered integrations need none)', () => {
    expect(
      leverConnectionInputSchema.safeParse({ ...base, triggerStageName: 'Background Check' }).success,
    ).toBe(true);
    expect(leverConnectionInputSchema.safeParse({ ...base, triggerStageId: 'id' }).success).toBe(true);
    expect(leverConnectionInputSchema.safeParse(base).success).toBe(true);
    expect(
      leverConnectionInputSchema.safeParse({ ...base, triggerStageId: 'id', triggerStageName: 'x' }).success,
    ).toBe(false);
  });
  it('defaults to the public Lever API', () => {
    expect(leverConnectionInputSchema.parse({ ...base, triggerStageId: 'id' }).apiBaseUrl).toBe(
      'https://api.lever.co/v1',
    );
  });
});

describe('configuration', () => {
  it('requires an admin token of at least 16 characters for the API', () => {
    expect(() => loadConfig(apiConfigSchema, {})).toThrow(/ADMIN_TOKEN/);
    expect(() => loadConfig(apiConfigSchema, { ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN/);
    expect(loadConfig(apiConfigSchema, { ADMIN_TOKEN: 'x'.repeat(16), API_PORT: '9000' }).API_PORT).toBe(
      9000,
    );
  });
  it('keeps dedupe rows at least as long as the Lever webhook window (24 h and 7 days by default)', () => {
    const env = { ADMIN_TOKEN: 'x'.repeat(16) };
    expect(loadConfig(apiConfigSchema, env)).toMatchObject({
      LEVER_WEBHOOK_MAX_AGE_MS: 24 * 60 * 60 * 1000,
      WEBHOOK_RETENTION_MS: 7 * 24 * 60 * 60 * 1000,
    });
    expect(() =>
      loadConfig(apiConfigSchema, {
        ...env,
        LEVER_WEBHOOK_MAX_AGE_MS: '7200000',
        WEBHOOK_RETENTION_MS: '3600000',
      }),
    ).toThrow(/WEBHOOK_RETENTION_MS: must be at least LEVER_WEBHOOK_MAX_AGE_MS/);
    expect(
      loadConfig(apiConfigSchema, {
        ...env,
        LEVER_WEBHOOK_MAX_AGE_MS: '3600000',
        WEBHOOK_RETENTION_MS: '3600000',
      }).WEBHOOK_RETENTION_MS,
    ).toBe(3_600_000);
  });

  it('reads the public routes’ limits, cache and pool timeout, and which proxies to believe', () => {
    const api = { ADMIN_TOKEN: 'x'.repeat(16) };
    expect(loadConfig(apiConfigSchema, api).TRUST_PROXY).toBeUndefined();
    expect(loadConfig(apiConfigSchema, api)).toMatchObject({
      RATE_LIMIT_WINDOW_MS: 60_000,
      RATE_LIMIT_SOURCE_REFUSED: 1000,
      RATE_LIMIT_CONNECTION_ACCEPTED: 3000,
      CONNECTION_CACHE_TTL_MS: 5000,
      CONNECTION_CACHE_MAX: 10_000,
      DATABASE_POOL_TIMEOUT_MS: 3000,
    });
    expect(loadConfig(apiConfigSchema, { ...api, TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(
      loadConfig(apiConfigSchema, { ...api, TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::1' }).TRUST_PROXY,
    ).toEqual(['loopback', '10.0.0.0/8', 'fd00::1']);
    for (const wrong of ['true', '10.0.0.0/33', 'proxy.example.com', ',']) {
      expect(() => loadConfig(apiConfigSchema, { ...api, TRUST_PROXY: wrong })).toThrow(/TRUST_PROXY/);
    }
    expect(() => loadConfig(apiConfigSchema, { ...api, CONNECTION_CACHE_TTL_MS: '600000' })).toThrow(
      /CONNECTION_CACHE_TTL_MS/,
    );
    expect(() => loadConfig(apiConfigSchema, { ...api, RATE_LIMIT_SOURCE_REFUSED: '0' })).toThrow(
      /RATE_LIMIT_SOURCE_REFUSED/,
    );
  });
  it('gives the worker working defaults once its SMTP server is named', () => {
    expect(() => loadConfig(workerConfigSchema, {})).toThrow(/SMTP_URL/);
    expect(loadConfig(workerConfigSchema, { SMTP_URL: 'smtp://127.0.0.1:2525' })).toMatchObject({
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_TASK_QUEUE: 'background-checks',
    });
  });
});

describe('candidate name', () => {
  it('splits Lever’s single name into first and last name', () => {
    expect(splitName('Ada Lovelace')).toEqual({ firstName: 'Ada', lastName: 'Lovelace' });
    expect(splitName('  Jean  Claude Van Damme ')).toEqual({
      firstName: 'Jean',
      lastName: 'Claude Van Damme',
    });
    expect(splitName('Cher')).toEqual({ firstName: 'Cher', lastName: '' });
    expect(splitName(null)).toEqual({ firstName: '', lastName: '' });
  });
});
