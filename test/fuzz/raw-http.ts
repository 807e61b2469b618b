import net from 'node:net';

/** One header line exactly as it goes on the wire; a Buffer value may hold any bytes. */
export type RawHeader = [name: string, value: string | Buffer];

export interface RawRequest {
  method: string;
  /** The request target, sent as is (no encoding). */
  target: string;
  headers?: RawHeader[];
  body?: Buffer;
}

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A deliberately dumb HTTP/1.1 client over a plain socket: unlike fetch or node:http it sends whatever header
 * names, values and methods it is given (control characters, huge values, duplicates). It always adds `Host`,
 * `Connection: close` and a correct `Content-Length` when there is a body, and reads until the server closes.
 */
export function rawRequest(
  origin: { host: string; port: number },
  request: RawRequest,
  timeoutMs = 15_000,
): Promise<RawResponse> {
  const head: Buffer[] = [Buffer.from(`${request.method} ${request.target} HTTP/1.1\r\n`, 'latin1')];
  const line = (name: string, value: string | Buffer) =>
    Buffer.concat([
      Buffer.from(`${name}: `, 'latin1'),
      typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
      Buffer.from('\r\n'),
    ]);
  head.push(line('Host', `${origin.host}:${origin.port}`), line('Connection', 'close'));
  for (const [name, value] of request.headers ?? []) head.push(line(name, value));
  if (request.body !== undefined) head.push(line('Content-Length', String(request.body.length)));
  head.push(Buffer.from('\r\n'));
  const bytes = Buffer.concat([...head, request.body ?? Buffer.alloc(0)]);

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = net.connect(origin.port, origin.host);
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const received = Buffer.concat(chunks);
      const parsed = parseResponse(received);
      if (parsed !== undefined) return resolve(parsed);
      reject(
        new Error(
          `no HTTP response for ${request.method} ${request.target.slice(0, 120)}` +
            (error ? ` (${error.message})` : '') +
            (received.length > 0 ? `: ${JSON.stringify(received.subarray(0, 200).toString('latin1'))}` : ''),
        ),
      );
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // The server may answer (413, 431, 400) and close before it read everything: keep what it said.
    socket.on('error', (err) => finish(err));
    socket.write(bytes, () => undefined);
  });
}

/** Parses one complete response (head + body by Content-Length, chunked, or until close); undefined if none. */
export function parseResponse(received: Buffer): RawResponse | undefined {
  const end = received.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = received.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1];
  if (status === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const headerLine of lines.slice(1)) {
    const colon = headerLine.indexOf(':');
    if (colon <= 0) continue;
    const name = headerLine.slice(0, colon).trim().toLowerCase();
    const value = headerLine.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let body = received.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    body = dechunk(body);
  } else if (headers['content-length'] !== undefined) {
    body = body.subarray(0, Number(headers['content-length']));
  }
  return { status: Number(status), headers, body };
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}
