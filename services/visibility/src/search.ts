/**
 * The read side of visibility, as the frontend serves it: a query is compiled against the
 * namespace's catalog, run on a backend (SQL or Elasticsearch) always scoped to the namespace id,
 * and its rows answered as Temporal's WorkflowExecutionInfo. Page tokens carry a keyset cursor
 * (the sort values of the last row), so they stay valid while executions start, change and close.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError, int64, msToTimestamp, temporal, timestampToMs } from '@hourglass/common';
import { attributeCatalog, executionStatusName, type AttributeCatalog, type SearchAttributeType } from './attributes';
import { encodeSearchAttributeValue } from './payloads';
import { compileQuery } from './query';
import type { CheckedQuery } from './query/ast';
import type { VisibilityRecord } from './record';
import { pageCursorOf, toSqlCount, toSqlList, type PageCursor, type SqlDialect, type SqlStatement, type VisibilityRowLike } from './sql';

type ExecutionInfo = temporal.api.workflow.v1.IWorkflowExecutionInfo;

export interface SearchPage {
  records: VisibilityRecord[];
  /** Absent on the last page. */
  next?: PageCursor;
}

export interface SearchCount {
  count: number;
  /** With GROUP BY ExecutionStatus: one entry per status present (value: the status number). */
  groups?: { value: number; count: number }[];
}

/** Where queries run: the SQL index (SQLite, MySQL) or Elasticsearch. */
export interface VisibilitySearchBackend {
  list(q: CheckedQuery, opts: { namespaceId: string; pageSize: number; after?: PageCursor }): Promise<SearchPage>;
  count(q: CheckedQuery, opts: { namespaceId: string }): Promise<SearchCount>;
}

/** What the SQL backend needs of a store (persistence's VisibilityStore). */
export interface SqlVisibilityReader {
  readonly dialect: SqlDialect;
  list(query: SqlStatement): Promise<VisibilityRecord[]>;
  count(query: SqlStatement): Promise<Record<string, unknown>[]>;
}

export class SqlSearchBackend implements VisibilitySearchBackend {
  constructor(private readonly store: SqlVisibilityReader) {}

  async list(q: CheckedQuery, opts: { namespaceId: string; pageSize: number; after?: PageCursor }): Promise<SearchPage> {
    // One row more than the page tells whether another page exists.
    const records = await this.store.list(toSqlList(q, this.store.dialect, { ...opts, pageSize: opts.pageSize + 1 }));
    if (records.length <= opts.pageSize) return { records };
    const page = records.slice(0, opts.pageSize);
    return { records: page, next: pageCursorOf(rowOf(page[page.length - 1] as VisibilityRecord), q) };
  }

  async count(q: CheckedQuery, opts: { namespaceId: string }): Promise<SearchCount> {
    const rows = await this.store.count(toSqlCount(q, this.store.dialect, opts));
    if (q.groupBy.length === 0) return { count: Number(rows[0]?.count ?? 0) };
    const groups = rows.map((row) => ({ value: Number(row.group_value), count: Number(row.count) }));
    return { count: groups.reduce((sum, g) => sum + g.count, 0), groups };
  }
}

/** A record as a row of visibility_executions (what the translator's cursor reads). */
export function rowOf(r: VisibilityRecord): VisibilityRowLike {
  return {
    namespace_id: r.namespaceId,
    run_id: r.runId,
    workflow_id: r.workflowId,
    workflow_type: r.workflowType,
    status: r.status,
    start_time: r.startTime,
    execution_time: r.executionTime,
    close_time: r.closeTime,
    execution_duration: r.executionDuration,
    task_queue: r.taskQueue,
    history_length: r.historyLength,
    history_size_bytes: r.historySizeBytes,
    state_transition_count: r.stateTransitionCount,
    parent_workflow_id: r.parentWorkflowId,
    parent_run_id: r.parentRunId,
    root_workflow_id: r.rootWorkflowId,
    root_run_id: r.rootRunId,
    memo: r.memo,
    search_attributes: r.searchAttributes,
    record_version: r.version,
  };
}

/** The namespace a query runs in: its id (the scope of every query) and its custom attributes. */
export interface SearchNamespace {
  id: string;
  /** name → type, as registered (NamespaceRecord.searchAttributes). */
  searchAttributes?: Record<string, string>;
}

export const DEFAULT_SEARCH_PAGE_SIZE = 1000;
export const MAX_SEARCH_PAGE_SIZE = 1000;

interface PageToken {
  /** Digest of the query text the token was issued for. */
  q: string;
  c: PageCursor;
}

/** The frontend's visibility API: list, scan, count and the legacy open/closed lists. */
export class VisibilitySearch {
  constructor(private readonly backend: VisibilitySearchBackend) {}

  catalogOf(namespace: SearchNamespace): AttributeCatalog {
    return attributeCatalog((namespace.searchAttributes ?? {}) as Record<string, SearchAttributeType>);
  }

  async list(
    namespace: SearchNamespace,
    request: { query?: string | null; pageSize?: number | null; nextPageToken?: Uint8Array | null },
  ): Promise<{ executions: ExecutionInfo[]; nextPageToken: Uint8Array }> {
    const catalog = this.catalogOf(namespace);
    const text = request.query ?? '';
    const q = compileQuery(text, catalog);
    const pageSize = request.pageSize && request.pageSize > 0 ? Math.min(request.pageSize, MAX_SEARCH_PAGE_SIZE) : DEFAULT_SEARCH_PAGE_SIZE;
    const after = readPageToken(request.nextPageToken, text);
    const page = await this.backend.list(q, { namespaceId: namespace.id, pageSize, ...(after ? { after } : {}) });
    return {
      executions: page.records.map((r) => executionInfoOf(r, catalog)),
      nextPageToken: page.next ? writePageToken(page.next, text) : new Uint8Array(0),
    };
  }

  async count(namespace: SearchNamespace, query: string | null | undefined): Promise<temporal.api.workflowservice.v1.ICountWorkflowExecutionsResponse> {
    const q = compileQuery(query ?? '', this.catalogOf(namespace));
    const result = await this.backend.count(q, { namespaceId: namespace.id });
    if (!result.groups) return { count: int64(result.count) };
    return {
      count: int64(result.count),
      groups: result.groups.map((g) => ({
        groupValues: [encodeSearchAttributeValue(executionStatusName(g.value) ?? String(g.value), 'Keyword')],
        count: int64(g.count),
      })),
    };
  }

  /** ListOpenWorkflowExecutions / ListClosedWorkflowExecutions: their filters as a query on the same index. */
  async listLegacy(
    namespace: SearchNamespace,
    open: boolean,
    request: {
      maximumPageSize?: number | null;
      nextPageToken?: Uint8Array | null;
      startTimeFilter?: temporal.api.filter.v1.IStartTimeFilter | null;
      executionFilter?: temporal.api.filter.v1.IWorkflowExecutionFilter | null;
      typeFilter?: temporal.api.filter.v1.IWorkflowTypeFilter | null;
      statusFilter?: temporal.api.filter.v1.IStatusFilter | null;
    },
  ): Promise<{ executions: ExecutionInfo[]; nextPageToken: Uint8Array }> {
    const terms = [open ? "ExecutionStatus = 'Running'" : "ExecutionStatus != 'Running'"];
    const time = open ? 'StartTime' : 'CloseTime';
    const earliest = timestampToMs(request.startTimeFilter?.earliestTime);
    const latest = timestampToMs(request.startTimeFilter?.latestTime);
    if (earliest !== undefined) terms.push(`${time} >= ${literal(new Date(earliest).toISOString())}`);
    if (latest !== undefined && latest > 0) terms.push(`${time} <= ${literal(new Date(latest).toISOString())}`);
    if (request.executionFilter?.workflowId) terms.push(`WorkflowId = ${literal(request.executionFilter.workflowId)}`);
    if (request.executionFilter?.runId) terms.push(`RunId = ${literal(request.executionFilter.runId)}`);
    if (request.typeFilter?.name) terms.push(`WorkflowType = ${literal(request.typeFilter.name)}`);
    if (!open && request.statusFilter?.status) {
      const name = executionStatusName(request.statusFilter.status);
      if (!name) throw new InvalidArgumentError(`statusFilter.status ${request.statusFilter.status} is not a workflow execution status`);
      terms.push(`ExecutionStatus = ${literal(name)}`);
    }
    return this.list(namespace, { query: terms.join(' AND '), pageSize: request.maximumPageSize ?? null, nextPageToken: request.nextPageToken ?? null });
  }
}

/** A string literal of the query language (a doubled quote escapes a quote). */
function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

function writePageToken(cursor: PageCursor, text: string): Uint8Array {
  const token: PageToken = { q: digest(text), c: cursor };
  return Buffer.from(JSON.stringify(token), 'utf8');
}

function readPageToken(bytes: Uint8Array | null | undefined, text: string): PageCursor | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  let token: Partial<PageToken>;
  try {
    token = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<PageToken>;
  } catch {
    throw new InvalidArgumentError('nextPageToken is not a page token of this API');
  }
  if (!token || typeof token !== 'object' || !token.c || !Array.isArray(token.c.values)) throw new InvalidArgumentError('nextPageToken is not a page token of this API');
  if (token.q !== digest(text)) throw new InvalidArgumentError('nextPageToken was issued for a different query: send the same query with it');
  return token.c;
}

const NANOS_PER_SECOND = 1_000_000_000;

/** A record as the WorkflowExecutionInfo of list answers. */
export function executionInfoOf(r: VisibilityRecord, catalog: AttributeCatalog): ExecutionInfo {
  const indexedFields: Record<string, temporal.api.common.v1.IPayload> = {};
  for (const [name, value] of Object.entries(r.searchAttributes ?? {})) {
    const type = catalog.lookup(name);
    if (!type) continue;
    try {
      indexedFields[name] = encodeSearchAttributeValue(value, type);
    } catch {
      // A stored value that no longer fits its attribute's (re-registered) type is not shown.
    }
  }
  return {
    execution: { workflowId: r.workflowId, runId: r.runId },
    type: { name: r.workflowType },
    startTime: msToTimestamp(r.startTime),
    executionTime: msToTimestamp(r.executionTime),
    ...(r.closeTime !== null ? { closeTime: msToTimestamp(r.closeTime) } : {}),
    status: r.status,
    historyLength: int64(r.historyLength),
    historySizeBytes: int64(r.historySizeBytes),
    stateTransitionCount: int64(r.stateTransitionCount),
    taskQueue: r.taskQueue,
    ...(r.executionDuration !== null
      ? { executionDuration: { seconds: int64(Math.floor(r.executionDuration / NANOS_PER_SECOND)), nanos: r.executionDuration % NANOS_PER_SECOND } }
      : {}),
    ...(r.parentWorkflowId ? { parentExecution: { workflowId: r.parentWorkflowId, runId: r.parentRunId ?? '' } } : {}),
    ...(r.rootWorkflowId ? { rootExecution: { workflowId: r.rootWorkflowId, runId: r.rootRunId ?? '' } } : {}),
    ...(r.memo ? { memo: temporal.api.common.v1.Memo.decode(r.memo) } : {}),
    ...(Object.keys(indexedFields).length > 0 ? { searchAttributes: { indexedFields } } : {}),
  };
}
