import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Expr, Literal, QueryAst } from './ast';
import { MAX_IN_VALUES, MAX_QUERY_DEPTH, MAX_QUERY_LENGTH, parseQuery } from './parser';
import { VisibilityQueryError } from './errors';

// Compact constructors of the expected ASTs (positions are checked separately, against the text).
type L = Omit<Literal, 'position'>;
type E = unknown;
const s = (value: string): L => ({ kind: 'string', value });
const i = (value: number | bigint): L => ({ kind: 'int', value });
const f = (value: number): L => ({ kind: 'float', value });
const b = (value: boolean): L => ({ kind: 'bool', value });
const dt = (value: string): L => ({ kind: 'datetime', value });
const name = (n: string): { name: string } => ({ name: n });
const cmp = (attribute: string, op: string, value: L): E => ({ kind: 'compare', op, attribute: name(attribute), value });
const eq = (attribute: string, value: L): E => cmp(attribute, '=', value);
const and = (...operands: E[]): E => ({ kind: 'and', operands });
const or = (...operands: E[]): E => ({ kind: 'or', operands });
const not = (operand: E): E => ({ kind: 'not', operand });
const inList = (attribute: string, ...values: L[]): E => ({ kind: 'in', negated: false, attribute: name(attribute), values });
const notIn = (attribute: string, ...values: L[]): E => ({ kind: 'in', negated: true, attribute: name(attribute), values });
const between = (attribute: string, low: L, high: L, negated = false): E => ({ kind: 'between', negated, attribute: name(attribute), low, high });
const startsWith = (attribute: string, value: L, negated = false): E => ({ kind: 'startsWith', negated, attribute: name(attribute), value });
const isNull = (attribute: string, negated = false): E => ({ kind: 'isNull', negated, attribute: name(attribute) });
const q = (where: E | undefined, orderBy: [string, 'ASC' | 'DESC'][] = [], groupBy: string[] = []): E => ({
  ...(where === undefined ? {} : { where }),
  orderBy: orderBy.map(([n, direction]) => ({ attribute: name(n), direction })),
  groupBy: groupBy.map(name),
});

/** The AST without positions. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== 'position') out[k] = strip(v);
    return out;
  }
  return value;
}

export const VALID: [string, E][] = [
  ['', q(undefined)],
  ['   ', q(undefined)],
  ["WorkflowId = 'abc'", q(eq('WorkflowId', s('abc')))],
  ['WorkflowId = "abc"', q(eq('WorkflowId', s('abc')))],
  ["`WorkflowId` = 'abc'", q(eq('WorkflowId', s('abc')))],
  ["`Custom Field` = 'abc'", q(eq('Custom Field', s('abc')))],
  ["`we``ird` = 'x'", q(eq('we`ird', s('x')))],
  ["WorkflowId != 'abc'", q(cmp('WorkflowId', '!=', s('abc')))],
  ["WorkflowId <> 'abc'", q(cmp('WorkflowId', '!=', s('abc')))],
  ['HistoryLength > 10', q(cmp('HistoryLength', '>', i(10)))],
  ['HistoryLength >= 10', q(cmp('HistoryLength', '>=', i(10)))],
  ['HistoryLength < 10', q(cmp('HistoryLength', '<', i(10)))],
  ['HistoryLength <= 10', q(cmp('HistoryLength', '<=', i(10)))],
  ['HistoryLength>10', q(cmp('HistoryLength', '>', i(10)))],
  ['HistoryLength=-3', q(eq('HistoryLength', i(-3)))],
  ['HistoryLength = +3', q(eq('HistoryLength', i(3)))],
  ['HistoryLength = - 3', q(eq('HistoryLength', i(-3)))],
  ['Amount = 1.5', q(eq('Amount', f(1.5)))],
  ['Amount = -0.25', q(eq('Amount', f(-0.25)))],
  ['Amount = .5', q(eq('Amount', f(0.5)))],
  ['Amount = 5.', q(eq('Amount', f(5)))],
  ['Amount = 1e3', q(eq('Amount', f(1000)))],
  ['Amount = 2.5E-2', q(eq('Amount', f(0.025)))],
  ['Big = 9007199254740993', q(eq('Big', i(9007199254740993n)))],
  ['Big = -9223372036854775808', q(eq('Big', i(-9223372036854775808n)))],
  ['Big = 9007199254740991', q(eq('Big', i(9007199254740991)))],
  ['Flag = true', q(eq('Flag', b(true)))],
  ['Flag = FALSE', q(eq('Flag', b(false)))],
  ['Flag = True', q(eq('Flag', b(true)))],
  ['Flag != false', q(cmp('Flag', '!=', b(false)))],
  ["StartTime > '2024-01-01T00:00:00Z'", q(cmp('StartTime', '>', s('2024-01-01T00:00:00Z')))],
  ['StartTime > 2024-01-01T00:00:00Z', q(cmp('StartTime', '>', dt('2024-01-01T00:00:00Z')))],
  ['StartTime > 2024-01-01T00:00:00.123456789+02:00', q(cmp('StartTime', '>', dt('2024-01-01T00:00:00.123456789+02:00')))],
  ['StartTime <= 2024-02-29t23:59:59z', q(cmp('StartTime', '<=', dt('2024-02-29t23:59:59z')))],
  ["ExecutionDuration > '1h'", q(cmp('ExecutionDuration', '>', s('1h')))],
  ['ExecutionDuration > 3600000000000', q(cmp('ExecutionDuration', '>', i(3600000000000)))],
  ["ExecutionStatus = 'Running'", q(eq('ExecutionStatus', s('Running')))],
  ["WorkflowId = 'it''s'", q(eq('WorkflowId', s("it's")))],
  ["WorkflowId = 'it\\'s'", q(eq('WorkflowId', s("it's")))],
  ['WorkflowId = "say ""hi"""', q(eq('WorkflowId', s('say "hi"')))],
  ["WorkflowId = 'a\\\\b'", q(eq('WorkflowId', s('a\\b')))],
  ["WorkflowId = 'line\\nbreak'", q(eq('WorkflowId', s('line\nbreak')))],
  ["WorkflowId = ''", q(eq('WorkflowId', s('')))],
  ["WorkflowId = 'é😀'", q(eq('WorkflowId', s('é😀')))],
  ["WorkflowId = 'a' AND WorkflowType = 'b'", q(and(eq('WorkflowId', s('a')), eq('WorkflowType', s('b'))))],
  ["WorkflowId = 'a' and WorkflowType = 'b'", q(and(eq('WorkflowId', s('a')), eq('WorkflowType', s('b'))))],
  ["WorkflowId = 'a' OR WorkflowType = 'b'", q(or(eq('WorkflowId', s('a')), eq('WorkflowType', s('b'))))],
  ["WorkflowId = 'a' oR WorkflowType = 'b'", q(or(eq('WorkflowId', s('a')), eq('WorkflowType', s('b'))))],
  ["A = 'a' AND B = 'b' AND C = 'c'", q(and(eq('A', s('a')), eq('B', s('b')), eq('C', s('c'))))],
  ["A = 'a' OR B = 'b' OR C = 'c'", q(or(eq('A', s('a')), eq('B', s('b')), eq('C', s('c'))))],
  ["A = 'a' OR B = 'b' AND C = 'c'", q(or(eq('A', s('a')), and(eq('B', s('b')), eq('C', s('c')))))],
  ["A = 'a' AND B = 'b' OR C = 'c'", q(or(and(eq('A', s('a')), eq('B', s('b'))), eq('C', s('c'))))],
  ["(A = 'a' OR B = 'b') AND C = 'c'", q(and(or(eq('A', s('a')), eq('B', s('b'))), eq('C', s('c'))))],
  ["A = 'a' AND (B = 'b' OR C = 'c')", q(and(eq('A', s('a')), or(eq('B', s('b')), eq('C', s('c')))))],
  ["(A = 'a')", q(eq('A', s('a')))],
  ["((((A = 'a'))))", q(eq('A', s('a')))],
  ["(A = 'a' AND B = 'b') AND C = 'c'", q(and(eq('A', s('a')), eq('B', s('b')), eq('C', s('c'))))],
  ["(A = 'a' OR B = 'b') OR (C = 'c' OR D = 'd')", q(or(eq('A', s('a')), eq('B', s('b')), eq('C', s('c')), eq('D', s('d'))))],
  ["NOT A = 'a'", q(not(eq('A', s('a'))))],
  ["not A = 'a'", q(not(eq('A', s('a'))))],
  ["NOT NOT A = 'a'", q(not(not(eq('A', s('a')))))],
  ["NOT (A = 'a' OR B = 'b')", q(not(or(eq('A', s('a')), eq('B', s('b')))))],
  ["NOT A = 'a' AND B = 'b'", q(and(not(eq('A', s('a'))), eq('B', s('b'))))],
  ["A = 'a' AND NOT B = 'b' OR NOT (C = 'c')", q(or(and(eq('A', s('a')), not(eq('B', s('b')))), not(eq('C', s('c')))))],
  ["WorkflowType IN ('a')", q(inList('WorkflowType', s('a')))],
  ["WorkflowType IN ('a', 'b', \"c\")", q(inList('WorkflowType', s('a'), s('b'), s('c')))],
  ['HistoryLength IN (1,2,3)', q(inList('HistoryLength', i(1), i(2), i(3)))],
  ['Amount in (1, -2.5)', q(inList('Amount', i(1), f(-2.5)))],
  ["WorkflowType NOT IN ('a', 'b')", q(notIn('WorkflowType', s('a'), s('b')))],
  ["WorkflowType not in ('a')", q(notIn('WorkflowType', s('a')))],
  ["ExecutionStatus IN ('Running', 'Failed')", q(inList('ExecutionStatus', s('Running'), s('Failed')))],
  ['Flag IN (true, false)', q(inList('Flag', b(true), b(false)))],
  ["StartTime IN ('2024-01-01T00:00:00Z', 2024-01-02T00:00:00Z)", q(inList('StartTime', s('2024-01-01T00:00:00Z'), dt('2024-01-02T00:00:00Z')))],
  ['HistoryLength BETWEEN 1 AND 5', q(between('HistoryLength', i(1), i(5)))],
  ['HistoryLength between 1 and 5', q(between('HistoryLength', i(1), i(5)))],
  ['HistoryLength NOT BETWEEN 1 AND 5', q(between('HistoryLength', i(1), i(5), true))],
  ["StartTime BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-02T00:00:00Z'", q(between('StartTime', s('2024-01-01T00:00:00Z'), s('2024-01-02T00:00:00Z')))],
  ["WorkflowId BETWEEN 'a' AND 'b' AND HistoryLength > 1", q(and(between('WorkflowId', s('a'), s('b')), cmp('HistoryLength', '>', i(1))))],
  ['Amount BETWEEN -1.5 AND 2e2 OR Amount IS NULL', q(or(between('Amount', f(-1.5), f(200)), isNull('Amount')))],
  ["WorkflowId STARTS_WITH 'order-'", q(startsWith('WorkflowId', s('order-')))],
  ["WorkflowId starts_with 'order-'", q(startsWith('WorkflowId', s('order-')))],
  ["WorkflowId NOT STARTS_WITH 'order-'", q(startsWith('WorkflowId', s('order-'), true))],
  ["WorkflowId STARTS_WITH '%_*?['", q(startsWith('WorkflowId', s('%_*?[')))],
  ['CloseTime IS NULL', q(isNull('CloseTime'))],
  ['CloseTime is null', q(isNull('CloseTime'))],
  ['CloseTime IS NOT NULL', q(isNull('CloseTime', true))],
  ['CloseTime Is Not Null', q(isNull('CloseTime', true))],
  ["NOT CloseTime IS NULL AND WorkflowId = 'x'", q(and(not(isNull('CloseTime')), eq('WorkflowId', s('x'))))],
  ['ORDER BY StartTime', q(undefined, [['StartTime', 'ASC']])],
  ['order by StartTime desc', q(undefined, [['StartTime', 'DESC']])],
  ['ORDER BY StartTime ASC', q(undefined, [['StartTime', 'ASC']])],
  ['ORDER BY StartTime DESC, WorkflowId', q(undefined, [['StartTime', 'DESC'], ['WorkflowId', 'ASC']])],
  ['ORDER BY `StartTime` DESC, `WorkflowId` ASC, RunId DESC', q(undefined, [['StartTime', 'DESC'], ['WorkflowId', 'ASC'], ['RunId', 'DESC']])],
  ["WorkflowType = 'a' ORDER BY CloseTime DESC", q(eq('WorkflowType', s('a')), [['CloseTime', 'DESC']])],
  ["(WorkflowType = 'a' OR WorkflowType = 'b') ORDER BY CloseTime", q(or(eq('WorkflowType', s('a')), eq('WorkflowType', s('b'))), [['CloseTime', 'ASC']])],
  ['GROUP BY ExecutionStatus', q(undefined, [], ['ExecutionStatus'])],
  ['group by ExecutionStatus', q(undefined, [], ['ExecutionStatus'])],
  ["WorkflowType = 'a' GROUP BY ExecutionStatus", q(eq('WorkflowType', s('a')), [], ['ExecutionStatus'])],
  ['GROUP BY ExecutionStatus, WorkflowType', q(undefined, [], ['ExecutionStatus', 'WorkflowType'])],
  ["WorkflowType = 'a' GROUP BY ExecutionStatus ORDER BY StartTime", q(eq('WorkflowType', s('a')), [['StartTime', 'ASC']], ['ExecutionStatus'])],
  ["\n\tWorkflowId\n=\n'a'\n", q(eq('WorkflowId', s('a')))],
  ["WorkflowId='a'AND WorkflowType='b'", q(and(eq('WorkflowId', s('a')), eq('WorkflowType', s('b'))))],
  ["(WorkflowId='a')OR(WorkflowType='b')", q(or(eq('WorkflowId', s('a')), eq('WorkflowType', s('b'))))],
  ['_private = 1', q(eq('_private', i(1)))],
  ['Custom_Field2 = 2', q(eq('Custom_Field2', i(2)))],
  ['`order` = 1', q(eq('order', i(1)))],
  ["`AND` = 'x' AND `OR` = 'y'", q(and(eq('AND', s('x')), eq('OR', s('y'))))],
  ["Andrew = 'x' AND Oregon = 'y'", q(and(eq('Andrew', s('x')), eq('Oregon', s('y'))))],
  ["Notes = 'and or not'", q(eq('Notes', s('and or not')))],
  ["Tags = 'red' AND Tags != 'blue'", q(and(eq('Tags', s('red')), cmp('Tags', '!=', s('blue'))))],
  ["WorkflowId = '1=1) OR (1=1'", q(eq('WorkflowId', s('1=1) OR (1=1')))],
  ["WorkflowId = 'x'' OR ''1''=''1'", q(eq('WorkflowId', s("x' OR '1'='1")))],
  ["WorkflowId = '; DROP TABLE visibility_executions; --'", q(eq('WorkflowId', s('; DROP TABLE visibility_executions; --')))],
  ['HistoryLength = 0', q(eq('HistoryLength', i(0)))],
  ['HistoryLength = 007', q(eq('HistoryLength', i(7)))],
  ["NOT (NOT (A = 'a' AND NOT B IS NULL))", q(not(not(and(eq('A', s('a')), not(isNull('B'))))))],
  ["A IN ('x') OR B NOT IN ('y') AND NOT C BETWEEN 1 AND 2 OR D NOT STARTS_WITH 'z'", q(or(inList('A', s('x')), and(notIn('B', s('y')), not(between('C', i(1), i(2)))), startsWith('D', s('z'), true)))],
  ['ExecutionDuration BETWEEN \'1m\' AND "2h30m" ORDER BY ExecutionDuration DESC', q(between('ExecutionDuration', s('1m'), s('2h30m')), [['ExecutionDuration', 'DESC']])],
];

/** Bad queries: [query, position, part of the reason]. */
export const INVALID: [string, number, RegExp][] = [
  ["WorkflowId = 'abc", 13, /unterminated string/],
  ['WorkflowId = "abc', 13, /unterminated string/],
  ["WorkflowId = 'abc\\", 13, /unterminated string/],
  ["`WorkflowId = 'a'", 0, /unterminated backquoted name/],
  ["`` = 'a'", 0, /empty backquoted name/],
  ["WorkflowId == 'a'", 11, /operator '==' is not supported/],
  ["WorkflowId = 'a' && WorkflowType = 'b'", 17, /'&&' is not supported \(use AND\)/],
  ["WorkflowId = 'a' || WorkflowType = 'b'", 17, /'\|\|' is not supported \(use OR\)/],
  ["WorkflowId = 'a' ; DROP TABLE x", 17, /unexpected character ";"/],
  ["WorkflowId = 'a' # comment", 17, /unexpected character "#"/],
  ['1=1) OR (1=1', 0, /expected a search attribute name in a condition, found number 1/],
  ["WorkflowId = 'a') OR (1=1", 16, /unbalanced '\)'/],
  ["(WorkflowId = 'a'", 17, /expected '\)' to close the '\(' at position 0/],
  ["((WorkflowId = 'a')", 19, /expected '\)' to close the '\(' at position 0/],
  ['()', 1, /empty parentheses/],
  ["'abc' = WorkflowId", 0, /found string "abc" \(the attribute goes on the left/],
  ['WorkflowId = abc', 13, /found the name "abc" \(did you forget to quote it as a string\?\)/],
  ["WorkflowId = 'a' AND", 20, /expected a search attribute name in a condition, found the end of the query/],
  ["AND WorkflowId = 'a'", 0, /found the keyword AND/],
  ["WorkflowId = 'a' OR OR WorkflowType = 'b'", 20, /found the keyword OR/],
  ['WorkflowId', 10, /expected an operator .* after WorkflowId, found the end of the query/],
  ["WorkflowId 'a'", 11, /expected an operator .* after WorkflowId, found string "a"/],
  ["WorkflowId AND WorkflowType = 'b'", 11, /expected an operator after WorkflowId, found AND/],
  ['WorkflowId =', 12, /expected a value after =, found the end of the query/],
  ['WorkflowId = NULL', 13, /comparison with NULL is always unknown \(use WorkflowId IS NULL/],
  ["WorkflowId LIKE 'a%'", 11, /operator LIKE is not supported \(use STARTS_WITH/],
  ["WorkflowId NOT LIKE 'a%'", 15, /operator LIKE is not supported/],
  ["WorkflowId IN 'a'", 14, /expected '\(' after IN, found string "a"/],
  ['WorkflowId IN ()', 15, /empty IN list/],
  ["WorkflowId NOT IN ()", 19, /empty NOT IN list/],
  ["WorkflowId IN ('a' 'b')", 19, /expected ',' or '\)' in the IN list, found string "b"/],
  ["WorkflowId IN ('a',)", 19, /expected a value after IN, found '\)'/],
  ["WorkflowId NOT = 'a'", 15, /expected IN, BETWEEN or STARTS_WITH after WorkflowId NOT, found '='/],
  ['HistoryLength BETWEEN 1', 23, /expected AND after BETWEEN/],
  ['HistoryLength BETWEEN 1 OR 2', 24, /expected AND after BETWEEN/],
  ['CloseTime IS', 12, /expected NULL after CloseTime IS, found the end of the query/],
  ["CloseTime IS 'x'", 13, /expected NULL after CloseTime IS, found string "x" \('IS' is only used as IS NULL or IS NOT NULL\)/],
  ['CloseTime IS NOT', 16, /expected NULL after CloseTime IS NOT/],
  ['ORDER StartTime', 6, /expected BY after ORDER, found name "StartTime"/],
  ['ORDER BY', 8, /expected a search attribute name in ORDER BY, found the end of the query/],
  ['ORDER BY StartTime,', 19, /expected a search attribute name in ORDER BY/],
  ['ORDER BY StartTime DESC DESC', 24, /unexpected DESC/],
  ['ORDER BY StartTime GROUP BY ExecutionStatus', 19, /GROUP BY must come before ORDER BY/],
  ['GROUP BY', 8, /expected a search attribute name in GROUP BY/],
  ["WorkflowId = 'a' LIMIT 10", 17, /LIMIT is not supported/],
  ["SELECT WorkflowId FROM executions WHERE WorkflowId = 'a'", 0, /SELECT is not supported: a query is only a filter/],
  ["WHERE WorkflowId = 'a'", 0, /WHERE is not supported/],
  ["lower(WorkflowId) = 'a'", 5, /functions are not supported/],
  ["WorkflowId = lower('A')", 13, /functions are not supported/],
  ['HistoryLength = 12abc', 16, /malformed number "12abc"/],
  ['ExecutionDuration > 1h', 20, /malformed number "1h" \(quote a string, e.g. '1h'/],
  ['StartTime > 2024-01-01', 12, /malformed datetime "2024-01-01" \(RFC 3339/],
  ['StartTime > 2024-01-01T00:00:00', 12, /malformed datetime/],
  ['HistoryLength = 99999999999999999999', 16, /out of the 64-bit range/],
  ['Amount = 1e999', 9, /out of range/],
  ['HistoryLength = -', 17, /expected a number after '-', found the end of the query/],
  ["HistoryLength = -'1'", 17, /expected a number after '-', found string "1"/],
  ["WorkflowId = 'a' WorkflowType = 'b'", 17, /unexpected name "WorkflowType"; expected AND, OR, GROUP BY, ORDER BY or the end of the query/],
  ["WorkflowId = 'a' ORDER BY", 25, /expected a search attribute name in ORDER BY/],
  ["WorkflowId ! 'a'", 11, /unexpected character "!"/],
  ["WorkflowId = 'a' AND NOT", 24, /found the end of the query/],
  ["WorkflowId = '" + 'x'.repeat(500), 13, /unterminated string starting "'x{19}"/],
];

/** Every position in the AST points at the text of what it names. */
function checkPositions(text: string, node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach((n) => checkPositions(text, n));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (typeof o.position === 'number') {
    const at = text.slice(o.position);
    if ('name' in o && typeof o.name === 'string') {
      assert.ok(at.startsWith(o.name) || at.startsWith('`'), `${text}: name ${o.name} at ${o.position}`);
    } else if (o.kind === 'string') {
      assert.ok(at.startsWith("'") || at.startsWith('"'), `${text}: string at ${o.position}`);
    } else if (o.kind === 'int' || o.kind === 'float') {
      assert.match(at, /^[-+]?\s*[.\d]/, `${text}: number at ${o.position}`);
    } else if (o.kind === 'bool') {
      assert.match(at, /^(true|false)/i);
    } else if (o.kind === 'datetime') {
      assert.ok(at.startsWith(String(o.value)));
    } else if (o.kind === 'not') {
      assert.match(at, /^not\b/i, `${text}: NOT at ${o.position}`);
    } else if ('attribute' in o) {
      const attribute = o.attribute as { position: number };
      assert.equal(o.position, attribute.position, `${text}: a condition starts at its attribute`);
    }
  }
  for (const value of Object.values(o)) checkPositions(text, value);
}

describe('parseQuery', () => {
  it(`parses ${VALID.length} valid queries into their ASTs`, () => {
    assert.ok(VALID.length >= 110);
    for (const [text, expected] of VALID) {
      let ast: QueryAst;
      try {
        ast = parseQuery(text);
      } catch (error) {
        assert.fail(`${text}: ${(error as Error).message}`);
      }
      assert.deepEqual(strip(ast), expected, text);
      checkPositions(text, ast);
    }
  });

  it('keeps exact positions of names, values and operators', () => {
    const ast = parseQuery("WorkflowType = 'a' AND (NOT `Custom` IN (1, -2) OR CloseTime IS NULL) ORDER BY StartTime DESC");
    const where = ast.where as Extract<Expr, { kind: 'and' }>;
    assert.equal(where.position, 0);
    const first = where.operands[0] as Extract<Expr, { kind: 'compare' }>;
    assert.deepEqual([first.attribute.position, first.value.position], [0, 15]);
    const inner = where.operands[1] as Extract<Expr, { kind: 'or' }>;
    const negation = inner.operands[0] as Extract<Expr, { kind: 'not' }>;
    assert.equal(negation.position, 24);
    const list = negation.operand as Extract<Expr, { kind: 'in' }>;
    assert.deepEqual([list.attribute.position, list.values[0]!.position, list.values[1]!.position], [28, 41, 44]);
    const isNullExpr = inner.operands[1] as Extract<Expr, { kind: 'isNull' }>;
    assert.equal(isNullExpr.attribute.position, 51);
    assert.equal(ast.orderBy[0]!.attribute.position, 79);
  });

  it(`refuses ${INVALID.length} bad queries with the position and the reason`, () => {
    assert.ok(INVALID.length >= 50);
    for (const [text, position, reason] of INVALID) {
      let error: unknown;
      try {
        parseQuery(text);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof VisibilityQueryError, `${text}: expected a VisibilityQueryError, got ${String(error)}`);
      assert.match(error.reason, reason, text);
      assert.equal(error.position, position, `${text}: position (${error.reason})`);
      assert.equal(error.code, 'INVALID_ARGUMENT');
      assert.equal(error.message, `invalid query: ${error.reason} at position ${error.position}`);
    }
  });

  it(`caps the query at ${MAX_QUERY_LENGTH} characters and quotes only a short prefix of a long token`, () => {
    const long = `WorkflowId = '${'x'.repeat(MAX_QUERY_LENGTH)}'`;
    assert.throws(() => parseQuery(long), (e: VisibilityQueryError) => e.position === MAX_QUERY_LENGTH && e.reason === `the query is ${long.length} characters long, more than the ${MAX_QUERY_LENGTH} allowed`);
    const justUnder = `WorkflowId = '${'x'.repeat(MAX_QUERY_LENGTH - 20)}'`;
    assert.equal((parseQuery(justUnder).where as Extract<Expr, { kind: 'compare' }>).value.kind, 'string');
    const longName = 'N'.repeat(5000);
    assert.throws(
      () => parseQuery(`WorkflowId = ${longName}`),
      (e: VisibilityQueryError) => e.message.length < 300 && e.message.includes('(5000 characters)'),
    );
  });

  it(`caps nesting at ${MAX_QUERY_DEPTH} levels, so a hostile query cannot exhaust the stack`, () => {
    const ok = `${'('.repeat(MAX_QUERY_DEPTH)}WorkflowId = 'a'${')'.repeat(MAX_QUERY_DEPTH)}`;
    assert.deepEqual(strip(parseQuery(ok)), q(eq('WorkflowId', s('a'))));
    const deep = `${'('.repeat(MAX_QUERY_DEPTH + 1)}WorkflowId = 'a'${')'.repeat(MAX_QUERY_DEPTH + 1)}`;
    assert.throws(() => parseQuery(deep), (e: VisibilityQueryError) => e.position === MAX_QUERY_DEPTH && /nesting deeper than 64/.test(e.reason));
    const nots = `${'NOT '.repeat(1000)}WorkflowId = 'a'`;
    assert.throws(() => parseQuery(nots), (e: VisibilityQueryError) => e.position === MAX_QUERY_DEPTH * 4 && /nesting deeper/.test(e.reason));
    const parens = '('.repeat(MAX_QUERY_LENGTH);
    assert.throws(() => parseQuery(parens), /nesting deeper/);
  });

  it(`caps an IN list at ${MAX_IN_VALUES} values`, () => {
    const values = (n: number): string => Array.from({ length: n }, (_, k) => String(k)).join(',');
    const ok = parseQuery(`HistoryLength IN (${values(MAX_IN_VALUES)})`).where as Extract<Expr, { kind: 'in' }>;
    assert.equal(ok.values.length, MAX_IN_VALUES);
    const text = `HistoryLength IN (${values(MAX_IN_VALUES + 1)})`;
    assert.throws(() => parseQuery(text), (e: VisibilityQueryError) => e.position === text.lastIndexOf(',') + 1 && /more than 1000 values in one IN list/.test(e.reason));
  });

  it('parses the longest allowed flat query into one flat OR (no recursion per operand)', () => {
    const parts: string[] = [];
    while (parts.join(' OR ').length < MAX_QUERY_LENGTH - 40) parts.push(`WorkflowId = 'w${parts.length}'`);
    const text = parts.join(' OR ');
    const ast = parseQuery(text);
    assert.equal((ast.where as Extract<Expr, { kind: 'or' }>).operands.length, parts.length);
  });
});
