import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { BaseConfig } from '../config';

/**
 * A Temporal client for the configured server and namespace; close its connection on shutdown. The data converter
 * comes from createDataConverter (data-converter.ts), the same the worker uses.
 */
export async function connectClient(
  config: Pick<BaseConfig, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>,
  dataConverter: DataConverter,
) {
  const connection = await Connection.connect({
    address: config.TEMPORAL_ADDRESS,
    // After an outage, try the server again within 5 s rather than grpc-js's default backoff of up to 2 minutes:
    // the inbox relay's start of the waiting checks depends on it.
    channelArgs: { 'grpc.max_reconnect_backoff_ms': 5_000, 'grpc.initial_reconnect_backoff_ms': 500 },
  });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
}
