import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces go into an encoded payload instead of plain-text failure fields, so the payload
 * codec encrypts them too (an error from Lever or a vendor can quote candidate data). Loaded by path
 * (`failureConverterPath`) because workflow code converts failures inside the workflow sandbox as well.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
