import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server-process';
import { groupMembers } from '../support/processes';
import { stopProcess } from '../support/service-process';

/**
 * `npm run sandbox` (sandbox/main.ts) as a user runs it: its own process, every emulator and the SMTP catcher on
 * the ports given, each URL printed; SIGTERM stops all of it.
 */
const ROOT = path.resolve(__dirname, '..', '..');

/** A cheap request each emulator answers without a key: its sandbox control API. */
const PROBES = {
  Lever: '/_sandbox/stages',
  Ashby: '/_sandbox/partners',
  Certn: '/_sandbox/cases',
  Justifacts: '/_sandbox/orders',
  VICTIG: '/_sandbox/orders',
  Justworks: '/_sandbox/requests',
} as const;
type Emulator = keyof typeof PROBES;

/** Resolves with stdout once `marker` is printed; rejects if the process ends first or after `timeoutMs`. */
function waitForOutput(child: ChildProcess, marker: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`no "${marker}" within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`)),
      timeoutMs,
    );
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(marker)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`sandbox exited (${code ?? signal}) before "${marker}"; stdout: ${out}; stderr: ${err}`),
      );
    });
  });
}

/** The SMTP greeting (`220 …`) of the server at host:port. */
function smtpGreeting(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(10_000, () => socket.destroy(new Error('no SMTP greeting')));
    socket.once('data', (chunk) => {
      socket.end('QUIT\r\n');
      resolve(chunk.toString());
    });
    socket.once('error', reject);
  });
}

describe('npm run sandbox (sandbox/main.ts)', () => {
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child) await stopProcess(child, 'SIGKILL');
  });

  it('starts every emulator and the SMTP catcher on the given ports, prints their URLs, and stops on SIGTERM', async () => {
    const ports = {
      lever: await freePort(),
      ashby: await freePort(),
      certn: await freePort(),
      justifacts: await freePort(),
      victig: await freePort(),
      justworks: await freePort(),
      smtp: await freePort(),
    };
    // As package.json's script runs it: one node process with tsx's loader (no tsx launcher in between).
    const started = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'sandbox/main.ts',
        ...Object.entries(ports).flatMap(([name, port]) => [`--${name}-port`, String(port)]),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    child = started;
    const out = await waitForOutput(started, 'Sandbox ready', 60_000);

    const urls = Object.fromEntries(
      [...out.matchAll(/^(\w+) emulator: (http:\/\/\S+)$/gm)].map((m) => [m[1]!, m[2]!]),
    ) as Record<Emulator, string>;
    expect(urls).toEqual({
      Lever: `http://127.0.0.1:${ports.lever}`,
      Ashby: `http://127.0.0.1:${ports.ashby}`,
      Certn: `http://127.0.0.1:${ports.certn}`,
      Justifacts: `http://127.0.0.1:${ports.justifacts}`,
      VICTIG: `http://127.0.0.1:${ports.victig}`,
      Justworks: `http://127.0.0.1:${ports.justworks}`,
    });
    // How to point a connection at each: the apiBaseUrl the admin API takes, and where its key comes from.
    expect(out).toContain(`"apiBaseUrl": "http://127.0.0.1:${ports.lever}/v1"`);
    for (const [name, port] of Object.entries(ports).filter(([name]) => name !== 'smtp' && name !== 'lever'))
      expect({ name, printed: out.includes(`"apiBaseUrl": "http://127.0.0.1:${port}"`) }).toEqual({
        name,
        printed: true,
      });
    expect(out).toContain(`/_sandbox/api-keys`);
    expect(out).toContain('ALLOW_HTTP_URLS=true');

    for (const [name, probe] of Object.entries(PROBES) as [Emulator, string][]) {
      const res = await fetch(`${urls[name]}${probe}`);
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
      expect(await res.json()).toEqual(expect.any(Array));
    }
    expect(out).toContain(`SMTP catcher: smtp://127.0.0.1:${ports.smtp}`);
    expect(await smtpGreeting('127.0.0.1', ports.smtp)).toMatch(/^220 /);

    const pid = started.pid!;
    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
    await stopProcess(started, 'SIGTERM');
    child = undefined;
    expect(groupMembers(pid)).toEqual([]);
    // The sandbox closes everything and exits 0.
    expect(await exited).toBe(0);
    await expect(fetch(`${urls.Lever}${PROBES.Lever}`)).rejects.toThrow();
  });
});
