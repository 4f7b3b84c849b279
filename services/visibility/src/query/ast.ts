/**
 * The parsed form of a list filter (what parseQuery returns) and the checked form (what
 * typeCheck returns, what the SQL and Elasticsearch translators take). Every node carries the
 * 0-based character offset where it starts in the query text, for error messages.
 */
import type { AttributeKind, SearchAttributeType } from '../attributes';

export type CompareOp = '=' | '!=' | '>' | '>=' | '<' | '<=';
export type SortDirection = 'ASC' | 'DESC';

/** A literal as written: a quoted string, a number, true/false, or an unquoted RFC 3339 datetime. */
export type Literal =
  | { kind: 'string'; value: string; position: number }
  | { kind: 'int'; value: number | bigint; position: number }
  | { kind: 'float'; value: number; position: number }
  | { kind: 'bool'; value: boolean; position: number }
  | { kind: 'datetime'; value: string; position: number };

/** An attribute name as written (quotes and backquotes removed). */
export interface AttributeName {
  name: string;
  position: number;
}

export type Expr =
  | { kind: 'and'; operands: Expr[]; position: number }
  | { kind: 'or'; operands: Expr[]; position: number }
  | { kind: 'not'; operand: Expr; position: number }
  | { kind: 'compare'; op: CompareOp; attribute: AttributeName; value: Literal; position: number }
  | { kind: 'in'; negated: boolean; attribute: AttributeName; values: Literal[]; position: number }
  | { kind: 'between'; negated: boolean; attribute: AttributeName; low: Literal; high: Literal; position: number }
  | { kind: 'startsWith'; negated: boolean; attribute: AttributeName; value: Literal; position: number }
  | { kind: 'isNull'; negated: boolean; attribute: AttributeName; position: number };

export interface OrderKey {
  attribute: AttributeName;
  direction: SortDirection;
}

export interface QueryAst {
  /** The filter; undefined for an empty query or one with only ORDER BY / GROUP BY. */
  where?: Expr;
  orderBy: OrderKey[];
  groupBy: AttributeName[];
}

/** An attribute resolved against the catalog. */
export interface ResolvedAttribute {
  name: string;
  type: SearchAttributeType;
  kind: AttributeKind;
}

/**
 * A value converted to the attribute's stored representation: Keyword/Text/KeywordList a string,
 * Int a number (a bigint beyond 2^53), Double a number, Bool a boolean, Datetime epoch
 * milliseconds (a fraction keeps sub-millisecond precision), ExecutionStatus the status number,
 * ExecutionDuration nanoseconds.
 */
export type CheckedValue = string | number | bigint | boolean;

export type CheckedExpr =
  | { kind: 'and'; operands: CheckedExpr[] }
  | { kind: 'or'; operands: CheckedExpr[] }
  | { kind: 'not'; operand: CheckedExpr }
  /** On a KeywordList, `=` means "contains" and `!=` "does not contain". */
  | { kind: 'compare'; op: CompareOp; attribute: ResolvedAttribute; value: CheckedValue }
  | { kind: 'in'; negated: boolean; attribute: ResolvedAttribute; values: CheckedValue[] }
  | { kind: 'between'; negated: boolean; attribute: ResolvedAttribute; low: CheckedValue; high: CheckedValue }
  | { kind: 'startsWith'; negated: boolean; attribute: ResolvedAttribute; prefix: string }
  | { kind: 'isNull'; negated: boolean; attribute: ResolvedAttribute }
  /** Text `=` (every token of the value appears as a word of the attribute) and `!=` (negated). */
  | { kind: 'textMatch'; negated: boolean; attribute: ResolvedAttribute; tokens: string[] };

export interface CheckedOrderKey {
  attribute: ResolvedAttribute;
  direction: SortDirection;
}

export interface CheckedQuery {
  /** The query text as the caller sent it. */
  text: string;
  /** The filter; unless the query names TemporalNamespaceDivision, `TemporalNamespaceDivision IS NULL AND (...)`. */
  where?: CheckedExpr;
  /** The caller's ORDER BY; empty means the default order (see the README). */
  orderBy: CheckedOrderKey[];
  /** Empty, or [ExecutionStatus]: what a count groups by. */
  groupBy: ResolvedAttribute[];
}
