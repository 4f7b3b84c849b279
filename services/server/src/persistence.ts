/** Opens the store the configuration names: the embedded SQLite file, or sharded MySQL. */
import type { Clock } from '@hourglass/common';
import { openMysqlPersistence, openSqlitePersistence, type Persistence } from '@hourglass/persistence';
import type { DevServerConfig } from './config';

export async function openConfiguredPersistence(config: DevServerConfig, clock: Clock): Promise<Persistence> {
  if (config.store === 'mysql') {
    return openMysqlPersistence({
      clusterDsn: config.mysqlClusterDsn,
      shardDsns: config.mysqlShardDsns,
      numHistoryShards: config.numHistoryShards,
      clock,
    });
  }
  return openSqlitePersistence({ path: config.inMemory ? ':memory:' : config.dbFilename, clock });
}

/** A short description of the store for the ready line and logs. */
export function describeStore(config: DevServerConfig): string {
  if (config.store === 'mysql') return `mysql, ${config.mysqlShardDsns.length} shard database(s)`;
  return config.inMemory ? 'in memory' : config.dbFilename;
}
