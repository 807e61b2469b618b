import { certnAdapter } from './certn/adapter';
import type { VendorAdapter } from './types';

/** Every vendor the service can order from, by the `type` used in connection settings. */
const adapters: Record<string, VendorAdapter> = {
  [certnAdapter.vendor]: certnAdapter,
};

export function vendorAdapter(vendor: string): VendorAdapter | undefined {
  return Object.hasOwn(adapters, vendor) ? adapters[vendor] : undefined;
}

export function vendorNames(): string[] {
  return Object.keys(adapters);
}
