import { createSecureContext } from 'node:tls';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { BaseConfig } from '../config';

export type TemporalTlsConfig = Pick<
  BaseConfig,
  'TEMPORAL_TLS' | 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY' | 'TEMPORAL_TLS_CA' | 'TEMPORAL_TLS_SERVER_NAME'
>;

/**
 * The TLS settings of the connection to Temporal, the same for the API's client and the worker's NativeConnection:
 * undefined (plain gRPC) unless TEMPORAL_TLS or a TEMPORAL_TLS_* setting is given. The client certificate and its
 * key come together (mTLS); throws, refusing to start, when only one is given or they do not match.
 */
export function temporalTls(config: TemporalTlsConfig): TLSConfig | undefined {
  const { TEMPORAL_TLS_CERT: crt, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca } = config;
  const serverName = config.TEMPORAL_TLS_SERVER_NAME;
  if (!config.TEMPORAL_TLS && !crt && !key && !ca && serverName === undefined) return undefined;
  if ((crt === undefined) !== (key === undefined)) {
    throw new Error(
      'Invalid configuration: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (the client certificate and its key)',
    );
  }
  try {
    createSecureContext({ cert: crt, key, ca });
  } catch {
    throw new Error(
      'Invalid configuration: TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY and TEMPORAL_TLS_CA do not make a TLS context ' +
        '(is TEMPORAL_TLS_KEY the key of TEMPORAL_TLS_CERT?)',
    );
  }
  return {
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(serverName !== undefined ? { serverNameOverride: serverName } : {}),
  };
}

/**
 * A Temporal client for the configured server and namespace (TLS per temporalTls); close its connection on
 * shutdown. The data converter comes from createDataConverter (data-converter.ts), the same the worker uses.
 */
export async function connectClient(
  config: Pick<BaseConfig, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'> & TemporalTlsConfig,
  dataConverter: DataConverter,
) {
  const connection = await Connection.connect({
    address: config.TEMPORAL_ADDRESS,
    tls: temporalTls(config),
    // After an outage, try the server again within 5 s rather than grpc-js's default backoff of up to 2 minutes:
    // the inbox relay's start of the waiting checks depends on it.
    channelArgs: { 'grpc.max_reconnect_backoff_ms': 5_000, 'grpc.initial_reconnect_backoff_ms': 500 },
  });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
}
