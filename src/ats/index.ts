import type { AtsKind } from '../domain/candidate';
import { ashbyAts } from './ashby/module';
import type { AtsConfig, AtsConfigs } from './connection';
import { leverAts } from './lever/module';
import type { AtsModule } from './types';

/**
 * The ATS modules: one per ATS, each in its folder (src/ats/<kind>/). Adding an ATS is its folder, its kind
 * (src/domain/candidate.ts), its config in src/ats/connection.ts and a line in each list below.
 */
const byKind: { [K in AtsKind]: AtsModule<AtsConfigs[K]> } = { lever: leverAts, ashby: ashbyAts };

/** Every ATS module, in the order the admin API names them. */
export const atsModules = [leverAts, ashbyAts] as const satisfies readonly AtsModule<AtsConfig>[];

export const atsKinds: readonly AtsKind[] = atsModules.map((m) => m.kind);

/**
 * The module of an ATS. Give it the kind of the config it is then called with, `atsModuleFor(c.kind).side(c, …)`:
 * for a kind that is a union, its methods take any ATS's config.
 */
export function atsModuleFor<K extends AtsKind>(kind: K): AtsModule<AtsConfigs[K]> {
  return byKind[kind];
}

/** One value per ATS, made from its module (e.g. each ATS's part of a schema, under its kind). */
export function perAts<T>(make: (module: AtsModule<AtsConfig>) => T): Record<AtsKind, T> {
  return { lever: make(byKind.lever), ashby: make(byKind.ashby) };
}
