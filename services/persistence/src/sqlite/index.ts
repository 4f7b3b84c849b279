export { openSqlitePersistence, type SqlitePersistenceOptions } from './sqlite-persistence';
