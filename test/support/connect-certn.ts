import { randomBytes } from 'node:crypto';
import type { RunningCertnEmulator } from '../../sandbox/certn-emulator';
import type { RunningLeverEmulator } from '../../sandbox/lever-emulator';

export interface ProcessConnection {
  id: string;
  webhookUrl: string;
  vendorCallbackUrl: string;
  /** Lever's signature token of the connection's webhook (a sender of its own signs deliveries with it). */
  signatureToken: string;
}

/**
 * A Lever → Certn customer for an API running as a process of its own (chaos, mTLS and outage runs): a Lever
 * account and a Certn team on the emulators, the connection created through the admin API, and both emulators'
 * webhooks pointed at it. Triggered by the stage "Background Check"; the team's first package is the default.
 */
export async function connectLeverToCertn(options: {
  apiUrl: string;
  adminToken: string;
  lever: RunningLeverEmulator;
  certn: RunningCertnEmulator;
  name: string;
  packages?: Parameters<RunningCertnEmulator['addTeam']>[0]['packages'];
}): Promise<ProcessConnection> {
  const { lever, certn } = options;
  const secret = (prefix: string) => `${prefix}-${randomBytes(8).toString('hex')}`;
  const leverKey = secret('lever');
  const certnKey = secret('certn');
  const signatureToken = secret('sig');
  const webhookSecret = secret('whsec');
  lever.addApiKey(leverKey);
  const { packages } = certn.addTeam({
    apiKey: certnKey,
    ...(options.packages === undefined ? {} : { packages: options.packages }),
  });
  const created = await fetch(`${options.apiUrl}/admin/connections`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${options.adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: options.name,
      lever: {
        apiBaseUrl: lever.apiBaseUrl,
        apiKey: leverKey,
        signatureToken,
        triggerStageName: 'Background Check',
      },
      vendor: {
        type: 'certn',
        apiBaseUrl: certn.apiBaseUrl,
        apiKey: certnKey,
        webhookSecret,
        packages: packages.map((p, i) => ({ name: p.name, packageId: p.id, default: i === 0 })),
      },
    }),
  });
  if (created.status !== 201)
    throw new Error(`connection not created: ${created.status} ${await created.text()}`);
  const conn = { ...((await created.json()) as Omit<ProcessConnection, 'signatureToken'>), signatureToken };
  lever.addWebhook({ event: 'candidateStageChange', url: conn.webhookUrl, signatureToken });
  certn.setWebhook(certnKey, { url: conn.vendorCallbackUrl, secret: webhookSecret });
  return conn;
}
