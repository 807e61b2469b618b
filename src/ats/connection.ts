import type { AtsKind } from '../domain/candidate';
import type { ConnectionOf, ConnectionSummaryOf } from '../domain/connection';
import type { AshbyConfig } from './ashby/config';
import type { LeverConfig } from './lever/config';

/**
 * The ATS part of a stored connection, by kind: each ATS module's config (its settings and secrets as its schemas
 * parse them). The modules themselves are registered in src/ats/index.ts.
 */
export interface AtsConfigs {
  lever: LeverConfig;
  ashby: AshbyConfig;
}

export type AtsConfig = AtsConfigs[AtsKind];

/** A stored connection without its secrets (src/domain/connection.ts), its ATS part typed by the modules. */
export type ConnectionSummary = ConnectionSummaryOf<AtsConfig>;

/** A stored connection: one customer's ATS account linked to one vendor. Secrets never leave the service. */
export type Connection = ConnectionOf<AtsConfig>;
