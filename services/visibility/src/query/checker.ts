/**
 * Type check of a parsed list filter against an attribute catalog: every name must be a known
 * attribute, every operator valid for its type, every value of the attribute's type (converted to
 * its stored form: status names to numbers, datetimes to epoch ms, durations to nanoseconds).
 */
import { distance } from 'fastest-levenshtein';
import { EXECUTION_STATUS_NUMBERS, attributeKind, type AttributeCatalog, type SearchAttributeType } from '../attributes';
import type { AttributeName, CheckedExpr, CheckedOrderKey, CheckedQuery, CheckedValue, Expr, Literal, QueryAst, ResolvedAttribute } from './ast';
import { VisibilityQueryError, quoteToken } from './errors';
import { parseQuery } from './parser';

/** Most ORDER BY keys. */
export const MAX_ORDER_BY_KEYS = 10;

/** parseQuery + typeCheck. */
export function compileQuery(text: string, catalog: AttributeCatalog): CheckedQuery {
  return typeCheck(parseQuery(text), catalog, text);
}

/**
 * Temporal hides executions that carry this attribute (internal ones, such as a schedule's
 * workflow) from every query that does not name it; `TemporalNamespaceDivision IS NULL OR
 * TemporalNamespaceDivision IS NOT NULL` shows everything.
 */
export const NAMESPACE_DIVISION = 'TemporalNamespaceDivision';

/** Whether the query names TemporalNamespaceDivision anywhere. */
function mentionsDivision(ast: QueryAst): boolean {
  const inExpr = (e: Expr): boolean => {
    switch (e.kind) {
      case 'and':
      case 'or':
        return e.operands.some(inExpr);
      case 'not':
        return inExpr(e.operand);
      default:
        return e.attribute.name === NAMESPACE_DIVISION;
    }
  };
  return (ast.where !== undefined && inExpr(ast.where)) || ast.orderBy.some((k) => k.attribute.name === NAMESPACE_DIVISION) || ast.groupBy.some((n) => n.name === NAMESPACE_DIVISION);
}

/**
 * Resolves names and converts values against `catalog`; throws VisibilityQueryError. Unless the
 * query names TemporalNamespaceDivision, the checked filter is ANDed with
 * `TemporalNamespaceDivision IS NULL` (as Temporal does).
 */
export function typeCheck(ast: QueryAst, catalog: AttributeCatalog, text = ''): CheckedQuery {
  const checked: CheckedQuery = { text, orderBy: [], groupBy: [] };
  if (ast.where) checked.where = checkExpr(ast.where, catalog);
  const divisionType = catalog.lookup(NAMESPACE_DIVISION);
  if (divisionType !== undefined && !mentionsDivision(ast)) {
    const hidden: CheckedExpr = { kind: 'isNull', negated: false, attribute: { name: NAMESPACE_DIVISION, type: divisionType, kind: attributeKind(NAMESPACE_DIVISION) } };
    checked.where = checked.where ? { kind: 'and', operands: [hidden, checked.where] } : hidden;
  }
  if (ast.groupBy.length > 1) throw new VisibilityQueryError(ast.groupBy[1]!.position, 'GROUP BY supports a single attribute');
  for (const name of ast.groupBy) {
    const attribute = resolve(name, catalog);
    if (attribute.name !== 'ExecutionStatus') throw new VisibilityQueryError(name.position, `GROUP BY is only supported for ExecutionStatus, not ${displayName(name.name)}`);
    checked.groupBy.push(attribute);
  }
  if (ast.orderBy.length > MAX_ORDER_BY_KEYS) throw new VisibilityQueryError(ast.orderBy[MAX_ORDER_BY_KEYS]!.attribute.position, `more than ${MAX_ORDER_BY_KEYS} ORDER BY keys`);
  const seen = new Set<string>();
  for (const key of ast.orderBy) {
    const attribute = resolve(key.attribute, catalog);
    if (attribute.type === 'Text' || attribute.type === 'KeywordList') {
      throw new VisibilityQueryError(key.attribute.position, `cannot sort by ${displayName(attribute.name)}: search attributes of type ${attribute.type} are not sortable`);
    }
    if (seen.has(attribute.name)) throw new VisibilityQueryError(key.attribute.position, `ORDER BY names ${displayName(attribute.name)} twice`);
    seen.add(attribute.name);
    const orderKey: CheckedOrderKey = { attribute, direction: key.direction };
    checked.orderBy.push(orderKey);
  }
  return checked;
}

/** A name as it appears in a message: bare when it is a short identifier, else quoted (and cut). */
function displayName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]{0,39}$/.test(name) ? name : quoteToken(name);
}

function resolve(name: AttributeName, catalog: AttributeCatalog): ResolvedAttribute {
  const type = catalog.lookup(name.name);
  if (type !== undefined) return { name: name.name, type, kind: attributeKind(name.name) };
  const suggestion = nearest(name.name, catalog.names());
  throw new VisibilityQueryError(name.position, `unknown search attribute ${displayName(name.name)}`, suggestion ? `did you mean ${suggestion}?` : undefined);
}

/** The catalog name nearest to `word` by edit distance (case aside), when it is close enough to be a likely typo. */
function nearest(word: string, candidates: string[]): string | undefined {
  if (word.length > 100) return undefined;
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

type Operator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'IN' | 'NOT IN' | 'BETWEEN' | 'NOT BETWEEN' | 'STARTS_WITH' | 'NOT STARTS_WITH';

const ORDERED: readonly Operator[] = ['=', '!=', '>', '>=', '<', '<=', 'IN', 'NOT IN', 'BETWEEN', 'NOT BETWEEN'];
const EQUALITY: readonly Operator[] = ['=', '!=', 'IN', 'NOT IN'];

/** Operators each type supports (IS NULL / IS NOT NULL work on every attribute). */
function operatorsOf(attribute: ResolvedAttribute): readonly Operator[] {
  if (attribute.name === 'ExecutionStatus') return EQUALITY;
  switch (attribute.type) {
    case 'Keyword':
      return [...ORDERED, 'STARTS_WITH', 'NOT STARTS_WITH'];
    case 'KeywordList':
      return EQUALITY;
    case 'Text':
      return ['=', '!='];
    case 'Bool':
      return EQUALITY;
    case 'Int':
    case 'Double':
    case 'Datetime':
      return ORDERED;
  }
}

function requireOperator(attribute: ResolvedAttribute, operator: Operator, position: number): void {
  if (operatorsOf(attribute).includes(operator)) return;
  const what = attribute.name === 'ExecutionStatus' ? 'ExecutionStatus' : `${attribute.type} search attribute ${displayName(attribute.name)}`;
  throw new VisibilityQueryError(position, `operator ${operator} is not supported for ${what} (supported: ${operatorsOf(attribute).join(', ')}, IS NULL, IS NOT NULL)`);
}

function checkExpr(expr: Expr, catalog: AttributeCatalog): CheckedExpr {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return { kind: expr.kind, operands: expr.operands.map((operand) => checkExpr(operand, catalog)) };
    case 'not':
      return { kind: 'not', operand: checkExpr(expr.operand, catalog) };
    case 'compare': {
      const attribute = resolve(expr.attribute, catalog);
      requireOperator(attribute, expr.op, expr.position);
      if (attribute.type === 'Text') return { kind: 'textMatch', negated: expr.op === '!=', attribute, tokens: textTokens(expr.value, attribute) };
      return { kind: 'compare', op: expr.op, attribute, value: convert(expr.value, attribute) };
    }
    case 'in': {
      const attribute = resolve(expr.attribute, catalog);
      requireOperator(attribute, expr.negated ? 'NOT IN' : 'IN', expr.position);
      return { kind: 'in', negated: expr.negated, attribute, values: expr.values.map((value) => convert(value, attribute)) };
    }
    case 'between': {
      const attribute = resolve(expr.attribute, catalog);
      requireOperator(attribute, expr.negated ? 'NOT BETWEEN' : 'BETWEEN', expr.position);
      return { kind: 'between', negated: expr.negated, attribute, low: convert(expr.low, attribute), high: convert(expr.high, attribute) };
    }
    case 'startsWith': {
      const attribute = resolve(expr.attribute, catalog);
      requireOperator(attribute, expr.negated ? 'NOT STARTS_WITH' : 'STARTS_WITH', expr.position);
      const prefix = convert(expr.value, attribute);
      return { kind: 'startsWith', negated: expr.negated, attribute, prefix: prefix as string };
    }
    case 'isNull':
      return { kind: 'isNull', negated: expr.negated, attribute: resolve(expr.attribute, catalog) };
  }
}

function describeLiteral(literal: Literal): string {
  switch (literal.kind) {
    case 'string':
      return `string ${quoteToken(literal.value)}`;
    case 'int':
    case 'float':
      return `number ${String(literal.value)}`;
    case 'bool':
      return `boolean ${String(literal.value)}`;
    case 'datetime':
      return `datetime ${literal.value}`;
  }
}

function wrongType(literal: Literal, attribute: ResolvedAttribute, expected: string): VisibilityQueryError {
  return new VisibilityQueryError(literal.position, `${attribute.type} search attribute ${displayName(attribute.name)} takes ${expected}, not the ${describeLiteral(literal)}`);
}

const EXPECTED: Readonly<Record<SearchAttributeType, string>> = {
  Keyword: 'a string',
  KeywordList: 'a string',
  Text: 'a string',
  Int: 'a number',
  Double: 'a number',
  Bool: 'true or false',
  Datetime: "an RFC 3339 datetime (e.g. '2024-01-31T15:04:05Z') or epoch nanoseconds",
};

/** The literal in the attribute's stored form. */
function convert(literal: Literal, attribute: ResolvedAttribute): CheckedValue {
  if (attribute.name === 'ExecutionStatus') return executionStatus(literal);
  if (attribute.name === 'ExecutionDuration') return executionDuration(literal);
  switch (attribute.type) {
    case 'Keyword':
    case 'KeywordList':
    case 'Text':
      if (literal.kind === 'string') return literal.value;
      throw wrongType(literal, attribute, EXPECTED[attribute.type]);
    case 'Int':
      if (literal.kind === 'int' || literal.kind === 'float') return literal.value;
      throw wrongType(literal, attribute, EXPECTED.Int);
    case 'Double':
      if (literal.kind === 'int' || literal.kind === 'float') return Number(literal.value);
      throw wrongType(literal, attribute, EXPECTED.Double);
    case 'Bool':
      if (literal.kind === 'bool') return literal.value;
      throw wrongType(literal, attribute, EXPECTED.Bool);
    case 'Datetime':
      if (literal.kind === 'string' || literal.kind === 'datetime') {
        const ms = parseRfc3339(literal.value);
        if (ms === undefined) throw new VisibilityQueryError(literal.position, `cannot parse datetime ${quoteToken(literal.value)} for ${displayName(attribute.name)} (RFC 3339, e.g. '2024-01-31T15:04:05Z')`);
        return ms;
      }
      if (literal.kind === 'int') return Number(literal.value) / 1e6; // Temporal reads an integer datetime as epoch nanoseconds
      throw wrongType(literal, attribute, EXPECTED.Datetime);
  }
}

function executionStatus(literal: Literal): number {
  if (literal.kind === 'int') {
    const value = Number(literal.value);
    for (const number of EXECUTION_STATUS_NUMBERS.values()) if (number === value) return value;
    throw new VisibilityQueryError(literal.position, `invalid ExecutionStatus value ${String(literal.value)} (1 to 7)`);
  }
  if (literal.kind !== 'string') throw new VisibilityQueryError(literal.position, `ExecutionStatus takes a status name such as 'Running', not the ${describeLiteral(literal)}`);
  const name = literal.value.toLowerCase().replace(/^workflow_execution_status_/, '').replace(/_/g, '');
  for (const [status, number] of EXECUTION_STATUS_NUMBERS) if (status.toLowerCase() === name) return number;
  const names = [...EXECUTION_STATUS_NUMBERS.keys()];
  const suggestion = nearest(literal.value, names);
  throw new VisibilityQueryError(
    literal.position,
    `invalid ExecutionStatus value ${quoteToken(literal.value)} (one of ${names.join(', ')})`,
    suggestion ? `did you mean ${suggestion}?` : undefined,
  );
}

const NS_PER_UNIT: Readonly<Record<string, number>> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86400e9 };
const GO_DURATION = /^([+-])?((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h|d))+$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/g;
const MAX_INT64 = 9223372036854775807;

/** ExecutionDuration: integer nanoseconds, a Go duration ('1h30m', '300ms', '2d') or 'hh:mm:ss'. */
function executionDuration(literal: Literal): number | bigint {
  if (literal.kind === 'int') return literal.value;
  const fail = (): VisibilityQueryError =>
    new VisibilityQueryError(literal.position, `invalid duration ${literal.kind === 'string' ? quoteToken(literal.value) : describeLiteral(literal)} for ExecutionDuration (nanoseconds, or e.g. '1h', '30m', '1h30m', '300ms', '2d', '01:30:00')`);
  if (literal.kind !== 'string') throw fail();
  const text = literal.value.trim();
  if (/^-?\d+$/.test(text)) {
    const big = BigInt(text);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  const hms = /^(\d+):(\d+):(\d+)$/.exec(text);
  if (hms) {
    const [hours, minutes, seconds] = [Number(hms[1]), Number(hms[2]), Number(hms[3])];
    if (minutes > 59 || seconds > 59) throw fail();
    return (hours * 3600 + minutes * 60 + seconds) * 1e9;
  }
  if (text === '0') return 0;
  if (!GO_DURATION.test(text)) throw fail();
  let ns = 0;
  for (const m of text.matchAll(GO_DURATION_PART)) ns += Number(m[1]) * NS_PER_UNIT[m[2]!]!;
  if (ns > MAX_INT64) throw fail();
  ns = Math.round(ns);
  return text.startsWith('-') ? -ns : ns;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Epoch milliseconds (with a fraction below the millisecond) of an RFC 3339 datetime, or undefined. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (month! < 1 || month! > 12 || hour! > 23 || minute! > 59 || second! > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (day! < 1 || day! > daysInMonth) return undefined;
  let offsetMinutes = 0;
  if (!m[8]) {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (oh * 60 + om) * (m[9] === '-' ? -1 : 1);
  }
  const date = new Date(0);
  date.setUTCFullYear(year!, month! - 1, day!); // not Date.UTC, which reads years 0-99 as 1900-1999
  date.setUTCHours(hour!, minute!, second!, 0);
  const base = date.getTime() - offsetMinutes * 60_000;
  const fraction = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  return base + fraction;
}

/** Words of a Text value: runs of characters other than ASCII punctuation, whitespace and controls, lower-cased (ASCII). */
export function textWords(value: string): string[] {
  const words: string[] = [];
  for (const word of value.split(TEXT_SEPARATORS)) if (word !== '') words.push(asciiLower(word));
  return words;
}

/** ASCII characters that are not letters or digits: what separates the words of a Text value. */
export const TEXT_SEPARATORS = /[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+/;

export function asciiLower(value: string): string {
  return value.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

function textTokens(literal: Literal, attribute: ResolvedAttribute): string[] {
  if (literal.kind !== 'string') throw wrongType(literal, attribute, 'a string');
  const words = [...new Set(textWords(literal.value))];
  if (words.length === 0) throw new VisibilityQueryError(literal.position, `the value ${quoteToken(literal.value)} for Text search attribute ${displayName(attribute.name)} has no words to match`);
  return words;
}
