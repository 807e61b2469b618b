import { createHmac, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';

export function hmacSha256Hex(key: string, message: string | Buffer): string {
  return createHmac('sha256', key).update(message).digest('hex');
}

/** Constant-time comparison of two hex signatures; false for any length or format mismatch. */
export function hexSignatureMatches(expectedHex: string, givenHex: string | undefined | null): boolean {
  // Same length in characters too: Buffer.from(hex) silently drops a trailing odd digit ("<right>0" decoded equal).
  if (
    typeof givenHex !== 'string' ||
    givenHex.length !== expectedHex.length ||
    !/^[0-9a-fA-F]+$/.test(givenHex)
  )
    return false;
  const expected = Buffer.from(expectedHex, 'hex');
  const given = Buffer.from(givenHex.toLowerCase(), 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Lever: hex(HMAC-SHA256(signature token, token + triggeredAt)). Not a hash of the raw body. */
export function leverSignature(signatureToken: string, token: string, triggeredAt: number): string {
  return hmacSha256Hex(signatureToken, token + String(triggeredAt));
}

export function verifyLeverSignature(
  signatureToken: string,
  body: { token: string; triggeredAt: number; signature: string },
): boolean {
  return hexSignatureMatches(leverSignature(signatureToken, body.token, body.triggeredAt), body.signature);
}

/** Certn: X-Signature = hex(HMAC-SHA256(webhook secret, raw body)). */
export function certnSignature(secret: string, rawBody: string | Buffer): string {
  return hmacSha256Hex(secret, rawBody);
}

/** A signed callback's event, or the 4xx to answer it with. */
export type SignedEventVerdict<T> = { ok: true; event: T } | { ok: false; status: 400 | 401; detail: string };

/**
 * A callback authenticated by a signature over its raw body: 401 naming `header` unless `signed` (checked first,
 * in constant time, by the caller), then 400 when the body is not JSON or not `what` by `schema`.
 */
export function signedJsonEvent<T>(
  rawBody: Buffer,
  signed: boolean,
  schema: z.ZodType<T>,
  names: { header: string; what: string },
): SignedEventVerdict<T> {
  if (!signed)
    return { ok: false, status: 401, detail: `${names.header} is missing or does not match the body.` };
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, status: 400, detail: 'The body is not JSON.' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, status: 400, detail: `The body is not ${names.what}.` };
  return { ok: true, event: parsed.data };
}
