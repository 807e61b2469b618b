import { Client, Connection } from '@temporalio/client';
import type { BaseConfig } from '../config';
import { createDataConverter } from './data-converter';

/** A Temporal client for the configured server and namespace; close its connection on shutdown. */
export async function connectClient(config: Pick<BaseConfig, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>) {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: createDataConverter(),
  });
}
