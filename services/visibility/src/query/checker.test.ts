import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attributeCatalog } from '../attributes';
import type { CheckedExpr } from './ast';
import { compileQuery, parseRfc3339, textWords } from './checker';
import { VisibilityQueryError } from './errors';

const catalog = attributeCatalog({
  CustomerId: 'Keyword',
  Tags: 'KeywordList',
  Notes: 'Text',
  Amount: 'Double',
  Attempts: 'Int',
  Urgent: 'Bool',
  DueAt: 'Datetime',
});

const HIDE_DIVISIONS: CheckedExpr = { kind: 'isNull', negated: false, attribute: { name: 'TemporalNamespaceDivision', type: 'Keyword', kind: 'predefined' } };

/** The caller's filter (under the TemporalNamespaceDivision IS NULL that typeCheck adds). */
function where(text: string): CheckedExpr {
  const checked = compileQuery(text, catalog);
  assert.ok(checked.where?.kind === 'and', text);
  assert.deepEqual(checked.where.operands[0], HIDE_DIVISIONS);
  return checked.where.operands[1]!;
}

function value(text: string): unknown {
  const w = where(text);
  if (w.kind === 'compare') return w.value;
  if (w.kind === 'in') return w.values;
  if (w.kind === 'between') return [w.low, w.high];
  if (w.kind === 'textMatch') return w.tokens;
  if (w.kind === 'startsWith') return w.prefix;
  return undefined;
}

/** [query, position, reason, hint?] */
const INVALID: [string, number, RegExp, string?][] = [
  ["WorkflowType = 'x' AND CustomerID = 'a'", 23, /^unknown search attribute CustomerID$/, 'did you mean CustomerId?'],
  ["customerid = 'a'", 0, /^unknown search attribute customerid$/, 'did you mean CustomerId?'],
  ["WorkflowTyp = 'a'", 0, /unknown search attribute WorkflowTyp/, 'did you mean WorkflowType?'],
  ["Completely_Unrelated = 'a'", 0, /unknown search attribute Completely_Unrelated/],
  [`\`${'Z'.repeat(300)}\` = 'a'`, 0, /^unknown search attribute "Z{40}…" \(300 characters\)$/],
  ["NamespaceId = 'other'", 0, /unknown search attribute NamespaceId/],
  ["Memo = 'x'", 0, /unknown search attribute Memo/],
  ["CustomerId = 'a' ORDER BY Nots", 26, /unknown search attribute Nots/, 'did you mean Notes?'],
  ['GROUP BY ExecutionStatu', 9, /unknown search attribute ExecutionStatu/, 'did you mean ExecutionStatus?'],
  ["HistoryLength = 'ten'", 16, /Int search attribute HistoryLength takes a number, not the string "ten"/],
  ['Attempts = true', 11, /Int search attribute Attempts takes a number, not the boolean true/],
  ['Amount = \'1.5\'', 9, /Double search attribute Amount takes a number/],
  ['CustomerId = 12', 13, /Keyword search attribute CustomerId takes a string, not the number 12/],
  ['WorkflowId = 2024-01-01T00:00:00Z', 13, /takes a string, not the datetime 2024-01-01T00:00:00Z/],
  ['Tags = 1', 7, /KeywordList search attribute Tags takes a string/],
  ['Notes = 5', 8, /Text search attribute Notes takes a string/],
  ["Urgent = 'true'", 9, /Bool search attribute Urgent takes true or false, not the string "true"/],
  ['Urgent = 1', 9, /takes true or false/],
  ["StartTime > 'yesterday'", 12, /cannot parse datetime "yesterday" for StartTime \(RFC 3339/],
  ["StartTime > '2024-13-01T00:00:00Z'", 12, /cannot parse datetime/],
  ["StartTime > '2023-02-29T00:00:00Z'", 12, /cannot parse datetime/],
  ["DueAt > '2024-01-01'", 8, /cannot parse datetime "2024-01-01"/],
  ['DueAt = true', 8, /Datetime search attribute DueAt takes an RFC 3339 datetime/],
  ['DueAt > 1.5', 8, /takes an RFC 3339 datetime/],
  ["ExecutionStatus = 'Runing'", 18, /invalid ExecutionStatus value "Runing" \(one of Running, Completed, Failed, Canceled, Terminated, ContinuedAsNew, TimedOut\)/, 'did you mean Running?'],
  ["ExecutionStatus = 'Paused'", 18, /invalid ExecutionStatus value "Paused"/],
  ['ExecutionStatus = 9', 18, /invalid ExecutionStatus value 9 \(1 to 7\)/],
  ['ExecutionStatus = true', 18, /ExecutionStatus takes a status name such as 'Running', not the boolean true/],
  ["ExecutionStatus > 'Running'", 0, /operator > is not supported for ExecutionStatus \(supported: =, !=, IN, NOT IN, IS NULL, IS NOT NULL\)/],
  ["ExecutionStatus STARTS_WITH 'R'", 0, /operator STARTS_WITH is not supported for ExecutionStatus/],
  ["ExecutionDuration > '1 hour'", 20, /invalid duration "1 hour" for ExecutionDuration/],
  ["ExecutionDuration > '1h-'", 20, /invalid duration/],
  ["ExecutionDuration > '10:61:00'", 20, /invalid duration/],
  ['ExecutionDuration > true', 20, /invalid duration boolean true/],
  ["Attempts STARTS_WITH '1'", 0, /operator STARTS_WITH is not supported for Int search attribute Attempts/],
  ["DueAt NOT STARTS_WITH '2024'", 0, /operator NOT STARTS_WITH is not supported for Datetime/],
  ["Tags > 'a'", 0, /operator > is not supported for KeywordList search attribute Tags \(supported: =, !=, IN, NOT IN/],
  ["Tags BETWEEN 'a' AND 'b'", 0, /operator BETWEEN is not supported for KeywordList/],
  ["Tags STARTS_WITH 'a'", 0, /operator STARTS_WITH is not supported for KeywordList/],
  ["Notes IN ('a')", 0, /operator IN is not supported for Text search attribute Notes \(supported: =, !=, IS NULL/],
  ["Notes > 'a'", 0, /operator > is not supported for Text/],
  ["Notes STARTS_WITH 'a'", 0, /operator STARTS_WITH is not supported for Text/],
  ["Notes = '...'", 8, /the value "..." for Text search attribute Notes has no words to match/],
  ['Urgent > false', 0, /operator > is not supported for Bool search attribute Urgent/],
  ['Urgent BETWEEN false AND true', 0, /operator BETWEEN is not supported for Bool/],
  ['ORDER BY Notes', 9, /cannot sort by Notes: search attributes of type Text are not sortable/],
  ['ORDER BY Tags DESC', 9, /cannot sort by Tags: search attributes of type KeywordList are not sortable/],
  ['ORDER BY StartTime, StartTime DESC', 20, /ORDER BY names StartTime twice/],
  [`ORDER BY ${['StartTime', 'CloseTime', 'ExecutionTime', 'WorkflowId', 'WorkflowType', 'TaskQueue', 'HistoryLength', 'HistorySizeBytes', 'StateTransitionCount', 'RootWorkflowId', 'RunId'].join(', ')}`, 154, /more than 10 ORDER BY keys/],
  ['GROUP BY WorkflowType', 9, /GROUP BY is only supported for ExecutionStatus, not WorkflowType/],
  ['GROUP BY ExecutionStatus, WorkflowType', 26, /GROUP BY supports a single attribute/],
  ["HistoryLength IN (1, 'two')", 21, /Int search attribute HistoryLength takes a number, not the string "two"/],
  ["HistoryLength BETWEEN 1 AND 'z'", 28, /takes a number/],
];

describe('typeCheck', () => {
  it(`refuses ${INVALID.length} ill-typed queries with the position, the reason and a suggestion`, () => {
    for (const [text, position, reason, hint] of INVALID) {
      let error: unknown;
      try {
        compileQuery(text, catalog);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof VisibilityQueryError, `${text}: expected a VisibilityQueryError, got ${String(error)}`);
      assert.match(error.reason, reason, text);
      assert.equal(error.position, position, `${text}: position (${error.reason})`);
      assert.equal(error.hint, hint, `${text}: hint`);
      assert.ok(error.message.length < 400, `${text}: message of ${error.message.length} characters`);
    }
  });

  it('says where an unknown attribute is and what was probably meant', () => {
    assert.throws(
      () => compileQuery("WorkflowType = 'order' AND StartTime > '2024-01-01T00:00:00Z' AND CustomerID = 'c-1'", catalog),
      { message: 'invalid query: unknown search attribute CustomerID at position 66; did you mean CustomerId?' },
    );
  });

  it('maps ExecutionStatus names (any case, also the enum constant) and numbers to status numbers', () => {
    assert.equal(value("ExecutionStatus = 'Running'"), 1);
    assert.equal(value("ExecutionStatus = 'completed'"), 2);
    assert.equal(value("ExecutionStatus = 'WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW'"), 6);
    assert.equal(value("ExecutionStatus = 'TimedOut'"), 7);
    assert.equal(value('ExecutionStatus = 5'), 5);
    assert.deepEqual(value("ExecutionStatus IN ('Failed', 'Canceled', 'Terminated')"), [3, 4, 5]);
  });

  it('reads ExecutionDuration as nanoseconds, Go durations or hh:mm:ss', () => {
    assert.equal(value("ExecutionDuration > '1h'"), 3_600_000_000_000);
    assert.equal(value("ExecutionDuration > '30m'"), 1_800_000_000_000);
    assert.equal(value("ExecutionDuration > '1h30m'"), 5_400_000_000_000);
    assert.equal(value("ExecutionDuration > '1.5h'"), 5_400_000_000_000);
    assert.equal(value("ExecutionDuration > '300ms'"), 300_000_000);
    assert.equal(value("ExecutionDuration > '2d'"), 172_800_000_000_000);
    assert.equal(value("ExecutionDuration > '10us'"), 10_000);
    assert.equal(value("ExecutionDuration > '01:02:03'"), 3_723_000_000_000);
    assert.equal(value("ExecutionDuration > '1000'"), 1000);
    assert.equal(value('ExecutionDuration > 1000'), 1000);
    assert.equal(value("ExecutionDuration > '0'"), 0);
    assert.deepEqual(value("ExecutionDuration BETWEEN '1s' AND '2s'"), [1e9, 2e9]);
  });

  it('reads datetimes as epoch milliseconds: RFC 3339 strings, bare datetimes, offsets, fractions, epoch nanoseconds', () => {
    assert.equal(value("StartTime > '2024-01-01T00:00:00Z'"), Date.UTC(2024, 0, 1));
    assert.equal(value('StartTime > 2024-01-01T00:00:00Z'), Date.UTC(2024, 0, 1));
    assert.equal(value("StartTime > '2024-01-01T02:00:00+02:00'"), Date.UTC(2024, 0, 1));
    assert.equal(value("StartTime > '2023-12-31T19:30:00-04:30'"), Date.UTC(2024, 0, 1));
    assert.equal(value("StartTime > '2024-01-01T00:00:00.250Z'"), Date.UTC(2024, 0, 1) + 250);
    assert.equal(value("DueAt > '2024-01-01T00:00:00.000001500Z'"), Date.UTC(2024, 0, 1) + 0.0015);
    assert.equal(value('StartTime > 1704067200000000000'), Date.UTC(2024, 0, 1));
    assert.equal(new Date(parseRfc3339('0099-06-15T00:00:00Z')!).getUTCFullYear(), 99);
    assert.equal(parseRfc3339('2024-02-29T12:00:00Z'), Date.UTC(2024, 1, 29, 12));
    assert.equal(parseRfc3339('2024-02-30T12:00:00Z'), undefined);
    assert.equal(parseRfc3339('2024-01-01T24:00:00Z'), undefined);
    assert.equal(parseRfc3339('2024-01-01 00:00:00Z'), undefined);
  });

  it('converts numbers, booleans and strings to the attribute type', () => {
    assert.equal(value('Amount = 2'), 2);
    assert.equal(value('Amount = -2.5'), -2.5);
    assert.equal(value('Attempts >= 2.5'), 2.5);
    assert.equal(value('Attempts = 9223372036854775807'), 9223372036854775807n);
    assert.equal(value('Urgent = TRUE'), true);
    assert.equal(value("CustomerId = 'a'"), 'a');
    assert.equal(value("WorkflowId STARTS_WITH 'wf-'"), 'wf-');
  });

  it('turns Text equality into word matching (ASCII case folded, punctuation separates words, duplicates dropped)', () => {
    assert.deepEqual(value("Notes = 'Hello, World! hello'"), ['hello', 'world']);
    assert.deepEqual(value("Notes = 'order-123'"), ['order', '123']);
    assert.deepEqual(value("Notes = 'Résumé'"), ['résumé']);
    const negated = where("Notes != 'x'");
    assert.equal(negated.kind === 'textMatch' && negated.negated, true);
    assert.deepEqual(textWords('tab\tseparated\nlines__ok'), ['tab', 'separated', 'lines', 'ok']);
  });

  it('resolves system, predefined and custom attributes', () => {
    const checked = compileQuery("TemporalChangeVersion = 'p1' AND CustomerId = 'c' AND CloseTime IS NULL ORDER BY StartTime DESC", catalog);
    assert.deepEqual(checked, {
      text: "TemporalChangeVersion = 'p1' AND CustomerId = 'c' AND CloseTime IS NULL ORDER BY StartTime DESC",
      where: {
        kind: 'and',
        operands: [
          HIDE_DIVISIONS,
          {
            kind: 'and',
            operands: [
              { kind: 'compare', op: '=', attribute: { name: 'TemporalChangeVersion', type: 'KeywordList', kind: 'predefined' }, value: 'p1' },
              { kind: 'compare', op: '=', attribute: { name: 'CustomerId', type: 'Keyword', kind: 'custom' }, value: 'c' },
              { kind: 'isNull', negated: false, attribute: { name: 'CloseTime', type: 'Datetime', kind: 'system' } },
            ],
          },
        ],
      },
      orderBy: [{ attribute: { name: 'StartTime', type: 'Datetime', kind: 'system' }, direction: 'DESC' }],
      groupBy: [],
    });
    // Executions with a TemporalNamespaceDivision are hidden unless the query names it.
    assert.deepEqual(compileQuery('', catalog).where, HIDE_DIVISIONS);
    assert.deepEqual(compileQuery('ORDER BY StartTime', catalog).where, HIDE_DIVISIONS);
    assert.deepEqual(compileQuery("TemporalNamespaceDivision = 'TemporalScheduler'", catalog).where, {
      kind: 'compare',
      op: '=',
      attribute: { name: 'TemporalNamespaceDivision', type: 'Keyword', kind: 'predefined' },
      value: 'TemporalScheduler',
    });
    assert.equal(compileQuery('TemporalNamespaceDivision IS NULL OR TemporalNamespaceDivision IS NOT NULL', catalog).where?.kind, 'or');
    // A namespace without the custom attribute does not know it.
    assert.throws(() => compileQuery("CustomerId = 'c'", attributeCatalog()), /unknown search attribute CustomerId/);
    // A custom attribute cannot shadow a system one.
    const shadow = attributeCatalog({ WorkflowId: 'Int' });
    assert.equal(shadow.lookup('WorkflowId'), 'Keyword');
  });
});
