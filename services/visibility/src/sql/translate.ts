import type { CheckedQuery } from '../query/ast';

export type SqlDialect = 'sqlite' | 'mysql';

export interface SqlStatement {
  sql: string;
  params: unknown[];
}

/**
 * Where the next page starts: the sort key values of the last row of the previous page, then its
 * run id. JSON-serialisable (a bigint key is kept as a decimal string).
 */
export interface PageCursor {
  values: (string | number | boolean | null)[];
}

export interface SqlListOptions {
  namespaceId: string;
  pageSize: number;
  after?: PageCursor;
}

/** A row of visibility_executions as a driver returns it (search_attributes as JSON text or parsed). */
export type VisibilityRowLike = Record<string, unknown>;

/** SELECT of one page of runs of the namespace that match the query, in the query's order. */
export function toSqlList(q: CheckedQuery, dialect: SqlDialect, opts: SqlListOptions): SqlStatement {
  void q;
  void dialect;
  void opts;
  throw new Error('not yet');
}

/** COUNT of the namespace's runs that match; with GROUP BY ExecutionStatus rows of (group_value, count). */
export function toSqlCount(q: CheckedQuery, dialect: SqlDialect, opts: { namespaceId: string }): SqlStatement {
  void q;
  void dialect;
  void opts;
  throw new Error('not yet');
}

/** The cursor of the page after `row` (the last row of a page). */
export function pageCursorOf(row: VisibilityRowLike, q: CheckedQuery): PageCursor {
  void row;
  void q;
  throw new Error('not yet');
}
