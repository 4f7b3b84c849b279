/** Opens the store the configuration names: the embedded SQLite file, or sharded MySQL. */
import type { Clock } from '@hourglass/common';
import { openMysqlPersistence, openSqlitePersistence, type Persistence } from '@hourglass/persistence';
import type { DevServerConfig } from './config';

/**
 * The shard count and the MySQL shard databases are optional: a store records them when it is
 * created and refuses different ones later, so a plain restart needs neither.
 */
export async function openConfiguredPersistence(config: DevServerConfig, clock: Clock): Promise<Persistence> {
  const { numHistoryShards } = config;
  if (config.store === 'mysql') {
    // An empty list: the shard databases the cluster recorded.
    return openMysqlPersistence({ clusterDsn: config.mysqlClusterDsn, shardDsns: config.mysqlShardDsns, numHistoryShards, clock });
  }
  return openSqlitePersistence({ path: config.inMemory ? ':memory:' : config.dbFilename, numHistoryShards, clock, synchronous: config.sqliteSynchronous });
}

/** A short description of the store for the ready line and logs. */
export function describeStore(config: DevServerConfig): string {
  if (config.store === 'mysql') {
    return config.mysqlShardDsns.length > 0 ? `mysql, ${config.mysqlShardDsns.length} shard database(s)` : "mysql, the cluster's recorded shard databases";
  }
  return config.inMemory ? 'in memory' : config.dbFilename;
}
