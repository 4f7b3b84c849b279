/**
 * Translation of a checked query to the Elasticsearch query DSL, over the layout of
 * query-mapping.ts. The namespace filter is always the outer bool's first filter, with the
 * caller's expression beside it. Semantics match the SQL translation: a condition on a missing
 * field is false and NOT is its complement (must_not); NULL (missing) sorts as the largest value;
 * ties are broken by RunId in the last key's direction, so `search_after` pages exactly.
 */
import { executionStatusName } from '../attributes';
import type { CheckedExpr, CheckedQuery, CheckedValue, ResolvedAttribute, SortDirection } from '../query/ast';
import { esFieldOf } from './query-mapping';

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

/** The name of the terms aggregation of a grouped count (its buckets' keys are status names). */
export const ES_GROUP_BY_AGGREGATION = 'group_by';

const RUN_ID: ResolvedAttribute = { name: 'RunId', type: 'Keyword', kind: 'system' };

/** The search request body of one page of the namespace's runs that match the query. */
export function toEsQuery(q: CheckedQuery, opts: EsQueryOptions): EsSearchBody {
  const body: EsSearchBody = { query: namespaceQuery(q, opts.namespaceId), sort: esSort(q), size: opts.pageSize };
  if (opts.after !== undefined) body.search_after = opts.after;
  return body;
}

/** The body of a count (size 0, total hits; a terms aggregation on ExecutionStatus when grouped). */
export function toEsCount(q: CheckedQuery, opts: { namespaceId: string }): EsCountBody {
  const body: EsCountBody = { query: namespaceQuery(q, opts.namespaceId), size: 0, track_total_hits: true };
  if (q.groupBy.length > 0) body.aggs = { [ES_GROUP_BY_AGGREGATION]: { terms: { field: esFieldOf(q.groupBy[0]!), size: 100 } } };
  return body;
}

function namespaceQuery(q: CheckedQuery, namespaceId: string): Record<string, unknown> {
  const filter: Record<string, unknown>[] = [{ term: { NamespaceId: namespaceId } }];
  if (q.where) filter.push(esExpr(q.where));
  return { bool: { filter } };
}

function esSort(q: CheckedQuery): Record<string, unknown>[] {
  const keys: { attribute: ResolvedAttribute; direction: SortDirection }[] =
    q.orderBy.length > 0
      ? [...q.orderBy]
      : [
          { attribute: { name: 'CloseTime', type: 'Datetime', kind: 'system' }, direction: 'DESC' },
          { attribute: { name: 'StartTime', type: 'Datetime', kind: 'system' }, direction: 'DESC' },
        ];
  if (!keys.some((k) => k.attribute.name === 'RunId')) keys.push({ attribute: RUN_ID, direction: keys[keys.length - 1]!.direction });
  return keys.map((k) => ({
    [esFieldOf(k.attribute)]: { order: k.direction === 'ASC' ? 'asc' : 'desc', missing: k.direction === 'ASC' ? '_last' : '_first', unmapped_type: unmappedType(k.attribute) },
  }));
}

function unmappedType(attribute: ResolvedAttribute): string {
  switch (attribute.type) {
    case 'Int':
      return 'long';
    case 'Double':
      return 'double';
    case 'Bool':
      return 'boolean';
    case 'Datetime':
      return 'date';
    default:
      return 'keyword';
  }
}

/** A value as ES reads it: a status name for ExecutionStatus, an int64 beyond 2^53 as a decimal string. */
function esValue(attribute: ResolvedAttribute, value: CheckedValue): unknown {
  if (attribute.name === 'ExecutionStatus') return executionStatusName(Number(value));
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function mustNot(query: Record<string, unknown>): Record<string, unknown> {
  return { bool: { must_not: [query] } };
}

function range(attribute: ResolvedAttribute, bounds: Record<string, unknown>): Record<string, unknown> {
  const field = esFieldOf(attribute);
  return { range: { [field]: attribute.type === 'Datetime' ? { ...bounds, format: 'epoch_millis' } : bounds } };
}

const RANGE_OPS = { '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' } as const;

function esExpr(expr: CheckedExpr): Record<string, unknown> {
  switch (expr.kind) {
    case 'and':
      return { bool: { filter: expr.operands.map(esExpr) } };
    case 'or':
      return { bool: { should: expr.operands.map(esExpr), minimum_should_match: 1 } };
    case 'not':
      return mustNot(esExpr(expr.operand));
    case 'compare': {
      const field = esFieldOf(expr.attribute);
      const value = esValue(expr.attribute, expr.value);
      switch (expr.op) {
        case '=':
          return { term: { [field]: value } };
        case '!=':
          return mustNot({ term: { [field]: value } });
        default:
          return range(expr.attribute, { [RANGE_OPS[expr.op]]: value });
      }
    }
    case 'in': {
      const terms = { terms: { [esFieldOf(expr.attribute)]: expr.values.map((v) => esValue(expr.attribute, v)) } };
      return expr.negated ? mustNot(terms) : terms;
    }
    case 'between': {
      const between = range(expr.attribute, { gte: esValue(expr.attribute, expr.low), lte: esValue(expr.attribute, expr.high) });
      return expr.negated ? mustNot(between) : between;
    }
    case 'startsWith': {
      const prefix = { prefix: { [esFieldOf(expr.attribute)]: expr.prefix } };
      return expr.negated ? mustNot(prefix) : prefix;
    }
    case 'isNull': {
      const exists = { exists: { field: esFieldOf(expr.attribute) } };
      return expr.negated ? exists : mustNot(exists);
    }
    case 'textMatch': {
      const match = { match: { [esFieldOf(expr.attribute)]: { query: expr.tokens.join(' '), operator: 'and' } } };
      return expr.negated ? mustNot(match) : match;
    }
  }
}
