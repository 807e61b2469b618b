import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure } from '../../src/activities/errors';
import { resolveConnection } from '../../src/api/connection-input';
import { AshbyClient, statusUpdate } from '../../src/ats/ashby/client';
import { baseConfigSchema } from '../../src/config';
import {
  ExternalApiError,
  httpLimitsOf,
  requestJson,
  type HttpLimits,
} from '../../src/integrations/http-client';
import { LeverClient } from '../../src/ats/lever/client';
import { LeverRateLimiter } from '../../src/ats/lever/rate-limiter';
import { certnAdapter } from '../../src/vendors/certn/adapter';
import { JustifactsClient } from '../../src/vendors/justifacts/client';
import { JustworksClient } from '../../src/vendors/justworks/client';
import { VictigClient, type VictigOrderRequest } from '../../src/vendors/victig/client';
import { applyUrlPolicyFromEnv } from '../support/url-policy';

/**
 * What every ATS and vendor client does with the answers of a server it is pointed at (a connection's base URL is
 * set by whoever holds the admin token): real HTTP servers on 127.0.0.1 that redirect, send an endless body, or
 * answer odd statuses.
 */

interface TestServer {
  url: string;
  /** Requests received, as `METHOD path`. */
  hits: string[];
  close(): Promise<void>;
}

async function serve(handler: http.RequestListener): Promise<TestServer> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** The rejection of `promise` (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

const victigOrder: VictigOrderRequest = {
  product: 'Criminal Package 1',
  subClientCode: null,
  reference: null,
  applicant: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: null },
  position: { title: null, department: null, location: null },
  tags: [],
  externalId: 'check-1',
};

/** One call of each client against `base`, named; `limits` as the entry points pass them (default: none). */
function everyClient(base: string, limits?: HttpLimits): [string, () => Promise<unknown>][] {
  const certn = certnAdapter.client(
    { apiBaseUrl: base, packages: [{ name: 'Basic', packageId: 'p', default: true }] },
    { apiKey: 'certn-key', webhookSecret: 'whsec' },
    limits,
  );
  return [
    ['requestJson', () => requestJson('Vendor', `${base}/v1/thing`, { timeoutMs: 10_000, limits })],
    [
      'Lever',
      () => new LeverClient(base, 'lever-key', { rateLimiter: new LeverRateLimiter(), limits }).listStages(),
    ],
    [
      'Ashby',
      () =>
        new AshbyClient(base, 'ashby-key', { timeoutMs: 10_000, limits }).updateAssessment(
          statusUpdate('asm-1', 'Started', 1),
        ),
    ],
    [
      'VICTIG order',
      () => new VictigClient(base, 'acct', 'victig-key', { limits }).createOrder(victigOrder, 'key-1'),
    ],
    ['VICTIG read', () => new VictigClient(base, 'acct', 'victig-key', { limits }).getOrder('o-1')],
    ['Justifacts', () => new JustifactsClient(base, 'jf-key', { limits }).getOrder('o-1')],
    ['Justworks', () => new JustworksClient(base, 'jw-key', { timeoutMs: 10_000, limits }).getCompany()],
    ['Certn', () => certn.progress('case-1')],
  ];
}

describe('redirects from an ATS or vendor are never followed', () => {
  let target: TestServer;
  let redirector: TestServer;
  beforeAll(async () => {
    // Where a redirect would lead: it answers anything with a plausible body, so only its hits tell.
    target = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"success":true,"data":[]}');
    });
    // 307 keeps the method and the body: a client following it would send the order (and the key) on.
    redirector = await serve((req, res) => {
      res.writeHead(307, { Location: `${target.url}${req.url}` }).end();
    });
  });
  afterAll(async () => {
    await Promise.all([target?.close(), redirector?.close()]);
  });

  it.each([
    'requestJson',
    'Lever',
    'Ashby',
    'VICTIG order',
    'VICTIG read',
    'Justifacts',
    'Justworks',
    'Certn',
  ])('%s: the 3xx is the answer, a permanent failure, and the redirect target gets nothing', async (name) => {
    const call = everyClient(redirector.url).find(([n]) => n === name)![1];
    const before = redirector.hits.length;
    const err = await rejection(call());
    expect(err).toBeInstanceOf(ExternalApiError);
    expect((err as ExternalApiError).status).toBe(307);
    expect((err as ExternalApiError).permanent).toBe(true);
    expect(redirector.hits.length).toBe(before + 1);
    expect(target.hits).toEqual([]);
  });

  it('an activity meeting one fails at once, not retried, saying to check the base URL', () => {
    const failure = toActivityFailure(
      new ExternalApiError('Certn', 302, 'Certn answered 302: no error message'),
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).message).toContain(
      "redirects are not followed: check the connection's Certn base URL",
    );
  });
});

describe('response bodies are read up to VENDOR_RESPONSE_LIMIT_BYTES, never buffered whole', () => {
  const LIMIT = 64 * 1024;
  /** VENDOR_RESPONSE_LIMIT_BYTES as src/main.ts and src/worker.ts pass it to the clients. */
  const limits = httpLimitsOf(
    baseConfigSchema
      .pick({ VENDOR_REQUEST_TIMEOUT_MS: true, VENDOR_RESPONSE_LIMIT_BYTES: true })
      .parse({ VENDOR_RESPONSE_LIMIT_BYTES: String(LIMIT) }),
  );
  /** Settles when a response of the endless server closes, with whether it had been written out. */
  let closes: Promise<boolean>[] = [];
  let endless: TestServer;
  let declared: TestServer;
  let small: TestServer;

  beforeAll(async () => {
    // Writes JSON whitespace for as long as the client reads: only a client that stops reading ends it.
    endless = await serve((_req, res) => {
      closes.push(new Promise((resolve) => res.once('close', () => resolve(res.writableFinished))));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, ' ');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    // Announces 10 GB, sends a little, then nothing: only a client that believes the header stops at once.
    declared = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(10 * 1024 ** 3) });
      res.write(' ');
    });
    small = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ data: [] }));
    });
  });
  afterAll(async () => {
    await Promise.all([endless?.close(), declared?.close(), small?.close()]);
  });

  it.each(['requestJson', 'Lever', 'Ashby', 'VICTIG order', 'Certn'])(
    '%s: an endless body is refused once past the limit, and the connection is dropped',
    async (name) => {
      closes = [];
      const call = everyClient(endless.url, limits).find(([n]) => n === name)![1];
      const err = await rejection(call());
      expect(err).toBeInstanceOf(ExternalApiError);
      expect((err as Error).message).toMatch(new RegExp(`answered with a body over ${LIMIT} bytes$`));
      expect(closes).toHaveLength(1);
      // The server saw its response cut off by the client, not written out.
      expect(await closes[0]).toBe(false);
    },
  );

  it('a body announced larger than the limit is refused without waiting for it', async () => {
    const err = await rejection(
      requestJson('Vendor', `${declared.url}/v1/thing`, { timeoutMs: 60_000, limits }),
    );
    expect((err as Error).message).toBe(`Vendor answered with a body over ${LIMIT} bytes`);
  });

  it('a body within the limit is read as before', async () => {
    expect(await requestJson('Vendor', `${small.url}/v1/thing`, { limits })).toEqual({ data: [] });
  });
});

describe('http:// base URLs are called only with ALLOW_HTTP_URLS=true', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"success":true,"data":[]}');
    });
  });
  // The policy a process applies at start from its environment (src/main.ts, src/worker.ts), with or without it.
  const withoutIt = () => applyUrlPolicyFromEnv({ ...process.env, ALLOW_HTTP_URLS: undefined });
  const withIt = () => applyUrlPolicyFromEnv({ ...process.env, ALLOW_HTTP_URLS: 'true' });
  afterEach(() => applyUrlPolicyFromEnv());
  afterAll(async () => {
    await server?.close();
  });

  it.each(['requestJson', 'Lever', 'Ashby', 'VICTIG order', 'Justifacts', 'Justworks', 'Certn'])(
    '%s: nothing is sent to an http:// base URL without it, and the failure is permanent',
    async (name) => {
      withoutIt();
      const call = everyClient(server.url).find(([n]) => n === name)![1];
      const err = await rejection(call());
      expect(err).toBeInstanceOf(ExternalApiError);
      expect((err as ExternalApiError).permanent).toBe(true);
      expect((err as Error).message).toMatch(
        /was not called: the connection's .+ URL must be an https:\/\/ URL/,
      );
      expect(server.hits).toEqual([]);
    },
  );

  it('a check meeting one stops at once (not retried) and its note says to fix the connection', async () => {
    withoutIt();
    const call = everyClient(server.url).find(([n]) => n === 'Certn')![1];
    const failure = toActivityFailure(await rejection(call()));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).message).toContain(
      "update the connection's Certn settings: every Certn URL must be https://",
    );
    expect(server.hits).toEqual([]);
  });

  it('with it (the sandbox emulators), they are called', async () => {
    withIt();
    expect(await requestJson('Vendor', `${server.url}/v1/thing`)).toEqual({ success: true, data: [] });
    expect(server.hits).toEqual(['GET /v1/thing']);
  });
});

describe('creating a connection tells nothing about what answers at its base URL', () => {
  let answers: TestServer;
  let target: TestServer;
  let status = 418;
  beforeAll(async () => {
    target = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"data":[]}');
    });
    answers = await serve((req, res) => {
      if (req.url?.startsWith('/redirect')) {
        res.writeHead(302, { Location: `${target.url}/stages` }).end();
        return;
      }
      res.writeHead(status, { 'Content-Type': 'application/json' }).end('{"message":"internal detail"}');
    });
  });
  afterAll(async () => {
    await Promise.all([answers?.close(), target?.close()]);
  });

  const body = (apiBaseUrl: string) => ({
    name: 'Probe',
    lever: { apiBaseUrl, apiKey: 'k', signatureToken: 's', triggerStageName: 'Background Check' },
    vendor: {
      type: 'certn',
      apiBaseUrl: 'https://api.certn.co',
      apiKey: 'k',
      webhookSecret: 's',
      packages: [{ name: 'Basic', packageId: 'p', default: true }],
    },
  });

  it.each([404, 418, 431, 451])('Lever answering %s: the refusal does not echo the status', async (code) => {
    status = code;
    const refusal = await resolveConnection(body(answers.url));
    expect(refusal).toMatchObject({ ok: false, status: 422 });
    expect(JSON.stringify(refusal)).not.toContain(String(code));
    expect(JSON.stringify(refusal)).not.toContain('internal detail');
  });

  it('a redirecting Lever base URL is refused without following it', async () => {
    const refusal = await resolveConnection(body(`${answers.url}/redirect`));
    expect(refusal).toMatchObject({ ok: false, status: 422 });
    expect(JSON.stringify(refusal)).not.toContain('302');
    expect(target.hits).toEqual([]);
  });

  it('a javascript: base URL is refused before anything is called, naming the field', async () => {
    const before = answers.hits.length;
    const refusal = await resolveConnection(body('javascript:fetch("//evil.example.com")'));
    expect(refusal).toMatchObject({
      ok: false,
      status: 400,
      errors: [{ path: 'lever.apiBaseUrl', message: 'must be an absolute https:// URL' }],
    });
    expect(answers.hits.length).toBe(before);
  });
});
