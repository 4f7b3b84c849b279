import { InvalidArgumentError, SystemClock, type Clock } from '@hourglass/common';
import type { Persistence } from '../types';
import { MysqlClusterStore } from './cluster.store';
import { mysqlDsnKey, parseMysqlDsn } from './dsn';
import { MysqlExecutionStore, ShardRouter } from './execution.store';
import { checkSchemaVersions, deploymentTargets, readSchemaVersions } from './migrations';
import { MysqlNamespaceStore } from './namespace.store';
import { MysqlDatabase } from './sql';
import { MysqlTaskQueueStore } from './task-queue.store';

export interface MysqlPersistenceOptions {
  /** The cluster database: cluster metadata, namespaces, task queues and their backlog. */
  clusterDsn: string;
  /** History shard s lives in shardDsns[s % shardDsns.length]. Fixed once the cluster holds data. */
  shardDsns: string[];
  /** History shards of the cluster (ids 0..numHistoryShards-1); fixed at cluster creation. */
  numHistoryShards: number;
  /** Stamps shard acquisitions; defaults to the system clock. */
  clock?: Clock;
  /** Connections per database (default 10). */
  poolSize?: number;
}

const DEFAULT_POOL_SIZE = 10;

/**
 * Opens the production store: one pool per database, after checking that every database holds
 * the schema version this build needs. It never migrates (that is `migrateMysql`, run by
 * `hourglass db migrate`): a missing, older or newer schema, an unknown database or an
 * unreachable server is refused with a one-line error naming the database.
 *
 * @example
 * const persistence = await openMysqlPersistence({
 *   clusterDsn: 'mysql://hourglass:pw@db-0:3306/hourglass_cluster',
 *   shardDsns: ['mysql://hourglass:pw@db-0:3306/hourglass_shard_0', 'mysql://hourglass:pw@db-1:3306/hourglass_shard_1'],
 *   numHistoryShards: 512,
 * });
 * const shard = await persistence.executions.acquireShard(3, 'host-a'); // lives in hourglass_shard_1
 * await persistence.close();
 */
export async function openMysqlPersistence(options: MysqlPersistenceOptions): Promise<Persistence> {
  const { numHistoryShards, shardDsns } = options;
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(numHistoryShards) || numHistoryShards < 1) {
    throw new InvalidArgumentError(`numHistoryShards must be a positive integer, got ${numHistoryShards}`);
  }
  if (shardDsns.length === 0) throw new InvalidArgumentError('shardDsns must name at least one shard database');
  if (shardDsns.length > numHistoryShards) {
    throw new InvalidArgumentError(
      `${shardDsns.length} shard databases but only ${numHistoryShards} history shards: the databases after the first ${numHistoryShards} would never be used`,
    );
  }
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new InvalidArgumentError(`poolSize must be a positive integer, got ${poolSize}`);

  const cluster = parseMysqlDsn(options.clusterDsn);
  const shards = shardDsns.map(parseMysqlDsn);
  const targets = deploymentTargets(cluster, shards);
  const databases = new Map(targets.map((target) => [mysqlDsnKey(target.dsn), new MysqlDatabase(target.dsn, poolSize)]));
  const databaseOf = (dsn: (typeof shards)[number]): MysqlDatabase => databases.get(mysqlDsnKey(dsn))!;
  try {
    // All databases in parallel; the first failure in deployment order (cluster, then shards) is reported.
    const checks = await Promise.allSettled(
      targets.map(async (target) => checkSchemaVersions(target.dsn.database, target.schemas, await readSchemaVersions(databaseOf(target.dsn)))),
    );
    const failed = checks.find((check): check is PromiseRejectedResult => check.status === 'rejected');
    if (failed) throw failed.reason;
    return new MysqlPersistence(
      [...databases.values()],
      databaseOf(cluster),
      new ShardRouter(shards.map(databaseOf), numHistoryShards),
      options.clock ?? new SystemClock(),
    );
  } catch (err) {
    await Promise.allSettled([...databases.values()].map((db) => db.close()));
    throw err;
  }
}

class MysqlPersistence implements Persistence {
  readonly backend = 'mysql';
  readonly cluster: MysqlClusterStore;
  readonly namespaces: MysqlNamespaceStore;
  readonly executions: MysqlExecutionStore;
  readonly taskQueues: MysqlTaskQueueStore;

  constructor(private readonly databases: readonly MysqlDatabase[], clusterDb: MysqlDatabase, shards: ShardRouter, clock: Clock) {
    this.cluster = new MysqlClusterStore(clusterDb);
    this.namespaces = new MysqlNamespaceStore(clusterDb);
    this.executions = new MysqlExecutionStore(shards, clock);
    this.taskQueues = new MysqlTaskQueueStore(clusterDb);
  }

  /** Idempotent, so shutdown paths need not track whether they already closed. */
  async close(): Promise<void> {
    await Promise.all(this.databases.map((db) => db.close()));
  }
}
