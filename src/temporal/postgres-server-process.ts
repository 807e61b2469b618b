import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { untilReady } from './until-ready';
import { msToTs } from '@temporalio/common/lib/time';
import { Client as PgClient } from 'pg';
import { createServer } from 'node:net';
import { SEARCH_ATTRIBUTE_KEYS } from './search-attributes';

const run = promisify(execFile);

/** Where scripts/install-temporal-server.sh puts the pinned server, its SQL tool and the PostgreSQL schemas. */
export const TEMPORAL_SERVER_DIR =
  process.env.TEMPORAL_SERVER_DIR ?? path.resolve(__dirname, '..', '..', '.tools', 'temporal-server');

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The dynamic configuration docker-compose.yml mounts into its Temporal server. */
const COMPOSE_DYNAMIC_CONFIG = path.join(PROJECT_ROOT, 'deploy', 'temporal-dynamicconfig.yaml');

/**
 * Added to the compose file's dynamic configuration here only: a namespace and search attributes registered at start
 * are usable at once instead of after the caches' next refresh (up to 10 s), which tests and benchmarks would
 * otherwise wait for at every start. Neither changes how workflows run.
 */
const FAST_SETUP_DYNAMIC_CONFIG = `
# Added for a server started by src/temporal/postgres-server-process.ts (tests, benchmarks, demo): see there.
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
    constraints: {}
system.namespaceCacheRefreshInterval:
  - value: 1s
    constraints: {}
`;

export interface PostgresTemporalOptions {
  /** A superuser URL of the PostgreSQL server that holds Temporal's two databases. */
  adminUrl?: string;
  /** Name of the persistence database; the visibility database is `<name>_visibility`. */
  database: string;
  /** Folder for the generated configuration and the server's log. */
  dir: string;
  /** The namespace registered at start (with the project's search attributes). */
  namespace?: string;
  /** Shards of the history service (docker-compose's auto-setup default is 4). */
  historyShards?: number;
  /** The frontend's port (default: a free one). */
  frontendPort?: number;
  /** Keep the databases of an earlier run (the first `start()` then only adds what is missing). */
  keepDatabases?: boolean;
}

interface Ports {
  frontend: number;
  frontendMembership: number;
  frontendHttp: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/**
 * The production Temporal server (the one docker-compose.yml runs), persisting to PostgreSQL, as one process
 * running all four services, on free ports. `prepare()` creates its two databases and their schemas with the
 * server's own SQL tool (dropping earlier ones of the same name); `start()` runs it in a process group of its own,
 * waits until it answers, and registers the namespace and the project's search attributes (as the compose file's
 * one-shot does); `stop()` and `start()` again restart it on the same databases, as an operator would.
 */
export class PostgresTemporalServer {
  readonly kind = 'postgres';
  private child: ChildProcess | undefined;
  private prepared = false;
  readonly namespace: string;
  private readonly adminUrl: URL;

  /** A server on free ports (the frontend on `options.frontendPort` if given); nothing runs until `start()`. */
  static async create(options: PostgresTemporalOptions): Promise<PostgresTemporalServer> {
    return new PostgresTemporalServer(options, await choosePorts(options.frontendPort));
  }

  private constructor(
    private readonly options: PostgresTemporalOptions,
    private readonly ports: Ports,
  ) {
    if (!/^[a-z_][a-z0-9_]{0,50}$/.test(options.database)) {
      throw new Error('a Temporal database name must be up to 51 lowercase letters, digits and underscores');
    }
    this.namespace = options.namespace ?? 'default';
    this.adminUrl = new URL(options.adminUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  }

  get address(): string {
    return `127.0.0.1:${this.ports.frontend}`;
  }

  /** The server's process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get logFile(): string {
    return path.join(this.options.dir, 'temporal-server.log');
  }

  private get databases(): string[] {
    return [this.options.database, `${this.options.database}_visibility`];
  }

  /** Creates both databases afresh (dropping earlier ones of these names) and installs Temporal's schemas. */
  async prepare(): Promise<void> {
    await this.prepareDatabases(true);
  }

  /** Creates the databases that are missing and brings both schemas up to date, keeping what they hold. */
  private async prepareKept(): Promise<void> {
    await this.prepareDatabases(false);
  }

  private async prepareDatabases(fresh: boolean): Promise<void> {
    const admin = new PgClient({ connectionString: this.adminUrl.toString() });
    const created = new Set<string>();
    await admin.connect();
    try {
      for (const name of this.databases) {
        if (fresh) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (exists.rowCount === 0) {
          await admin.query(`CREATE DATABASE ${name}`);
          created.add(name);
        }
      }
    } finally {
      await admin.end();
    }
    const schemas = path.join(TEMPORAL_SERVER_DIR, 'schema', 'postgresql', 'v12');
    const [main, visibility] = this.databases as [string, string];
    for (const [database, schema] of [
      [main, path.join(schemas, 'temporal', 'versioned')],
      [visibility, path.join(schemas, 'visibility', 'versioned')],
    ] as const) {
      if (created.has(database)) await this.sqlTool(database, ['setup-schema', '-v', '0.0']);
      await this.sqlTool(database, ['update-schema', '-d', schema]);
    }
    this.prepared = true;
  }

  /** Bytes of both databases. */
  async storageBytes(): Promise<number> {
    const admin = new PgClient({ connectionString: this.adminUrl.toString() });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ size: string }>(
        'SELECT sum(pg_database_size(datname))::text AS size FROM pg_database WHERE datname = ANY($1)',
        [this.databases],
      );
      return Number(rows[0]?.size ?? 0);
    } finally {
      await admin.end();
    }
  }

  /** Drops both databases (the server must be stopped). */
  async dropDatabases(): Promise<void> {
    const admin = new PgClient({ connectionString: this.adminUrl.toString() });
    await admin.connect();
    try {
      for (const name of this.databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }

  private async sqlTool(database: string, args: string[]): Promise<void> {
    const url = this.adminUrl;
    const connection = [
      '--plugin',
      'postgres12',
      '--endpoint',
      url.hostname,
      '--port',
      url.port || '5432',
      '--user',
      decodeURIComponent(url.username || 'postgres'),
      '--database',
      database,
    ];
    const env = { ...process.env, SQL_PASSWORD: decodeURIComponent(url.password) };
    await run(path.join(TEMPORAL_SERVER_DIR, 'temporal-sql-tool'), [...connection, ...args], { env });
  }

  /**
   * Starts the server and registers the namespace and the search attributes; the first start prepares the
   * databases (unless `keepDatabases`, where an existing schema is only brought up to date).
   */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.child) throw new Error('the Temporal server is already running');
    if (!this.prepared) {
      if (this.options.keepDatabases === true) await this.prepareKept();
      else await this.prepare();
    }
    const configDir = path.join(this.options.dir, 'config');
    mkdirSync(configDir, { recursive: true });
    const dynamicConfig = path.join(configDir, 'dynamicconfig.yaml');
    writeFileSync(dynamicConfig, readFileSync(COMPOSE_DYNAMIC_CONFIG, 'utf8') + FAST_SETUP_DYNAMIC_CONFIG);
    // JSON is YAML: the server reads this file as its `development` environment.
    writeFileSync(
      path.join(configDir, 'development.yaml'),
      JSON.stringify(this.config(this.ports, dynamicConfig), null, 2),
    );
    const log = openSync(this.logFile, 'a');
    const child = spawn(
      path.join(TEMPORAL_SERVER_DIR, 'temporal-server'),
      ['--root', this.options.dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'],
      { stdio: ['ignore', log, log], detached: true },
    );
    closeSync(log);
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const result = await untilReady(child, () => this.setUp(), { timeoutMs, intervalMs: 250 });
    if (result.ready) return;
    await this.stop();
    throw new Error(
      result.exited
        ? `the Temporal server exited at start (see ${this.logFile})`
        : `the Temporal server was not ready within ${timeoutMs} ms (${String(result.lastError)}; see ${this.logFile})`,
    );
  }

  /** Registers the namespace and the search attributes unless there; throws until the server can do both. */
  private async setUp(): Promise<void> {
    const connection = await Connection.connect({
      address: this.address,
      connectTimeout: 1000,
      channelArgs: { 'grpc.use_local_subchannel_pool': 1 },
    });
    try {
      const service = connection.workflowService;
      await service.getSystemInfo({});
      try {
        await service.describeNamespace({ namespace: this.namespace });
      } catch {
        await service.registerNamespace({
          namespace: this.namespace,
          workflowExecutionRetentionPeriod: msToTs('1 day'),
        });
      }
      const { customAttributes } = await connection.operatorService.listSearchAttributes({
        namespace: this.namespace,
      });
      const missing = SEARCH_ATTRIBUTE_KEYS.filter((key) => customAttributes?.[key.name] === undefined);
      if (missing.length > 0) {
        await connection.operatorService.addSearchAttributes({
          namespace: this.namespace,
          searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueType(key.type)])),
        });
        throw new Error('search attributes registered; checking again');
      }
      // The namespace is usable once the history service accepts a call in it.
      await service.countWorkflowExecutions({ namespace: this.namespace, query: '' });
    } finally {
      await connection.close();
    }
  }

  private config(ports: Ports, dynamicConfig: string): Record<string, unknown> {
    const url = this.adminUrl;
    const store = (databaseName: string, maxConns: number) => ({
      sql: {
        pluginName: 'postgres12',
        databaseName,
        connectAddr: `${url.hostname}:${url.port || '5432'}`,
        connectProtocol: 'tcp',
        user: decodeURIComponent(url.username || 'postgres'),
        password: decodeURIComponent(url.password),
        maxConns,
        maxIdleConns: maxConns,
        maxConnLifetime: '1h',
      },
    });
    const [main, visibility] = this.databases as [string, string];
    const service = (grpcPort: number, membershipPort: number, extra: Record<string, number> = {}) => ({
      rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
    });
    return {
      log: { stdout: true, level: 'warn' },
      persistence: {
        defaultStore: 'postgres-default',
        visibilityStore: 'postgres-visibility',
        numHistoryShards: this.options.historyShards ?? 4,
        // 14 connections at most: tests and benchmarks run servers beside the service on one PostgreSQL (100).
        datastores: { 'postgres-default': store(main, 10), 'postgres-visibility': store(visibility, 4) },
      },
      global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
      services: {
        frontend: service(ports.frontend, ports.frontendMembership, { httpPort: ports.frontendHttp }),
        matching: service(ports.matching, ports.matchingMembership),
        history: service(ports.history, ports.historyMembership),
        worker: service(ports.worker, ports.workerMembership),
      },
      clusterMetadata: {
        enableGlobalNamespace: false,
        failoverVersionIncrement: 10,
        masterClusterName: 'active',
        currentClusterName: 'active',
        clusterInformation: {
          active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: this.address },
        },
      },
      dcRedirectionPolicy: { policy: 'noop' },
      dynamicConfigClient: { filepath: dynamicConfig, pollInterval: '10s' },
    };
  }

  /** SIGTERM to the server's process group, then waits for it to exit (SIGKILL after `killAfterMs`). */
  async stop(killAfterMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    const pid = child.pid;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), killAfterMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        signalGroup(pid, 'SIGTERM');
      });
    }
    if (this.child === child) this.child = undefined;
  }

  /** Stops the server, drops its databases and removes its folder. */
  async dispose(): Promise<void> {
    await this.stop();
    await this.dropDatabases();
    rmSync(this.options.dir, { recursive: true, force: true });
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Free ports below 32768: the server stores its services' membership ports as PostgreSQL `smallint`, so the
 * kernel's ephemeral ports (32768 and up) would stop it at start.
 */
async function choosePorts(frontendPort?: number): Promise<Ports> {
  const chosen = new Set<number>(frontendPort === undefined ? [] : [frontendPort]);
  const next = async (): Promise<number> => {
    for (;;) {
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      if (!chosen.has(port) && (await isFree(port))) {
        chosen.add(port);
        return port;
      }
    }
  };
  return {
    frontend: frontendPort ?? (await next()),
    frontendMembership: await next(),
    frontendHttp: await next(),
    history: await next(),
    historyMembership: await next(),
    matching: await next(),
    matchingMembership: await next(),
    worker: await next(),
    workerMembership: await next(),
  };
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** temporal.api.enums.v1.IndexedValueType of a search attribute type name of the SDK. */
function indexedValueType(type: string): number {
  const values: Record<string, number> = {
    TEXT: 1,
    KEYWORD: 2,
    INT: 3,
    DOUBLE: 4,
    BOOL: 5,
    DATETIME: 6,
    KEYWORD_LIST: 7,
  };
  const value = values[type];
  if (value === undefined) throw new Error(`unknown search attribute type ${type}`);
  return value;
}
