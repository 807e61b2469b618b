import { createHmac } from 'node:crypto';
import {
  certnSignature,
  hexSignatureMatches,
  leverSignature,
  verifyLeverSignature,
} from '../../src/integrations/signature';

describe('Lever webhook signature', () => {
  const signatureToken = 'sig-token-123';
  const token = 'a'.repeat(48);
  const triggeredAt = 1732330000123;

  it('is hex HMAC-SHA256 of token + triggeredAt with the signature token as key', () => {
    const expected = createHmac('sha256', signatureToken).update(`${token}${triggeredAt}`).digest('hex');
    expect(leverSignature(signatureToken, token, triggeredAt)).toBe(expected);
  });

  it('accepts the right signature and rejects a wrong key, token, timestamp or signature', () => {
    const signature = leverSignature(signatureToken, token, triggeredAt);
    expect(verifyLeverSignature(signatureToken, { token, triggeredAt, signature })).toBe(true);
    expect(
      verifyLeverSignature(signatureToken, { token, triggeredAt, signature: signature.toUpperCase() }),
    ).toBe(true);
    expect(verifyLeverSignature('other-token', { token, triggeredAt, signature })).toBe(false);
    expect(verifyLeverSignature(signatureToken, { token: 'b'.repeat(48), triggeredAt, signature })).toBe(
      false,
    );
    expect(verifyLeverSignature(signatureToken, { token, triggeredAt: triggeredAt + 1, signature })).toBe(
      false,
    );
    expect(verifyLeverSignature(signatureToken, { token, triggeredAt, signature: signature.slice(2) })).toBe(
      false,
    );
  });

  it('is not a hash of the raw body', () => {
    const bodyHash = createHmac('sha256', signatureToken)
      .update(JSON.stringify({ token, triggeredAt }))
      .digest('hex');
    expect(verifyLeverSignature(signatureToken, { token, triggeredAt, signature: bodyHash })).toBe(false);
  });
});

describe('hex signature comparison', () => {
  it('rejects missing, non-hex and different-length values without throwing', () => {
    const good = certnSignature('secret', '{"a":1}');
    expect(hexSignatureMatches(good, good)).toBe(true);
    expect(hexSignatureMatches(good, undefined)).toBe(false);
    expect(hexSignatureMatches(good, 'zz')).toBe(false);
    expect(hexSignatureMatches(good, `${good}00`)).toBe(false);
    expect(hexSignatureMatches(good, '')).toBe(false);
  });

  it('Certn signs the raw body bytes', () => {
    const body = '{"id":"e1","event_type":"CASE_STATUS_CHANGED"}';
    expect(certnSignature('secret', body)).toBe(createHmac('sha256', 'secret').update(body).digest('hex'));
    expect(certnSignature('secret', body)).not.toBe(certnSignature('secret', `${body} `));
  });
});
