import { certnAdapter } from './certn/adapter';
import { justifactsAdapter } from './justifacts/adapter';
import type { CheckVendorAdapter, IntegrationDefinition } from './types';

/** Every vendor a check can be ordered from. */
const checkAdapters: CheckVendorAdapter[] = [certnAdapter, justifactsAdapter];

/** Every integration a connection can be made for, by the `type` used in connection settings. */
const integrations: IntegrationDefinition[] = [...checkAdapters];

export function integrationFor(vendor: string): IntegrationDefinition | undefined {
  return integrations.find((i) => i.vendor === vendor);
}

export function checkAdapterFor(vendor: string): CheckVendorAdapter | undefined {
  return checkAdapters.find((a) => a.vendor === vendor);
}

export function integrationNames(): string[] {
  return integrations.map((i) => i.vendor);
}
