import type { CheckedQuery } from '../query/ast';

export interface EsQueryOptions {
  namespaceId: string;
  pageSize: number;
  /** The `sort` values of the last hit of the previous page. */
  after?: unknown[];
}

export interface EsSearchBody {
  query: Record<string, unknown>;
  sort: Record<string, unknown>[];
  size: number;
  search_after?: unknown[];
}

export interface EsCountBody {
  query: Record<string, unknown>;
  size: 0;
  track_total_hits: true;
  aggs?: Record<string, unknown>;
}

/** The search request body of one page of the namespace's runs that match the query. */
export function toEsQuery(q: CheckedQuery, opts: EsQueryOptions): EsSearchBody {
  void q;
  void opts;
  throw new Error('not yet');
}

/** The body of a count (size 0, total hits; a terms aggregation on ExecutionStatus when grouped). */
export function toEsCount(q: CheckedQuery, opts: { namespaceId: string }): EsCountBody {
  void q;
  void opts;
  throw new Error('not yet');
}
