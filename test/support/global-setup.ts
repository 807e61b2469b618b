import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleCheckWorkflows } from '../../src/temporal/bundle-workflows';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/temporal/search-attributes';
import { SQLITE_PRAGMA_ARGS, TEMPORAL_CLI_PATH } from '../../src/temporal/dev-server';
import {
  temporalServerInTempDir,
  temporalServerKind,
  type TemporalServerProcess,
} from '../../src/temporal/server-process';
import { localRuntimeDatabaseUrl } from '../../src/db/local-runtime-role';
import { recreateDatabase } from './database';
import { RUN_MARK_VARIABLE } from './processes';
import { useFreshKeys } from './keys';

declare global {
  var __TEMPORAL_TEST_ENV__: TestWorkflowEnvironment | undefined;
  var __TEMPORAL_TEST_SERVER__: TemporalServerProcess | undefined;
}

/**
 * One real Temporal dev server (the pinned CLI binary) and one freshly migrated PostgreSQL database
 * for the whole run; test files connect to both through the environment variables set here.
 */
export default async function globalSetup(): Promise<void> {
  // Inherited by every process the run starts: the global teardown finds what is left of them.
  process.env[RUN_MARK_VARIABLE] = randomUUID();
  // Migrated by its owner (the migration role); the service and the tests' stacks connect as the runtime role, as
  // in production, so everything they do is done with only its rights. Tests that need the owner use asOwner.
  process.env.MIGRATION_DATABASE_URL = await recreateDatabase(
    process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bgc_test',
  );
  process.env.DATABASE_URL = await localRuntimeDatabaseUrl(process.env.MIGRATION_DATABASE_URL);
  // Connection secrets, Temporal payloads and report links are keyed as in production: fresh keys each run.
  useFreshKeys();
  // The emulators serve plain http on 127.0.0.1: the service may call them and write their links.
  process.env.ALLOW_HTTP_URLS = 'true';
  if (process.env.BGC_TEST_NO_TEMPORAL === '1') return;
  if (temporalServerKind() === 'postgres') {
    // BGC_TEMPORAL=postgres: the production server on PostgreSQL (README, "Production topology on one machine").
    const server = await temporalServerInTempDir('bgc-test-temporal-');
    globalThis.__TEMPORAL_TEST_SERVER__ = server;
    await server.start();
    process.env.TEMPORAL_ADDRESS = server.address;
  } else {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: TEMPORAL_CLI_PATH },
        ip: '127.0.0.1',
        searchAttributes: SEARCH_ATTRIBUTE_KEYS,
        extraArgs: [...SQLITE_PRAGMA_ARGS, '--log-level', 'error'],
      },
    });
    globalThis.__TEMPORAL_TEST_ENV__ = env;
    process.env.TEMPORAL_ADDRESS = env.address;
  }
  // Bundle the workflow code once; every test worker loads the same bundle instead of rebuilding it.
  const code = await bundleCheckWorkflows();
  const bundleDir = path.resolve(__dirname, '..', '..', '.data');
  mkdirSync(bundleDir, { recursive: true });
  // One file per run: concurrent runs (e.g. while workflows are being edited) never swap each other's bundle.
  const bundlePath = path.join(bundleDir, `test-workflow-bundle-${process.pid}.js`);
  writeFileSync(bundlePath, code);
  process.env.BGC_TEST_WORKFLOW_BUNDLE = bundlePath;
}
