export * from './schema';
export { toSqlList, toSqlCount, pageCursorOf, MAX_SQL_PAGE_SIZE, type SqlDialect, type SqlStatement, type PageCursor, type SqlListOptions, type VisibilityRowLike } from './translate';
