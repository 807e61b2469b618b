import { randomBytes } from 'node:crypto';
import { startStack, ADMIN_TOKEN, type Stack } from '../support/stack';
import { eventually } from '../support/waits';

/** `expect.any(String)` without the `any` type. */
const anyString: unknown = expect.any(String);

interface PublicConnection {
  id: string;
  name: string;
  webhookUrl: string;
  vendorCallbackUrl: string;
  atsSettings: { triggerStageId: string; triggerStageName?: string };
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

describe('admin API over HTTP', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const connectionCount = async () =>
    Number((await stack.pool.query<{ n: string }>('SELECT count(*) AS n FROM connections')).rows[0]?.n);

  /** A valid connection body with fresh, recognisable secrets; the Lever key is known to the emulator. */
  function connectionInput() {
    const secrets = {
      leverApiKey: `lever-secret-key-${randomBytes(8).toString('hex')}`,
      signatureToken: `lever-signature-token-${randomBytes(8).toString('hex')}`,
      certnApiKey: `certn-secret-key-${randomBytes(8).toString('hex')}`,
      webhookSecret: `certn-webhook-secret-${randomBytes(8).toString('hex')}`,
    };
    stack.lever.addApiKey(secrets.leverApiKey);
    const team = stack.certn.addTeam({
      apiKey: secrets.certnApiKey,
      packages: [
        { name: 'Basic', check_types: ['IDENTITY_VERIFICATION', 'CRIMINAL_RECORD_CHECK'] },
        { name: 'Executive Screening', check_types: ['IDENTITY_VERIFICATION', 'CREDIT_CHECK'] },
      ],
    });
    const body = {
      name: 'Acme Corp',
      lever: {
        apiBaseUrl: stack.lever.apiBaseUrl,
        apiKey: secrets.leverApiKey,
        signatureToken: secrets.signatureToken,
        triggerStageName: 'Background Check',
      },
      vendor: {
        type: 'certn',
        apiBaseUrl: stack.certn.apiBaseUrl,
        apiKey: secrets.certnApiKey,
        webhookSecret: secrets.webhookSecret,
        packages: team.packages.map((p, i) => ({ name: p.name, packageId: p.id, default: i === 0 })),
      },
    };
    return { body, secrets };
  }

  function expectProblem(
    res: { status: number; contentType: string | null; body: unknown },
    status: number,
  ): Problem {
    expect(res.status).toBe(status);
    expect(res.contentType).toContain('application/problem+json');
    const problem = res.body as Problem;
    expect(problem).toMatchObject({ status, title: anyString, detail: anyString });
    return problem;
  }

  function expectNoSecrets(json: unknown, secrets: Record<string, string>) {
    const text = JSON.stringify(json);
    for (const [name, value] of Object.entries(secrets)) {
      expect({ name, leaked: text.includes(value) }).toEqual({ name, leaked: false });
    }
  }

  describe('authentication', () => {
    const routes: [string, string][] = [
      ['GET', '/admin/connections'],
      ['POST', '/admin/connections'],
      ['GET', '/admin/connections/conn_x'],
      ['GET', '/admin/connections/conn_x/checks/opp_x'],
    ];
    const headerCases: [string, Record<string, string>][] = [
      ['no Authorization header', {}],
      ['a wrong bearer token', { Authorization: 'Bearer not-the-admin-token' }],
      ['the right token with another scheme', { Authorization: `Basic ${ADMIN_TOKEN}` }],
      ['a token that only starts like the right one', { Authorization: `Bearer ${ADMIN_TOKEN}x` }],
      ['an empty bearer token', { Authorization: 'Bearer ' }],
    ];

    it.each(headerCases)(
      'answers %s with 401 problem+json and WWW-Authenticate: Bearer',
      async (_label, headers) => {
        const before = await connectionCount();
        const { body } = connectionInput();
        for (const [method, path] of routes) {
          const res = await fetch(`${stack.api.url}${path}`, {
            method,
            headers: { 'Content-Type': 'application/json', ...headers },
            body: method === 'POST' ? JSON.stringify(body) : undefined,
          });
          expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
          expect(res.headers.get('www-authenticate')).toBe('Bearer');
          expect(res.headers.get('content-type')).toContain('application/problem+json');
          expect(((await res.json()) as Problem).status).toBe(401);
        }
        expect(await connectionCount()).toBe(before);
      },
    );

    it('accepts the admin token', async () => {
      const res = await stack.adminFetch('/admin/connections');
      expect(res.status).toBe(200);
    });
  });

  describe('creating and reading connections', () => {
    it('returns 201 with the webhook URL and the vendor callback URL, and never shows a secret', async () => {
      const { body, secrets } = connectionInput();
      const created = await stack.adminFetch('/admin/connections', { method: 'POST', body });
      expect(created.status).toBe(201);
      const connection = created.body as PublicConnection;
      expect(connection.id).toEqual(anyString);
      expect(connection.name).toBe('Acme Corp');
      expect(connection.webhookUrl).toBe(`${stack.api.url}/webhooks/lever/${connection.id}`);
      expect(connection.webhookUrl.endsWith(`/webhooks/lever/${connection.id}`)).toBe(true);
      expect(connection.vendorCallbackUrl).toBe(`${stack.api.url}/callbacks/certn/${connection.id}`);
      expect(connection.atsSettings.triggerStageId).toBe(stack.lever.stageIdByName('Background Check'));
      expectNoSecrets(created.body, secrets);

      const one = await stack.adminFetch(`/admin/connections/${connection.id}`);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(created.body);
      expectNoSecrets(one.body, secrets);

      const all = await stack.adminFetch('/admin/connections');
      expect(all.status).toBe(200);
      const list = (all.body as { connections: PublicConnection[] }).connections;
      expect(list.map((c) => c.id)).toContain(connection.id);
      expectNoSecrets(all.body, secrets);

      // The webhook URL is the one to paste into Lever: Lever's "Verify Connection" is answered 2xx.
      const webhook = stack.lever.addWebhook({
        event: 'candidateStageChange',
        url: connection.webhookUrl,
        signatureToken: secrets.signatureToken,
      });
      const verify = await stack.lever.verifyConnection(webhook.id);
      stack.lever.removeWebhook(webhook.id);
      expect(verify.attempts.at(-1)?.status).toBe(200);
    });

    it('answers an unknown connection with 404 problem+json', async () => {
      expectProblem(await stack.adminFetch('/admin/connections/conn_doesnotexist'), 404);
    });

    type Input = ReturnType<typeof connectionInput>['body'];
    const invalidBodies: [string, (input: Input) => unknown, string][] = [
      [
        'without lever.apiKey',
        (input) => ({ ...input, lever: { ...input.lever, apiKey: undefined } }),
        'lever.apiKey',
      ],
      [
        'with two default packages',
        (input) => ({
          ...input,
          vendor: { ...input.vendor, packages: input.vendor.packages.map((p) => ({ ...p, default: true })) },
        }),
        'packages',
      ],
      [
        'with no default package',
        (input) => ({
          ...input,
          vendor: { ...input.vendor, packages: input.vendor.packages.map((p) => ({ ...p, default: false })) },
        }),
        'packages',
      ],
      [
        'with an empty package list',
        (input) => ({ ...input, vendor: { ...input.vendor, packages: [] } }),
        'packages',
      ],
      [
        'without packages',
        (input) => ({ ...input, vendor: { ...input.vendor, packages: undefined } }),
        'packages',
      ],
      ['without a name', (input) => ({ ...input, name: undefined }), 'name'],
    ];

    it.each(invalidBodies)(
      'rejects a connection %s with 400 problem+json and an errors array',
      async (_label, change, path) => {
        const before = await connectionCount();
        const { body } = connectionInput();
        const res = await stack.adminFetch('/admin/connections', { method: 'POST', body: change(body) });
        const problem = expectProblem(res, 400);
        expect(Array.isArray(problem.errors)).toBe(true);
        expect(problem.errors!.length).toBeGreaterThan(0);
        expect(problem.errors!.some((e) => e.path.includes(path) && typeof e.message === 'string')).toBe(
          true,
        );
        expect(await connectionCount()).toBe(before);
      },
    );

    it('rejects a body that is not JSON with 400 problem+json', async () => {
      const res = await fetch(`${stack.api.url}/admin/connections`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: '{"name": ',
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    });

    it('rejects an unknown vendor type with 422 problem+json', async () => {
      const before = await connectionCount();
      const { body } = connectionInput();
      const res = await stack.adminFetch('/admin/connections', {
        method: 'POST',
        body: { ...body, vendor: { ...body.vendor, type: 'acme-checks' } },
      });
      expectProblem(res, 422);
      expect(await connectionCount()).toBe(before);
    });

    it('rejects a trigger stage name that Lever does not have with 422 problem+json', async () => {
      const before = await connectionCount();
      const { body } = connectionInput();
      const res = await stack.adminFetch('/admin/connections', {
        method: 'POST',
        body: { ...body, lever: { ...body.lever, triggerStageName: 'Reference Check' } },
      });
      const problem = expectProblem(res, 422);
      expect(problem.detail).toContain('Reference Check');
      expect(await connectionCount()).toBe(before);
    });

    it('rejects a Lever API key that Lever refuses with 422 problem+json', async () => {
      const before = await connectionCount();
      const { body, secrets } = connectionInput();
      stack.lever.revokeApiKey(secrets.leverApiKey);
      const refused = await stack.adminFetch('/admin/connections', { method: 'POST', body });
      expectProblem(refused, 422);
      expectNoSecrets(refused.body, secrets);

      const unknown = await stack.adminFetch('/admin/connections', {
        method: 'POST',
        body: { ...body, lever: { ...body.lever, apiKey: 'a-key-lever-never-issued' } },
      });
      expectProblem(unknown, 422);
      expect(await connectionCount()).toBe(before);
    });
    it('rejects a refused Lever API key with 422 also when the trigger stage is given by id', async () => {
      const before = await connectionCount();
      const { body, secrets } = connectionInput();
      stack.lever.revokeApiKey(secrets.leverApiKey);
      const lever = { ...body.lever, triggerStageName: undefined };
      const res = await stack.adminFetch('/admin/connections', {
        method: 'POST',
        body: { ...body, lever: { ...lever, triggerStageId: stack.lever.stageIdByName('Background Check') } },
      });
      expectProblem(res, 422);
      expect(await connectionCount()).toBe(before);
    });

    it('rejects a trigger stage id that Lever does not have with 422', async () => {
      const before = await connectionCount();
      const { body } = connectionInput();
      const lever = { ...body.lever, triggerStageName: undefined };
      const res = await stack.adminFetch('/admin/connections', {
        method: 'POST',
        body: { ...body, lever: { ...lever, triggerStageId: 'stage-that-does-not-exist' } },
      });
      expectProblem(res, 422);
      expect(await connectionCount()).toBe(before);
    });
  });

  describe('looking at a check', () => {
    it('returns the live state and the status log of an opportunity’s check; 404 when there is none', async () => {
      const conn = await stack.createConnection();
      const posting = stack.lever.createPosting({ text: 'Data Engineer' });
      const opp = stack.lever.createOpportunity({
        name: 'Katherine Johnson',
        emails: [`katherine-${randomBytes(6).toString('hex')}@example.com`],
        postingId: posting.id,
        stageId: stack.lever.stageIdByName('Phone screen'),
      });
      const [delivery] = await stack.lever.moveToStage(opp.id, stack.lever.stageIdByName('Background Check'));
      expect(delivery?.attempts.at(-1)?.status).toBe(202);
      const path = `/admin/connections/${conn.id}/checks/${opp.id}`;

      interface CheckView {
        workflowId: string;
        state: { status: string; packageName?: string; externalId?: string; history: { status: string }[] };
        log: { runId: string; seq: number; status: string; detail: string | null }[];
      }
      const pending = await eventually(
        async () => {
          const res = await stack.adminFetch(path);
          const view = res.body as CheckView;
          return res.status === 200 && view.log.length === 1 ? view : undefined;
        },
        30_000,
        'the check to be Pending',
      );
      const caseId = stack.certn.cases().find((c) => c.external_reference === opp.id)?.id;
      expect(caseId).toBeDefined();
      expect(pending.workflowId).toBe(`check:${conn.id}:${opp.id}`);
      expect(pending.state).toMatchObject({ status: 'Pending', packageName: 'Basic', externalId: caseId });
      expect(pending.state.history.map((e) => e.status)).toEqual(['Pending']);
      expect(pending.log).toEqual([{ runId: anyString, seq: 1, status: 'Pending', detail: anyString }]);

      await stack.certn.setStatus(caseId!, 'APPLICANT_SUBMITTED');
      const analyzing = await eventually(
        async () => {
          const view = (await stack.adminFetch(path)).body as CheckView;
          return view.state.status === 'Analyzing' && view.log.length === 2 ? view : undefined;
        },
        30_000,
        'the check to be Analyzing',
      );
      expect(analyzing.state.history.map((e) => e.status)).toEqual(['Pending', 'Analyzing']);
      expect(analyzing.log.map((l) => [l.seq, l.status, l.detail])).toEqual([
        [1, 'Pending', pending.log[0]?.detail],
        [2, 'Analyzing', 'APPLICANT_SUBMITTED'],
      ]);
      expect(new Set(analyzing.log.map((l) => l.runId)).size).toBe(1);
      expect(JSON.stringify(analyzing)).not.toContain(conn.leverApiKey);

      expectProblem(await stack.adminFetch(`/admin/connections/${conn.id}/checks/opp-never-seen`), 404);
      expectProblem(await stack.adminFetch(`/admin/connections/conn_doesnotexist/checks/${opp.id}`), 404);
    });
  });
});
