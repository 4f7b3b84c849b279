import type {
  CurrentExecutionRecord,
  ExecutionKey,
  ExecutionStore,
  HistoryEventRow,
  NamespaceRecord,
  Persistence,
  ShardCommit,
  TaskQueueKey,
  TimerTaskRow,
  TransferTaskRow,
} from '../types';

/** Builders and probes shared by the contract tests. Values are fixed so failures are reproducible. */

export const NAMESPACE_ID = '5a1c0e9e-0000-4000-8000-000000000001';
export const T0 = 1_700_000_000_000;

export function runKey(runId: string, workflowId = 'wf-1'): ExecutionKey {
  return { namespaceId: NAMESPACE_ID, workflowId, runId };
}

export function namespace(name: string, overrides: Partial<NamespaceRecord> = {}): NamespaceRecord {
  return {
    id: `id-${name}`,
    name,
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

/** Events with ids from..to inclusive; the payload encodes the id so reads can be checked. */
export function events(from: number, to: number): HistoryEventRow[] {
  const rows: HistoryEventRow[] = [];
  for (let id = from; id <= to; id++) rows.push({ eventId: id, data: new Uint8Array([id & 0xff, 0xab, id >> 8]) });
  return rows;
}

export function transferTask(taskId: number, key: ExecutionKey = runKey('run-1')): TransferTaskRow {
  return { taskId, ...key, type: 'WorkflowTask', data: JSON.stringify({ taskId }) };
}

export function timerTask(fireAt: number, taskId: number, key: ExecutionKey = runKey('run-1')): TimerTaskRow {
  return { ...transferTask(taskId, key), type: 'UserTimer', fireAt };
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
    create: { key, state: `state of ${key.runId} v1`, nextEventId: lastEventId + 1, events: events(1, lastEventId) },
    current: { namespaceId: key.namespaceId, workflowId: key.workflowId, expectedRunId: null, record: currentRecord(key) },
    transferTasks: [],
    timerTasks: [],
  };
}

/** Everything a commit could have touched for one run, to prove a failed commit wrote nothing. */
export async function snapshot(store: ExecutionStore, shardId: number, key: ExecutionKey) {
  return {
    execution: await store.getExecution(shardId, key),
    current: await store.getCurrentExecution(shardId, key.namespaceId, key.workflowId),
    history: await store.readHistory(shardId, key, 1, Number.MAX_SAFE_INTEGER, 10_000),
    transferTasks: await store.listTransferTasks(shardId, 0, 10_000),
    timerTasks: await store.listTimerTasks(shardId, Number.MAX_SAFE_INTEGER, 10_000),
    maxTaskId: await store.maxTaskId(shardId),
  };
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
