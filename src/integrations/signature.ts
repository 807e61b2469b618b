import { createHmac, timingSafeEqual } from 'node:crypto';

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
