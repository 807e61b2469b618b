import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { CODEC_BODY_LIMIT } from '../../src/api/codec-router';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/temporal/codec';
import {
  checkWorkflowId,
  STATUS_IN_ONE_STEP_PATCH,
  vendorEventSignal,
} from '../../src/workflows/definitions';
import { ADMIN_TOKEN, serviceDataConverter, startStack, type Stack } from '../support/stack';
import { eventually } from '../support/waits';

const UI_ORIGIN = 'http://127.0.0.1:8233';

/** A payload as the codec protocol and proto3 JSON write it: every byte field in base64. */
interface PayloadJson {
  metadata: Record<string, string>;
  data?: string;
}

const fromBase64 = (value: string | undefined) => Buffer.from(value ?? '', 'base64').toString('utf8');

/**
 * Every payload of a history in its JSON form, with where it sits. Search attributes are left out: Temporal must read
 * them to index them, so they are never encoded (ours hold the status, vendor and connection id only).
 */
function payloadsOf(history: unknown): { path: string; payload: PayloadJson }[] {
  const found: { path: string; payload: PayloadJson }[] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, `${path}[${i}]`));
    if (typeof value !== 'object' || value === null) return;
    const record = value as Record<string, unknown>;
    const metadata = record.metadata as Record<string, unknown> | undefined;
    if (typeof metadata === 'object' && metadata !== null && typeof metadata.encoding === 'string') {
      found.push({ path, payload: record as unknown as PayloadJson });
      return;
    }
    for (const [key, child] of Object.entries(record)) {
      if (key !== 'searchAttributes') walk(child, `${path}.${key}`);
    }
  };
  walk(history, '');
  return found;
}

/** Every string of the history, bytes decoded as UTF-8 too: what anyone with access to Temporal can read. */
function readableText(history: unknown): string {
  const texts: string[] = [JSON.stringify(history)];
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) texts.push(Buffer.from(value).toString('utf8'));
    else if (typeof value === 'string') texts.push(value, fromBase64(value));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(JSON.parse(JSON.stringify(history)));
  return texts.join('\n');
}

describe('Payload encryption end to end (candidate data never plain in Temporal history)', () => {
  let stack: Stack;
  let conn: Awaited<ReturnType<Stack['createConnection']>>;
  let rawConnection: Connection;
  /** A client without the codec: it sees what the Temporal server stores. */
  let raw: Client;

  beforeAll(async () => {
    stack = await startStack();
    conn = await stack.createConnection();
    rawConnection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    raw = new Client({ connection: rawConnection });
  });
  afterAll(async () => {
    await rawConnection?.close();
    await stack?.stop();
  });

  const codec = (
    direction: 'encode' | 'decode',
    body: unknown,
    headers: Record<string, string> = { Authorization: `Bearer ${ADMIN_TOKEN}` },
  ) =>
    fetch(`${stack.api.url}/codec/${direction}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Namespace': 'default',
        Origin: UI_ORIGIN,
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('stores a Lever → Certn check encrypted, callbacks included, and decodes it through /codec', async () => {
    const marker = randomBytes(6).toString('hex');
    const candidate = {
      name: `Ada Cipher ${marker}`,
      email: `ada.cipher.${marker}@example.com`,
      tags: [`Referral ${marker}`],
      postingTag: `Team ${marker}`,
    };
    const posting = stack.lever.createPosting({ text: 'Cryptographer', tags: [candidate.postingTag] });
    const opp = stack.lever.createOpportunity({
      name: candidate.name,
      emails: [candidate.email],
      tags: candidate.tags,
      postingId: posting.id,
      stageId: stack.lever.stageIdByName('Phone screen'),
    });
    await stack.lever.moveToStage(opp.id, stack.lever.stageIdByName('Background Check'));
    const certnCase = await eventually(
      () => stack.certn.cases().find((c) => c.email_address === candidate.email),
      30_000,
      'the Certn case',
    );
    // Each step sends a signed Certn callback, which the API signals to the check.
    for (let step = 0; step < 5; step++) await stack.certn.advance(certnCase.id);
    const handle = stack.temporal.workflow.getHandle(checkWorkflowId(conn.id, opp.id));
    expect(((await handle.result()) as { status: string }).status).toBe('Complete');
    expect(stack.lever.opportunity(opp.id).tags).toContain('CERTN - Complete');

    const history = await raw.workflow.getHandle(handle.workflowId).fetchHistory();
    const events = history.events ?? [];

    // What Temporal stores: no trace of the candidate (activities read it from Lever; workflow data carries ids)...
    const stored = readableText(history);
    for (const secret of [candidate.name, candidate.email, ...candidate.tags, candidate.postingTag, marker]) {
      expect({ secret, stored: stored.includes(secret) }).toEqual({ secret, stored: false });
    }
    // ...nor of the vendor's case and its report, a signed link to the background check itself.
    const reportLink = stack.lever.opportunity(opp.id).links.at(-1);
    expect(reportLink).toMatch(/^https?:/);
    expect(stored).not.toContain(certnCase.id);
    expect(stored).not.toContain(reportLink);

    // Every payload (inputs, activity results, signals, the result) is encrypted with the current key, but the
    // SDK's own patch markers, which hold nothing but the name of the patch (the codec never sees them).
    const all = payloadsOf(JSON.parse(JSON.stringify(history)));
    const isPatch = ({ path }: { path: string }) =>
      path.includes('markerRecordedEventAttributes.details.patch-data');
    for (const { payload } of all.filter(isPatch)) {
      expect(fromBase64(payload.metadata.encoding)).toBe('json/plain');
      expect(JSON.parse(fromBase64(payload.data))).toEqual({
        id: STATUS_IN_ONE_STEP_PATCH,
        deprecated: false,
      });
    }
    const payloads = all.filter((p) => !isPatch(p));
    expect(payloads.length).toBeGreaterThan(10);
    for (const { path, payload } of payloads) {
      expect({
        path,
        encoding: fromBase64(payload.metadata.encoding),
        keyId: fromBase64(payload.metadata[KEY_ID_METADATA]),
      }).toEqual({ path, encoding: ENCRYPTED_ENCODING, keyId: process.env.PAYLOAD_KEY_ID });
      expect(Object.keys(payload.metadata).sort()).toEqual([KEY_ID_METADATA, 'encoding'].sort());
    }
    // Failure messages (none expected here, but the worker may retry a task) would be encoded too.
    const failureMessages = JSON.stringify(history).match(/"message":"[^"]*"/g) ?? [];
    expect(failureMessages.filter((m) => m !== '"message":"Encoded failure"')).toEqual([]);

    // The Certn callbacks reached the check as encrypted signals.
    const signals = events
      .map((e) => e.workflowExecutionSignaledEventAttributes)
      .filter((s) => s?.signalName === vendorEventSignal.name);
    expect(signals.length).toBeGreaterThanOrEqual(1);
    const signalPayloads = payloadsOf(JSON.parse(JSON.stringify(signals))).map((p) => p.payload);
    expect(signalPayloads.map((p) => fromBase64(p.metadata.encoding))).toEqual(
      signals.map(() => ENCRYPTED_ENCODING),
    );

    // The Web UI's codec endpoint (token, CORS for the UI's origin) decodes the same history.
    const decodedResponse = await codec('decode', { payloads: payloads.map((p) => p.payload) });
    expect(decodedResponse.status).toBe(200);
    expect(decodedResponse.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const decoded = ((await decodedResponse.json()) as { payloads: PayloadJson[] }).payloads;
    expect(decoded).toHaveLength(payloads.length);
    for (const payload of decoded) expect(fromBase64(payload.metadata.encoding)).not.toBe(ENCRYPTED_ENCODING);
    const decodedText = decoded.map((p) => fromBase64(p.data)).join('\n');
    // What was hidden is really there, encrypted.
    expect(decodedText).toContain(certnCase.id);
    expect(decodedText).toContain('"status":"Complete"');

    // What a Certn callback carries into Temporal: the event id and type, nothing about the candidate.
    const signalResponse = await codec('decode', { payloads: signalPayloads });
    const decodedSignals = ((await signalResponse.json()) as { payloads: PayloadJson[] }).payloads.map(
      (p) => JSON.parse(fromBase64(p.data)) as Record<string, unknown>,
    );
    for (const signal of decodedSignals) {
      expect(Object.keys(signal).sort()).toEqual(['eventId', 'eventType']);
    }
  });

  it('refuses /codec without the bearer token (401, readable by the UI) and answers the UI’s preflight', async () => {
    const body = {
      payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: 'MQ==' }],
    };
    for (const headers of [{}, { Authorization: 'Bearer not-the-token-0123456789' }] as Record<
      string,
      string
    >[]) {
      const res = await codec('decode', body, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    }

    const preflight = await fetch(`${stack.api.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: UI_ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'x-namespace']),
    );
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('does not encrypt for anyone (no /codec/encode), decodes what the service wrote, and rejects bad bodies', async () => {
    const plain = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('{"eventId":"from-the-ui"}').toString('base64'),
    };
    // Whoever could encrypt here could forge a signal or an input that the worker accepts.
    const encoded = await codec('encode', { payloads: [plain] });
    expect(encoded.status).toBe(404);
    expect(encoded.headers.get('content-type')).toContain('application/problem+json');
    const [payload] =
      (await serviceDataConverter().payloadCodecs?.[0]?.encode([
        { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"eventId":"from-the-ui"}') },
      ])) ?? [];
    const sealed = {
      metadata: Object.fromEntries(
        Object.entries(payload?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
      ),
      data: Buffer.from(payload?.data ?? []).toString('base64'),
    };
    expect(fromBase64(sealed.metadata.encoding)).toBe(ENCRYPTED_ENCODING);
    const reopened = await codec('decode', { payloads: [sealed] });
    expect(((await reopened.json()) as { payloads: PayloadJson[] }).payloads).toEqual([plain]);

    for (const [body, status] of [
      ['{"payloads": [', 400],
      [{ payloads: 'none' }, 400],
      [{ payloads: [{ metadata: { encoding: 'not base64!' } }] }, 400],
      [{ payloads: [{ ...sealed, data: Buffer.from('tampered').toString('base64') }] }, 400],
      [{ payloads: [plain], pad: 'x'.repeat(CODEC_BODY_LIMIT) }, 413],
    ] as const) {
      const res = await codec('decode', body);
      expect({ body: JSON.stringify(body).slice(0, 80), status: res.status }).toEqual({
        body: JSON.stringify(body).slice(0, 80),
        status,
      });
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});
