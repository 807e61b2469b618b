import type { FuzzContext, FuzzProperty } from '../harness';
import { adminProperties } from './admin-api';
import { ashbyProperties } from './ashby-partner';
import { leverProperties } from './lever-webhooks';
import { pathProperties } from './paths-headers';
import { callbackProperties } from './vendor-callbacks';

/** Every property, in the order the test file runs them. */
export function fuzzProperties(ctx: FuzzContext): FuzzProperty[] {
  return [
    ...leverProperties(ctx),
    ...callbackProperties(ctx),
    ...ashbyProperties(ctx),
    ...adminProperties(ctx),
    ...pathProperties(ctx),
  ];
}
