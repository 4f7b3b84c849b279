export { openMysqlPersistence, recordMysqlShardDatabases, type MysqlPersistenceOptions, type MysqlShardDatabasesChange } from './mysql-persistence';
export {
  migrateMysql,
  MYSQL_SCHEMA_VERSIONS,
  type MysqlMigrateOptions,
  type MysqlMigrationStep,
  type MysqlSchemaName,
} from './migrations';
export { parseMysqlDsn, describeMysqlDsn, type MysqlDsn } from './dsn';
export { MysqlConnectionError, MysqlSchemaVersionTooNewError, SchemaVersionTooOldError } from './errors';
export { mysqlAnswers } from './probe';
export { mysqlTraffic, type MysqlTraffic } from './sql';
