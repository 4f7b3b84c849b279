import type {
  CurrentExecutionRecord,
  ExecutionItemRow,
  ExecutionKey,
  ExecutionRecord,
  ExecutionStore,
  HistoryEventRow,
  HistoryTaskRow,
  NamespaceRecord,
  Persistence,
  ShardCommit,
  TaskQueueKey,
} from '../types';

/** Builders and probes shared by the contract tests. Values are fixed so failures are reproducible. */

export const NAMESPACE_ID = '5a1c0e9e-0000-4000-8000-000000000001';
export const T0 = 1_700_000_000_000;

/**
 * Task categories the tests use. Persistence gives category ids no meaning; these mirror the
 * history service's table (transfer and timer are 1 and 2 there, as the migrations assume).
 */
export const TRANSFER = 1;
export const TIMER = 2;
/** A second immediate category (visibility-like), to prove categories do not mix. */
export const VISIBILITY = 3;
const SNAPSHOT_CATEGORIES = [TRANSFER, TIMER, VISIBILITY, 4];

export function runKey(runId: string, workflowId = 'wf-1'): ExecutionKey {
  return { namespaceId: NAMESPACE_ID, workflowId, runId };
}

export function namespace(name: string, overrides: Partial<NamespaceRecord> = {}): NamespaceRecord {
  return {
    id: `id-${name}`,
    name,
    accountId: 'acct1',
    resourceVersion: 1,
    limits: {},
    state: 'registered',
    description: `the ${name} namespace`,
    ownerEmail: 'owner@example.com',
    retentionMs: 86_400_000,
    data: { team: 'core' },
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** A namespace as builds before accounts wrote it: no accountId, resourceVersion or limits. */
export function preAccountNamespace(name: string): Omit<NamespaceRecord, 'accountId' | 'resourceVersion' | 'limits'> {
  const { accountId: _a, resourceVersion: _r, limits: _l, ...rest } = namespace(name);
  return rest;
}

/** What a namespace written before accounts reads back as. */
export function withAccountDefaults(record: Omit<NamespaceRecord, 'accountId' | 'resourceVersion' | 'limits'>): NamespaceRecord {
  return { ...record, accountId: '', resourceVersion: 1, limits: {} };
}

/** Events with ids from..to inclusive; the payload encodes the id so reads can be checked. */
export function events(from: number, to: number): HistoryEventRow[] {
  const rows: HistoryEventRow[] = [];
  for (let id = from; id <= to; id++) rows.push({ eventId: id, data: new Uint8Array([id & 0xff, 0xab, id >> 8]) });
  return rows;
}

/** A task of any category; immediate categories use fireAt 0. */
export function task(categoryId: number, fireAt: number, taskId: number, key: ExecutionKey = runKey('run-1'), type = 'WorkflowTask'): HistoryTaskRow {
  return { categoryId, taskId, fireAt, ...key, type, data: JSON.stringify({ taskId }) };
}

export function transferTask(taskId: number, key: ExecutionKey = runKey('run-1')): HistoryTaskRow {
  return task(TRANSFER, 0, taskId, key);
}

export function timerTask(fireAt: number, taskId: number, key: ExecutionKey = runKey('run-1')): HistoryTaskRow {
  return task(TIMER, fireAt, taskId, key, 'UserTimer');
}

export function item(kind: string, id: string, data = `${kind} ${id}`): ExecutionItemRow {
  return { kind, id, data };
}

/** Items in a canonical order: stores return them in no particular order. */
export function sortItems(items: readonly ExecutionItemRow[]): ExecutionItemRow[] {
  return [...items].sort((a, b) => (a.kind === b.kind ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.kind < b.kind ? -1 : 1));
}

export function currentRecord(key: ExecutionKey, overrides: Partial<CurrentExecutionRecord> = {}): CurrentExecutionRecord {
  return {
    namespaceId: key.namespaceId,
    workflowId: key.workflowId,
    runId: key.runId,
    createRequestId: `request-${key.runId}`,
    running: true,
    status: 1,
    startTime: T0,
    ...overrides,
  };
}

export function queueKey(name: string, overrides: Partial<TaskQueueKey> = {}): TaskQueueKey {
  return { namespaceId: NAMESPACE_ID, name, type: 'workflow', kind: 'normal', partition: 0, ...overrides };
}

/** A start: creates the run with events 1..lastEventId and points the workflow id at it. */
export function startCommit(shardId: number, rangeId: number, key: ExecutionKey, lastEventId = 3): ShardCommit {
  return {
    shardId,
    rangeId,
    create: { key, state: `state of ${key.runId} v1`, nextEventId: lastEventId + 1, events: events(1, lastEventId), upsertItems: [] },
    current: { namespaceId: key.namespaceId, workflowId: key.workflowId, expectedRunId: null, record: currentRecord(key) },
    tasks: [],
  };
}

/** Everything a commit could have touched for one run (items sorted), as `snapshot` reads it. */
export interface RunSnapshot {
  execution: ExecutionRecord | undefined;
  current: CurrentExecutionRecord | undefined;
  history: HistoryEventRow[];
  tasks: Record<number, HistoryTaskRow[]>;
  maxTaskId: number;
}

/** Everything a commit could have touched for one run, to prove a failed commit wrote nothing. */
export async function snapshot(store: ExecutionStore, shardId: number, key: ExecutionKey): Promise<RunSnapshot> {
  const execution = await store.getExecution(shardId, key);
  return {
    execution: execution && { ...execution, items: sortItems(execution.items) },
    current: await store.getCurrentExecution(shardId, key.namespaceId, key.workflowId),
    history: await store.readHistory(shardId, key, 1, Number.MAX_SAFE_INTEGER, 10_000),
    tasks: await allTasks(store, shardId),
    maxTaskId: await store.maxTaskId(shardId),
  };
}

/** Every task of the categories the tests use, by category (a scheduled read with no bound sees fireAt 0 too). */
export async function allTasks(store: ExecutionStore, shardId: number): Promise<Record<number, HistoryTaskRow[]>> {
  const byCategory: Record<number, HistoryTaskRow[]> = {};
  for (const categoryId of SNAPSHOT_CATEGORIES) {
    byCategory[categoryId] = await store.listScheduledTasks(shardId, categoryId, Number.MAX_SAFE_INTEGER, 10_000);
  }
  return byCategory;
}

/** Runs `body` against a freshly opened store and always closes it. */
export async function withStore(open: () => Promise<Persistence>, body: (p: Persistence) => Promise<void>): Promise<void> {
  const persistence = await open();
  try {
    await body(persistence);
  } finally {
    await persistence.close();
  }
}
