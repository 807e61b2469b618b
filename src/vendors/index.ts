import { certnAdapter } from './certn/adapter';
import { victigAdapter } from './victig/adapter';
import { justifactsAdapter } from './justifacts/adapter';
import { justworksIntegration } from './justworks/integration';
import type { CheckVendorAdapter, IntegrationDefinition } from './types';

/** Every vendor a check can be ordered from. */
const checkAdapters: CheckVendorAdapter[] = [certnAdapter, justifactsAdapter, victigAdapter];

/** Every integration a connection can be made for, by the `type` used in connection settings. */
const integrations: IntegrationDefinition[] = [...checkAdapters, justworksIntegration];

export function integrationFor(vendor: string): IntegrationDefinition | undefined {
  return integrations.find((i) => i.vendor === vendor);
}

export function checkAdapterFor(vendor: string): CheckVendorAdapter | undefined {
  return checkAdapters.find((a) => a.vendor === vendor);
}

export function integrationNames(): string[] {
  return integrations.map((i) => i.vendor);
}
