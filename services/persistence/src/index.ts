export * from './types';
export * from './errors';
export { openSqlitePersistence, type SqlitePersistenceOptions } from './sqlite';
