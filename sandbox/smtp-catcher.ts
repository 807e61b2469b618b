import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import type { AddressObject, ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * An SMTP server that accepts and keeps every message (no TLS, authentication optional and any
 * credentials accepted), parsed with mailparser, so tests and the sandbox can see what the service e-mailed.
 */

export interface CaughtMessage {
  id: string;
  receivedAt: string;
  /** The From header address (falls back to the envelope sender). */
  from: string;
  /** The To header addresses. */
  to: string[];
  /** The Cc header addresses. */
  cc: string[];
  /** What the SMTP session said: MAIL FROM and every accepted RCPT TO (Bcc included). */
  envelope: { from: string | null; to: string[] };
  subject: string;
  text: string;
  html: string | null;
  messageId: string | null;
  /** Header lines by lower-case name, unfolded; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The user name given with AUTH, if any. */
  authUser: string | null;
  raw: string;
}

export interface SmtpCatcherOptions {
  port?: number;
  /** RCPT TO for these addresses (case-insensitive) is refused with 550, as a mailbox that does not exist. */
  rejectRecipients?: string[];
}

export interface RunningSmtpCatcher {
  host: string;
  port: number;
  messages(): CaughtMessage[];
  /** Resolves with the first caught message (already caught or arriving) matching; rejects after timeoutMs. */
  waitFor(predicate: (message: CaughtMessage) => boolean, timeoutMs?: number): Promise<CaughtMessage>;
  clear(): void;
  close(): Promise<void>;
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  const walk = (list: { address?: string; group?: { address?: string }[] }[]): void => {
    for (const a of list) {
      if (a.address) out.push(a.address);
      if (a.group) walk(a.group);
    }
  };
  for (const obj of Array.isArray(value) ? value : [value]) walk(obj.value);
  return out;
}

function headerMap(parsed: ParsedMail): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    const colon = line.indexOf(':');
    const value = (colon < 0 ? '' : line.slice(colon + 1)).replace(/\r?\n[ \t]+/g, ' ').trim();
    out[key] = out[key] === undefined ? value : `${out[key]}, ${value}`;
  }
  return out;
}

export function startSmtpCatcher(opts: SmtpCatcherOptions = {}): Promise<RunningSmtpCatcher> {
  const host = '127.0.0.1';
  const caught: CaughtMessage[] = [];
  const waiters = new Set<(message: CaughtMessage) => void>();
  const rejected = new Set((opts.rejectRecipients ?? []).map((a) => a.toLowerCase()));

  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    banner: 'bgc-bridge SMTP catcher',
    closeTimeout: 1000,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onRcptTo(address, _session, callback) {
      if (rejected.has(address.address.toLowerCase())) {
        const err = Object.assign(new Error(`<${address.address}>: mailbox unavailable`), {
          responseCode: 550,
        });
        callback(err);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err: Error) => callback(err));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            const mailFrom = session.envelope.mailFrom === false ? null : session.envelope.mailFrom.address;
            const message: CaughtMessage = {
              id: randomUUID(),
              receivedAt: new Date().toISOString(),
              from: addresses(parsed.from)[0] ?? mailFrom ?? '',
              to: addresses(parsed.to),
              cc: addresses(parsed.cc),
              envelope: { from: mailFrom, to: session.envelope.rcptTo.map((r) => r.address) },
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : null,
              messageId: parsed.messageId ?? null,
              headers: headerMap(parsed),
              authUser: typeof session.user === 'string' ? session.user : null,
              raw: raw.toString('utf8'),
            };
            caught.push(message);
            for (const waiter of [...waiters]) waiter(message);
            callback(null, `queued as ${message.id}`);
          },
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      });
    },
  });

  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    const netServer = server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      // Errors after start (a client resetting its connection) must not crash the process.
      server.on('error', () => undefined);
      const { port } = netServer.address() as AddressInfo;
      resolve({
        host,
        port,
        messages: () => structuredClone(caught),
        waitFor: (predicate, timeoutMs = 5000) =>
          new Promise<CaughtMessage>((res, rej) => {
            const already = caught.find(predicate);
            if (already) return res(structuredClone(already));
            const timer = setTimeout(() => {
              waiters.delete(waiter);
              const seen = caught.map((m) => `"${m.subject}" to ${m.to.join(', ')}`).join('; ') || 'none';
              rej(new Error(`no matching e-mail within ${timeoutMs} ms (caught: ${seen})`));
            }, timeoutMs);
            const waiter = (message: CaughtMessage): void => {
              if (!predicate(message)) return;
              clearTimeout(timer);
              waiters.delete(waiter);
              res(structuredClone(message));
            };
            waiters.add(waiter);
          }),
        clear: () => {
          caught.length = 0;
        },
        close: () => new Promise<void>((res) => server.close(() => res())),
      });
    });
  });
}
