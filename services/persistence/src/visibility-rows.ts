/**
 * visibility_executions rows, shared by the SQLite and MySQL visibility stores: the column order,
 * a record as statement parameters, and a row (as either driver returns it) as a record.
 */
import { InvariantViolationError } from '@hourglass/common';
import { VISIBILITY_COLUMNS, type SearchAttributeValue, type VisibilityRecord } from '@hourglass/visibility';

/**
 * Every column, in the order `visibilityParams` binds them (the table's own list, from its DDL's
 * package); record_version last (MySQL's conditional update relies on it).
 */
export { VISIBILITY_COLUMNS };

export type VisibilityParam = string | number | Buffer | null;

export function visibilityParams(r: VisibilityRecord): VisibilityParam[] {
  return [
    r.namespaceId,
    r.runId,
    r.workflowId,
    r.workflowType,
    r.status,
    r.startTime,
    r.executionTime,
    r.closeTime,
    r.executionDuration,
    r.taskQueue,
    r.historyLength,
    r.historySizeBytes,
    r.stateTransitionCount,
    r.parentWorkflowId,
    r.parentRunId,
    r.rootWorkflowId,
    r.rootRunId,
    r.memo ? Buffer.from(r.memo.buffer, r.memo.byteOffset, r.memo.byteLength) : null,
    r.searchAttributes && Object.keys(r.searchAttributes).length > 0 ? JSON.stringify(r.searchAttributes) : null,
    r.version,
  ];
}

export function visibilityRecordOfRow(row: Record<string, unknown>): VisibilityRecord {
  return {
    namespaceId: text(row.namespace_id, 'namespace_id'),
    runId: text(row.run_id, 'run_id'),
    workflowId: text(row.workflow_id, 'workflow_id'),
    workflowType: text(row.workflow_type, 'workflow_type'),
    status: int(row.status, 'status'),
    startTime: int(row.start_time, 'start_time'),
    executionTime: int(row.execution_time, 'execution_time'),
    closeTime: nullableInt(row.close_time, 'close_time'),
    executionDuration: nullableInt(row.execution_duration, 'execution_duration'),
    taskQueue: text(row.task_queue, 'task_queue'),
    historyLength: int(row.history_length, 'history_length'),
    historySizeBytes: int(row.history_size_bytes, 'history_size_bytes'),
    stateTransitionCount: int(row.state_transition_count, 'state_transition_count'),
    parentWorkflowId: nullableText(row.parent_workflow_id),
    parentRunId: nullableText(row.parent_run_id),
    rootWorkflowId: nullableText(row.root_workflow_id),
    rootRunId: nullableText(row.root_run_id),
    memo: row.memo === null || row.memo === undefined ? null : bytes(row.memo),
    searchAttributes: attributes(row.search_attributes),
    version: int(row.record_version, 'record_version'),
  };
}

function text(value: unknown, column: string): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  throw new InvariantViolationError(`visibility_executions.${column} holds ${String(value)}, not text`);
}

function nullableText(value: unknown): string | null {
  return value === null || value === undefined ? null : text(value, 'text column');
}

function int(value: unknown, column: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvariantViolationError(`visibility_executions.${column} holds ${String(value)}, not a safe integer`);
  return n;
}

function nullableInt(value: unknown, column: string): number | null {
  return value === null || value === undefined ? null : int(value, column);
}

function bytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new InvariantViolationError('visibility_executions.memo is not a blob');
}

/** JSON text (SQLite, MariaDB) or an already parsed object (MySQL's JSON type). */
function attributes(value: unknown): Record<string, SearchAttributeValue> | null {
  if (value === null || value === undefined) return null;
  const parsed: unknown = typeof value === 'string' || Buffer.isBuffer(value) ? JSON.parse(value.toString()) : value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvariantViolationError('visibility_executions.search_attributes is not a JSON object');
  }
  return parsed as Record<string, SearchAttributeValue>;
}
