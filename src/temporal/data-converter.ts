import type { DataConverter, PayloadCodec } from '@temporalio/common';

/**
 * The data converter shared by every Temporal client and worker of the service. Payload codecs (such as
 * encryption of candidate data in workflow history) plug in here, so client and worker always agree.
 */
export function createDataConverter(payloadCodecs: PayloadCodec[] = []): DataConverter {
  return { payloadCodecs };
}
