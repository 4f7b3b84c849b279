export * from './types';
export * from './errors';
export { openSqlitePersistence, type SqlitePersistenceOptions } from './sqlite';
export {
  openMysqlPersistence,
  migrateMysql,
  parseMysqlDsn,
  describeMysqlDsn,
  MYSQL_SCHEMA_VERSIONS,
  MysqlConnectionError,
  MysqlSchemaVersionTooNewError,
  SchemaVersionTooOldError,
  type MysqlPersistenceOptions,
  type MysqlMigrateOptions,
  type MysqlMigrationStep,
  type MysqlSchemaName,
  type MysqlDsn,
  mysqlAnswers,
} from './mysql';
