/**
 * Configuration of the `hourglass` command, parsed once at boot with zod. Each option comes from,
 * in order of precedence: its flag, its HOURGLASS_* environment variable, the YAML config file
 * (`--config` / HOURGLASS_CONFIG), its default. The file also carries `settings:`, the overrides of
 * the settings registry in Temporal's dynamic-config shape (see @hourglass/common's settings.ts).
 * Nothing else in the process reads process.env.
 *
 * ```yaml
 * # hourglass.yaml
 * port: 7233
 * dbFilename: .hourglass/dev.db
 * namespaces: [billing]
 * settings:
 *   limit.blobSize.error:
 *     - value: 1048576
 *       constraints: { namespace: billing }
 * ```
 *
 * Every error names where the bad value came from: `invalid --port / HOURGLASS_PORT: expected
 * 0..65535, got 70000`, `hourglass.yaml: settings.limit.blobSize.error[0]: expected ...`.
 */
import { readFileSync } from 'node:fs';
import { billingConfigSchema, type BillingConfig } from '@hourglass/usage';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import {
  InvalidArgumentError,
  SettingsRegistry,
  didYouMean,
  namespaceNameProblem,
  quote,
  type SettingOverrides,
} from '@hourglass/common';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const STORES = ['sqlite', 'mysql'] as const;
export const SQLITE_SYNCHRONOUS = ['full', 'normal'] as const;
export const VISIBILITY_STORES = ['sql', 'elasticsearch'] as const;

// --- Value checks -------------------------------------------------------------------------------
// Each takes a raw value (a flag's or env variable's text, or a YAML value) and reports
// "expected …, got …", so the caller can prefix where the value came from.

function show(raw: unknown): string {
  // Numbers arrive as text from flags and env; 70000 reads better than "70000".
  if (typeof raw === 'string') return /^-?\d+(\.\d+)?$/.test(raw) ? raw : quote(raw);
  if (raw === undefined) return 'nothing';
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function check<T>(accept: (raw: unknown) => T | undefined, expected: string) {
  return z.unknown().transform((raw, ctx): T => {
    const value = accept(raw);
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${show(raw)}` });
      return z.NEVER;
    }
    return value;
  });
}

function toNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && raw.trim() !== '') return Number(raw);
  return undefined;
}

const wholeNumber = (min: number, max: number) =>
  check((raw) => {
    const n = toNumber(raw);
    return n !== undefined && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
  }, `${min}..${max}`);

const positiveNumber = () =>
  check((raw) => {
    const n = toNumber(raw);
    return n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
  }, 'a number above 0');

const oneOf = <T extends string>(values: readonly T[]) =>
  check((raw) => (values as readonly unknown[]).includes(raw) ? (raw as T) : undefined, values.join(', '));

const text = (allowEmpty = false) =>
  check((raw) => (typeof raw === 'string' && (allowEmpty || raw.trim() !== '') ? raw : undefined), allowEmpty ? 'text' : 'a non-empty text');

const flag = () =>
  check((raw) => {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    return undefined;
  }, 'true or false');

/** A list: an array of texts, or one comma-separated text (as environment variables carry lists). */
function textList(itemProblem?: (item: string) => string | undefined) {
  return z.unknown().transform((raw, ctx): string[] => {
    const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
    if (!Array.isArray(items) || !items.every((i): i is string => typeof i === 'string' && i.trim() !== '')) {
      ctx.addIssue({ code: 'custom', message: `expected a list of non-empty texts, got ${show(raw)}` });
      return z.NEVER;
    }
    for (const item of items) {
      const problem = itemProblem?.(item);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
    }
    return items;
  });
}

// --- The options ----------------------------------------------------------------------------------

const fields = {
  ip: text(),
  port: wholeNumber(0, 65535),
  /** SQLite file; ignored with inMemory. */
  dbFilename: text(),
  inMemory: flag(),
  /** SQLite's synchronous pragma: full (an acknowledged write survives a power loss) or normal (a process crash). */
  sqliteSynchronous: oneOf(SQLITE_SYNCHRONOUS),
  /** Namespaces created at start (besides `default`). */
  namespaces: textList(namespaceNameProblem),
  logLevel: oneOf(LOG_LEVELS),
  /** Fixed when the store is created (4 then, unless given); unset: the number the store recorded. */
  numHistoryShards: wholeNumber(1, 16384).optional(),
  /** Retention of closed executions in namespaces created at start. */
  retentionHours: positiveNumber(),
  /** Where state lives: the embedded SQLite file (default) or sharded MySQL. */
  store: oneOf(STORES),
  /** MySQL: the database of cluster metadata, namespaces and task queues. */
  mysqlClusterDsn: text(true),
  /** MySQL: one DSN per shard database; history shard s lives in database s mod N. */
  mysqlShardDsns: textList(),
  /** Refuse key-less calls on the plaintext port too (they act as the dev account's owner otherwise). */
  requireAuth: flag(),
  /** Where the dev account's keys are written; '' for the default (beside the SQLite file). */
  devCredentialsFile: text(true),
  /** A TLS listener besides the plaintext one (the SDKs turn TLS on whenever they have an API key). */
  tls: flag(),
  tlsPort: wholeNumber(0, 65535),
  /** PEM certificate (chain) and key of the TLS listener; neither: development credentials are generated. */
  tlsCertFile: text(true),
  tlsKeyFile: text(true),
  /** PEM CA that clients of tlsCertFile should trust: only named to them (banner), never loaded. */
  tlsCaFile: text(true),
  /** Where visibility records are indexed and searched: the SQL table of the store, or Elasticsearch. */
  visibilityStore: oneOf(VISIBILITY_STORES),
  /** Kafka brokers of the visibility bus; none: the in-process bus. */
  kafkaBrokers: textList(),
  /** Elasticsearch of `visibilityStore: elasticsearch`. */
  elasticsearchUrl: text(true),
  /** `host:port` of the metrics endpoint (HTTP: /metrics, /v1/metrics); port 0 picks a free one; `off`: none. */
  metricsAddress: check((raw) => (typeof raw === 'string' && (raw === 'off' || parseHostPort(raw) !== undefined) ? raw : undefined), 'host:port (port 0..65535) or off'),
  /** `host:port` of the portal's HTTP listener (GraphQL at /graphql); port 0 picks a free one; `off`: none. */
  portalAddress: check((raw) => (typeof raw === 'string' && (raw === 'off' || parseHostPort(raw) !== undefined) ? raw : undefined), 'host:port (port 0..65535) or off'),
  /** The web console (web/'s Next.js build) on the portal listener besides /graphql. */
  portalWeb: flag(),
};

/** `127.0.0.1:9090` → its parts; `[::1]:9090` too. Undefined when it is not host:port. */
export function parseHostPort(value: string): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port > 65535) return undefined;
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
}

export const devServerConfigSchema = z.object(fields);

export type DevServerConfig = z.infer<typeof devServerConfigSchema>;
export type OptionKey = keyof DevServerConfig;

export const DEV_DEFAULTS: DevServerConfig = {
  ip: '127.0.0.1',
  port: 7233,
  dbFilename: '.hourglass/dev.db',
  inMemory: false,
  sqliteSynchronous: 'full',
  namespaces: [],
  logLevel: 'info',
  retentionHours: 24,
  store: 'sqlite',
  mysqlClusterDsn: '',
  mysqlShardDsns: [],
  requireAuth: false,
  devCredentialsFile: '',
  tls: true,
  tlsPort: 7234,
  tlsCertFile: '',
  tlsKeyFile: '',
  tlsCaFile: '',
  visibilityStore: 'sql',
  kafkaBrokers: [],
  elasticsearchUrl: '',
  metricsAddress: '127.0.0.1:9090',
  portalAddress: '127.0.0.1:8233',
  portalWeb: true,
};

/** How an option is spelled on the command line, in the environment and (its key) in the config file. */
export interface OptionSpec {
  key: OptionKey;
  /** Commander flags, e.g. `-p, --port <port>`. */
  flags: string;
  env: string;
  description: string;
}

/** Every option of `hourglass start-dev`; help, docs and error messages are built from this table. */
export const START_DEV_OPTIONS: readonly OptionSpec[] = [
  { key: 'ip', flags: '--ip <address>', env: 'HOURGLASS_IP', description: 'address to serve gRPC on (0.0.0.0: every interface)' },
  { key: 'port', flags: '-p, --port <port>', env: 'HOURGLASS_PORT', description: 'gRPC port; 0 picks a free one' },
  { key: 'dbFilename', flags: '-f, --db-filename <path>', env: 'HOURGLASS_DB_FILENAME', description: 'SQLite file, created with its folder if missing' },
  { key: 'sqliteSynchronous', flags: '--sqlite-synchronous <mode>', env: 'HOURGLASS_SQLITE_SYNCHRONOUS', description: 'SQLite durability: full (an acknowledged write survives a power loss: the log is synced after every commit, off the event loop) or normal (survives a process crash; the last commits may be lost with the machine)' },
  { key: 'inMemory', flags: '--in-memory', env: 'HOURGLASS_IN_MEMORY', description: 'keep everything in memory, lost on exit (env value true or false)' },
  {
    key: 'namespaces',
    flags: '-n, --namespace <name...>',
    env: 'HOURGLASS_NAMESPACES',
    description: "extra namespaces to create at start besides default, comma-separated in the env; letters, digits, '.', '_', '-', starting with a letter or digit, at most 255",
  },
  { key: 'logLevel', flags: '--log-level <level>', env: 'HOURGLASS_LOG_LEVEL', description: `${LOG_LEVELS.join('|')}; JSON logs on stderr` },
  { key: 'numHistoryShards', flags: '--num-history-shards <n>', env: 'HOURGLASS_NUM_HISTORY_SHARDS', description: 'history shards, 1..16384, fixed when the store is created (a new store: 4; an existing one: what it recorded, so restarts need no flag)' },
  { key: 'retentionHours', flags: '--retention-hours <hours>', env: 'HOURGLASS_RETENTION_HOURS', description: 'retention of closed executions in the namespaces created at start' },
  { key: 'store', flags: '--store <store>', env: 'HOURGLASS_STORE', description: 'sqlite (embedded file) or mysql (sharded)' },
  {
    key: 'mysqlClusterDsn',
    flags: '--mysql-cluster-dsn <dsn>',
    env: 'HOURGLASS_MYSQL_CLUSTER_DSN',
    description: 'MySQL cluster database (namespaces, task queues), e.g. mysql://root@127.0.0.1:3306/hourglass',
  },
  {
    key: 'mysqlShardDsns',
    flags: '--mysql-shard-dsn <dsn...>',
    env: 'HOURGLASS_MYSQL_SHARD_DSNS',
    description: 'MySQL shard databases, history shard s in database s mod N; comma-separated in the env',
  },
  {
    key: 'requireAuth',
    flags: '--require-auth',
    env: 'HOURGLASS_REQUIRE_AUTH',
    description: "every call needs an API key, on the plaintext port too (without it a key-less call there acts as the dev account's owner on the namespaces start-dev serves)",
  },
  {
    key: 'devCredentialsFile',
    flags: '--dev-credentials-file <path>',
    env: 'HOURGLASS_DEV_CREDENTIALS_FILE',
    description: "where start-dev writes the dev account's id and API keys (mode 0600); default: dev-credentials.json beside the SQLite file, not written with --in-memory",
  },
  {
    key: 'tls',
    flags: '--no-tls',
    env: 'HOURGLASS_TLS',
    // Commander shows no default for a negated flag: the description says it.
    description: 'serve plaintext only, no TLS listener on --tls-port (by default TLS is on; env value true or false)',
  },
  { key: 'tlsPort', flags: '--tls-port <port>', env: 'HOURGLASS_TLS_PORT', description: 'TLS gRPC port, serving the same services as --port; 0 picks a free one' },
  {
    key: 'tlsCertFile',
    flags: '--tls-cert-file <path>',
    env: 'HOURGLASS_TLS_CERT_FILE',
    description:
      'PEM server certificate (chain) for the TLS port, with --tls-key-file; without both, a local CA and a certificate for localhost, 127.0.0.1 and ::1 are generated into tls/ beside the SQLite file (a temp dir with --in-memory) and reused',
  },
  { key: 'tlsKeyFile', flags: '--tls-key-file <path>', env: 'HOURGLASS_TLS_KEY_FILE', description: 'PEM private key of --tls-cert-file' },
  {
    key: 'tlsCaFile',
    flags: '--tls-ca-file <path>',
    env: 'HOURGLASS_TLS_CA_FILE',
    description: 'PEM CA certificate that clients of --tls-cert-file should trust, shown in the start banner (generated credentials show their own ca.pem)',
  },
  {
    key: 'visibilityStore',
    flags: '--visibility-store <store>',
    env: 'HOURGLASS_VISIBILITY_STORE',
    description: "where executions are indexed for search: sql (a table of --store's database) or elasticsearch (--elasticsearch-url)",
  },
  {
    key: 'kafkaBrokers',
    flags: '--kafka-brokers <host:port...>',
    env: 'KAFKA_BROKERS',
    description: 'Kafka brokers carrying visibility records from history to the indexer (topic hourglass-visibility), comma-separated in the env; none: in process',
  },
  { key: 'elasticsearchUrl', flags: '--elasticsearch-url <url>', env: 'ELASTICSEARCH_URL', description: 'Elasticsearch of --visibility-store elasticsearch, e.g. http://127.0.0.1:9200 (index hourglass-visibility)' },
  {
    key: 'metricsAddress',
    flags: '--metrics-address <host:port>',
    env: 'HOURGLASS_METRICS_ADDRESS',
    description: 'HTTP endpoint of Prometheus metrics (/metrics) and of namespace-scoped scrapes with an API key (/v1/metrics); port 0 picks a free one; off: none',
  },
  {
    key: 'portalAddress',
    flags: '--portal-address <host:port>',
    env: 'HOURGLASS_PORTAL_ADDRESS',
    description: "HTTP listener of the portal: the GraphQL API at /graphql (docs/portal-api.md); 8233 is the port of Temporal's dev UI; port 0 picks a free one; off: none",
  },
  {
    key: 'portalWeb',
    flags: '--no-portal-web',
    env: 'HOURGLASS_PORTAL_WEB',
    description: 'serve only /graphql on --portal-address, not the web console (docs/portal.md; by default it is served when web/ was built; env value true or false)',
  },
];

/** The config file option itself: a flag and an env variable, not a file key. */
export const CONFIG_FILE_OPTION = {
  flags: '-c, --config <file>',
  env: 'HOURGLASS_CONFIG',
  description: 'YAML file holding these options (keys as in docs/configuration.md, e.g. numHistoryShards) and a settings: section',
} as const;

const OPTION_BY_KEY = new Map<OptionKey, OptionSpec>(START_DEV_OPTIONS.map((o) => [o.key, o]));

/** `--port / HOURGLASS_PORT`: how error messages name an option. */
export function optionName(key: OptionKey): string {
  const spec = OPTION_BY_KEY.get(key);
  if (!spec) return key;
  const long = spec.flags.split(/[ ,]+/).find((f) => f.startsWith('--')) ?? key;
  return `${long} / ${spec.env}`;
}

// --- hourglass start: the roles as separate processes ------------------------------------------

/** The roles one `hourglass start` process may run, any subset of them. */
export const SERVICE_ROLES = ['frontend', 'history', 'matching', 'indexer'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

const hostPort = () => check((raw) => (typeof raw === 'string' && parseHostPort(raw) !== undefined ? raw : undefined), 'host:port (port 0..65535)');

/** `frontend,history`: known roles, each once, at least one. */
const roleList = () =>
  textList((item) => ((SERVICE_ROLES as readonly string[]).includes(item) ? undefined : `unknown service ${quote(item)}${didYouMean(item, SERVICE_ROLES)}: expected any of ${SERVICE_ROLES.join(', ')}`)).transform(
    (roles, ctx): ServiceRole[] => {
      const unique = [...new Set(roles)] as ServiceRole[];
      if (unique.length === 0) {
        ctx.addIssue({ code: 'custom', message: `expected at least one of ${SERVICE_ROLES.join(', ')}` });
        return z.NEVER;
      }
      // Stable order whatever the order given: frontend, history, matching, indexer.
      return SERVICE_ROLES.filter((r) => unique.includes(r));
    },
  );

const clusterFields = {
  /** The roles this process runs. */
  services: roleList(),
  /** Where this process serves internal gRPC (history and matching APIs, health); port 0 picks a free one. */
  internalAddress: hostPort(),
  /** The `host:port` other hosts reach this one at (recorded in membership); '': internalAddress, a wildcard bind read as 127.0.0.1. */
  advertiseAddress: check((raw) => (typeof raw === 'string' && (raw === '' || parseHostPort(raw) !== undefined) ? raw : undefined), "host:port or '' (the internal address)"),
  /** How often this host renews its membership row. */
  membershipHeartbeatMs: wholeNumber(50, 60_000),
  /** A host whose row was not renewed for this long is dead: its shards and queues move. */
  membershipTtlMs: wholeNumber(200, 600_000),
  /** Partitions of every task queue (matching.numTaskQueuePartitions for all queues); unset: that setting decides. */
  taskQueuePartitions: wholeNumber(1, 256).optional(),
  /** On SIGTERM, how long in-flight calls may take to finish before the process leaves anyway. */
  drainTimeoutMs: wholeNumber(0, 600_000),
};

export const clusterConfigSchema = z.object(clusterFields);
export type ClusterConfig = z.infer<typeof clusterConfigSchema>;
export type ClusterOptionKey = keyof ClusterConfig;

export const CLUSTER_DEFAULTS: ClusterConfig = {
  services: [...SERVICE_ROLES],
  internalAddress: '127.0.0.1:7235',
  advertiseAddress: '',
  membershipHeartbeatMs: 1000,
  membershipTtlMs: 5000,
  drainTimeoutMs: 10_000,
};

export interface ClusterOptionSpec {
  key: ClusterOptionKey;
  flags: string;
  env: string;
  description: string;
}

/** The options of `hourglass start` besides the start-dev ones it shares (START_SHARED_KEYS); file keys go under `cluster:`. */
export const START_CLUSTER_OPTIONS: readonly ClusterOptionSpec[] = [
  { key: 'services', flags: '-s, --services <roles>', env: 'HOURGLASS_SERVICES', description: `the roles this process runs, comma-separated: any of ${SERVICE_ROLES.join(', ')}` },
  { key: 'internalAddress', flags: '--internal-address <host:port>', env: 'HOURGLASS_INTERNAL_ADDRESS', description: 'where this process serves internal gRPC (history/matching APIs and grpc.health.v1.Health); port 0 picks a free one' },
  {
    key: 'advertiseAddress',
    flags: '--advertise-address <host:port>',
    env: 'HOURGLASS_ADVERTISE_ADDRESS',
    description: 'the host:port other hosts reach this one at, recorded in membership; default: --internal-address (a wildcard bind as 127.0.0.1)',
  },
  { key: 'membershipHeartbeatMs', flags: '--membership-heartbeat-ms <ms>', env: 'HOURGLASS_MEMBERSHIP_HEARTBEAT_MS', description: 'how often this host renews its membership row' },
  { key: 'membershipTtlMs', flags: '--membership-ttl-ms <ms>', env: 'HOURGLASS_MEMBERSHIP_TTL_MS', description: 'a host not renewed for this long is dead: its shards and task queues move to live hosts' },
  {
    key: 'taskQueuePartitions',
    flags: '--task-queue-partitions <n>',
    env: 'HOURGLASS_TASK_QUEUE_PARTITIONS',
    description: 'partitions of every task queue (sets the setting matching.numTaskQueuePartitions for all of them; unset: the setting, default 4, per queue in settings:)',
  },
  { key: 'drainTimeoutMs', flags: '--drain-timeout-ms <ms>', env: 'HOURGLASS_DRAIN_TIMEOUT_MS', description: 'on SIGTERM, the longest in-flight calls may take before the process leaves anyway' },
];

/**
 * The start-dev options `hourglass start` takes too, with their meaning there: the public
 * frontend listeners, the store, logging, visibility, metrics. The SQLite file, the dev account's
 * credentials file and the portal are start-dev's alone.
 */
export const START_SHARED_KEYS: readonly OptionKey[] = [
  'ip',
  'port',
  'namespaces',
  'logLevel',
  'numHistoryShards',
  'retentionHours',
  'store',
  'mysqlClusterDsn',
  'mysqlShardDsns',
  'requireAuth',
  'tls',
  'tlsPort',
  'tlsCertFile',
  'tlsKeyFile',
  'tlsCaFile',
  'visibilityStore',
  'kafkaBrokers',
  'elasticsearchUrl',
  'metricsAddress',
];

/** start-dev's defaults, but for what differs in a cluster: MySQL, no generated TLS, metrics only when asked. */
export const START_DEFAULTS: DevServerConfig = { ...DEV_DEFAULTS, store: 'mysql', tls: false, metricsAddress: 'off', portalAddress: 'off', portalWeb: false, inMemory: false };

const CLUSTER_OPTION_BY_KEY = new Map<ClusterOptionKey, ClusterOptionSpec>(START_CLUSTER_OPTIONS.map((o) => [o.key, o]));

function clusterOptionName(key: ClusterOptionKey): string {
  const spec = CLUSTER_OPTION_BY_KEY.get(key);
  if (!spec) return key;
  const long = spec.flags.split(/[ ,]+/).find((f) => f.startsWith('--')) ?? key;
  return `${long} / ${spec.env}`;
}

export interface StartConfig {
  /** The options shared with start-dev (those not in START_SHARED_KEYS hold start's defaults). */
  server: DevServerConfig;
  cluster: ClusterConfig;
}

/**
 * `hourglass start`'s configuration, by the same precedence as start-dev's (flag > env > file >
 * default); the cluster options come from the file's `cluster:` section.
 */
export function parseStartConfig(flags: ConfigFlags & Partial<Record<ClusterOptionKey, unknown>>, env: NodeJS.ProcessEnv, file?: ConfigFile): StartConfig {
  const shared: ConfigFlags = {};
  for (const key of START_SHARED_KEYS) if (flags[key] !== undefined) shared[key] = flags[key];
  // Only the shared options are read from the environment: start-dev's own (HOURGLASS_DB_FILENAME…) do not apply.
  const sharedEnv = Object.fromEntries(START_SHARED_KEYS.map((k) => OPTION_BY_KEY.get(k)?.env).filter((e): e is string => e !== undefined && env[e] !== undefined).map((e) => [e, env[e]]));
  const sharedFile = file ? { ...file, options: Object.fromEntries(Object.entries(file.options).filter(([k]) => (START_SHARED_KEYS as readonly string[]).includes(k))) } : undefined;
  const cluster: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(clusterFields) as [ClusterOptionKey, z.ZodType][]) {
    const given = flags[key];
    const envName = CLUSTER_OPTION_BY_KEY.get(key)?.env;
    const fromEnv = envName ? env[envName] : undefined;
    let raw: unknown;
    if (given !== undefined && !(Array.isArray(given) && given.length === 0)) raw = given;
    else if (fromEnv !== undefined && fromEnv !== '') raw = fromEnv;
    else if (file && file.cluster[key] !== undefined) {
      cluster[key] = file.cluster[key];
      continue;
    } else raw = CLUSTER_DEFAULTS[key];
    const result = schema.safeParse(raw);
    if (!result.success) throw new InvalidArgumentError(`invalid ${clusterOptionName(key)}: ${result.error.issues[0]?.message ?? 'invalid value'}`);
    if (result.data !== undefined) cluster[key] = result.data;
  }
  // After the cluster options: a wrong --services is named before a missing DSN.
  const server = parseDevServerConfig(shared, sharedEnv, sharedFile, START_DEFAULTS);
  const config = { server, cluster: cluster as ClusterConfig };
  checkStart(config);
  return config;
}

function checkStart({ server, cluster }: StartConfig): void {
  // Every process of a cluster must see the same state: the embedded SQLite file is one process's.
  if (server.store !== 'mysql') throw new InvalidArgumentError(`hourglass start needs ${optionName('store')} mysql: the roles of a cluster share one store (start-dev runs on SQLite)`);
  if (server.tls && !server.tlsCertFile) {
    throw new InvalidArgumentError(`hourglass start serves TLS only with your certificate: give ${optionName('tlsCertFile')} and ${optionName('tlsKeyFile')}, or turn ${optionName('tls')} off (start-dev generates development credentials)`);
  }
  if (cluster.membershipHeartbeatMs * 2 > cluster.membershipTtlMs) {
    throw new InvalidArgumentError(
      `invalid ${clusterOptionName('membershipTtlMs')}: ${cluster.membershipTtlMs} ms must be at least twice ${clusterOptionName('membershipHeartbeatMs')} (${cluster.membershipHeartbeatMs} ms), or one late heartbeat declares a live host dead`,
    );
  }
}

/** The address other hosts reach this one at: the advertised one, else the internal one (wildcards read as loopback). */
export function advertisedAddress(cluster: ClusterConfig, boundPort: number): string {
  if (cluster.advertiseAddress) return cluster.advertiseAddress;
  const internal = parseHostPort(cluster.internalAddress) ?? { host: '127.0.0.1', port: boundPort };
  const host = internal.host === '0.0.0.0' ? '127.0.0.1' : internal.host === '::' ? '::1' : internal.host;
  return `${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
}

/** Everything `hourglass start` needs at boot: the config file (`--config` or HOURGLASS_CONFIG), then the options. */
export function loadStartConfig(
  flags: ConfigFlags & Partial<Record<ClusterOptionKey, unknown>>,
  env: NodeJS.ProcessEnv,
  configFile?: string,
  read?: (path: string) => string,
): StartConfig & { settings: SettingsRegistry; billing: BillingConfig | undefined; file: string | undefined } {
  const path = configFile ?? (env[CONFIG_FILE_OPTION.env] || undefined);
  const file = path ? loadConfigFile(path, read) : undefined;
  return { ...parseStartConfig(flags, env, file), settings: file?.settings ?? new SettingsRegistry(), billing: file?.billing, file: path };
}

// --- The config file ---------------------------------------------------------------------------

const constraintsSchema = z.strictObject({
  namespace: z
    .string()
    .refine((n) => namespaceNameProblem(n) === undefined, { error: (iss) => namespaceNameProblem(String(iss.input)) ?? 'invalid namespace name' })
    .optional(),
  taskQueue: z.string().min(1, { error: 'expected a non-empty task queue name' }).optional(),
});

const overrideSchema = z
  .strictObject({ value: z.unknown(), constraints: constraintsSchema.optional() })
  .refine((o) => o.value !== undefined, { error: 'every override needs a value:' });

/** `settings:` in Temporal's dynamic-config shape: `key: [{ value, constraints: { namespace, taskQueue } }]`. */
const settingsSectionSchema = z.record(z.string(), z.array(overrideSchema, { error: 'expected a list of { value, constraints } entries' }));

const configFileSchema = z.strictObject({
  ...Object.fromEntries(Object.entries(fields).map(([key, schema]) => [key, schema.optional()])),
  settings: settingsSectionSchema.optional(),
  /** Usage billing: prices (over Temporal Cloud's list prices), per-account prices, report URL signing (docs/metering.md). */
  billing: billingConfigSchema.optional(),
  /** `hourglass start` only: this process's roles, its internal address, membership timing (docs/distributed.md). */
  cluster: z.strictObject(Object.fromEntries(Object.entries(clusterFields).map(([key, schema]) => [key, schema.optional()]))).optional(),
});

/** A parsed, validated config file. */
export interface ConfigFile {
  /** As given; named in error messages. */
  path: string;
  /** The options it sets, validated. */
  options: Partial<DevServerConfig>;
  /** Its settings overrides, validated against the registry's definitions. */
  settings: SettingsRegistry;
  /** Its `billing:` section, validated. */
  billing: BillingConfig | undefined;
  /** Its `cluster:` section (`hourglass start`), validated; start-dev ignores it. */
  cluster: Partial<ClusterConfig>;
}

/** Parses a config file's text; every error names the file and the key (or line) at fault. */
export function parseConfigFile(path: string, source: string): ConfigFile {
  const doc = parseDocument(source);
  const yamlError = doc.errors[0];
  if (yamlError) throw new InvalidArgumentError(`${path}: ${(yamlError.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new InvalidArgumentError(`${path}: expected a mapping of options (port: 7233, settings: …), got ${show(data)}`);
  }
  const result = configFileSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '';
      const where = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : '';
      const known =
        issue.path[0] === 'billing'
          ? []
          : issue.path[0] === 'cluster'
            ? Object.keys(clusterFields)
            : issue.path.length === 0
              ? [...Object.keys(fields), 'settings', 'billing', 'cluster']
              : issue.path.at(-1) === 'constraints'
                ? ['namespace', 'taskQueue']
                : ['value', 'constraints'];
      throw new InvalidArgumentError(`${path}: ${where}unknown key ${quote(key)}${didYouMean(key, known)}`);
    }
    throw new InvalidArgumentError(`${path}: ${formatPath(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`);
  }
  const { settings: overrides, billing, cluster, ...options } = result.data as Partial<DevServerConfig> & { settings?: SettingOverrides; billing?: BillingConfig; cluster?: Partial<ClusterConfig> };
  let settings: SettingsRegistry;
  try {
    settings = new SettingsRegistry(overrides ?? {});
  } catch (err) {
    throw new InvalidArgumentError(`${path}: ${(err as Error).message}`);
  }
  return { path, options, settings, billing, cluster: cluster ?? {} };
}

/** `settings.limit.blobSize.error[0].value`: dotted keys stay whole, list indexes in brackets. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('') || 'value';
}

/** Reads and parses the config file at `path`. */
export function loadConfigFile(path: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): ConfigFile {
  let source: string;
  try {
    source = read(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError(`cannot read config file ${path} (--config / ${CONFIG_FILE_OPTION.env}): ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parseConfigFile(path, source);
}

// --- Precedence ----------------------------------------------------------------------------------

/** Values given on the command line; undefined (or an empty list) means not given. */
export type ConfigFlags = Partial<Record<OptionKey, unknown>>;

/**
 * Merges flags > environment > config file > defaults and validates; throws an InvalidArgumentError
 * naming the flag and env variable (or the file and key) of the bad value.
 */
export function parseDevServerConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv, file?: ConfigFile, defaults: DevServerConfig = DEV_DEFAULTS): DevServerConfig {
  const merged: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(fields) as [OptionKey, z.ZodType][]) {
    const given = flags[key];
    const envName = OPTION_BY_KEY.get(key)?.env;
    const fromEnv = envName ? env[envName] : undefined;
    let raw: unknown;
    if (given !== undefined && !(Array.isArray(given) && given.length === 0)) raw = given;
    else if (fromEnv !== undefined && fromEnv !== '') raw = fromEnv;
    else if (file && file.options[key] !== undefined) {
      merged[key] = file.options[key]; // validated when the file was parsed
      continue;
    } else raw = defaults[key];
    const result = schema.safeParse(raw);
    if (!result.success) throw new InvalidArgumentError(`invalid ${optionName(key)}: ${result.error.issues[0]?.message ?? 'invalid value'}`);
    // An option without a default that nothing set stays unset (numHistoryShards: the store's own count).
    if (result.data !== undefined) merged[key] = result.data;
  }
  const config = merged as DevServerConfig;
  if (config.store === 'mysql') {
    const inFile = file ? ` or mysqlClusterDsn in ${file.path}` : '';
    // No shard DSNs: the cluster's recorded shard databases (a new cluster needs them once, at `db migrate`).
    if (!config.mysqlClusterDsn) throw new InvalidArgumentError(`store mysql needs a cluster DSN (${optionName('mysqlClusterDsn')}${inFile})`);
  }
  if (config.visibilityStore === 'elasticsearch' && !config.elasticsearchUrl) {
    throw new InvalidArgumentError(`visibility store elasticsearch needs ${optionName('elasticsearchUrl')}`);
  }
  // With TLS off its other options are ignored: a file may keep its certificate paths while an
  // env variable turns TLS off for a while.
  if (config.tls) checkTls(config);
  return config;
}

function checkTls(config: DevServerConfig): void {
  if (config.port !== 0 && config.tlsPort === config.port) {
    throw new InvalidArgumentError(`invalid ${optionName('tlsPort')}: ${config.tlsPort} is also the plaintext port (${optionName('port')}); give another, 0 for a free one, or --no-tls`);
  }
  if (Boolean(config.tlsCertFile) !== Boolean(config.tlsKeyFile)) {
    const [given, missing] = config.tlsCertFile ? (['tlsCertFile', 'tlsKeyFile'] as const) : (['tlsKeyFile', 'tlsCertFile'] as const);
    throw new InvalidArgumentError(`${optionName(given)} needs ${optionName(missing)} too: give both (your certificate) or neither (generated development credentials)`);
  }
  if (config.tlsCaFile && !config.tlsCertFile) {
    throw new InvalidArgumentError(
      `${optionName('tlsCaFile')} goes with ${optionName('tlsCertFile')} and ${optionName('tlsKeyFile')}: without them the development CA is generated and named in the banner`,
    );
  }
}

export interface LoadedConfig {
  config: DevServerConfig;
  /** The settings registry: the config file's overrides, or defaults only without a file. */
  settings: SettingsRegistry;
  /** The config file's `billing:` section, if any. */
  billing: BillingConfig | undefined;
  /** The config file read, if any. */
  file: string | undefined;
}

/**
 * Everything the `hourglass` command needs at boot: the config file named by `configFile` (the
 * `--config` flag) or HOURGLASS_CONFIG, then the options by precedence.
 */
export function loadDevServerConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv, configFile?: string, read?: (path: string) => string): LoadedConfig {
  const path = configFile ?? (env[CONFIG_FILE_OPTION.env] || undefined);
  const file = path ? loadConfigFile(path, read) : undefined;
  return { config: parseDevServerConfig(flags, env, file), settings: file?.settings ?? new SettingsRegistry(), billing: file?.billing, file: path };
}
