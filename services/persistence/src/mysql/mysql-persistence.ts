import { InvalidArgumentError, SystemClock, type Clock } from '@hourglass/common';
import { DEFAULT_NUM_HISTORY_SHARDS, checkNumHistoryShards } from '../store-checks';
import type { Persistence, ShardDatabaseRecord } from '../types';
import { MysqlClusterStore, readClusterRecord, readShardDatabaseIdentity, recordOrCheckCluster, shardDsnsToOpen, writeShardDatabases } from './cluster.store';
import { mysqlDsnKey, parseMysqlDsn, type MysqlDsn } from './dsn';
import { MysqlExecutionStore, ShardRouter } from './execution.store';
import { MysqlIdentityStore } from './identity.store';
import { MysqlMembershipStore } from './membership.store';
import { MysqlPortalStore } from './portal.store';
import { checkSchemaVersions, deploymentTargets, readSchemaVersions } from './migrations';
import { MysqlNamespaceStore } from './namespace.store';
import { MysqlDatabase } from './sql';
import { MysqlTaskQueueStore } from './task-queue.store';
import { MysqlVisibilityStore } from './visibility.store';

export interface MysqlPersistenceOptions {
  /** The cluster database: cluster metadata, the shard database list, namespaces, the identity store, task queues and their backlog. */
  clusterDsn: string;
  /**
   * History shard s lives in shardDsns[s % shardDsns.length]. A new cluster records the list;
   * an existing one refuses a list that differs from the recorded one (StoreMismatchError).
   * Absent or empty: the recorded list, each DSN with the cluster DSN's password.
   */
  shardDsns?: string[];
  /**
   * History shards of the cluster (ids 0..numHistoryShards-1). A new cluster records this
   * (default 4); an existing one refuses a different number. Absent: the recorded one.
   */
  numHistoryShards?: number;
  /** Stamps shard acquisitions and the creation of the cluster; defaults to the system clock. */
  clock?: Clock;
  /** Connections per database (default 10). */
  poolSize?: number;
}

const DEFAULT_POOL_SIZE = 10;

/**
 * Opens the production store: one pool per database, after checking that every database holds
 * the schema version this build needs and that the shard databases and shard count are the ones
 * the cluster recorded at creation (recording them for a new cluster). It never migrates (that
 * is `migrateMysql`, run by `hourglass db migrate`): a missing, older or newer schema, an unknown
 * database or an unreachable server is refused with a one-line error naming the database.
 *
 * @example
 * const persistence = await openMysqlPersistence({
 *   clusterDsn: 'mysql://hourglass:pw@db-0:3306/hourglass_cluster',
 *   shardDsns: ['mysql://hourglass:pw@db-0:3306/hourglass_shard_0', 'mysql://hourglass:pw@db-1:3306/hourglass_shard_1'],
 *   numHistoryShards: 512,
 * });
 * const shard = await persistence.executions.acquireShard(3, 'host-a'); // lives in hourglass_shard_1
 * await persistence.close();
 * // Later boots may leave out what the cluster recorded:
 * const again = await openMysqlPersistence({ clusterDsn: 'mysql://hourglass:pw@db-0:3306/hourglass_cluster' });
 */
export async function openMysqlPersistence(options: MysqlPersistenceOptions): Promise<Persistence> {
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  checkNumHistoryShards(options.numHistoryShards);
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new InvalidArgumentError(`poolSize must be a positive integer, got ${poolSize}`);
  const cluster = parseMysqlDsn(options.clusterDsn);
  const given = options.shardDsns && options.shardDsns.length > 0 ? options.shardDsns.map(parseMysqlDsn) : undefined;
  const clock = options.clock ?? new SystemClock();

  const databases = new Map<string, MysqlDatabase>();
  const databaseOf = (dsn: MysqlDsn): MysqlDatabase => {
    const key = mysqlDsnKey(dsn);
    let db = databases.get(key);
    if (!db) databases.set(key, (db = new MysqlDatabase(dsn, poolSize)));
    return db;
  };
  try {
    // The cluster database first: it says which shard databases to expect.
    const clusterDb = databaseOf(cluster);
    checkSchemaVersions(cluster.database, ['cluster'], await readSchemaVersions(clusterDb));
    const recorded = await readClusterRecord(clusterDb, false);
    const shardDsns = shardDsnsToOpen(cluster, given, recorded.shardDatabases);
    const numHistoryShards = options.numHistoryShards ?? recorded.metadata?.numHistoryShards ?? DEFAULT_NUM_HISTORY_SHARDS;
    if (shardDsns.length > numHistoryShards) {
      throw new InvalidArgumentError(
        `${shardDsns.length} shard databases but only ${numHistoryShards} history shards: the databases after the first ${numHistoryShards} would never be used`,
      );
    }

    // All databases in parallel; the first failure in deployment order (cluster, then shards) is reported.
    const targets = deploymentTargets(cluster, shardDsns);
    const checks = await Promise.allSettled(
      targets.map(async (target) => checkSchemaVersions(target.dsn.database, target.schemas, await readSchemaVersions(databaseOf(target.dsn)))),
    );
    const failed = checks.find((check): check is PromiseRejectedResult => check.status === 'rejected');
    if (failed) throw failed.reason;

    const identities = await Promise.all(shardDsns.map((dsn) => readShardDatabaseIdentity(databaseOf(dsn), dsn.database)));
    const metadata = await recordOrCheckCluster(clusterDb, {
      numHistoryShards: options.numHistoryShards,
      shards: shardDsns.map((dsn, i) => ({ dsn, databaseId: identities[i]! })),
      shardsGiven: given !== undefined,
      now: clock.now(),
    });
    return new MysqlPersistence([...databases.values()], clusterDb, new ShardRouter(shardDsns.map(databaseOf), metadata.numHistoryShards), clock);
  } catch (err) {
    await Promise.allSettled([...databases.values()].map((db) => db.close()));
    throw err;
  }
}

export interface MysqlShardDatabasesChange {
  clusterDsn: string;
  /** The complete new list, in order. */
  shardDsns: string[];
}

/**
 * Replaces the cluster's recorded shard databases: the last step of moving shards to a different
 * set of databases (see the README), once their rows have been copied. Every database must be
 * migrated; the cluster must exist. Nothing checks that the rows were moved: run it only after
 * every shard lives where `s % shardDsns.length` says.
 *
 * @example
 * await recordMysqlShardDatabases({ clusterDsn, shardDsns: [...oldShardDsns, ...addedShardDsns] });
 */
export async function recordMysqlShardDatabases(change: MysqlShardDatabasesChange): Promise<ShardDatabaseRecord[]> {
  const cluster = parseMysqlDsn(change.clusterDsn);
  const shardDsns = change.shardDsns.map(parseMysqlDsn);
  if (shardDsns.length === 0) throw new InvalidArgumentError('shardDsns must name at least one shard database');
  const databases = new Map<string, MysqlDatabase>();
  const databaseOf = (dsn: MysqlDsn): MysqlDatabase => {
    const key = mysqlDsnKey(dsn);
    let db = databases.get(key);
    if (!db) databases.set(key, (db = new MysqlDatabase(dsn, 1)));
    return db;
  };
  try {
    for (const target of deploymentTargets(cluster, shardDsns)) {
      checkSchemaVersions(target.dsn.database, target.schemas, await readSchemaVersions(databaseOf(target.dsn)));
    }
    const identities: string[] = [];
    for (const dsn of shardDsns) identities.push(await readShardDatabaseIdentity(databaseOf(dsn), dsn.database));
    return await databaseOf(cluster).transaction(async (tx) => {
      const { metadata } = await readClusterRecord(tx, true);
      if (!metadata) throw new InvalidArgumentError(`database ${cluster.database} holds no cluster yet: open it once to create it`);
      if (shardDsns.length > metadata.numHistoryShards) {
        throw new InvalidArgumentError(`${shardDsns.length} shard databases but only ${metadata.numHistoryShards} history shards`);
      }
      return writeShardDatabases(tx, shardDsns.map((dsn, i) => ({ dsn, databaseId: identities[i]! })));
    });
  } finally {
    await Promise.allSettled([...databases.values()].map((db) => db.close()));
  }
}

class MysqlPersistence implements Persistence {
  readonly backend = 'mysql';
  readonly cluster: MysqlClusterStore;
  readonly identity: MysqlIdentityStore;
  readonly portal: MysqlPortalStore;
  readonly namespaces: MysqlNamespaceStore;
  readonly executions: MysqlExecutionStore;
  readonly taskQueues: MysqlTaskQueueStore;
  readonly visibility: MysqlVisibilityStore;
  readonly membership: MysqlMembershipStore;

  constructor(private readonly databases: readonly MysqlDatabase[], clusterDb: MysqlDatabase, shards: ShardRouter, clock: Clock) {
    this.cluster = new MysqlClusterStore(clusterDb);
    this.namespaces = new MysqlNamespaceStore(clusterDb);
    this.identity = new MysqlIdentityStore(clusterDb);
    this.portal = new MysqlPortalStore(clusterDb);
    this.executions = new MysqlExecutionStore(shards, clock);
    this.taskQueues = new MysqlTaskQueueStore(clusterDb);
    this.visibility = new MysqlVisibilityStore(clusterDb);
    this.membership = new MysqlMembershipStore(clusterDb);
  }

  /** Idempotent, so shutdown paths need not track whether they already closed. */
  async close(): Promise<void> {
    await Promise.all(this.databases.map((db) => db.close()));
  }
}
