import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Connection, type TLSConfig } from '@temporalio/client';
import { startCertnEmulator, type RunningCertnEmulator } from '../../sandbox/certn-emulator';
import { startLeverEmulator, type RunningLeverEmulator } from '../../sandbox/lever-emulator';
import { freePort } from '../../src/temporal/dev-server-process';
import { connectLeverToCertn } from '../support/connect-certn';
import { startServiceProcess, stopProcess } from '../support/service-process';
import { eventually } from '../support/waits';
import { SERVER_NAME, testCertificates } from '../support/tls-certificates';

/**
 * The dev server has no TLS flags, so this stands in for a Temporal frontend that requires mTLS: a TLS server that
 * only accepts client certificates of its CA, piping each accepted connection to the dev server.
 */
async function mtlsProxy(options: { cert: Buffer; key: Buffer; ca: Buffer; upstream: string }) {
  const [host, port] = options.upstream.split(':');
  const sockets = new Set<net.Socket>();
  const accepted: string[] = [];
  const refused: string[] = [];
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = tls.createServer(
    { ...options, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (socket) => {
      track(socket);
      accepted.push(String(socket.getPeerCertificate().subject?.CN));
      const upstream = net.connect(Number(port), host);
      track(upstream);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  server.on('tlsClientError', (err, socket) => {
    refused.push(err.message);
    socket.destroy();
  });
  server.on('connection', track);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${address.port}`,
    accepted,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * mTLS between the service and Temporal (issue 9): the API's client and the worker, configured with
 * TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME, run a check through a frontend that requires client certificates; a
 * client without one, or with one from another CA, is refused.
 */
describe('mTLS to Temporal (TEMPORAL_TLS_*)', () => {
  let dir: string;
  let certs: ReturnType<typeof testCertificates>;
  let proxy: Awaited<ReturnType<typeof mtlsProxy>>;
  let lever: RunningLeverEmulator;
  let certn: RunningCertnEmulator;
  const processes: ChildProcess[] = [];
  const read = (file: string) => readFileSync(file);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bgc-mtls-'));
    certs = testCertificates(dir);
    proxy = await mtlsProxy({
      cert: read(certs.server.cert),
      key: read(certs.server.key),
      ca: read(certs.ca.cert),
      upstream: process.env.TEMPORAL_ADDRESS ?? '',
    });
    lever = await startLeverEmulator({ webhookRetryDelaysMs: [200, 400, 800, 1600] });
    certn = await startCertnEmulator({ autoAdvanceMs: 300, webhookRetryDelaysMs: [200, 1000] });
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => stopProcess(p, 'SIGKILL')));
    await Promise.all([lever?.close(), certn?.close(), proxy?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Connects (and closes again) a client with these TLS settings; rejects when the handshake is refused. */
  async function connect(tlsConfig: TLSConfig | undefined): Promise<void> {
    const connection = await Connection.connect({
      address: proxy.address,
      tls: tlsConfig,
      connectTimeout: 3_000,
      channelArgs: { 'grpc.use_local_subchannel_pool': 1 },
    });
    await connection.close();
  }

  it('refuses a client without a certificate, with one from another CA, or without TLS', async () => {
    const trustServer = { serverRootCACertificate: read(certs.ca.cert), serverNameOverride: SERVER_NAME };
    await expect(connect(trustServer)).rejects.toThrow();
    expect(proxy.refused.length).toBeGreaterThanOrEqual(1);
    const refusedBefore = proxy.refused.length;
    await expect(
      connect({
        ...trustServer,
        clientCertPair: { crt: read(certs.outsider.cert), key: read(certs.outsider.key) },
      }),
    ).rejects.toThrow();
    expect(proxy.refused.length).toBeGreaterThan(refusedBefore);
    await expect(connect(undefined)).rejects.toThrow();
    expect(proxy.accepted).toEqual([]);
    // The same client with a certificate of the CA gets through.
    await connect({
      ...trustServer,
      clientCertPair: { crt: read(certs.api.cert), key: read(certs.api.key) },
    });
    expect(proxy.accepted).toContain('bgc-api');
  });

  it('runs a Lever → Certn check with the API and the worker connected through mTLS', async () => {
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const adminToken = `mtls-${randomBytes(12).toString('hex')}`;
    const common = {
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_TASK_QUEUE: `mtls-${randomBytes(4).toString('hex')}`,
      // The CA as PEM text; the server's certificate names temporal.test, not the proxy's 127.0.0.1.
      TEMPORAL_TLS_CA: read(certs.ca.cert).toString('utf8'),
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      ADMIN_TOKEN: adminToken,
      API_PORT: String(apiPort),
      PUBLIC_BASE_URL: apiUrl,
      VENDOR_POLL_INTERVAL_MS: '2000',
      SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
    };
    // The API's client certificate and key as file paths, the worker's as PEM text.
    processes.push(
      startServiceProcess('src/main.ts', {
        ...common,
        TEMPORAL_TLS_CERT: certs.api.cert,
        TEMPORAL_TLS_KEY: certs.api.key,
      }),
      startServiceProcess('src/worker.ts', {
        ...common,
        TEMPORAL_TLS_CERT: read(certs.worker.cert).toString('utf8'),
        TEMPORAL_TLS_KEY: read(certs.worker.key).toString('utf8'),
      }),
    );
    await eventually(
      async () => ((await fetch(`${apiUrl}/healthz`)).ok ? true : undefined),
      60_000,
      'the API',
    );

    await connectLeverToCertn({ apiUrl, adminToken, lever, certn, name: 'mTLS customer' });

    const opp = lever.createOpportunity({ name: 'Tess Ellis', emails: ['tess.mtls@example.com'] });
    const [delivery] = await lever.moveToStage(opp.id, lever.stageIdByName('Background Check'));
    expect(delivery?.delivered).toBe(true);
    await eventually(
      () => (lever.opportunity(opp.id).tags.includes('CERTN - Complete') ? true : undefined),
      90_000,
      'CERTN - Complete',
    );
    // Both processes went through the proxy, each with its own certificate.
    expect(new Set(proxy.accepted)).toEqual(new Set(['bgc-api', 'bgc-worker']));
  });
});
