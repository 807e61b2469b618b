import type { ChildProcess } from 'node:child_process';
import { ashbyConnectionInputSchema } from '../../src/ats/ashby/config';
import { leverConnectionInputSchema } from '../../src/ats/lever/config';
import { profileUrlField } from '../../src/ats/ashby/client';
import { checkUrlPolicy, offeredLinkSchema, safeUrlSchema } from '../../src/integrations/url-policy';
import { justifactsOrderSchema } from '../../src/vendors/justifacts/client';
import { pendingHireRecordSchema } from '../../src/vendors/justworks/client';
import { hireNotificationHtml, hireNotificationText } from '../../src/vendors/justworks/mailer';
import { onboardingNoteText } from '../../src/vendors/justworks/notes';
import { integrationFor } from '../../src/vendors';
import { victigResultsSchema } from '../../src/vendors/victig/client';
import { startServiceProcess, stopProcess } from '../support/service-process';
import { applyUrlPolicyFromEnv } from '../support/url-policy';

/**
 * Runs `fn` under the URL policy a process started with these environment variables (undefined: unset) applies
 * (src/main.ts, src/worker.ts: `applyUrlPolicy`), then puts the suite's policy back. A configuration the process
 * would refuse to start with leaves the policy that was there before it (here: https only).
 */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T | Promise<T>): Promise<T> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  applyUrlPolicyFromEnv({});
  try {
    applyUrlPolicyFromEnv(env);
  } catch {
    // refused at start: nothing is allowed beyond https
  }
  try {
    return await fn();
  } finally {
    applyUrlPolicyFromEnv();
  }
}

const HOSTILE = [
  'javascript:alert(document.cookie)',
  'JavaScript://example.com/%0Aalert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  'file:///etc/passwd',
  'ftp://files.example.com/report.pdf',
  '//evil.example.com/report',
  '/results/42',
  'https:/evil.example.com',
  ' https://example.com/report',
  'https://example.com/report\nInjected line',
  'https://example.com/re\tport',
  'https://lever.co@evil.example.com/report',
  'https://user:pass@example.com/report',
  'https://',
];

describe('safeUrlSchema: the one rule for every URL we call or write', () => {
  it('refuses javascript:, data: and every other scheme, relative and mangled URLs, and user:password', () => {
    for (const value of HOSTILE) {
      expect([value, safeUrlSchema.safeParse(value).success]).toEqual([value, false]);
    }
  });

  it('accepts https:// URLs; http:// only with ALLOW_HTTP_URLS=true, and never with NODE_ENV=production', async () => {
    expect(safeUrlSchema.safeParse('https://api.lever.co/v1').success).toBe(true);
    expect(safeUrlSchema.safeParse('HTTPS://Results.Example.com/r/42?token=a%20b#x').success).toBe(true);
    const http = 'http://127.0.0.1:4010/v1';
    await withEnv({ ALLOW_HTTP_URLS: undefined, NODE_ENV: undefined }, () => {
      const refused = safeUrlSchema.safeParse(http);
      expect(refused.success).toBe(false);
      expect(refused.error?.issues[0]?.message).toBe(
        'must be an https:// URL (http:// only with ALLOW_HTTP_URLS=true, never in production)',
      );
    });
    await withEnv({ ALLOW_HTTP_URLS: 'false' }, () =>
      expect(safeUrlSchema.safeParse(http).success).toBe(false),
    );
    await withEnv({ ALLOW_HTTP_URLS: 'true', NODE_ENV: 'production' }, () =>
      expect(safeUrlSchema.safeParse(http).success).toBe(false),
    );
    await withEnv({ ALLOW_HTTP_URLS: 'true', NODE_ENV: 'test' }, () =>
      expect(safeUrlSchema.safeParse(http).success).toBe(true),
    );
  });

  it('names the problem without quoting the value', () => {
    const result = safeUrlSchema.safeParse('javascript:alert("secret-value")');
    expect(JSON.stringify(result.error?.issues)).not.toContain('secret-value');
  });
});

describe('links a vendor hands us (offeredLinkSchema)', () => {
  it('keeps a safe link and drops any other, marking it refused instead of failing the answer', () => {
    expect(offeredLinkSchema.parse('https://results.example.com/r/1')).toEqual({
      url: 'https://results.example.com/r/1',
      refused: false,
    });
    for (const value of HOSTILE) {
      expect([value, offeredLinkSchema.parse(value)]).toEqual([value, { url: null, refused: true }]);
    }
  });

  it('is what the Justifacts, VICTIG and Justworks clients parse their links with', () => {
    const order = {
      orderId: 'o-1',
      status: 'COMPLETED',
      reference: 'opp-1',
      package: { code: 'EmpCod', id: '13558' },
    };
    expect(justifactsOrderSchema.parse({ ...order, resultUrl: 'javascript:alert(1)' }).resultUrl).toEqual({
      url: null,
      refused: true,
    });
    expect(justifactsOrderSchema.parse({ ...order, resultUrl: null }).resultUrl).toBeNull();
    expect(
      victigResultsSchema.parse({
        summary: 's',
        flagged: false,
        decision: 'd',
        reportUrl: 'data:text/html,x',
      }).reportUrl,
    ).toEqual({ url: null, refused: true });
    const hire = pendingHireRecordSchema.safeParse({
      external_id: 'opp-1',
      member_type: null,
      first_name: 'Ada',
      last_name: 'Lovelace',
      home_email: 'ada@example.com',
      title: null,
      department: null,
      office: null,
      manager: null,
      start_date: null,
      compensation: null,
      exemption_status: null,
      id: 'ph-1',
      status: 'pending',
      review_url: 'javascript:fetch("//evil.example.com")',
      created_at: '2025-01-01T00:00:00Z',
    });
    expect(hire.data?.review_url).toEqual({ url: null, refused: true });
  });

  it('Ashby gets no assessment_profile_url that is not https', () => {
    expect(() => profileUrlField('javascript:alert(1)')).toThrow(TypeError);
    expect(profileUrlField('https://results.example.com/r/1').value).toBe('https://results.example.com/r/1');
  });

  it('the Justworks e-mail and note without a review link say where to review instead', () => {
    const review = { candidateName: 'Ada Lovelace', reviewUrl: null, companyName: 'Acme' };
    expect(hireNotificationText(review)).toContain('Review the pending hire in Justworks');
    expect(hireNotificationHtml(review)).not.toContain('href');
    expect(onboardingNoteText({ kind: 'created', reviewUrl: null, notified: 2, omitted: [] })).toBe(
      'Justworks: a pending hire was created for this hire and 2 Justworks admin(s) with "Manage employees" ' +
        'were e-mailed to review it in Justworks (Manage > Employees > Pending hire). The review link Justworks ' +
        'gave is not a safe https:// link, so it was left out.',
    );
  });
});

describe('connection base URLs', () => {
  const vendors: Record<string, Record<string, unknown>> = {
    certn: {
      type: 'certn',
      apiKey: 'k',
      webhookSecret: 's',
      packages: [{ name: 'Basic', packageId: 'p', default: true }],
    },
    justifacts: { type: 'justifacts', apiKey: 'k', callbackSecret: 's', packages: [] },
    victig: {
      type: 'victig',
      accountId: 'acct',
      apiKey: 'k',
      callbackSecret: 's',
      defaultProduct: 'Criminal Package 1',
    },
    justworks: { type: 'justworks', apiKey: 'k' },
  };
  const issuePaths = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
    (result.error?.issues ?? []).map((i) => i.path.join('.'));

  it('are https:// for Lever, Ashby and every vendor: other schemes are refused, naming apiBaseUrl', async () => {
    await withEnv({ ALLOW_HTTP_URLS: undefined }, () => {
      for (const apiBaseUrl of [
        'http://api.vendor.example.com',
        'ftp://api.vendor.example.com',
        ...HOSTILE,
      ]) {
        const lever = leverConnectionInputSchema.safeParse({ apiBaseUrl, apiKey: 'k', signatureToken: 's' });
        expect([apiBaseUrl, issuePaths(lever)]).toEqual([apiBaseUrl, ['apiBaseUrl']]);
        const ashby = ashbyConnectionInputSchema.safeParse({ apiBaseUrl, apiKey: 'k' });
        expect([apiBaseUrl, issuePaths(ashby)]).toEqual([apiBaseUrl, ['apiBaseUrl']]);
        for (const [type, input] of Object.entries(vendors)) {
          const schema = integrationFor(type)!.connectionInputSchema;
          expect([type, apiBaseUrl, issuePaths(schema.safeParse({ ...input, apiBaseUrl }))]).toEqual([
            type,
            apiBaseUrl,
            ['apiBaseUrl'],
          ]);
        }
      }
      for (const [type, input] of Object.entries(vendors)) {
        const schema = integrationFor(type)!.connectionInputSchema;
        expect([type, schema.safeParse({ ...input, apiBaseUrl: 'https://api.example.com' }).success]).toEqual(
          [type, true],
        );
      }
    });
  });

  it('may be http:// for the sandbox emulators with ALLOW_HTTP_URLS=true', async () => {
    await withEnv({ ALLOW_HTTP_URLS: 'true' }, () => {
      const apiBaseUrl = 'http://127.0.0.1:4010/v1';
      expect(
        leverConnectionInputSchema.safeParse({ apiBaseUrl, apiKey: 'k', signatureToken: 's' }).success,
      ).toBe(true);
      for (const [type, input] of Object.entries(vendors)) {
        const schema = integrationFor(type)!.connectionInputSchema;
        expect([type, schema.safeParse({ ...input, apiBaseUrl }).success]).toEqual([type, true]);
      }
    });
  });
});

describe('ALLOW_HTTP_URLS in production', () => {
  const started: ChildProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((child) => stopProcess(child, 'SIGKILL')));
  });

  it('is refused by the check both processes run at start', () => {
    expect(() => checkUrlPolicy({ NODE_ENV: 'production', ALLOW_HTTP_URLS: true })).toThrow(
      'Invalid configuration: ALLOW_HTTP_URLS: not allowed when NODE_ENV is production',
    );
    expect(() => checkUrlPolicy({ NODE_ENV: 'production', ALLOW_HTTP_URLS: false })).not.toThrow();
    expect(() => checkUrlPolicy({ NODE_ENV: 'development', ALLOW_HTTP_URLS: true })).not.toThrow();
  });

  it.each([
    ['src/worker.ts', { SMTP_URL: 'smtp://mail.example.com:587' }],
    ['src/main.ts', { ADMIN_TOKEN: 'admin-token-0123456789' }],
  ] as const)('%s exits non-zero at start, naming it', async (entry, env) => {
    const child = startServiceProcess(
      entry,
      { ...env, NODE_ENV: 'production', ALLOW_HTTP_URLS: 'true' },
      { captureStderr: true },
    );
    started.push(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toContain('ALLOW_HTTP_URLS: not allowed when NODE_ENV is production');
  });
});
