#!/usr/bin/env node
/**
 * The `hourglass` command. Options are defined once in config.ts (START_DEV_OPTIONS): commander
 * parses the command line and shows each option's default and env variable in --help, while the
 * precedence flags > env > config file > defaults is config.ts's, so commander's own env and
 * default values are only displayed, never used.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ServerMetrics, allSettings, createLogger, quote, startTracing, tracingSettingsFromEnv } from '@hourglass/common';
import { startBanner } from './banner';
import {
  CLUSTER_DEFAULTS,
  CONFIG_FILE_OPTION,
  DEV_DEFAULTS,
  START_CLUSTER_OPTIONS,
  START_DEFAULTS,
  START_DEV_OPTIONS,
  START_SHARED_KEYS,
  loadDevServerConfig,
  loadStartConfig,
  parseDevServerConfig,
  type ConfigFlags,
  type LoadedConfig,
} from './config';
import { OPERATOR_KEY_ENV, callOperatorApi, resolveOperatorKey } from './admin-client';
import { EventLoopStallMonitor, formatStalls } from './loop-monitor';
import { SETTINGS_FORMATS, formatSettings, replaceGeneratedTable, type SettingsFormat } from './settings-table';
import { SERVER_VERSION } from './version';
import type { CliError } from './cli/cli-support';
// The server itself (dev-server, the stores, the bootstrap) is imported where a command needs it:
// the workflow, operator and admin commands start in a fraction of the time without it.
import { registerOperatorCommands } from './cli/operator-commands';
import { registerWorkflowCommands } from './cli/workflow-commands';
import { registerBatchCommands } from './cli/batch-commands';

/** Retention of the in-memory test server's namespace: effectively forever. */
const TEST_SERVER_RETENTION_HOURS = 1000 * 365 * 24;
/** Exit code of a refused configuration or command line (1 is a failure at run time). */
const EXIT_USAGE = 2;

const program = new Command('hourglass')
  .description('Hourglass: durable execution that speaks the Temporal protocol')
  .version(SERVER_VERSION, '-V, --version', 'print the version')
  .showHelpAfterError('(run with --help for every option)')
  // Commander's own refusals (unknown option, missing argument) exit like a refused configuration.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE));

function configFileOption(): Option {
  return new Option(CONFIG_FILE_OPTION.flags, CONFIG_FILE_OPTION.description).env(CONFIG_FILE_OPTION.env).default('', 'none');
}

function fail(message: string, code: number): never {
  console.error(`hourglass: ${message}`);
  process.exit(code);
}

/** The values given on the command line itself (source `cli`), keyed by commander attribute name. */
function cliValues(command: Command): Record<string, unknown> {
  const opts = command.opts();
  return Object.fromEntries(Object.keys(opts).filter((name) => command.getOptionValueSource(name) === 'cli').map((name) => [name, opts[name]]));
}

function load(flags: ConfigFlags, configFile: unknown): LoadedConfig {
  try {
    return loadDevServerConfig(flags, process.env, typeof configFile === 'string' && configFile !== '' ? configFile : undefined);
  } catch (err) {
    return fail((err as Error).message, EXIT_USAGE);
  }
}

const startDev = program
  .command('start-dev')
  .description('run every service in one process, by default on the embedded SQLite store, serving gRPC on 127.0.0.1:7233 and over TLS on 127.0.0.1:7234')
  .addOption(configFileOption());
/** Commander attribute name (`dbFilename`, `namespace`, `mysqlShardDsn`) → config key. */
const startDevKeys = new Map<string, (typeof START_DEV_OPTIONS)[number]['key']>();
for (const spec of START_DEV_OPTIONS) {
  const option = new Option(spec.flags, spec.description).env(spec.env);
  const value = DEV_DEFAULTS[spec.key];
  // No default value (numHistoryShards): only its description shows in --help; the config decides.
  if (value === undefined) option.default('', 'what the store recorded; 4 for a new store');
  else option.default(value, value === '' || (Array.isArray(value) && value.length === 0) ? 'none' : JSON.stringify(value));
  startDevKeys.set(option.attributeName(), spec.key);
  startDev.addOption(option);
}
startDev.addHelpText(
  'after',
  [
    '',
    'Each option comes from its flag, else its env variable, else the --config file (camelCase keys: numHistoryShards), else its default.',
    "The file's settings: section overrides tunables and limits, globally or per namespace / task queue: `hourglass settings` lists them.",
    'TLS: the same services on --tls-port. Without --tls-cert-file/--tls-key-file, a local CA and a certificate for localhost, 127.0.0.1 and ::1',
    'are made on first start in tls/ beside the SQLite file (.hourglass/tls/ca.pem is the CA file clients trust) and reused after.',
  ].join('\n'),
);

// Tests only: serve history and matching on a loopback internal gRPC server and wire every role through it.
startDev.addOption(new Option('--internal-transport <transport>').choices(['in-process', 'grpc-loopback']).hideHelp());

startDev.action(async (_opts: unknown, command: Command) => {
  const given = cliValues(command);
  const flags: ConfigFlags = {};
  for (const [name, value] of Object.entries(given)) {
    const key = startDevKeys.get(name);
    if (key) flags[key] = value;
  }
  const { config, settings, billing } = load(flags, given.config);
  const logger = createLogger({ level: config.logLevel, name: 'hourglass' });
  // Tracing only when the OTEL_* variables configure an exporter; metrics always (served unless --metrics-address off).
  const tracing = startTracing(tracingSettingsFromEnv(process.env));
  const metrics = new ServerMetrics();
  let server;
  try {
    server = await (await import('./dev-server.js')).startDevServer({
      config,
      settings,
      logger,
      ...(billing ? { billing } : {}),
      ...(given.internalTransport ? { internalTransport: given.internalTransport as 'in-process' | 'grpc-loopback' } : {}),
      telemetry: { metrics, ...(tracing ? { tracer: tracing.tracer } : {}) } });
  } catch (err) {
    fail(`could not start: ${(err as Error).message}`, 1);
  }

  // How long the event loop was held up while serving (one tenant must never stall the others):
  // said when the server stops, and on SIGUSR2, which also starts a new window (a benchmark
  // measures one phase that way).
  const loop = new EventLoopStallMonitor();
  process.on('SIGUSR2', () => {
    console.log(`Hourglass ${formatStalls(loop.stalls())}`);
    loop.reset();
  });
  const servingSince = Date.now();
  let signals = 0;
  const shutdown = (signal: string): void => {
    signals += 1;
    if (signals > 1) process.exit(130);
    logger.info({ signal }, 'shutting down');
    const stalls = loop.stalls();
    loop.stop();
    server
      .stop()
      .then(() => tracing?.shutdown())
      .then(
      () => {
        console.log(`Hourglass stopped after ${((Date.now() - servingSince) / 1000).toFixed(0)} s of serving: ${formatStalls(stalls)}`);
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Only once a signal stops it cleanly: whoever waits for the ready line may send one at once.
  const tls = server.tlsPort === undefined ? undefined : { port: server.tlsPort, caFile: server.tlsCaFile, certFile: server.tlsCertFile ?? '' };
  const dev = server.dev
    ? {
        accountId: server.dev.credentials.accountId,
        credentialsFile: server.dev.credentialsFile,
        requireAuth: config.requireAuth,
        portalEmail: server.dev.credentials.portalEmail,
        portalPassword: server.dev.credentials.portalPassword,
      }
    : undefined;
  console.log(
    startBanner({
      ip: config.ip,
      port: server.port,
      store: (await import('./persistence.js')).describeStore(config),
      namespaces: ['default', ...config.namespaces],
      ...(tls ? { tls } : {}),
      ...(dev ? { dev } : {}),
      ...(server.metricsPort === undefined ? {} : { metricsUrl: `http://${config.metricsAddress.slice(0, config.metricsAddress.lastIndexOf(':'))}:${server.metricsPort}/metrics` }),
      ...(server.dev?.credentials.portalUrl ? { portalUrl: server.dev.credentials.portalUrl } : {}),
      ...(server.consoleUrl ? { consoleUrl: server.consoleUrl } : {}),
    }).join('\n'),
  );
});

// --- hourglass start: some roles of a cluster in this process ------------------------------------

const start = program
  .command('start')
  .description('run some roles of a cluster (frontend, history, matching, indexer) in this process, on the shared MySQL store; docs/distributed.md')
  .addOption(configFileOption());
/** Commander attribute name → config key, of start-dev's options start shares and of the cluster's own. */
const startKeys = new Map<string, string>();
for (const spec of [...START_DEV_OPTIONS.filter((o) => START_SHARED_KEYS.includes(o.key)), ...START_CLUSTER_OPTIONS]) {
  const option = new Option(spec.flags, spec.description).env(spec.env);
  const value = spec.key in CLUSTER_DEFAULTS ? CLUSTER_DEFAULTS[spec.key as keyof typeof CLUSTER_DEFAULTS] : START_DEFAULTS[spec.key as keyof typeof START_DEFAULTS];
  if (value === undefined) option.default('', spec.key === 'taskQueuePartitions' ? 'the setting matching.numTaskQueuePartitions' : 'what the store recorded');
  else option.default(value, value === '' || (Array.isArray(value) && value.length === 0) ? 'none' : JSON.stringify(value));
  startKeys.set(option.attributeName(), spec.key);
  start.addOption(option);
}
start.addHelpText(
  'after',
  [
    '',
    'Each option comes from its flag, else its env variable, else the --config file, else its default; the cluster options',
    '(services, internalAddress, advertiseAddress, membershipHeartbeatMs, membershipTtlMs, taskQueuePartitions, drainTimeoutMs)',
    'go under cluster: in the file. Every process serves grpc.health.v1.Health on its internal address (and a frontend on its port).',
  ].join('\n'),
);

start.action(async (_opts: unknown, command: Command) => {
  const given = cliValues(command);
  const flags: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    const key = startKeys.get(name);
    if (key) flags[key] = value;
  }
  let loaded;
  try {
    loaded = loadStartConfig(flags, process.env, typeof given.config === 'string' && given.config !== '' ? given.config : undefined);
  } catch (err) {
    return fail((err as Error).message, EXIT_USAGE);
  }
  const { settings, billing } = loaded;
  const config = { server: loaded.server, cluster: loaded.cluster };
  const logger = createLogger({ level: config.server.logLevel, name: `hourglass-${config.cluster.services.join('+')}` });
  const metrics = new ServerMetrics();
  const { startHost } = await import('./cluster/start-server.js');
  let host;
  try {
    host = await startHost({ config, settings, logger, metrics, ...(billing ? { billing } : {}) });
  } catch (err) {
    fail(`could not start: ${(err as Error).message}`, 1);
  }
  let signals = 0;
  const shutdown = (signal: string): void => {
    signals += 1;
    if (signals > 1) process.exit(130);
    logger.info({ signal }, 'leaving the cluster');
    // A leave that cannot finish (a store call that never returns, a shard hand-over stuck behind
    // another host's locks) must not keep the process: past the limit it exits as a crash would,
    // which loses nothing acknowledged (the next owners fence this process off its shards).
    const limitMs = 2 * config.cluster.drainTimeoutMs + 10_000;
    setTimeout(() => {
      logger.error({ limitMs }, 'leaving the cluster did not finish in time: exiting without it');
      process.exit(1);
    }, limitMs).unref();
    host.stop().then(
      () => {
        console.log(`Hourglass ${host.roles.join(',')} on ${host.internalAddress} stopped`);
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // One line a supervisor (or the cluster test harness) waits for.
  const publicPart = host.port === undefined ? '' : `, WorkflowService on ${config.server.ip}:${host.port}${host.tlsPort === undefined ? '' : ` and over TLS on ${config.server.ip}:${host.tlsPort}`}`;
  console.log(`Hourglass ${host.roles.join(',')} is serving: internal gRPC on ${host.internalAddress}${publicPart}`);
});

program
  .command('settings')
  .description("every setting a config file's settings: section may override: key, scope, default and description")
  .addOption(new Option('--format <format>', 'output format').choices(SETTINGS_FORMATS).default('text'))
  .addOption(new Option('--write-into <file>', 'write the Markdown table between the generated-table markers of this file (docs/configuration.md)'))
  .action((opts: { format: SettingsFormat; writeInto?: string }) => {
    if (!opts.writeInto) return console.log(formatSettings(allSettings(), opts.format));
    try {
      const doc = readFileSync(opts.writeInto, 'utf8');
      writeFileSync(opts.writeInto, replaceGeneratedTable(doc, formatSettings(allSettings(), 'markdown'), opts.writeInto));
    } catch (err) {
      fail((err as Error).message, 1);
    }
    console.log(`wrote ${allSettings().length} settings into ${opts.writeInto}`);
  });

const db = program.command('db').description('database administration');
db.command('migrate')
  .description('create the MySQL databases if needed and apply pending schema migrations (idempotent)')
  .addOption(configFileOption())
  .addOption(new Option('--cluster-dsn <dsn>', 'cluster database').env('HOURGLASS_MYSQL_CLUSTER_DSN').default('', 'none'))
  .addOption(new Option('--shard-dsn <dsn...>', 'shard databases; comma-separated in the env').env('HOURGLASS_MYSQL_SHARD_DSNS').default([], 'none'))
  .addOption(new Option('--dsn <dsn...>', 'same as --shard-dsn').default([], 'none'))
  .action(async (_opts: unknown, command: Command) => {
    const given = cliValues(command) as { config?: string; clusterDsn?: string; shardDsn?: string[]; dsn?: string[] };
    const shardDsns = [...(given.shardDsn ?? []), ...(given.dsn ?? [])];
    const { config } = load({ store: 'mysql', mysqlClusterDsn: given.clusterDsn, mysqlShardDsns: shardDsns }, given.config);
    if (config.mysqlShardDsns.length === 0) fail('db migrate needs the shard databases: --shard-dsn (repeat it) or HOURGLASS_MYSQL_SHARD_DSNS', 2);
    try {
      await (await import('@hourglass/persistence')).migrateMysql({ clusterDsn: config.mysqlClusterDsn, shardDsns: config.mysqlShardDsns });
    } catch (err) {
      fail(`migration failed: ${(err as Error).message}`, 1);
    }
    console.log(`Hourglass schema is up to date in the cluster database and ${config.mysqlShardDsns.length} shard database(s)`);
  });

// --- hourglass admin: the operator API, and the first operator key -------------------------------

const admin = program.command('admin').description("the platform operator's commands: accounts, namespace limits, usage and invoices, the first operator key");

interface AdminFlags {
  address: string;
  caFile?: string;
  devCredentialsFile: string;
}

function adminOptions(command: Command): Command {
  return command
    .addOption(new Option('--address <host:port>', 'the Hourglass gRPC endpoint').env('HOURGLASS_ADDRESS').default('127.0.0.1:7233'))
    .addOption(new Option('--ca-file <pem>', 'connect with TLS, trusting this CA (start-dev: .hourglass/tls/ca.pem); plaintext without it').env('HOURGLASS_CA_FILE'))
    .addOption(
      new Option('--dev-credentials-file <path>', `where start-dev wrote its operator key, read when ${OPERATOR_KEY_ENV} is not set`).default('.hourglass/dev-credentials.json'),
    );
}

/** Runs one operator API call and prints its response as one JSON object. */
async function adminCall(flags: AdminFlags, method: string, request: Record<string, unknown>, shape: (response: Record<string, unknown>) => unknown): Promise<void> {
  let operatorKey: string;
  try {
    operatorKey = resolveOperatorKey(process.env, flags.devCredentialsFile);
  } catch (err) {
    return fail((err as Error).message, EXIT_USAGE);
  }
  try {
    const tlsCa = flags.caFile ? readFileSync(flags.caFile) : undefined;
    const response = await callOperatorApi({ address: flags.address, tlsCa, operatorKey }, method, request);
    console.log(JSON.stringify(shape(response), null, 2));
  } catch (err) {
    const e = err as { code?: number; details?: string; message: string };
    fail(`${method} failed: ${e.details ?? e.message}`, 1);
  }
}

const adminAccount = admin.command('account').description('create, suspend, resume, delete and list accounts');
adminOptions(adminAccount.command('create'))
  .description("create an account with its owner user; prints accountId and the owner's first API key (shown once)")
  .requiredOption('--name <name>', 'the account name')
  .requiredOption('--owner-email <email>', "the owner's email")
  .action((opts: AdminFlags & { name: string; ownerEmail: string }) =>
    adminCall(opts, 'CreateAccount', { name: opts.name, ownerEmail: opts.ownerEmail }, (r) => {
      const account = r.account as Record<string, unknown>;
      return { accountId: account.id, name: account.name, ownerUserId: r.ownerUserId, ownerApiKeyId: r.ownerApiKeyId, ownerApiKey: r.ownerApiKey };
    }),
  );
for (const [verb, state] of [
  ['suspend', 'suspended'],
  ['resume', 'active'],
  ['delete', 'deleted'],
] as const) {
  adminOptions(adminAccount.command(verb))
    .description(`${verb} an account${verb === 'suspend' ? ' (its keys are refused with PERMISSION_DENIED; nothing is deleted)' : ''}`)
    .requiredOption('--account <id>', 'the account id')
    .option('--reason <text>', 'said to its callers while suspended', '')
    .action((opts: AdminFlags & { account: string; reason: string }) => adminCall(opts, 'SetAccountState', { accountId: opts.account, state, reason: opts.reason }, (r) => r.account));
}
adminOptions(adminAccount.command('list'))
  .description('list accounts')
  .action((opts: AdminFlags) => adminCall(opts, 'ListAccounts', { pageSize: 1000 }, (r) => r.accounts));

const adminNamespace = admin.command('namespace').description('namespace limits');
adminOptions(adminNamespace.command('limits'))
  .description("set a namespace's limits (omitted ones go back to the defaults); prints the limits in force")
  .requiredOption('--namespace <name>', 'the namespace')
  .option('--rps <n>', 'requests per second', Number)
  .option('--aps <n>', 'billable actions per second', Number)
  .option('--max-polls <n>', 'concurrent long polls', Number)
  .action((opts: AdminFlags & { namespace: string; rps?: number; aps?: number; maxPolls?: number }) => {
    for (const [flag, value] of [['--rps', opts.rps], ['--aps', opts.aps], ['--max-polls', opts.maxPolls]] as const) {
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) fail(`invalid ${flag}: expected a number above 0`, EXIT_USAGE);
    }
    return adminCall(opts, 'SetNamespaceLimits', { targetNamespace: opts.namespace, limits: { rps: opts.rps ?? 0, aps: opts.aps ?? 0, maxConcurrentPolls: opts.maxPolls ?? 0 } }, (r) => ({ namespace: opts.namespace, ...(r.limits as object) }));
  });

/** A CLI date: YYYY-MM-DD (UTC midnight) or an ISO 8601 time. */
function parseCliDate(value: string, flag: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Date.parse(value);
  if (!Number.isFinite(ms)) fail(`invalid ${flag} ${quote(value)}: expected YYYY-MM-DD or an ISO 8601 time`, EXIT_USAGE);
  return ms;
}

const iso = (ms: unknown): string => new Date(Number(ms)).toISOString();

adminOptions(admin.command('usage'))
  .description("an account's metered usage per namespace: billable actions by type and storage byte-seconds, from the durable hourly counters")
  .requiredOption('--account <id>', 'account id')
  .requiredOption('--from <date>', 'start, inclusive: YYYY-MM-DD (UTC) or an ISO time on a whole hour')
  .requiredOption('--to <date>', 'end, exclusive: YYYY-MM-DD (UTC) or an ISO time on a whole hour')
  .addOption(new Option('--granularity <g>', 'hourly, daily or monthly').choices(['hourly', 'daily', 'monthly']).default('daily'))
  .action((opts: AdminFlags & { account: string; from: string; to: string; granularity: string }) => {
    const from = parseCliDate(opts.from, '--from');
    const to = parseCliDate(opts.to, '--to');
    return adminCall(opts, 'GetAccountUsage', { accountId: opts.account, fromTimeMs: from, toTimeMs: to, granularity: opts.granularity }, (r) => {
      const periods = (r.periods as { startTimeMs: number; endTimeMs: number; namespaces: Record<string, unknown>[] }[]).map((p) => ({
        start: iso(p.startTimeMs),
        end: iso(p.endTimeMs),
        namespaces: p.namespaces,
      }));
      return { accountId: r.accountId, from: iso(from), to: iso(to), granularity: opts.granularity, periods };
    });
  });

adminOptions(admin.command('invoice'))
  .description("an account's invoice for one UTC calendar month: line items per namespace and type, tiers, plan minimum, total in integer cents")
  .requiredOption('--account <id>', 'account id')
  .requiredOption('--month <YYYY-MM>', 'the month')
  .action((opts: AdminFlags & { account: string; month: string }) => adminCall(opts, 'GetInvoice', { accountId: opts.account, month: opts.month }, (r) => r.invoice));

admin
  .command('bootstrap')
  .description('create the first operator key of a deployment, straight in its store, and print it once (refused when one exists)')
  .addOption(configFileOption())
  .addOption(new Option('--store <store>', 'sqlite or mysql').env('HOURGLASS_STORE').default('mysql'))
  .addOption(new Option('-f, --db-filename <path>', 'SQLite file (not while a server holds it)').env('HOURGLASS_DB_FILENAME'))
  .addOption(new Option('--mysql-cluster-dsn <dsn>', 'MySQL cluster database').env('HOURGLASS_MYSQL_CLUSTER_DSN'))
  .action(async (_opts: unknown, command: Command) => {
    const given = cliValues(command) as { config?: string; store?: string; dbFilename?: string; mysqlClusterDsn?: string };
    const opts = command.opts<{ store: string; dbFilename?: string; mysqlClusterDsn?: string }>();
    const { config } = load({ store: opts.store, ...(opts.dbFilename ? { dbFilename: opts.dbFilename } : {}), ...(opts.mysqlClusterDsn ? { mysqlClusterDsn: opts.mysqlClusterDsn } : {}) }, given.config);
    try {
      const key = await (await import('./bootstrap.js')).bootstrapOperatorKey(config);
      console.log(JSON.stringify({ operatorApiKeyId: key.keyId, operatorApiKey: key.token }, null, 2));
    } catch (err) {
      fail((err as Error).message, 1);
    }
  });

program
  .command('test-server')
  .description("a time-skipping test server on 127.0.0.1:<port>, in memory; the launch contract of @temporalio/testing's TestWorkflowEnvironment.createTimeSkipping")
  .argument('<port>', 'port to serve on')
  .option('--enable-time-skipping', 'start with time skipping on (default: locked until a client unlocks it)', false)
  .action(async (port: string, opts: { enableTimeSkipping: boolean }) => {
    // Closed runs stay for the life of the test server: time skipping would otherwise jump straight to their deletion.
    let config;
    try {
      // Plaintext only: the launch contract of @temporalio/testing has no TLS.
      config = parseDevServerConfig({ port, inMemory: true, logLevel: 'warn', retentionHours: TEST_SERVER_RETENTION_HOURS, tls: false }, {});
    } catch {
      fail(`invalid <port> ${quote(port)}: expected 0..65535`, EXIT_USAGE);
    }
    const logger = createLogger({ level: config.logLevel, name: 'hourglass-test-server' });
    const server = await (await import('./dev-server.js')).startDevServer({ config, logger, identity: false, timeSkipping: { locked: !opts.enableTimeSkipping } });
    const stop = (): void => void server.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    console.log(`Hourglass test server (time skipping) is serving on ${server.address}`);
  });

// --- hourglass workflow / operator: the temporal CLI's commands on the official client -----------

const cliFailure = (err: CliError): never => fail(err.message, err.exitCode);
registerWorkflowCommands(program, cliFailure);
registerOperatorCommands(program, cliFailure);
registerBatchCommands(program, cliFailure);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`hourglass: ${(err as Error).message}`);
  process.exit(1);
});
