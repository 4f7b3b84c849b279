/**
 * Test fixture of the SQL translation: a few hundred deterministic visibility rows in two
 * namespaces, the queries to run over them, and an independent evaluator in TypeScript (the
 * oracle: what each query must return, in which order) to compare the databases' answers with.
 */
import { attributeCatalog, type AttributeCatalog } from '../../attributes';
import type { CheckedExpr, CheckedQuery, CheckedValue, ResolvedAttribute } from '../../query/ast';
import { textWords } from '../../query/checker';
import { SYSTEM_ATTRIBUTE_COLUMNS } from '../schema';

export const NAMESPACE = 'ns-a';
export const OTHER_NAMESPACE = 'ns-b';

export const CATALOG: AttributeCatalog = attributeCatalog({
  CustomerId: 'Keyword',
  Tags: 'KeywordList',
  Notes: 'Text',
  Amount: 'Double',
  Attempts: 'Int',
  Urgent: 'Bool',
  DueAt: 'Datetime',
});

export interface FixtureRow {
  namespace_id: string;
  run_id: string;
  workflow_id: string;
  workflow_type: string;
  status: number;
  start_time: number;
  execution_time: number;
  close_time: number | null;
  execution_duration: number | null;
  task_queue: string;
  history_length: number;
  history_size_bytes: number;
  state_transition_count: number;
  parent_workflow_id: string | null;
  parent_run_id: string | null;
  root_workflow_id: string | null;
  root_run_id: string | null;
  search_attributes: Record<string, unknown> | null;
}

/** A small deterministic PRNG (mulberry32), so every run sees the same rows. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CUSTOMERS = ['acme', 'Acme', 'ACME-1', 'acme_2', 'beta', 'b%eta', 'b_eta', 'c*d', 'c?d', '[x]', 'é-corp', 'zulu', 'Zulu', '😀 emoji', ''];
const TAGS = ['red', 'green', 'blue', 'Red', 'v1.2', 'x y'];
const NOTES = [
  'Order #123 shipped',
  'order-123 SHIPPED twice',
  'résumé sent to HR',
  'tab\tseparated\nlines',
  'shipped',
  'unshipped order',
  'Hello, World!',
  'hello.world',
  '...',
  '',
];
const TYPES = ['OrderWorkflow', 'PaymentWorkflow', 'order_workflow', 'Shipment'];
const BASE_TIME = Date.UTC(2024, 0, 1);

export function fixtureRows(): FixtureRow[] {
  const next = random(42);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const rows: FixtureRow[] = [];
  for (let i = 0; i < 360; i++) {
    const namespace = i % 6 === 5 ? OTHER_NAMESPACE : NAMESPACE;
    const status = next() < 0.3 ? 1 : 2 + Math.floor(next() * 6);
    // Few distinct start times, so sorts tie and the run id tie-break is exercised.
    const start = BASE_TIME + Math.floor(next() * 40) * 60_000;
    const execution = start + (next() < 0.2 ? 5_000 : 0);
    const close = status === 1 ? null : execution + Math.floor(next() * 20) * 30_000;
    const sa: Record<string, unknown> = {};
    if (next() < 0.8) sa.CustomerId = pick(CUSTOMERS);
    if (next() < 0.7) {
      const tags = new Set<string>();
      const n = 1 + Math.floor(next() * 3);
      for (let k = 0; k < n; k++) tags.add(pick(TAGS));
      sa.Tags = [...tags];
    }
    if (next() < 0.7) sa.Notes = pick(NOTES);
    if (next() < 0.7) sa.Amount = Math.round((next() * 200 - 50) * 100) / 100;
    if (next() < 0.7) sa.Attempts = Math.floor(next() * 6);
    if (next() < 0.6) sa.Urgent = next() < 0.5;
    if (next() < 0.6) sa.DueAt = BASE_TIME + Math.floor(next() * 10) * 3_600_000;
    if (i % 23 === 4) sa.TemporalNamespaceDivision = i % 2 ? 'TemporalScheduler' : 'Other';
    if (next() < 0.1) sa.TemporalChangeVersion = ['patch-1', 'patch-2'].slice(0, 1 + Math.floor(next() * 2));
    const child = next() < 0.25;
    rows.push({
      namespace_id: namespace,
      run_id: `run-${String(i).padStart(4, '0')}-${Math.floor(next() * 1e6).toString(36)}`,
      workflow_id: i % 10 === 0 ? `wf-shared-${i % 3}` : `wf-${i % 37}`,
      workflow_type: pick(TYPES),
      status,
      start_time: start,
      execution_time: execution,
      close_time: close,
      execution_duration: close === null ? null : (close - execution) * 1_000_000,
      task_queue: pick(['main', 'payments', 'Main']),
      history_length: Math.floor(next() * 50),
      history_size_bytes: Math.floor(next() * 100_000),
      state_transition_count: Math.floor(next() * 80),
      parent_workflow_id: child ? `wf-${i % 5}` : null,
      parent_run_id: child ? `run-p-${i % 5}` : null,
      root_workflow_id: child ? 'wf-root' : null,
      root_run_id: child ? 'run-root' : null,
      search_attributes: Object.keys(sa).length > 0 ? sa : null,
    });
  }
  return rows;
}

/** Queries the SQL translation is checked with; each runs in both dialects against the oracle. */
export const FIXTURE_QUERIES: readonly string[] = [
  '',
  "WorkflowType = 'OrderWorkflow'",
  "WorkflowType != 'OrderWorkflow'",
  "WorkflowType > 'O'",
  "WorkflowType >= 'PaymentWorkflow'",
  "WorkflowType < 'Shipment'",
  "WorkflowType <= 'order_workflow' ORDER BY WorkflowType",
  "WorkflowType IN ('Shipment', 'order_workflow')",
  "WorkflowType NOT IN ('Shipment', 'order_workflow')",
  "WorkflowType BETWEEN 'OrderWorkflow' AND 'Shipment'",
  "WorkflowType NOT BETWEEN 'OrderWorkflow' AND 'Shipment'",
  "WorkflowType STARTS_WITH 'Order'",
  "WorkflowType NOT STARTS_WITH 'order'",
  "WorkflowId = 'wf-shared-1'",
  "WorkflowId STARTS_WITH 'wf-1'",
  "ExecutionStatus = 'Running'",
  "ExecutionStatus != 'Running'",
  "ExecutionStatus IN ('Completed', 'Failed', 'TimedOut')",
  "ExecutionStatus NOT IN ('Completed', 'Failed')",
  'ExecutionStatus = 3',
  'CloseTime IS NULL',
  'CloseTime IS NOT NULL',
  "CloseTime > '2024-01-01T00:30:00Z'",
  "NOT CloseTime > '2024-01-01T00:30:00Z'",
  "CloseTime <= '2024-01-01T00:30:00.000+00:00' ORDER BY CloseTime ASC",
  "StartTime BETWEEN '2024-01-01T00:10:00Z' AND '2024-01-01T00:20:00Z'",
  "StartTime NOT BETWEEN '2024-01-01T00:10:00Z' AND '2024-01-01T00:20:00Z' ORDER BY StartTime",
  'StartTime >= 2024-01-01T00:35:00Z',
  "ExecutionTime > '2024-01-01T00:20:00Z'",
  "ExecutionDuration > '5m'",
  "ExecutionDuration <= '00:03:00'",
  'ExecutionDuration < 60000000000',
  'ExecutionDuration IS NULL',
  'HistoryLength > 25 AND HistorySizeBytes < 50000',
  'HistoryLength IN (1, 2, 3, 4, 5) OR StateTransitionCount >= 70',
  'NOT (HistoryLength > 10 AND StateTransitionCount < 40)',
  'ParentWorkflowId IS NOT NULL',
  "ParentWorkflowId != 'wf-1'",
  "RootRunId = 'run-root' ORDER BY ParentWorkflowId DESC",
  "TaskQueue = 'main'",
  "CustomerId = 'acme'",
  "CustomerId != 'acme'",
  "CustomerId IN ('acme', 'Acme', '')",
  "CustomerId NOT IN ('acme', 'Acme')",
  "CustomerId > 'b'",
  "CustomerId <= 'Zulu'",
  "CustomerId STARTS_WITH 'acme'",
  "CustomerId STARTS_WITH 'b%'",
  "CustomerId STARTS_WITH 'b_'",
  "CustomerId STARTS_WITH 'c*'",
  "CustomerId STARTS_WITH 'c?'",
  "CustomerId STARTS_WITH '['",
  "CustomerId STARTS_WITH 'é'",
  "CustomerId NOT STARTS_WITH 'a'",
  'CustomerId IS NULL',
  "CustomerId = ''",
  "CustomerId BETWEEN 'A' AND 'b'",
  "CustomerId >= '😀'",
  "Tags = 'red'",
  "Tags != 'red'",
  "Tags IN ('Red', 'x y')",
  "Tags NOT IN ('red', 'green')",
  'Tags IS NULL',
  "NOT Tags = 'blue' AND Tags IS NOT NULL",
  "Notes = 'shipped'",
  "Notes = 'ORDER 123'",
  "Notes != 'shipped'",
  "Notes = 'hello world'",
  "Notes = 'résumé'",
  "Notes = 'separated lines'",
  'Notes IS NULL',
  'Amount > 50.5',
  'Amount <= 0',
  'Amount BETWEEN -10 AND 10.25',
  'Amount NOT BETWEEN -10 AND 10.25',
  'Amount IN (1, 2.5)',
  'Attempts = 3',
  'Attempts != 3',
  'Attempts >= 2.5',
  'Attempts NOT IN (0, 1)',
  'Urgent = true',
  'Urgent = false',
  'Urgent != true',
  'Urgent IS NULL',
  "DueAt > '2024-01-01T04:00:00Z'",
  "DueAt BETWEEN '2024-01-01T02:00:00Z' AND '2024-01-01T05:00:00+01:00'",
  'DueAt IS NOT NULL ORDER BY DueAt DESC',
  "TemporalChangeVersion = 'patch-2'",
  "TemporalNamespaceDivision = 'TemporalScheduler'",
  'TemporalNamespaceDivision IS NULL OR TemporalNamespaceDivision IS NOT NULL',
  "TemporalNamespaceDivision != 'Other' ORDER BY StartTime",
  'ORDER BY TemporalNamespaceDivision DESC',
  "(CustomerId = 'acme' OR CustomerId = 'beta') AND (Urgent = true OR Attempts > 3)",
  "NOT (CustomerId = 'acme' OR Tags = 'red' OR NOT Urgent = false)",
  "NOT NOT (WorkflowType = 'Shipment' AND NOT (ExecutionStatus = 'Running'))",
  "ExecutionStatus = 'Running' OR (CloseTime IS NOT NULL AND NOT Amount < 0)",
  'ORDER BY StartTime',
  'ORDER BY StartTime DESC, WorkflowId ASC',
  'ORDER BY CloseTime ASC, StartTime DESC',
  'ORDER BY ExecutionDuration DESC',
  'ORDER BY CloseTime DESC, CustomerId, Amount DESC',
  "ExecutionStatus IN ('Completed', 'Failed') ORDER BY ParentRunId, Urgent DESC",
  'ORDER BY CustomerId ASC',
  'ORDER BY CustomerId DESC, Amount ASC',
  'ORDER BY Attempts DESC, Urgent ASC, DueAt',
  'ORDER BY RunId DESC',
  'ORDER BY ExecutionStatus',
  'ORDER BY ExecutionStatus DESC, StartTime',
  "Urgent = true ORDER BY Amount DESC",
  "WorkflowType STARTS_WITH 'Order' ORDER BY HistoryLength, RunId",
  'ExecutionStatus IN (1, 2) GROUP BY ExecutionStatus',
  "CustomerId = 'acme' GROUP BY ExecutionStatus",
  'GROUP BY ExecutionStatus',
  // Tenancy: nothing in a query reaches another namespace.
  "WorkflowId = 'wf-1' OR WorkflowId != 'wf-1'",
  "CustomerId IS NULL OR CustomerId IS NOT NULL",
  "NOT (WorkflowId = 'x' AND WorkflowId = 'y')",
  "WorkflowId = '1=1) OR (1=1'",
  "WorkflowId = 'x'' OR ''1''=''1'",
  "WorkflowId = \"x\\\" OR namespace_id != \\\"\"",
];

// ---------------------------------------------------------------------------------------------
// The oracle: what a query must return, computed in TypeScript over the rows.

function valueOf(row: FixtureRow, attribute: ResolvedAttribute): unknown {
  const column = SYSTEM_ATTRIBUTE_COLUMNS.get(attribute.name);
  if (attribute.kind === 'system' && column !== undefined) return (row as unknown as Record<string, unknown>)[column] ?? null;
  return row.search_attributes?.[attribute.name] ?? null;
}

/** -1, 0, 1 over non-null scalars: strings by UTF-8 bytes (as SQLite, utf8mb4_bin and ES do), numbers numerically. */
export function compareScalars(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function holds(row: FixtureRow, expr: CheckedExpr): boolean {
  switch (expr.kind) {
    case 'and':
      return expr.operands.every((operand) => holds(row, operand));
    case 'or':
      return expr.operands.some((operand) => holds(row, operand));
    case 'not':
      return !holds(row, expr.operand);
    case 'compare': {
      const v = valueOf(row, expr.attribute);
      if (expr.attribute.type === 'KeywordList') {
        const has = Array.isArray(v) && v.includes(expr.value);
        return expr.op === '!=' ? !has : has;
      }
      if (v === null) return expr.op === '!=';
      const c = compareScalars(v, expr.value);
      switch (expr.op) {
        case '=':
          return c === 0;
        case '!=':
          return c !== 0;
        case '>':
          return c > 0;
        case '>=':
          return c >= 0;
        case '<':
          return c < 0;
        case '<=':
          return c <= 0;
      }
      return false;
    }
    case 'in': {
      const v = valueOf(row, expr.attribute);
      const has =
        expr.attribute.type === 'KeywordList'
          ? Array.isArray(v) && v.some((item) => expr.values.includes(item as CheckedValue))
          : v !== null && expr.values.some((value) => compareScalars(v, value) === 0);
      return has !== expr.negated;
    }
    case 'between': {
      const v = valueOf(row, expr.attribute);
      const inside = v !== null && compareScalars(v, expr.low) >= 0 && compareScalars(v, expr.high) <= 0;
      return inside !== expr.negated;
    }
    case 'startsWith': {
      const v = valueOf(row, expr.attribute);
      return (typeof v === 'string' && v.startsWith(expr.prefix)) !== expr.negated;
    }
    case 'isNull':
      return (valueOf(row, expr.attribute) === null) !== expr.negated;
    case 'textMatch': {
      const v = valueOf(row, expr.attribute);
      const words = typeof v === 'string' ? new Set(textWords(v)) : undefined;
      return (words !== undefined && expr.tokens.every((token) => words.has(token))) !== expr.negated;
    }
  }
}

const STATUS_NAMES = ['Unspecified', 'Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'ContinuedAsNew', 'TimedOut'];

/** NULL sorts as the largest value; then run id in the last key's direction. Default: CloseTime DESC, StartTime DESC. */
function compareRows(a: FixtureRow, b: FixtureRow, q: CheckedQuery): number {
  const keys = q.orderBy.length > 0 ? q.orderBy : [
    { attribute: { name: 'CloseTime', type: 'Datetime', kind: 'system' } as ResolvedAttribute, direction: 'DESC' as const },
    { attribute: { name: 'StartTime', type: 'Datetime', kind: 'system' } as ResolvedAttribute, direction: 'DESC' as const },
  ];
  for (const key of keys) {
    // ExecutionStatus sorts by name, as Elasticsearch (which holds the name) sorts it.
    const sortable = (row: FixtureRow): unknown => (key.attribute.name === 'ExecutionStatus' ? STATUS_NAMES[row.status] : valueOf(row, key.attribute));
    const x = sortable(a);
    const y = sortable(b);
    let c: number;
    if (x === null && y === null) c = 0;
    else if (x === null) c = 1;
    else if (y === null) c = -1;
    else c = compareScalars(x, y);
    if (c !== 0) return key.direction === 'ASC' ? c : -c;
  }
  const c = compareScalars(a.run_id, b.run_id);
  return keys[keys.length - 1]!.direction === 'ASC' ? c : -c;
}

/** The run ids a list query must return, in order. */
export function expectedRunIds(rows: readonly FixtureRow[], q: CheckedQuery, namespaceId: string): string[] {
  return rows
    .filter((row) => row.namespace_id === namespaceId && (q.where === undefined || holds(row, q.where)))
    .sort((a, b) => compareRows(a, b, q))
    .map((row) => row.run_id);
}

/** The count a query must return, and per status when grouped. */
export function expectedCounts(rows: readonly FixtureRow[], q: CheckedQuery, namespaceId: string): { total: number; byStatus: Map<number, number> } {
  const matching = rows.filter((row) => row.namespace_id === namespaceId && (q.where === undefined || holds(row, q.where)));
  const byStatus = new Map<number, number>();
  for (const row of matching) byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + 1);
  return { total: matching.length, byStatus };
}

export const INSERT_SQL = `INSERT INTO visibility_executions (namespace_id, run_id, workflow_id, workflow_type, status, start_time, execution_time, close_time, execution_duration, task_queue, history_length, history_size_bytes, state_transition_count, parent_workflow_id, parent_run_id, root_workflow_id, root_run_id, memo, search_attributes, record_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 1)`;

export function insertParams(row: FixtureRow): unknown[] {
  return [
    row.namespace_id,
    row.run_id,
    row.workflow_id,
    row.workflow_type,
    row.status,
    row.start_time,
    row.execution_time,
    row.close_time,
    row.execution_duration,
    row.task_queue,
    row.history_length,
    row.history_size_bytes,
    row.state_transition_count,
    row.parent_workflow_id,
    row.parent_run_id,
    row.root_workflow_id,
    row.root_run_id,
    row.search_attributes === null ? null : JSON.stringify(row.search_attributes),
  ];
}
