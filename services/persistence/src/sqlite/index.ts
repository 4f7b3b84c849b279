export { openSqlitePersistence, type SqlitePersistenceOptions } from './sqlite-persistence';
export { walSyncTimes, WAL_SYNC_BUCKETS_MS, type WalSyncTimes } from './wal-sync';
