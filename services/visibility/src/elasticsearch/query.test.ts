import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attributeCatalog } from '../attributes';
import { compileQuery } from '../query/checker';
import { toEsCount, toEsQuery } from './query';
import { esIndexTemplate, toEsDocument } from './query-mapping';

const catalog = attributeCatalog({
  CustomerId: 'Keyword',
  Tags: 'KeywordList',
  Notes: 'Text',
  Amount: 'Double',
  Attempts: 'Int',
  Urgent: 'Bool',
  DueAt: 'Datetime',
});

const NS = { term: { NamespaceId: 'ns-1' } };
const HIDE_DIVISIONS = { bool: { must_not: [{ exists: { field: 'SearchAttributes.Keyword.TemporalNamespaceDivision' } }] } };
/** The query of `expected` under the namespace filter and the hidden divisions. */
const scoped = (expected?: unknown): unknown => ({ bool: { filter: [NS, expected === undefined ? HIDE_DIVISIONS : { bool: { filter: [HIDE_DIVISIONS, expected] } }] } });
const DEFAULT_SORT = [
  { CloseTime: { order: 'desc', missing: '_first', unmapped_type: 'date' } },
  { StartTime: { order: 'desc', missing: '_first', unmapped_type: 'date' } },
  { RunId: { order: 'desc', missing: '_first', unmapped_type: 'keyword' } },
];
const T0 = Date.UTC(2024, 0, 1);
const notQ = (query: unknown): unknown => ({ bool: { must_not: [query] } });

/** [query, the caller's part of the ES query (beside the namespace filter)] */
const SNAPSHOTS: [string, unknown][] = [
  ["WorkflowId = 'w'", { term: { WorkflowId: 'w' } }],
  ["WorkflowId != 'w'", notQ({ term: { WorkflowId: 'w' } })],
  ["WorkflowType > 'a'", { range: { WorkflowType: { gt: 'a' } } }],
  ["WorkflowType >= 'a'", { range: { WorkflowType: { gte: 'a' } } }],
  ['HistoryLength < 5', { range: { HistoryLength: { lt: 5 } } }],
  ['HistoryLength <= 5', { range: { HistoryLength: { lte: 5 } } }],
  ['HistoryLength = 9223372036854775807', { term: { HistoryLength: '9223372036854775807' } }],
  ["StartTime > '2024-01-01T00:00:00Z'", { range: { StartTime: { gt: T0, format: 'epoch_millis' } } }],
  ["CloseTime = '2024-01-01T00:00:00Z'", { term: { CloseTime: T0 } }],
  ["StartTime BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T00:00:01Z'", { range: { StartTime: { gte: T0, lte: T0 + 1000, format: 'epoch_millis' } } }],
  ["StartTime NOT BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T00:00:01Z'", notQ({ range: { StartTime: { gte: T0, lte: T0 + 1000, format: 'epoch_millis' } } })],
  ["ExecutionStatus = 'Running'", { term: { ExecutionStatus: 'Running' } }],
  ['ExecutionStatus = 2', { term: { ExecutionStatus: 'Completed' } }],
  ["ExecutionStatus IN ('Failed', 'timedout')", { terms: { ExecutionStatus: ['Failed', 'TimedOut'] } }],
  ["ExecutionStatus NOT IN ('Failed')", notQ({ terms: { ExecutionStatus: ['Failed'] } })],
  ["ExecutionDuration > '1m'", { range: { ExecutionDuration: { gt: 60_000_000_000 } } }],
  ["WorkflowType IN ('a', 'b')", { terms: { WorkflowType: ['a', 'b'] } }],
  ["WorkflowType STARTS_WITH 'ord'", { prefix: { WorkflowType: 'ord' } }],
  ["WorkflowType NOT STARTS_WITH 'ord'", notQ({ prefix: { WorkflowType: 'ord' } })],
  ['CloseTime IS NULL', notQ({ exists: { field: 'CloseTime' } })],
  ['CloseTime IS NOT NULL', { exists: { field: 'CloseTime' } }],
  ["CustomerId = 'c'", { term: { 'SearchAttributes.Keyword.CustomerId': 'c' } }],
  ["CustomerId BETWEEN 'a' AND 'b'", { range: { 'SearchAttributes.Keyword.CustomerId': { gte: 'a', lte: 'b' } } }],
  ["Tags = 'red'", { term: { 'SearchAttributes.KeywordList.Tags': 'red' } }],
  ["Tags != 'red'", notQ({ term: { 'SearchAttributes.KeywordList.Tags': 'red' } })],
  ["Tags IN ('red', 'blue')", { terms: { 'SearchAttributes.KeywordList.Tags': ['red', 'blue'] } }],
  ["Tags NOT IN ('red')", notQ({ terms: { 'SearchAttributes.KeywordList.Tags': ['red'] } })],
  ['Tags IS NULL', notQ({ exists: { field: 'SearchAttributes.KeywordList.Tags' } })],
  ["Notes = 'Hello, World'", { match: { 'SearchAttributes.Text.Notes': { query: 'hello world', operator: 'and' } } }],
  ["Notes != 'hello'", notQ({ match: { 'SearchAttributes.Text.Notes': { query: 'hello', operator: 'and' } } })],
  ['Amount >= 1.5', { range: { 'SearchAttributes.Double.Amount': { gte: 1.5 } } }],
  ['Attempts IN (1, 2)', { terms: { 'SearchAttributes.Int.Attempts': [1, 2] } }],
  ['Urgent = true', { term: { 'SearchAttributes.Bool.Urgent': true } }],
  ['Urgent != false', notQ({ term: { 'SearchAttributes.Bool.Urgent': false } })],
  ["DueAt < '2024-01-01T00:00:00Z'", { range: { 'SearchAttributes.Datetime.DueAt': { lt: T0, format: 'epoch_millis' } } }],
  ["TemporalChangeVersion = 'v1'", { term: { 'SearchAttributes.KeywordList.TemporalChangeVersion': 'v1' } }],
  ["WorkflowId = 'a' AND WorkflowType = 'b'", { bool: { filter: [{ term: { WorkflowId: 'a' } }, { term: { WorkflowType: 'b' } }] } }],
  ["WorkflowId = 'a' OR WorkflowType = 'b'", { bool: { should: [{ term: { WorkflowId: 'a' } }, { term: { WorkflowType: 'b' } }], minimum_should_match: 1 } }],
  ["NOT WorkflowId = 'a'", notQ({ term: { WorkflowId: 'a' } })],
  [
    "NOT (WorkflowId = 'a' OR (CloseTime IS NULL AND NOT Urgent = true))",
    notQ({ bool: { should: [{ term: { WorkflowId: 'a' } }, { bool: { filter: [notQ({ exists: { field: 'CloseTime' } }), notQ({ term: { 'SearchAttributes.Bool.Urgent': true } })] } }], minimum_should_match: 1 } }),
  ],
  ["WorkflowId = '1=1) OR (1=1'", { term: { WorkflowId: '1=1) OR (1=1' } }],
];

describe('toEsQuery', () => {
  it(`translates ${SNAPSHOTS.length} query shapes, always inside the namespace filter`, () => {
    for (const [text, expected] of SNAPSHOTS) {
      const body = toEsQuery(compileQuery(text, catalog), { namespaceId: 'ns-1', pageSize: 25 });
      assert.deepEqual(body, { query: scoped(expected), sort: DEFAULT_SORT, size: 25 }, text);
      assert.doesNotThrow(() => JSON.stringify(body), text);
    }
  });

  it('an empty query is the namespace filter and the hidden divisions', () => {
    assert.deepEqual(toEsQuery(compileQuery('', catalog), { namespaceId: 'ns-1', pageSize: 10 }), { query: scoped(), sort: DEFAULT_SORT, size: 10 });
    assert.deepEqual(toEsQuery(compileQuery("TemporalNamespaceDivision = 'x'", catalog), { namespaceId: 'ns-1', pageSize: 10 }).query, {
      bool: { filter: [NS, { term: { 'SearchAttributes.Keyword.TemporalNamespaceDivision': 'x' } }] },
    });
  });

  it('sorts by the ORDER BY keys (missing values as the largest), then RunId, and pages with search_after', () => {
    const body = toEsQuery(compileQuery('ORDER BY CustomerId DESC, Amount, StartTime ASC', catalog), { namespaceId: 'ns-1', pageSize: 5, after: ['c', 1.5, T0, 'run-1'] });
    assert.deepEqual(body.sort, [
      { 'SearchAttributes.Keyword.CustomerId': { order: 'desc', missing: '_first', unmapped_type: 'keyword' } },
      { 'SearchAttributes.Double.Amount': { order: 'asc', missing: '_last', unmapped_type: 'double' } },
      { StartTime: { order: 'asc', missing: '_last', unmapped_type: 'date' } },
      { RunId: { order: 'asc', missing: '_last', unmapped_type: 'keyword' } },
    ]);
    assert.deepEqual(body.search_after, ['c', 1.5, T0, 'run-1']);
    const byRunId = toEsQuery(compileQuery('ORDER BY RunId DESC', catalog), { namespaceId: 'ns-1', pageSize: 5 });
    assert.deepEqual(byRunId.sort, [{ RunId: { order: 'desc', missing: '_first', unmapped_type: 'keyword' } }]);
    assert.deepEqual(toEsQuery(compileQuery('ORDER BY Urgent, Attempts DESC', catalog), { namespaceId: 'n', pageSize: 1 }).sort.slice(0, 2), [
      { 'SearchAttributes.Bool.Urgent': { order: 'asc', missing: '_last', unmapped_type: 'boolean' } },
      { 'SearchAttributes.Int.Attempts': { order: 'desc', missing: '_first', unmapped_type: 'long' } },
    ]);
  });

  it('counts with total hits, grouped by ExecutionStatus through a terms aggregation', () => {
    assert.deepEqual(toEsCount(compileQuery("WorkflowType = 'a'", catalog), { namespaceId: 'ns-1' }), {
      query: scoped({ term: { WorkflowType: 'a' } }),
      size: 0,
      track_total_hits: true,
    });
    assert.deepEqual(toEsCount(compileQuery('GROUP BY ExecutionStatus', catalog), { namespaceId: 'ns-1' }), {
      query: scoped(),
      size: 0,
      track_total_hits: true,
      aggs: { group_by: { terms: { field: 'ExecutionStatus', size: 100 } } },
    });
  });
});

describe('the ES index template and documents', () => {
  it('maps every system attribute, the Text analyzer and one dynamic template per type', () => {
    const template = esIndexTemplate();
    const mappings = template.mappings as { dynamic: string; properties: Record<string, { type: string; properties?: Record<string, unknown> }>; dynamic_templates: Record<string, { path_match: string; mapping: { type: string } }>[] };
    assert.equal(mappings.dynamic, 'strict');
    assert.equal(mappings.properties.WorkflowId!.type, 'keyword');
    assert.equal(mappings.properties.ExecutionStatus!.type, 'keyword');
    assert.equal(mappings.properties.StartTime!.type, 'date');
    assert.equal(mappings.properties.ExecutionDuration!.type, 'long');
    assert.equal(mappings.properties.NamespaceId!.type, 'keyword');
    const templates = Object.fromEntries(mappings.dynamic_templates.map((t) => Object.values(t)[0]!).map((t) => [t.path_match, t.mapping.type]));
    assert.deepEqual(templates, {
      'SearchAttributes.Keyword.*': 'keyword',
      'SearchAttributes.KeywordList.*': 'keyword',
      'SearchAttributes.Text.*': 'text',
      'SearchAttributes.Int.*': 'long',
      'SearchAttributes.Double.*': 'double',
      'SearchAttributes.Bool.*': 'boolean',
      'SearchAttributes.Datetime.*': 'date',
    });
    const sa = mappings.properties.SearchAttributes!.properties as Record<string, { properties: Record<string, { type: string }> }>;
    assert.equal(sa.KeywordList!.properties.TemporalChangeVersion!.type, 'keyword');
    assert.equal(sa.Bool!.properties.TemporalSchedulePaused!.type, 'boolean');
    const analysis = (template.settings as { analysis: { tokenizer: Record<string, { pattern: string }> } }).analysis;
    // The tokenizer splits where the SQL translation's word boundaries are: ASCII other than letters and digits.
    const pattern = new RegExp(analysis.tokenizer.hourglass_words!.pattern.replace(/\\\\/g, '\\'));
    assert.deepEqual('Order #123 shipped, résumé'.split(pattern), ['Order', '123', 'shipped', 'résumé']);
  });

  it('builds the document of a row: status by name, times as epoch ms, attributes under their type', () => {
    const doc = toEsDocument(
      {
        namespace_id: 'ns-1',
        run_id: 'r',
        workflow_id: 'w',
        workflow_type: 't',
        status: 2,
        start_time: T0,
        execution_time: T0,
        close_time: T0 + 5,
        execution_duration: 5_000_000,
        task_queue: 'q',
        history_length: 3,
        history_size_bytes: 100,
        state_transition_count: 4,
        parent_workflow_id: null,
        memo: Buffer.from('m'),
        search_attributes: '{"CustomerId":"c","Tags":["a","b"],"Removed":1,"TemporalChangeVersion":["v1"]}',
        record_version: 7,
      },
      (name) => catalog.lookup(name),
    );
    assert.deepEqual(doc, {
      NamespaceId: 'ns-1',
      RunId: 'r',
      WorkflowId: 'w',
      WorkflowType: 't',
      ExecutionStatus: 'Completed',
      StartTime: T0,
      ExecutionTime: T0,
      CloseTime: T0 + 5,
      ExecutionDuration: 5_000_000,
      TaskQueue: 'q',
      HistoryLength: 3,
      HistorySizeBytes: 100,
      StateTransitionCount: 4,
      RecordVersion: 7,
      Memo: 'bQ==',
      SearchAttributes: { Keyword: { CustomerId: 'c' }, KeywordList: { Tags: ['a', 'b'], TemporalChangeVersion: ['v1'] } },
    });
  });
});
