export * from './types';
export * from './identity-types';
export * from './portal-types';
export * from './errors';
export { openSqlitePersistence, walSyncTimes, WAL_SYNC_BUCKETS_MS, type SqlitePersistenceOptions, type WalSyncTimes } from './sqlite';
export { DEFAULT_NUM_HISTORY_SHARDS } from './store-checks';
export {
  openMysqlPersistence,
  recordMysqlShardDatabases,
  migrateMysql,
  parseMysqlDsn,
  describeMysqlDsn,
  MYSQL_SCHEMA_VERSIONS,
  MysqlConnectionError,
  MysqlSchemaVersionTooNewError,
  SchemaVersionTooOldError,
  type MysqlPersistenceOptions,
  type MysqlShardDatabasesChange,
  type MysqlMigrateOptions,
  type MysqlMigrationStep,
  type MysqlSchemaName,
  type MysqlDsn,
  mysqlAnswers,
  mysqlTraffic,
  type MysqlTraffic,
} from './mysql';
