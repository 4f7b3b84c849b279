/**
 * Configuration of the `hourglass` command: flags and HOURGLASS_* environment variables, parsed
 * once at boot with zod. Nothing else in the process reads process.env.
 */
import { z } from 'zod';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const devServerConfigSchema = z.object({
  ip: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  /** SQLite file; ignored with inMemory. */
  dbFilename: z.string().min(1),
  inMemory: z.boolean(),
  /** Namespaces created at start (besides `default`). */
  namespaces: z.array(z.string().min(1)),
  logLevel: z.enum(LOG_LEVELS),
  /** Fixed when the store is created (default 4 then); unset: the number the store recorded. */
  numHistoryShards: z.coerce.number().int().min(1).max(16384).optional(),
  /** Retention of closed executions in namespaces created at start. */
  retentionHours: z.coerce.number().positive(),
  /** Where state lives: the embedded SQLite file (default) or sharded MySQL. */
  store: z.enum(['sqlite', 'mysql']),
  /** MySQL: the database of cluster metadata, namespaces and task queues. */
  mysqlClusterDsn: z.string(),
  /** MySQL: one DSN per shard database; history shard s lives in database s mod N. */
  mysqlShardDsns: z.array(z.string().min(1)),
}).superRefine((c, ctx) => {
  if (c.store !== 'mysql') return;
  if (!c.mysqlClusterDsn) ctx.addIssue({ code: 'custom', path: ['mysqlClusterDsn'], message: 'store mysql needs a cluster DSN (--mysql-cluster-dsn or HOURGLASS_MYSQL_CLUSTER_DSN)' });
  if (c.mysqlShardDsns.length === 0) ctx.addIssue({ code: 'custom', path: ['mysqlShardDsns'], message: 'store mysql needs at least one shard DSN (--mysql-shard-dsn or HOURGLASS_MYSQL_SHARD_DSNS)' });
});

export type DevServerConfig = z.infer<typeof devServerConfigSchema>;

export const DEV_DEFAULTS: DevServerConfig = {
  ip: '127.0.0.1',
  port: 7233,
  dbFilename: '.hourglass/dev.db',
  inMemory: false,
  namespaces: [],
  logLevel: 'info',
  retentionHours: 24,
  store: 'sqlite',
  mysqlClusterDsn: '',
  mysqlShardDsns: [],
};

/** Environment variables that may set each option (flags win). */
export const ENV_VARS: Partial<Record<keyof DevServerConfig, string>> = {
  ip: 'HOURGLASS_IP',
  port: 'HOURGLASS_PORT',
  dbFilename: 'HOURGLASS_DB_FILENAME',
  logLevel: 'HOURGLASS_LOG_LEVEL',
  numHistoryShards: 'HOURGLASS_NUM_HISTORY_SHARDS',
  retentionHours: 'HOURGLASS_RETENTION_HOURS',
  store: 'HOURGLASS_STORE',
  mysqlClusterDsn: 'HOURGLASS_MYSQL_CLUSTER_DSN',
  mysqlShardDsns: 'HOURGLASS_MYSQL_SHARD_DSNS',
};

/** List-valued settings arrive comma-separated in the environment. */
const LIST_SETTINGS: ReadonlySet<string> = new Set(['mysqlShardDsns']);

/** Merges defaults < environment < flags and validates; throws a one-line error naming the bad option. */
export function parseDevServerConfig(flags: Partial<Record<keyof DevServerConfig, unknown>>, env: NodeJS.ProcessEnv): DevServerConfig {
  const fromEnv: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_VARS)) {
    const value = name ? env[name] : undefined;
    if (value === undefined || value === '') continue;
    fromEnv[key] = LIST_SETTINGS.has(key) ? value.split(',').map((v) => v.trim()).filter(Boolean) : value;
  }
  const definedFlags = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
  const result = devServerConfigSchema.safeParse({ ...DEV_DEFAULTS, ...fromEnv, ...definedFlags });
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`invalid configuration: ${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
