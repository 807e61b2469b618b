import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { z } from 'zod';
import {
  baseConfigSchema,
  developmentKeysAllowed,
  loadConfig,
  missingKeyError,
  type BaseConfig,
  type DevelopmentKeysConfig,
} from '../config';

/**
 * Encryption at rest of connection secrets (used by ConnectionRepository only): AES-256-GCM, a fresh 96-bit IV
 * per encryption, the 128-bit tag checked on decryption. The envelope names the key it was sealed with, so keys
 * can be rotated: every known key decrypts, the current one encrypts. The additional authenticated data binds
 * the ciphertext to its context (the connection id): a sealed value copied onto another row does not open.
 */

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');

/** What is stored: version, algorithm, key id, IV, tag and ciphertext (base64). */
export const sealedEnvelopeSchema = z.object({
  v: z.literal(1),
  alg: z.literal('A256GCM'),
  kid: z.string().min(1),
  iv: base64,
  tag: base64,
  ct: base64,
});
export type SealedEnvelope = z.infer<typeof sealedEnvelopeSchema>;

export interface SecretKey {
  id: string;
  key: Buffer;
}

/** A sealed value that cannot be opened: unknown key, or tampered with / another key under the same id. */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

/**
 * Stands in for SECRETS_KEYS with BGC_DEVELOPMENT_KEYS so `npm run demo` works without setup. It is public (derived
 * from this text), so what it encrypts is not protected: without the switch, and always in production, the
 * processes refuse to start without real keys.
 */
const DEVELOPMENT_KEY: SecretKey = {
  id: 'dev',
  key: createHash('sha256')
    .update('bgc-bridge development key: not a secret, never use in production')
    .digest(),
};

const additionalData = (kid: string, context: string) =>
  Buffer.from(`bgc-bridge/secrets/v1/A256GCM/${kid}/${context}`, 'utf8');

export class SecretBox {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly currentKeyId: string;
  /** True when the built-in development key is in use (no SECRETS_KEYS). */
  readonly development: boolean;

  constructor(keys: readonly SecretKey[], currentKeyId: string, options: { development?: boolean } = {}) {
    const map = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (key.length !== KEY_BYTES) throw new Error(`secret key "${id}" is not ${KEY_BYTES} bytes`);
      if (map.has(id)) throw new Error(`secret key id "${id}" is given twice`);
      map.set(id, Buffer.from(key));
    }
    if (!map.has(currentKeyId))
      throw new Error(`the current secret key "${currentKeyId}" is not among the keys`);
    this.#keys = map;
    this.currentKeyId = currentKeyId;
    this.development = options.development ?? false;
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** Encrypts the JSON of `value` with the current key, bound to `context`. */
  seal(value: unknown, context: string): SealedEnvelope {
    const kid = this.currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#key(kid), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(kid, context));
    const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return {
      v: 1,
      alg: 'A256GCM',
      kid,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ct: ct.toString('base64'),
    };
  }

  /** Decrypts an envelope sealed for `context` with any known key; throws SecretBoxError otherwise. */
  open(envelope: SealedEnvelope, context: string): unknown {
    if (!this.#keys.has(envelope.kid)) {
      throw new SecretBoxError(
        `sealed with key "${envelope.kid}", which is not in SECRETS_KEYS (known: ${this.keyIds.join(', ')})`,
      );
    }
    const iv = Buffer.from(envelope.iv, 'base64');
    const tag = Buffer.from(envelope.tag, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretBoxError('malformed envelope');
    let plaintext: string;
    try {
      const decipher = createDecipheriv(ALGORITHM, this.#key(envelope.kid), iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(envelope.kid, context));
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([
        decipher.update(Buffer.from(envelope.ct, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretBoxError(
        `does not decrypt with key "${envelope.kid}" (tampered with, moved from another row, or a different key ` +
          'under the same id)',
      );
    }
    return JSON.parse(plaintext) as unknown;
  }

  /** True when the envelope is sealed with the current key (rotation skips it). */
  isCurrent(envelope: SealedEnvelope): boolean {
    return envelope.kid === this.currentKeyId;
  }

  #key(kid: string): Buffer {
    const key = this.#keys.get(kid);
    if (key === undefined) throw new SecretBoxError(`no key "${kid}"`);
    return key;
  }

  /** Key ids only, if it is ever logged or serialized. */
  toJSON() {
    return { currentKeyId: this.currentKeyId, keyIds: this.keyIds };
  }

  [inspect.custom]() {
    return `SecretBox { current: ${this.currentKeyId}, keys: ${this.keyIds.join(', ')} }`;
  }
}

/**
 * The box from validated configuration. SECRETS_KEYS is required (the process stops with this message) unless
 * BGC_DEVELOPMENT_KEYS (never in production) lets the public development key stand in (SecretBox.development).
 */
export function secretBoxFromConfig(
  config: DevelopmentKeysConfig & Pick<BaseConfig, 'SECRETS_KEYS' | 'SECRETS_KEY_ID'>,
): SecretBox {
  const keys = config.SECRETS_KEYS;
  if (keys === undefined || keys.length === 0) {
    if (!developmentKeysAllowed(config)) {
      throw missingKeyError(
        config,
        'SECRETS_KEYS',
        'comma-separated id:base64 of 32 random bytes (e.g. "k1:$(openssl rand -base64 32)"), and ' +
          'SECRETS_KEY_ID the id to encrypt with',
      );
    }
    if (config.SECRETS_KEY_ID !== undefined && config.SECRETS_KEY_ID !== DEVELOPMENT_KEY.id) {
      throw new Error('Invalid configuration: SECRETS_KEY_ID is set but SECRETS_KEYS is not');
    }
    return new SecretBox([DEVELOPMENT_KEY], DEVELOPMENT_KEY.id, { development: true });
  }
  const current = config.SECRETS_KEY_ID ?? (keys.length === 1 ? keys[0]?.id : undefined);
  if (current === undefined) {
    throw new Error('Invalid configuration: SECRETS_KEY_ID: required when SECRETS_KEYS has several keys');
  }
  if (!keys.some((k) => k.id === current)) {
    throw new Error(
      `Invalid configuration: SECRETS_KEY_ID: "${current}" is not an id in SECRETS_KEYS ` +
        `(${keys.map((k) => k.id).join(', ')})`,
    );
  }
  return new SecretBox(keys, current);
}

const secretsEnvSchema = baseConfigSchema.pick({
  NODE_ENV: true,
  BGC_DEVELOPMENT_KEYS: true,
  SECRETS_KEYS: true,
  SECRETS_KEY_ID: true,
});

/** The box from the environment, validated as src/config.ts does (what a repository gets when given none). */
export function secretBoxFromEnv(env: NodeJS.ProcessEnv = process.env): SecretBox {
  return secretBoxFromConfig(loadConfig(secretsEnvSchema, env));
}
