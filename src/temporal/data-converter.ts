import type { DataConverter } from '@temporalio/common';
import {
  developmentKeysAllowed,
  missingKeyError,
  type BaseConfig,
  type DevelopmentKeysConfig,
} from '../config';
import { AesGcmPayloadCodec } from './codec';

export type PayloadEncryptionConfig = DevelopmentKeysConfig &
  Pick<BaseConfig, 'PAYLOAD_KEYS' | 'PAYLOAD_KEY_ID'> &
  Partial<Pick<BaseConfig, 'PAYLOAD_ALLOW_PLAINTEXT'>>;

/** Module with the `failureConverter` export; workflow bundles must be built with the same path. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The data converter shared by every Temporal client and worker of the service (and the tests' stack), so they
 * always agree: payloads are encrypted with PAYLOAD_KEYS (see codec.ts), a payload that is not is refused unless
 * PAYLOAD_ALLOW_PLAINTEXT, and failure messages are encoded into payloads so they are encrypted as well. Throws,
 * refusing to start, without PAYLOAD_KEYS (unless BGC_DEVELOPMENT_KEYS outside production: payloads stay plain),
 * or when PAYLOAD_KEY_ID does not name one of them.
 */
export function createDataConverter(config: PayloadEncryptionConfig): DataConverter {
  const codec = payloadCodec(config);
  return { failureConverterPath: FAILURE_CONVERTER_PATH, payloadCodecs: codec ? [codec] : [] };
}

function payloadCodec(config: PayloadEncryptionConfig): AesGcmPayloadCodec | undefined {
  const keys = config.PAYLOAD_KEYS ?? [];
  if (keys.length === 0) {
    if (config.PAYLOAD_KEY_ID !== undefined) invalid('PAYLOAD_KEY_ID is set but PAYLOAD_KEYS is not');
    if (!developmentKeysAllowed(config)) {
      throw missingKeyError(
        config,
        'PAYLOAD_KEYS',
        'Temporal history would hold candidate data in plain text, and anyone who reaches Temporal could forge ' +
          'inputs (id:base64 of 32 random bytes, e.g. "p1:$(openssl rand -base64 32)")',
      );
    }
    return undefined;
  }
  const currentKeyId = config.PAYLOAD_KEY_ID ?? (keys.length === 1 ? keys[0]?.id : undefined);
  if (currentKeyId === undefined) {
    invalid('PAYLOAD_KEY_ID: required when PAYLOAD_KEYS holds several keys (it names the one that encrypts)');
  }
  if (!keys.some((k) => k.id === currentKeyId)) {
    invalid(
      `PAYLOAD_KEY_ID: "${currentKeyId}" is not one of the ids in PAYLOAD_KEYS (${keys.map((k) => k.id).join(', ')})`,
    );
  }
  return new AesGcmPayloadCodec(keys, currentKeyId, {
    allowPlaintext: config.PAYLOAD_ALLOW_PLAINTEXT === true,
  });
}

function invalid(problem: string): never {
  throw new Error(`Invalid configuration: ${problem}`);
}
