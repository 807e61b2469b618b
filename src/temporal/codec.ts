import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';

/** `encoding` metadata of an encrypted payload; the original payload (metadata and data) is the plaintext. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key a payload was encrypted with, so any known key can decrypt it after a rotation. */
export const KEY_ID_METADATA = 'encryption-key-id';
/** Key ids: short, printable, no separators of PAYLOAD_KEYS (`,` and `:`). */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const KEY_BYTES = 32;

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface PayloadKey {
  id: string;
  /** 32 bytes (AES-256). */
  key: Uint8Array;
}

/** The plaintext that gets encrypted: the original payload, bytes as base64 (proto3 JSON of a Payload). */
const envelopeSchema = z.object({
  metadata: z.record(z.string(), z.string()),
  data: z.string(),
});

const utf8 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

/**
 * AES-256-GCM encryption of Temporal payloads (inputs, results, signals, queries, memos, encoded failures).
 *
 * Every payload gets a random 12-byte IV; the stored `data` is `IV || ciphertext || tag`, and the metadata holds only
 * `encoding: binary/encrypted` and the key id (also bound as additional authenticated data, so it cannot be
 * swapped). `encode` always uses the current key; `decode` picks the key by the id in the payload, so histories
 * written before a key rotation stay readable as long as the old key is still configured. `decode` refuses a
 * payload that is not encrypted (whoever wrote it had no key: an input forged by anyone who reaches Temporal), so
 * the worker never runs on one, unless `allowPlaintext` lets them through (histories from before encryption).
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  // Private fields: the SDK logs its worker options (this codec included) at debug level, and `inspect`, `JSON`
  // and `Object.keys` never show `#` fields, so key material cannot reach a log.
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #current: { id: string; key: Buffer };
  /** Whether `decode` passes payloads that are not encrypted through unchanged instead of refusing them. */
  readonly allowPlaintext: boolean;

  constructor(keys: readonly PayloadKey[], currentKeyId: string, options: { allowPlaintext?: boolean } = {}) {
    const byId = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (!KEY_ID_PATTERN.test(id)) throw new Error(`Payload key id "${id}" must match ${KEY_ID_PATTERN}`);
      if (byId.has(id)) throw new Error(`Payload key id "${id}" is given twice`);
      if (key.length !== KEY_BYTES) {
        throw new Error(`Payload key "${id}" has ${key.length} bytes; AES-256 needs exactly ${KEY_BYTES}`);
      }
      byId.set(id, Buffer.from(key));
    }
    const current = byId.get(currentKeyId);
    if (!current) {
      throw new Error(
        `The current payload key "${currentKeyId}" is not among the keys (${[...byId.keys()].join(', ') || 'none'})`,
      );
    }
    this.#keys = byId;
    this.#current = { id: currentKeyId, key: current };
    this.allowPlaintext = options.allowPlaintext ?? false;
  }

  /** The id new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  /** The ids of every key that decrypts (never the keys). */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  toJSON(): { currentKeyId: string; keyIds: string[]; allowPlaintext: boolean } {
    return { currentKeyId: this.currentKeyId, keyIds: this.keyIds, allowPlaintext: this.allowPlaintext };
  }

  [inspect.custom](): string {
    return `AesGcmPayloadCodec ${inspect(this.toJSON())}`;
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() => payloads.map((payload) => this.encrypt(payload)));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() => payloads.map((payload) => this.decrypt(payload)));
  }

  private encrypt(payload: Payload): Payload {
    const { id, key } = this.#current;
    const plaintext = Buffer.from(
      JSON.stringify({
        metadata: Object.fromEntries(
          Object.entries(payload.metadata ?? {}).map(([name, value]) => [
            name,
            Buffer.from(value ?? []).toString('base64'),
          ]),
        ),
        data: Buffer.from(payload.data ?? []).toString('base64'),
      }),
      'utf8',
    );
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(id));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      metadata: {
        encoding: Buffer.from(ENCRYPTED_ENCODING, 'utf8'),
        [KEY_ID_METADATA]: Buffer.from(id, 'utf8'),
      },
      data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    if (!isEncrypted(payload)) {
      if (this.allowPlaintext) return payload;
      throw new PayloadDecryptionError(
        'Refused a payload that is not encrypted with a configured key: it was written without PAYLOAD_KEYS ' +
          '(by someone without the keys, or before encryption was turned on: see PAYLOAD_ALLOW_PLAINTEXT)',
      );
    }
    const id = utf8(payload.metadata?.[KEY_ID_METADATA]);
    if (!id) throw new PayloadDecryptionError(`An encrypted payload carries no ${KEY_ID_METADATA}`);
    const key = this.#keys.get(id);
    if (!key) {
      throw new PayloadDecryptionError(
        `A payload is encrypted with key "${id}", which is not configured (known: ${this.keyIds.join(', ')}); ` +
          'keep retired keys in PAYLOAD_KEYS until no history needs them',
      );
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(`An encrypted payload (key "${id}") is too short to be valid`);
    }
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(additionalData(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      plaintext = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(
        `An encrypted payload (key "${id}") failed authentication: it was altered or the key is wrong`,
      );
    }
    const envelope = envelopeSchema.safeParse(parseJson(plaintext.toString('utf8')));
    if (!envelope.success) {
      throw new PayloadDecryptionError(`A decrypted payload (key "${id}") is not a payload envelope`);
    }
    return {
      metadata: Object.fromEntries(
        Object.entries(envelope.data.metadata).map(([name, value]) => [name, Buffer.from(value, 'base64')]),
      ),
      data: Buffer.from(envelope.data.data, 'base64'),
    };
  }
}

/** Whether a payload is encrypted by this codec (`encoding: binary/encrypted`), whichever key. */
export function isEncrypted(payload: Payload): boolean {
  return utf8(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

/** A payload that cannot be decrypted: not encrypted, unknown key, altered ciphertext, malformed envelope. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function additionalData(keyId: string): Buffer {
  return Buffer.from(`${ENCRYPTED_ENCODING};${KEY_ID_METADATA}=${keyId}`, 'utf8');
}
