import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningLoadBalancer {
  url: string;
  /** Requests answered by each upstream (by its URL), and requests no upstream could take. */
  counts(): { byUpstream: Record<string, number>; unavailable: number };
  close(): Promise<void>;
}

/**
 * What stands in front of several API processes in production (a load balancer on the API's port): requests go
 * round-robin to the upstreams; one that refuses the connection (a restarting API) is skipped and the request
 * goes to the next, as a load balancer's passive health check does (nginx's `proxy_next_upstream error`). The
 * request body is read first, so a request is only ever re-sent when no upstream received it. When none takes
 * it, the sender gets 502 and retries as it would for any failed delivery. It listens on 127.0.0.1, on `port` if
 * given, else on a free one.
 */
export async function startLoadBalancer(upstreams: string[], port = 0): Promise<RunningLoadBalancer> {
  if (upstreams.length === 0) throw new Error('a load balancer needs at least one upstream');
  let next = 0;
  const byUpstream: Record<string, number> = Object.fromEntries(upstreams.map((u) => [u, 0]));
  let unavailable = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const first = next;
      next = (next + 1) % upstreams.length;
      const attempt = (tried: number): void => {
        if (tried === upstreams.length) {
          unavailable += 1;
          res.writeHead(502, { 'Content-Type': 'text/plain' }).end('no upstream available');
          return;
        }
        const upstream = upstreams[(first + tried) % upstreams.length]!;
        const target = new URL(req.url ?? '/', upstream);
        const headers: IncomingHttpHeaders = { ...req.headers, host: target.host };
        const forward = request(target, { method: req.method, headers }, (answer) => {
          byUpstream[upstream] = (byUpstream[upstream] ?? 0) + 1;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        forward.on('error', (err: NodeJS.ErrnoException) => {
          // Not connected: nothing reached that upstream, so the next one may take the request.
          if (err.code === 'ECONNREFUSED' && !res.headersSent) attempt(tried + 1);
          else if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' }).end(err.message);
          else res.destroy(err);
        });
        forward.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    counts: () => ({ byUpstream: { ...byUpstream }, unavailable }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
