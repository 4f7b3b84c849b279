/**
 * Translation of a checked query to SQL over visibility_executions, for SQLite and MySQL/MariaDB.
 *
 * - Values are always bound parameters; identifiers come only from the column table and from
 *   catalog names (checked to be plain names before they enter a JSON path).
 * - `namespace_id = ?` is ANDed outside the caller's expression (which is parenthesised), so no
 *   query text can reach another namespace's rows.
 * - Logic is two-valued, as in Elasticsearch: a condition on a missing value (NULL) is false, and
 *   NOT is its complement (`X != 'a'` and `NOT X = 'a'` both match rows without X). NOTs are pushed
 *   down to the conditions, so the SQL has no NOT over a possibly-NULL expression.
 * - Order: NULL sorts as the largest value (last ascending, first descending); ties are broken by
 *   run_id ascending, so every order is total and keyset pagination (`after`) is exact.
 */
import { InvalidArgumentError } from '@hourglass/common';
import { EXECUTION_STATUS_NUMBERS, executionStatusName } from '../attributes';
import type { CheckedExpr, CheckedQuery, CheckedValue, CompareOp, ResolvedAttribute, SortDirection } from '../query/ast';
import { VisibilityQueryError } from '../query/errors';
import { NULLABLE_SYSTEM_COLUMNS, SYSTEM_ATTRIBUTE_COLUMNS, VISIBILITY_COLUMNS, VISIBILITY_TABLE } from './schema';

export type SqlDialect = 'sqlite' | 'mysql';

export interface SqlStatement {
  sql: string;
  params: unknown[];
}

/**
 * Where the next page starts: the sort key values of the last row of the previous page, then its
 * run id. JSON-serialisable (an integer beyond 2^53 is kept as a decimal string).
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

/** Most rows one page may ask for. */
export const MAX_SQL_PAGE_SIZE = 10_000;

interface SortKey {
  attribute: ResolvedAttribute;
  direction: SortDirection;
  /** false where the rows are known to hold a value (overrides the column's nullability). */
  nullable?: boolean;
}

const RUN_ID: ResolvedAttribute = { name: 'RunId', type: 'Keyword', kind: 'system' };
const CLOSE_TIME: ResolvedAttribute = { name: 'CloseTime', type: 'Datetime', kind: 'system' };
const START_TIME: ResolvedAttribute = { name: 'StartTime', type: 'Datetime', kind: 'system' };

/**
 * The query's order, completed to a total order: its keys (or the default), then RunId in the
 * direction of the last key (so one index, read forwards or backwards, serves the whole order).
 */
export function sortKeysOf(q: CheckedQuery): SortKey[] {
  const keys: SortKey[] =
    q.orderBy.length > 0
      ? q.orderBy.map((k) => ({ attribute: k.attribute, direction: k.direction }))
      : [
          { attribute: CLOSE_TIME, direction: 'DESC' },
          { attribute: START_TIME, direction: 'DESC' },
        ];
  if (!keys.some((k) => k.attribute.name === 'RunId')) keys.push({ attribute: RUN_ID, direction: keys[keys.length - 1]!.direction });
  return keys;
}

/** SELECT of one page of runs of the namespace that match the query, in the query's order. */
export function toSqlList(q: CheckedQuery, dialect: SqlDialect, opts: SqlListOptions): SqlStatement {
  if (!Number.isSafeInteger(opts.pageSize) || opts.pageSize < 1 || opts.pageSize > MAX_SQL_PAGE_SIZE) {
    throw new InvalidArgumentError(`page size ${String(opts.pageSize)} is not an integer from 1 to ${MAX_SQL_PAGE_SIZE}`);
  }
  const b = new Builder(dialect);
  const keys = sortKeysOf(q);
  const columns = VISIBILITY_COLUMNS.join(', ');
  const first = b.value(keys[0]!.attribute);
  const column = keys[0]!.attribute.kind === 'system' ? SYSTEM_ATTRIBUTE_COLUMNS.get(keys[0]!.attribute.name) : undefined;
  if (!first.nullable || column === undefined) {
    const conditions = [`namespace_id = ${b.param(opts.namespaceId)}`];
    if (q.where) conditions.push(`(${b.expr(q.where, false)})`);
    if (opts.after) conditions.push(`(${b.keyset(keys, opts.after)})`);
    const order = keys.flatMap((k) => b.orderTerms(k));
    // pageSize is a checked integer, not caller text; inlined because some drivers refuse LIMIT ?.
    const sql = `SELECT ${columns} FROM ${VISIBILITY_TABLE} WHERE ${conditions.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ${opts.pageSize}`;
    return { sql, params: b.params };
  }
  // A nullable column first (the default order's CloseTime): the rows without it and the rows
  // with it are two ranges of the (namespace_id, column, ...) index, each read in order and cut
  // at a page, then merged; one ORDER BY over "column IS NULL" would sort the whole namespace.
  const rest = keys.slice(1);
  const nullsFirst = keys[0]!.direction === 'DESC';
  const cursorValue = opts.after?.values[0];
  if (opts.after && (!Array.isArray(opts.after.values) || opts.after.values.length !== keys.length)) {
    throw new InvalidArgumentError('invalid next page token: it does not belong to this query');
  }
  const part = (withValue: boolean): string => {
    const conditions = [`namespace_id = ${b.param(opts.namespaceId)}`];
    if (q.where) conditions.push(`(${b.expr(q.where, false)})`);
    conditions.push(`${column} IS ${withValue ? 'NOT NULL' : 'NULL'}`);
    if (opts.after) {
      const cursorHasValue = cursorValue !== null && cursorValue !== undefined;
      if (cursorHasValue === withValue) {
        const partKeys = withValue ? [{ attribute: keys[0]!.attribute, direction: keys[0]!.direction, nullable: false }, ...rest] : rest;
        const partCursor = withValue ? opts.after.values : opts.after.values.slice(1);
        conditions.push(`(${b.keyset(partKeys, { values: partCursor })})`);
      }
    }
    const order = (withValue ? [{ attribute: keys[0]!.attribute, direction: keys[0]!.direction, nullable: false }, ...rest] : rest).flatMap((k) => b.orderTerms(k));
    return `SELECT ${columns} FROM ${VISIBILITY_TABLE} WHERE ${conditions.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ${opts.pageSize}`;
  };
  // Parts wholly before the cursor are left out, and so is a part the filter excludes.
  const cursorInNulls = opts.after !== undefined && (cursorValue === null || cursorValue === undefined);
  const cursorInValues = opts.after !== undefined && !cursorInNulls;
  const implied = q.where ? impliedPresence(q.where, keys[0]!.attribute) : undefined;
  const parts: string[] = [];
  for (const withValue of nullsFirst ? [false, true] : [true, false]) {
    const before = nullsFirst ? !withValue && cursorInValues : withValue && cursorInNulls;
    const excluded = implied !== undefined && (implied === 'value') !== withValue;
    if (!before && !excluded) parts.push(part(withValue));
  }
  if (parts.length === 0) return { sql: `SELECT ${columns} FROM ${VISIBILITY_TABLE} WHERE 1 = 0`, params: [] };
  if (parts.length === 1) return { sql: parts[0]!, params: b.params };
  const outer = keys.flatMap((k) => b.orderTerms(k));
  const union = parts.map((sql, i) => `SELECT * FROM (${sql}) AS part_${i}`).join(' UNION ALL ');
  const sql = `SELECT ${columns} FROM (${union}) AS page ORDER BY ${outer.join(', ')} LIMIT ${opts.pageSize}`;
  return { sql, params: b.params };
}

/**
 * Whether `where` holds only for rows where `attribute` is NULL ('null') or only where it has a
 * value ('value'), judged from its top-level AND terms; undefined when it cannot tell. For
 * CloseTime, ExecutionStatus tells too: a run is Running exactly while it has no close time.
 */
function impliedPresence(where: CheckedExpr, attribute: ResolvedAttribute): 'null' | 'value' | undefined {
  const terms: CheckedExpr[] = [];
  const collect = (e: CheckedExpr): void => {
    if (e.kind === 'and') e.operands.forEach(collect);
    else terms.push(e);
  };
  collect(where);
  const RUNNING = EXECUTION_STATUS_NUMBERS.get('Running');
  for (const e of terms) {
    if (e.kind === 'and' || e.kind === 'or' || e.kind === 'not') continue;
    if (e.attribute.name === 'ExecutionStatus' && attribute.name === 'CloseTime') {
      let statuses: CheckedValue[] | undefined;
      let negated = false;
      if (e.kind === 'compare') [statuses, negated] = [[e.value], e.op === '!='];
      else if (e.kind === 'in') [statuses, negated] = [e.values, e.negated];
      if (statuses === undefined) continue;
      const running = statuses.filter((s) => s === RUNNING).length;
      if (!negated && running === statuses.length) return 'null';
      if (!negated && running === 0) return 'value';
      if (negated && running > 0) return 'value';
      continue;
    }
    if (e.attribute.name !== attribute.name) continue;
    if (e.kind === 'isNull') return e.negated ? 'value' : 'null';
    if (e.kind === 'compare' && e.op !== '!=') return 'value';
    if ((e.kind === 'in' || e.kind === 'between' || e.kind === 'startsWith' || e.kind === 'textMatch') && !e.negated) return 'value';
  }
  return undefined;
}

/**
 * COUNT of the namespace's runs that match: one row (count); grouped by ExecutionStatus, one row
 * per status present (group_value: the status number, count), by status.
 */
export function toSqlCount(q: CheckedQuery, dialect: SqlDialect, opts: { namespaceId: string }): SqlStatement {
  const b = new Builder(dialect);
  const conditions = [`namespace_id = ${b.param(opts.namespaceId)}`];
  if (q.where) conditions.push(`(${b.expr(q.where, false)})`);
  const where = conditions.join(' AND ');
  if (q.groupBy.length === 0) return { sql: `SELECT COUNT(*) AS count FROM ${VISIBILITY_TABLE} WHERE ${where}`, params: b.params };
  const column = b.value(q.groupBy[0]!).sql;
  return { sql: `SELECT ${column} AS group_value, COUNT(*) AS count FROM ${VISIBILITY_TABLE} WHERE ${where} GROUP BY ${column} ORDER BY ${column}`, params: b.params };
}

/** The cursor of the page after `row` (the last row of a page). */
export function pageCursorOf(row: VisibilityRowLike, q: CheckedQuery): PageCursor {
  let attributes: Record<string, unknown> | undefined;
  const values = sortKeysOf(q).map((key) => {
    let value: unknown;
    const column = SYSTEM_ATTRIBUTE_COLUMNS.get(key.attribute.name);
    if (key.attribute.kind === 'system' && column !== undefined) value = row[column];
    else {
      if (attributes === undefined) {
        const raw = row.search_attributes;
        const parsed: unknown = typeof raw === 'string' ? JSON.parse(raw) : Buffer.isBuffer(raw) ? JSON.parse(raw.toString('utf8')) : raw;
        attributes = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
      }
      value = attributes[key.attribute.name];
    }
    if (key.attribute.name === 'ExecutionStatus') return executionStatusName(Number(value)) ?? null;
    return cursorValue(value, key.attribute);
  });
  return { values };
}

function cursorValue(value: unknown, attribute: ResolvedAttribute): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'string' && (attribute.type === 'Int' || attribute.type === 'Double' || attribute.type === 'Datetime')) {
    const n = Number(value);
    return Number.isSafeInteger(n) || attribute.type !== 'Int' ? n : value;
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  throw new InvalidArgumentError(`cannot page by ${attribute.name}: a row holds a value that is not a scalar`);
}

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,254}$/;

const INVERSE: Readonly<Record<CompareOp, CompareOp>> = { '=': '!=', '!=': '=', '>': '<=', '>=': '<', '<': '>=', '<=': '>' };

/** ASCII characters other than letters and digits (and NUL): the separators between the words of a Text value. */
const GLOB_SEPARATOR = '[\x01-/:-@[-`{-\x7f]';
const REGEXP_SEPARATOR = '[\\x01-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]';

interface ValueExpr {
  sql: string;
  nullable: boolean;
}

class Builder {
  readonly params: unknown[] = [];

  constructor(private readonly dialect: SqlDialect) {}

  param(value: CheckedValue | null): string {
    if (typeof value === 'boolean') this.params.push(this.dialect === 'sqlite' ? (value ? 1 : 0) : value ? 'true' : 'false');
    else if (typeof value === 'bigint') this.params.push(this.dialect === 'sqlite' ? value : value.toString());
    else this.params.push(value);
    return '?';
  }

  /** The SQL of an attribute's value: its column, or its member of the search_attributes JSON. */
  value(attribute: ResolvedAttribute): ValueExpr {
    const column = SYSTEM_ATTRIBUTE_COLUMNS.get(attribute.name);
    if (attribute.kind === 'system' && column !== undefined) return { sql: column, nullable: NULLABLE_SYSTEM_COLUMNS.has(column) };
    const path = this.path(attribute);
    if (this.dialect === 'sqlite') return { sql: `json_extract(search_attributes, '${path}')`, nullable: true };
    const extracted = `JSON_EXTRACT(search_attributes, '${path}')`;
    switch (attribute.type) {
      case 'Int':
      case 'Datetime':
        return { sql: `CAST(${extracted} AS SIGNED)`, nullable: true };
      case 'Double':
        return { sql: `CAST(${extracted} AS DOUBLE)`, nullable: true };
      default:
        return { sql: `JSON_UNQUOTE(${extracted})`, nullable: true };
    }
  }

  private path(attribute: ResolvedAttribute): string {
    if (!PLAIN_NAME.test(attribute.name)) {
      throw new VisibilityQueryError(0, `search attribute ${JSON.stringify(attribute.name.slice(0, 40))} cannot be queried: its name is not letters, digits, '_' and '-'`);
    }
    return `$."${attribute.name}"`;
  }

  /** `expr`, or its negation when `negated`, with NOTs pushed down to the conditions. */
  expr(expr: CheckedExpr, negated: boolean): string {
    switch (expr.kind) {
      case 'and':
      case 'or': {
        const joiner = (expr.kind === 'and') !== negated ? ' AND ' : ' OR ';
        return expr.operands.map((operand) => `(${this.expr(operand, negated)})`).join(joiner);
      }
      case 'not':
        return this.expr(expr.operand, !negated);
      case 'compare':
        if (expr.attribute.type === 'KeywordList') return this.listContains(expr.attribute, [expr.value], (expr.op === '!=') !== negated);
        return this.compare(expr.attribute, expr.op, expr.value, negated);
      case 'in': {
        if (expr.attribute.type === 'KeywordList') return this.listContains(expr.attribute, expr.values, expr.negated !== negated);
        const v = this.value(expr.attribute);
        const list = expr.values.map((value) => this.param(value)).join(', ');
        return expr.negated !== negated ? this.orNull(v, `${v.sql} NOT IN (${list})`) : `${v.sql} IN (${list})`;
      }
      case 'between': {
        const v = this.value(expr.attribute);
        const range = `BETWEEN ${this.param(expr.low)} AND ${this.param(expr.high)}`;
        return expr.negated !== negated ? this.orNull(v, `${v.sql} NOT ${range}`) : `${v.sql} ${range}`;
      }
      case 'startsWith': {
        const v = this.value(expr.attribute);
        const test =
          this.dialect === 'sqlite'
            ? `${v.sql} GLOB ${this.param(`${globEscape(expr.prefix)}*`)}`
            : `${v.sql} LIKE ${this.param(`${likeEscape(expr.prefix)}%`)} ESCAPE '!'`;
        return expr.negated !== negated ? this.orNull(v, `NOT (${test})`) : test;
      }
      case 'isNull': {
        const v = this.value(expr.attribute);
        return expr.negated !== negated ? `${v.sql} IS NOT NULL` : `${v.sql} IS NULL`;
      }
      case 'textMatch': {
        const v = this.value(expr.attribute);
        const tests = expr.tokens.map((token) =>
          this.dialect === 'sqlite'
            ? `(' ' || ${v.sql} || ' ') GLOB ${this.param(`*${GLOB_SEPARATOR}${caseless(token)}${GLOB_SEPARATOR}*`)}`
            : `${v.sql} REGEXP ${this.param(`(^|${REGEXP_SEPARATOR})${caseless(token)}($|${REGEXP_SEPARATOR})`)}`,
        );
        const all = tests.length === 1 ? tests[0]! : tests.map((t) => `(${t})`).join(' AND ');
        return expr.negated !== negated ? this.orNull(v, `NOT (${all})`) : all;
      }
    }
  }

  private compare(attribute: ResolvedAttribute, op: CompareOp, value: CheckedValue, negated: boolean): string {
    const v = this.value(attribute);
    // `X != v` is `NOT X = v` (true where X is missing), so: a positive = / > / ... / <=, or the negation of one.
    const [base, negative] = op === '!=' ? (['=', !negated] as const) : ([op, negated] as const);
    if (!negative) return `${v.sql} ${base} ${this.param(value)}`;
    return this.orNull(v, `${v.sql} ${sqlOp(INVERSE[base])} ${this.param(value)}`);
  }

  /** `test`, or `X IS NULL OR test` when X may be NULL (a negated condition holds where X is missing). */
  private orNull(v: ValueExpr, test: string): string {
    return v.nullable ? `${v.sql} IS NULL OR ${test}` : test;
  }

  /** Whether a KeywordList holds any of `values` (or none of them when `negated`, also when missing). */
  private listContains(attribute: ResolvedAttribute, values: CheckedValue[], negated: boolean): string {
    const path = this.path(attribute);
    if (this.dialect === 'sqlite') {
      const list = values.map((value) => this.param(value)).join(', ');
      const test = `EXISTS (SELECT 1 FROM json_each(${VISIBILITY_TABLE}.search_attributes, '${path}') AS list WHERE list.value IN (${list}))`;
      return negated ? `NOT ${test}` : test;
    }
    const tests = values.map((value) => `JSON_CONTAINS(search_attributes, JSON_QUOTE(${this.param(value)}), '${path}')`);
    return `COALESCE(${tests.join(' OR ')}, 0) ${negated ? '= 0' : '<> 0'}`;
  }

  /** ORDER BY terms of a key: NULL as the largest value. */
  /**
   * The SQL a key sorts by: its value, except ExecutionStatus, which sorts by status name (as
   * Elasticsearch, which holds the name, sorts it).
   */
  sortValue(attribute: ResolvedAttribute): ValueExpr {
    if (attribute.name !== 'ExecutionStatus') return this.value(attribute);
    const cases = [...EXECUTION_STATUS_NUMBERS].map(([name, number]) => `WHEN ${number} THEN '${name}'`).join(' ');
    return { sql: `(CASE status ${cases} END)`, nullable: false };
  }

  orderTerms(key: SortKey): string[] {
    const v = this.sortValue(key.attribute);
    if (!(key.nullable ?? v.nullable)) return [`${v.sql} ${key.direction}`];
    return [`(${v.sql} IS NULL) ${key.direction}`, `${v.sql} ${key.direction}`];
  }

  /** The rows strictly after `cursor` in the order of `keys`. */
  keyset(keys: SortKey[], cursor: PageCursor): string {
    if (!cursor || !Array.isArray(cursor.values) || cursor.values.length !== keys.length) {
      throw new InvalidArgumentError('invalid next page token: it does not belong to this query');
    }
    // Emitters, not strings: each use of a condition binds its own parameters, in text order.
    const parts = keys.map((key, i) => {
      const v = { ...this.sortValue(key.attribute) };
      if (key.nullable === false) v.nullable = false;
      const c = checkCursorValue(cursor.values[i], key.attribute);
      const equal = (): string => (c === null ? `${v.sql} IS NULL` : `${v.sql} = ${this.param(c)}`);
      let after: (() => string) | undefined;
      if (key.direction === 'ASC') {
        if (c !== null) after = () => (v.nullable ? `${v.sql} IS NULL OR ${v.sql} > ${this.param(c)}` : `${v.sql} > ${this.param(c)}`);
      } else {
        after = () => (c === null ? `${v.sql} IS NOT NULL` : `${v.sql} < ${this.param(c)}`);
      }
      return { equal, after };
    });
    // A redundant bound on the first key, ahead of the alternatives: planners (SQLite's above all)
    // read an OR of keyset terms as unindexable and pick a filter's index instead, then sort; with
    // the bound they walk the index that serves the order from the cursor on.
    const first = keys[0]!;
    const firstValue = checkCursorValue(cursor.values[0], first.attribute);
    const firstSql = this.sortValue(first.attribute);
    const nullable = first.nullable ?? firstSql.nullable;
    const bound = firstValue === null || nullable ? undefined : `${firstSql.sql} ${first.direction === 'ASC' ? '>=' : '<='} ${this.param(firstValue)}`;
    const alternatives: string[] = [];
    parts.forEach((part, i) => {
      if (part.after === undefined) return;
      const terms = parts.slice(0, i).map((earlier) => earlier.equal());
      terms.push(`(${part.after()})`);
      alternatives.push(terms.join(' AND '));
    });
    if (alternatives.length === 0) return '1 = 0';
    const any = alternatives.map((a) => `(${a})`).join(' OR ');
    if (bound === undefined) return any;
    // SQLite would still answer the OR as a union of index searches and sort them; a unary plus
    // (a no-op on the value) keeps it a plain filter over the bounded range.
    return `${bound} AND ${this.dialect === 'sqlite' ? '+' : ''}(${any})`;
  }
}

function checkCursorValue(value: unknown, attribute: ResolvedAttribute): CheckedValue | null {
  if (value === null) return null;
  const bad = (): InvalidArgumentError => new InvalidArgumentError(`invalid next page token: a value for ${attribute.name} is not of type ${attribute.type}`);
  switch (attribute.type) {
    case 'Int':
      if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) return BigInt(value);
      if (typeof value !== 'number' || !Number.isFinite(value)) throw bad();
      return value;
    case 'Double':
    case 'Datetime':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw bad();
      return value;
    case 'Bool':
      if (typeof value !== 'boolean') throw bad();
      return value;
    default:
      if (attribute.name === 'ExecutionStatus') {
        if (typeof value !== 'string' || !EXECUTION_STATUS_NUMBERS.has(value)) throw bad();
        return value;
      }
      if (typeof value !== 'string') throw bad();
      return value;
  }
}

function sqlOp(op: CompareOp): string {
  return op === '!=' ? '<>' : op;
}

/** A GLOB pattern matching `text` literally. */
function globEscape(text: string): string {
  return text.replace(/[*?[]/g, (c) => `[${c}]`);
}

/** A LIKE pattern (ESCAPE '!') matching `text` literally. */
function likeEscape(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

/** A pattern of `word` (letters, digits and non-ASCII only) matching ASCII letters in either case. */
function caseless(word: string): string {
  return word.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`);
}
