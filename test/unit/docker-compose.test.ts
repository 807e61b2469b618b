import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { codecRouter } from '../../src/api/codec-router';
import {
  apiConfigSchema,
  baseConfigSchema,
  loadConfig,
  migrationConfigSchema,
  workerConfigSchema,
} from '../../src/config';
import { RUNTIME_ROLE } from '../../src/db/runtime-database';
import { reportLinkKeyFromConfig, reportLinksFromConfig } from '../../src/report-links';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/temporal/search-attributes';

/**
 * docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so this checks them statically
 * against the code they deploy: the configuration schemas, the search attributes, the compiled entry points.
 */

const ROOT = path.resolve(__dirname, '..', '..');
/** A Temporal client as the codec endpoint sees it, with no codec: enough to build the router. */
const noCodecs = { options: { loadedDataConverter: { payloadCodecs: [] } } } as unknown as Pick<
  Client,
  'options'
>;
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');

// --- docker-compose.yml, typed by the subset of the Compose specification this stack uses -----------------

const commandSchema = z.union([z.string(), z.array(z.string())]);
const serviceSchema = z.looseObject({
  image: z.string().optional(),
  build: z
    .union([z.string(), z.looseObject({ context: z.string().optional(), dockerfile: z.string().optional() })])
    .optional(),
  command: commandSchema.optional(),
  entrypoint: commandSchema.optional(),
  environment: z
    .union([
      z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).nullable()),
      z.array(z.string()),
    ])
    .optional(),
  ports: z
    .array(
      z.union([
        z.string(),
        z.number(),
        z.looseObject({
          target: z.number(),
          published: z.union([z.string(), z.number()]).optional(),
          host_ip: z.string().optional(),
        }),
      ]),
    )
    .optional(),
  depends_on: z
    .union([
      z.array(z.string()),
      z.record(z.string(), z.looseObject({ condition: z.string().optional() }).nullable()),
    ])
    .optional(),
  volumes: z
    .array(z.union([z.string(), z.looseObject({ source: z.string().optional(), target: z.string() })]))
    .optional(),
  healthcheck: z.looseObject({ test: commandSchema }).optional(),
});
type Service = z.infer<typeof serviceSchema>;

const compose = z
  .looseObject({
    services: z.record(z.string(), serviceSchema),
    volumes: z.record(z.string(), z.unknown()).optional(),
  })
  .parse(parse(read('docker-compose.yml'), { merge: true }));

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** A value for a variable the operator must set (`${VAR:?message}`), shaped after its name. */
function dummyFor(variable: string): string {
  if (/^SMTP_URL$/.test(variable)) return 'smtp://mail.example.com:587';
  if (/URL$/.test(variable)) return `https://${variable.toLowerCase().replace(/_/g, '-')}.example.com`;
  if (/(PORT|_MS|LIMIT|ACTIVITIES)$/.test(variable)) return '4242';
  // Key rings (`id:base64 of 32 bytes`, comma-separated) and the id of their current key.
  if (/_KEYS$/.test(variable)) return `dummy:${Buffer.alloc(32, 7).toString('base64')}`;
  if (/_KEY_ID$/.test(variable)) return 'dummy';
  // A single key (base64 of 32 bytes).
  if (/_KEY$/.test(variable)) return Buffer.alloc(32, 9).toString('base64');
  // Long enough for tokens, and only characters that can stand unescaped inside a URL (passwords).
  return `dummy${variable.replace(/[^A-Za-z0-9]/g, '')}0123456789abcdef`;
}

/**
 * Compose interpolation: `$$` is a literal `$`, `${VAR:-default}` / `${VAR-default}` take the default (as when
 * the operator sets nothing), `${VAR:?message}` / `${VAR?message}` take a dummy value. A bare `$VAR` or
 * `${VAR}` would silently become empty when unset, so it is refused.
 */
function interpolate(value: string): string {
  return value.replace(
    /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (match, braced: string | undefined, operator: string | undefined, argument: string | undefined) => {
      if (match === '$$') return '$';
      if (!braced || !operator) {
        throw new Error(`${match} has neither a default (:-) nor a required marker (:?) in "${value}"`);
      }
      if (operator.endsWith('-')) return argument ?? '';
      if (!argument?.trim()) throw new Error(`${match} must say what to set`);
      return dummyFor(braced);
    },
  );
}

/** A service's environment as written (before interpolation). */
function rawEnvironment(svc: Service): Record<string, string> {
  const env: Record<string, string> = {};
  const entries: [string, string | number | boolean | null][] = Array.isArray(svc.environment)
    ? svc.environment.map((line) => {
        const eq = line.indexOf('=');
        return eq < 0 ? [line, null] : [line.slice(0, eq), line.slice(eq + 1)];
      })
    : Object.entries(svc.environment ?? {});
  for (const [key, value] of entries) {
    // A key without a value is taken from the shell running compose: unset there, it is unset here.
    if (value === null)
      throw new Error(`${key} has no value: give it one or a \${${key}:?...} interpolation`);
    env[key] = String(value);
  }
  return env;
}

function environment(svc: Service): Record<string, string> {
  return Object.fromEntries(
    Object.entries(rawEnvironment(svc)).map(([key, value]) => [key, interpolate(value)]),
  );
}

function words(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.trim().split(/\s+/);
}

function dependencies(svc: Service): Record<string, string> {
  const deps = svc.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, 'service_started']));
  return Object.fromEntries(
    Object.entries(deps).map(([name, dep]) => [name, dep?.condition ?? 'service_started']),
  );
}

/**
 * Port mappings as { host, published, target } (short syntax `[ip:][published:]target[/proto]`, the ip in brackets
 * for IPv6, or long syntax). `host` is the host address the port is published on: undefined means every interface.
 */
function ports(svc: Service): { host?: string; published?: number; target: number }[] {
  return (svc.ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return {
        host: port.host_ip,
        target: port.target,
        published: port.published === undefined ? undefined : Number(port.published),
      };
    }
    const text = interpolate(String(port)).replace(/\/(tcp|udp)$/, '');
    const ipv6 = /^\[([^\]]+)\]:(.+)$/.exec(text);
    const parts = (ipv6?.[2] ?? text).split(':');
    const host = ipv6?.[1] ?? (parts.length === 3 ? parts.shift() : undefined);
    const [published, target] = parts.length === 2 ? parts.map(Number) : [undefined, Number(parts[0])];
    if (
      parts.length > 2 ||
      (host !== undefined && published === undefined) ||
      !Number.isInteger(target) ||
      (published !== undefined && !Number.isInteger(published))
    ) {
      throw new Error(`Unsupported port mapping ${String(port)}`);
    }
    return { host: host === '0.0.0.0' || host === '::' ? undefined : host, published, target: target ?? 0 };
  });
}

const LOOPBACK = ['127.0.0.1', '::1', 'localhost'];

/** host and port of a `host:port` address. */
function hostPort(address: string): { host: string; port: number } {
  const match = /^([^:]+):(\d+)$/.exec(address);
  if (!match) throw new Error(`"${address}" is not host:port`);
  return { host: match[1] ?? '', port: Number(match[2]) };
}

/** The schema a process's configuration is validated with (other processes read only shared settings). */
function configSchemaOf(name: string): z.ZodObject {
  if (name === 'api') return apiConfigSchema;
  if (name === 'worker') return workerConfigSchema;
  if (name === 'migrate') return migrationConfigSchema;
  return baseConfigSchema;
}

// --- the build: tsconfig's outDir/rootDir decide where src/x.ts lands ---------------------------------------

const tsconfig = ts.parseJsonConfigFileContent(
  ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), (file) => ts.sys.readFile(file)).config,
  ts.sys,
  ROOT,
);
const OUT_DIR = path.resolve(ROOT, tsconfig.options.outDir ?? '.');
const ROOT_DIR = path.resolve(ROOT, tsconfig.options.rootDir ?? '.');

// --- Dockerfile: instructions per stage, continuation lines joined ----------------------------------------

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

const dockerfile = (() => {
  const lines = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'FROM') {
      const [image = '', as, name] = args.replace(/--platform=\S+\s+/, '').split(/\s+/);
      const from = image.replace(
        /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
        (_m, arg: string) => globalArgs[arg] ?? '',
      );
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0 && upper === 'ARG') {
      const [key = '', value = ''] = args.split('=');
      globalArgs[key] = value;
    } else {
      stages[stages.length - 1]?.instructions.push({ op: upper, args });
    }
  }
  return { stages, runtime: stages[stages.length - 1] };
})();

function instructions(stage: Stage | undefined, op: string): string[] {
  return (stage?.instructions ?? []).filter((i) => i.op === op).map((i) => i.args);
}

const WORKDIR = instructions(dockerfile.runtime, 'WORKDIR').pop() ?? '/';

/** The TypeScript source that the build compiles into `jsFile` (a path in the image, relative to WORKDIR). */
function sourceOf(jsFile: string): string {
  const inImage = path.posix.resolve(WORKDIR, jsFile);
  const relative = path.posix.relative(WORKDIR, inImage);
  const compiled = path.resolve(ROOT, relative);
  expect(path.relative(OUT_DIR, compiled).startsWith('..')).toBe(false);
  const source = path.join(ROOT_DIR, path.relative(OUT_DIR, compiled)).replace(/\.js$/, '.ts');
  return path.relative(ROOT, source).split(path.sep).join('/');
}

/** The script a service runs (`node <script>`), checked to be a compiled file of this project. */
function nodeScript(command: string[]): string {
  expect(command[0]).toBe('node');
  const script = command.find((word, i) => i > 0 && !word.startsWith('-'));
  if (!script) throw new Error(`"${command.join(' ')}" runs no script`);
  return script;
}

const builtFromDockerfile = Object.entries(compose.services).filter(([, svc]) => svc.build !== undefined);

// --- the stack's roles -------------------------------------------------------------------------------------

const api = service('api');
const worker = service('worker');
const apiEnv = environment(api);
const workerEnv = environment(worker);
const migrateEnv = environment(service('migrate'));

// --- deploy/postgres-roles.sql: each role's password comes from the postgresql container's environment -----

const rolesScript = read('deploy/postgres-roles.sql');

/** The password deploy/postgres-roles.sql gives `role`, as the postgresql service's environment sets it. */
function passwordOf(role: string): string | undefined {
  const variable = new RegExp(`^ALTER ROLE ${role} .*PASSWORD :'(\\w+)';$`, 'm').exec(rolesScript)?.[1];
  const envName = new RegExp(`^\\\\getenv ${variable} (\\w+)$`, 'm').exec(rolesScript)?.[1];
  expect([role, envName]).toEqual([role, expect.any(String)]);
  return environment(service('postgresql'))[envName ?? ''];
}
const registrations = Object.entries(compose.services).filter(([, svc]) =>
  [...words(svc.entrypoint), ...words(svc.command)].join(' ').includes('search-attribute create'),
);

describe('docker-compose.yml', () => {
  it('defines the production-like stack', () => {
    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'api', 'worker']) {
      expect(compose.services).toHaveProperty([name]);
    }
    expect(registrations.map(([name]) => name)).toHaveLength(1);
    expect(service('postgresql').image).toMatch(/^postgres:16(\.\d+)?$/);
    expect(service('temporal').image).toMatch(/^temporalio\/auto-setup:1\.2\d+\.\d+$/);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
  });

  it('gives every process built from the Dockerfile exactly the environment its config schema reads', () => {
    expect(builtFromDockerfile.map(([name]) => name)).toEqual(expect.arrayContaining(['api', 'worker']));
    for (const [name, svc] of builtFromDockerfile) {
      const schema = configSchemaOf(name);
      const env = environment(svc);
      expect([name, Object.keys(env).filter((key) => !(key in schema.shape))]).toEqual([name, []]);
      expect(() => loadConfig(schema, env)).not.toThrow();
      expect([name, loadConfig(schema, env).NODE_ENV]).toEqual([name, 'production']);
    }
  });

  it('makes the operator supply the admin token and the report link key instead of shipping them', () => {
    expect(rawEnvironment(api).ADMIN_TOKEN).toMatch(/^\$\{ADMIN_TOKEN:\?.+\}$/);
    // The codec endpoint reads every Temporal payload: a token of its own, which production requires.
    expect(rawEnvironment(api).CODEC_TOKEN).toMatch(/^\$\{CODEC_TOKEN:\?.+\}$/);
    const config = loadConfig(apiConfigSchema, apiEnv);
    expect(config.CODEC_TOKEN).not.toBe(config.ADMIN_TOKEN);
    expect(() => codecRouter({ config, temporal: noCodecs })).not.toThrow();
    for (const svc of [api, worker])
      expect(rawEnvironment(svc).REPORT_LINK_KEY).toMatch(/^\$\{REPORT_LINK_KEY:\?.+\}$/);
  });

  it('makes the operator supply the worker’s SMTP server (the Justworks hire e-mails), with a default sender', () => {
    expect(rawEnvironment(worker).SMTP_URL).toMatch(/^\$\{SMTP_URL:\?.+\}$/);
    expect(rawEnvironment(worker).MAIL_FROM).toMatch(/^\$\{MAIL_FROM:-.+\}$/);
    expect(loadConfig(workerConfigSchema, workerEnv).MAIL_FROM).toBe(
      workerConfigSchema.shape.MAIL_FROM.parse(undefined),
    );
  });

  it('points the API and the worker at the same database, namespace, task queue and report links', () => {
    const apiConfig = loadConfig(apiConfigSchema, apiEnv);
    const workerConfig = loadConfig(workerConfigSchema, workerEnv);
    for (const key of [
      'DATABASE_URL',
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'TEMPORAL_TASK_QUEUE',
      // The worker writes report links under the API's address, signed with the key the API checks them with.
      'PUBLIC_BASE_URL',
      'REPORT_LINK_KEY',
    ] as const) {
      expect([key, workerConfig[key]]).toEqual([key, apiConfig[key]]);
    }
  });

  it('gives the API its report link key and the worker the key and the public address, as production requires', () => {
    expect(reportLinkKeyFromConfig(loadConfig(apiConfigSchema, apiEnv)).development).toBe(false);
    expect(reportLinksFromConfig(loadConfig(workerConfigSchema, workerEnv))?.key.development).toBe(false);
  });

  it('publishes and probes the API on the port it listens on, on every interface of its container', () => {
    const config = loadConfig(apiConfigSchema, apiEnv);
    expect(ports(api)).toContainEqual({ host: undefined, published: 8080, target: config.API_PORT });
    expect(['0.0.0.0', '::']).toContain(config.API_HOST);
    expect(instructions(dockerfile.runtime, 'EXPOSE').join(' ').split(/\s+/)).toContain(
      String(config.API_PORT),
    );
    const probe = /https?:\/\/[^'"\s]+/.exec(words(api.healthcheck?.test).join(' '))?.[0];
    expect(probe).toBeDefined();
    const probeUrl = new URL(probe ?? '');
    expect([probeUrl.hostname, Number(probeUrl.port || 80)]).toEqual(['127.0.0.1', config.API_PORT]);
  });

  it('connects the migrator, the API and the worker to the postgresql service, each as its own role', () => {
    const postgres = environment(service('postgresql'));
    const connections: [string, string | undefined, string][] = [
      ['migrate', migrateEnv.MIGRATION_DATABASE_URL, 'bgc_migrator'],
      ['api', apiEnv.DATABASE_URL, 'bgc_app'],
      ['worker', workerEnv.DATABASE_URL, 'bgc_app'],
    ];
    for (const [name, databaseUrl, role] of connections) {
      const url = new URL(databaseUrl ?? '');
      expect([name, url.hostname, url.port || '5432', url.pathname]).toEqual([
        name,
        'postgresql',
        '5432',
        '/bgc',
      ]);
      expect([name, decodeURIComponent(url.username)]).toEqual([name, role]);
      expect([name, decodeURIComponent(url.password)]).toEqual([name, passwordOf(role)]);
    }
    // Every process built from the Dockerfile is one of them: none reaches the database as another.
    expect(builtFromDockerfile.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'worker']);
    // The superuser only sets the volume up, and each role has a password of its own.
    const superuser = postgres.POSTGRES_USER ?? 'postgres';
    expect(['bgc_migrator', 'bgc_app', 'temporal']).not.toContain(superuser);
    const passwords = ['bgc_migrator', 'bgc_app', 'temporal'].map(passwordOf);
    expect(new Set([...passwords, postgres.POSTGRES_PASSWORD]).size).toBe(4);
    expect(words(service('postgresql').healthcheck?.test).join(' ')).toContain('pg_isready');
  });

  it('creates those roles on the first start of the volume: owner, runtime (a member of the granted role), Temporal', () => {
    const init = (service('postgresql').volumes ?? [])
      .map((v) => (typeof v === 'string' ? v.split(':') : [v.source ?? '', v.target]))
      .find(([, target]) => target?.startsWith('/docker-entrypoint-initdb.d/'));
    expect(init?.[1]).toMatch(/\.sql$/);
    expect(path.relative(ROOT, path.resolve(ROOT, init?.[0] ?? ''))).toBe(
      path.join('deploy', 'postgres-roles.sql'),
    );
    for (const role of ['bgc_migrator', 'bgc_app', 'temporal']) {
      expect(rolesScript).toMatch(
        new RegExp(`ALTER ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS`),
      );
    }
    expect(rolesScript).toMatch(new RegExp(`ALTER ROLE ${RUNTIME_ROLE} NOLOGIN`));
    expect(
      [...rolesScript.matchAll(/^GRANT (\w+) TO (\w+);$/gm)].map(([, group, member]) => [group, member]),
    ).toEqual([[RUNTIME_ROLE, 'bgc_app']]);
    expect(rolesScript).toContain('ALTER DATABASE bgc OWNER TO bgc_migrator;');
    expect(rolesScript).toContain('ALTER DATABASE temporal OWNER TO temporal;');
    expect(rolesScript).toContain('ALTER DATABASE temporal_visibility OWNER TO temporal;');
    expect(rolesScript).toContain('REVOKE ALL ON DATABASE bgc, temporal, temporal_visibility FROM PUBLIC;');
    expect(rolesScript).toContain(`GRANT CONNECT ON DATABASE bgc TO ${RUNTIME_ROLE};`);
  });

  it('runs Temporal on that PostgreSQL as its own role, in the databases made for it, with the mounted dynamic config', () => {
    const temporal = service('temporal');
    const env = environment(temporal);
    expect(env.DB).toBe('postgres12');
    expect(env.POSTGRES_SEEDS).toBe('postgresql');
    expect(env.POSTGRES_USER).toBe('temporal');
    expect(env.POSTGRES_PWD).toBe(passwordOf('temporal'));
    // The role may not create databases: deploy/postgres-roles.sql made them.
    expect(env.SKIP_DB_CREATE).toBe('true');
    expect([env.DBNAME ?? 'temporal', env.VISIBILITY_DBNAME ?? 'temporal_visibility']).toEqual([
      'temporal',
      'temporal_visibility',
    ]);
    expect(dependencies(temporal)).toMatchObject({ postgresql: 'service_healthy' });

    const mount = (temporal.volumes ?? [])
      .map((v) => (typeof v === 'string' ? v.split(':') : [v.source ?? '', v.target]))
      .find(([, target]) => target === env.DYNAMIC_CONFIG_FILE_PATH);
    expect(mount?.[0]).toBeDefined();
    const hostFile = path.resolve(ROOT, mount?.[0] ?? '');
    expect(path.relative(ROOT, hostFile)).toBe(path.join('deploy', 'temporal-dynamicconfig.yaml'));
    expect(parse(fs.readFileSync(hostFile, 'utf8'))).toEqual(expect.any(Object));
  });

  it('addresses the temporal service on 7233 from every client', () => {
    const clients: [string, string | undefined][] = [
      ['api', loadConfig(apiConfigSchema, apiEnv).TEMPORAL_ADDRESS],
      ['worker', loadConfig(workerConfigSchema, workerEnv).TEMPORAL_ADDRESS],
      ['temporal-ui', environment(service('temporal-ui')).TEMPORAL_ADDRESS],
      ...registrations.map(([name, svc]): [string, string | undefined] => [
        name,
        environment(svc).TEMPORAL_ADDRESS,
      ]),
    ];
    for (const [name, address] of clients) {
      expect([name, hostPort(address ?? '')]).toEqual([name, { host: 'temporal', port: 7233 }]);
    }
  });

  it('publishes nothing but the API beyond loopback, and Temporal’s frontend not at all', () => {
    // Whoever reaches Temporal's frontend can start, signal, cancel and read every check; the UI has no login.
    for (const [name, svc] of Object.entries(compose.services)) {
      if (name === 'api') continue;
      for (const port of ports(svc)) {
        expect({ service: name, port, loopback: LOOPBACK.includes(port.host ?? '') }).toEqual({
          service: name,
          port,
          loopback: true,
        });
      }
    }
    expect(ports(service('temporal'))).toEqual([]);
  });

  it('publishes the Temporal UI on 127.0.0.1:8233, on the port the UI listens on', () => {
    const ui = service('temporal-ui');
    const env = environment(ui);
    expect(ports(ui)).toEqual([
      { host: '127.0.0.1', published: 8233, target: Number(env.TEMPORAL_UI_PORT ?? 8080) },
    ]);
    expect(env.TEMPORAL_CORS_ORIGINS).toEqual(expect.any(String));
    expect(dependencies(ui)).toHaveProperty(['temporal']);
  });

  it('starts the API and the worker after PostgreSQL, the migrations, Temporal and the search attribute registration', () => {
    const [registration] = registrations;
    expect(dependencies(service('migrate'))).toMatchObject({ postgresql: 'service_healthy' });
    for (const svc of [api, worker]) {
      const deps = dependencies(svc);
      expect(deps).toMatchObject({
        postgresql: 'service_healthy',
        migrate: 'service_completed_successfully',
      });
      expect(deps).toHaveProperty(['temporal']);
      expect(deps).toMatchObject({ [registration?.[0] ?? '']: 'service_completed_successfully' });
    }
  });

  it('registers exactly the custom search attributes of src/temporal/search-attributes.ts', () => {
    const [, registration] = registrations[0] ?? [];
    const script = [...words(registration?.entrypoint), ...words(registration?.command)].join(' ');
    const created = [...script.matchAll(/--name\s+['"]?(\w+)['"]?\s+--type\s+['"]?(\w+)['"]?/g)].map(
      ([, name, type]) => `${name}=${type?.toLowerCase()}`,
    );
    const expected = SEARCH_ATTRIBUTE_KEYS.map((key) => `${key.name}=${key.type.toLowerCase()}`);
    expect([...created].sort()).toEqual([...expected].sort());

    // ...in the namespace the API and the worker use, which auto-setup creates.
    const namespace = loadConfig(apiConfigSchema, apiEnv).TEMPORAL_NAMESPACE;
    expect(environment(registration ?? {}).TEMPORAL_NAMESPACE ?? 'default').toBe(namespace);
    expect(environment(service('temporal')).DEFAULT_NAMESPACE ?? 'default').toBe(namespace);
  });

  it('runs compiled entry points that the build produces from existing sources', () => {
    expect(sourceOf(nodeScript(words(api.command)))).toBe('src/main.ts');
    expect(sourceOf(nodeScript(words(worker.command)))).toBe('src/worker.ts');
    expect(sourceOf(nodeScript(words(service('migrate').command)))).toBe('src/db/migrate-cli.ts');
    for (const [name, svc] of builtFromDockerfile) {
      const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
      expect([name, path.resolve(ROOT, build?.context ?? '.'), build?.dockerfile ?? 'Dockerfile']).toEqual([
        name,
        ROOT,
        'Dockerfile',
      ]);
      const source = sourceOf(nodeScript(words(svc.command)));
      expect({ service: name, source, exists: fs.existsSync(path.join(ROOT, source)) }).toEqual({
        service: name,
        source,
        exists: true,
      });
    }
  });
});

describe('Dockerfile', () => {
  const [cmd] = instructions(dockerfile.runtime, 'CMD');
  const runs = (stage: Stage | undefined): string => instructions(stage, 'RUN').join('\n');

  it('builds on Node 20 (glibc, for the Temporal core bridge)', () => {
    for (const stage of dockerfile.stages) expect(stage.from).toMatch(/^node:20(\.\d+)*-bookworm-slim$/);
  });

  it('compiles TypeScript and puts the SQL migrations next to the compiled migration runner', () => {
    const build = dockerfile.stages.slice(0, -1);
    expect(build.map(runs).join('\n')).toContain('npm run build');
    // src/db/migrate.ts reads path.join(__dirname, 'migrations').
    const migrations = path.relative(
      ROOT,
      path.join(OUT_DIR, path.relative(ROOT_DIR, path.join(ROOT, 'src/db/migrations'))),
    );
    expect(fs.readdirSync(path.join(ROOT, 'src/db/migrations')).some((f) => f.endsWith('.sql'))).toBe(true);
    expect(build.map(runs).join('\n')).toMatch(
      new RegExp(`src/db/migrations/\\S*\\s+${migrations.split(path.sep).join('/')}`),
    );
  });

  it('builds the workflow bundle ahead, and the worker loads it instead of bundling at start', () => {
    const build = dockerfile.stages.slice(0, -1);
    const bundle = /node\s+(dist\/src\/temporal\/bundle-workflows\.js)\s+(\S+)/.exec(
      build.map(runs).join('\n'),
    );
    expect(bundle).not.toBeNull();
    expect(fs.existsSync(path.join(ROOT, 'src/temporal/bundle-workflows.ts'))).toBe(true);
    const env = instructions(dockerfile.runtime, 'ENV').join(' ');
    expect(env).toMatch(new RegExp(`WORKFLOW_BUNDLE_PATH=/app/${bundle![2]!.replace(/\./g, '\\.')}(\\s|$)`));
  });

  it('ships production dependencies and the compiled code, run as a non-root user', () => {
    const runtime = dockerfile.runtime;
    expect(runs(runtime)).toMatch(/npm ci\b.*--omit=dev/);
    const outDir = path.relative(ROOT, OUT_DIR);
    expect(instructions(runtime, 'COPY')).toContainEqual(
      expect.stringMatching(new RegExp(`^--from=\\S+\\s+\\S*/${outDir}/?\\s+\\S*${outDir}/?$`)),
    );
    expect(instructions(runtime, 'ENV').join(' ')).toMatch(/NODE_ENV[= ]production/);
    const user = instructions(runtime, 'USER').pop();
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
  });

  it('starts the API by default', () => {
    expect(sourceOf(nodeScript(z.array(z.string()).parse(JSON.parse(cmd ?? 'null'))))).toBe('src/main.ts');
  });

  it('leaves the sandbox (emulators, SMTP catcher) out of the image: no stage copies sandbox/', () => {
    expect(fs.existsSync(path.join(ROOT, 'sandbox'))).toBe(true);
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((line) => line.trim().replace(/^\/|\/$/g, ''));
    const copied = dockerfile.stages.flatMap((stage) =>
      [...instructions(stage, 'COPY'), ...instructions(stage, 'ADD')]
        .filter((args) => !/^--from=/.test(args))
        .flatMap((args) => {
          const words = args.split(/\s+/).filter((word) => !word.startsWith('--'));
          return words.slice(0, -1).map((source) => source.replace(/^\.\/|\/$/g, '') || '.');
        }),
    );
    expect(copied).toEqual(expect.arrayContaining(['src']));
    for (const source of copied) {
      expect({ source, sandbox: /^sandbox(\/|$)/.test(source) }).toEqual({ source, sandbox: false });
      // Copying the whole context would bring sandbox/ along unless .dockerignore keeps it out.
      if (source === '.' || source === '*') expect(ignored).toContain('sandbox');
    }
  });

  it('installs the sandbox’s packages as development dependencies only (npm ci --omit=dev leaves them out)', () => {
    const manifest = JSON.parse(read('package.json')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const lock = JSON.parse(read('package-lock.json')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const importsOf = (dir: string): Set<string> => {
      const names = new Set<string>();
      const walk = (d: string): void => {
        for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
          const full = path.join(d, entry.name);
          if (entry.isDirectory()) walk(full);
          else if (entry.name.endsWith('.ts'))
            for (const m of fs.readFileSync(full, 'utf8').matchAll(/\sfrom\s+['"]([^'".][^'"]*)['"]/g)) {
              const spec = m[1]!;
              if (spec.startsWith('node:')) continue;
              names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
            }
        }
      };
      walk(path.join(ROOT, dir));
      return names;
    };
    const service = importsOf('src');
    const sandboxOnly = [...importsOf('sandbox')].filter((name) => !service.has(name));
    expect(sandboxOnly).toEqual(expect.arrayContaining(['smtp-server', 'mailparser']));
    for (const name of [...sandboxOnly, '@types/smtp-server', '@types/mailparser']) {
      expect({
        name,
        production: manifest.dependencies[name] !== undefined,
        development: manifest.devDependencies[name] !== undefined,
        lockedAsDev: lock.packages[`node_modules/${name}`]?.dev === true,
      }).toEqual({ name, production: false, development: true, lockedAsDev: true });
    }
  });

  it('keeps host artefacts out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((line) => line.trim().replace(/^\/|\/$/g, ''));
    for (const entry of ['node_modules', '.tools', '.data', 'dist', '.git']) expect(ignored).toContain(entry);
  });
});
