export * from './schema';
export { toSqlList, toSqlCount, pageCursorOf, type SqlDialect, type SqlStatement, type PageCursor, type SqlListOptions, type VisibilityRowLike } from './translate';
