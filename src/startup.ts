import type { DataConverter } from '@temporalio/common';
import { requireKeys, type BaseConfig } from './config';
import { secretBoxFromConfig, type SecretBox } from './db/secret-box';
import type { Logger } from './logger';
import { createDataConverter } from './temporal/data-converter';

/**
 * What the API and the worker both check at start, before any work: the keys (refusing to start without them,
 * unless BGC_DEVELOPMENT_KEYS, never in production), the payload codec and the secret box, with a warning for each
 * development key or plain payload in use.
 */
export function startupKeys(
  config: BaseConfig,
  logger: Logger,
): { dataConverter: DataConverter; secretBox: SecretBox } {
  requireKeys(config);
  const dataConverter = createDataConverter(config);
  if (!dataConverter.payloadCodecs?.length)
    logger.warn('PAYLOAD_KEYS is not set (BGC_DEVELOPMENT_KEYS): Temporal payloads are not encrypted');
  else if (config.PAYLOAD_ALLOW_PLAINTEXT)
    logger.warn(
      'PAYLOAD_ALLOW_PLAINTEXT: plain Temporal payloads are accepted, anyone who reaches Temporal can forge them',
    );
  const secretBox = secretBoxFromConfig(config);
  if (secretBox.development)
    logger.warn('SECRETS_KEYS is not set (BGC_DEVELOPMENT_KEYS): connection secrets use the development key');
  return { dataConverter, secretBox };
}
