/**
 * The persisted shapes of mutable state, validated when a run is loaded, and the migrations
 * between their versions. A row that does not match is a bug or a corrupt store: loading fails
 * loudly (InvariantViolationError naming the run and the row) instead of running on bad state.
 *
 * Versions of the execution row (MUTABLE_STATE_VERSION):
 *   1 — one JSON blob: execution info (memo and search attributes inside), the workflow task and
 *       every pending item (activities, timers, children, requests, updates, buffered events,
 *       request ids). Upgraded on load: its items become item rows with the next commit.
 *   2 — the execution row below plus one item row per pending item (ItemKind).
 */
import { z } from 'zod';
import { InvariantViolationError } from '@hourglass/common';
import type { ExecutionRecord } from '@hourglass/persistence';
import { ItemKind, MUTABLE_STATE_VERSION, MutableState, type CoreState } from './mutable-state';

const retryPolicy = z.object({
  initialIntervalMs: z.number(),
  backoffCoefficient: z.number(),
  maximumIntervalMs: z.number(),
  maximumAttempts: z.number(),
  nonRetryableErrorTypes: z.array(z.string()),
});

const parent = z.object({
  namespaceId: z.string(),
  namespaceName: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  initiatedEventId: z.number(),
});

const executionInfo = z.object({
  namespaceId: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  firstExecutionRunId: z.string(),
  workflowTypeName: z.string(),
  taskQueue: z.string(),
  workflowExecutionTimeoutMs: z.number(),
  workflowRunTimeoutMs: z.number(),
  workflowTaskTimeoutMs: z.number(),
  executionExpirationTime: z.number(),
  runExpirationTime: z.number(),
  startTime: z.number(),
  executionTime: z.number(),
  closeTime: z.number(),
  status: z.number(),
  startRequestId: z.string(),
  identity: z.string(),
  retryPolicy: retryPolicy.nullable(),
  attempt: z.number(),
  cronSchedule: z.string(),
  historySizeBytes: z.number(),
  stateTransitionCount: z.number(),
  parent: parent.nullable().default(null),
  rootWorkflowId: z.string().optional(),
  rootRunId: z.string().optional(),
  storageAccruedAt: z.number().optional(),
  storageAccruedBytes: z.number().optional(),
  versioningInfo: z.object({ behavior: z.number(), deploymentName: z.string(), buildId: z.string() }).optional(),
  versioningOverride: z.object({ behavior: z.number(), deploymentName: z.string(), buildId: z.string() }).optional(),
});

/** A stored task's key (the timeout timers a workflow task or an activity holds). */
const taskKey = z.object({ categoryId: z.number(), fireAt: z.number(), taskId: z.number() });

const workflowTask = z.object({
  scheduledEventId: z.number(),
  startedEventId: z.number(),
  attempt: z.number(),
  taskQueueName: z.string(),
  taskQueueKind: z.enum(['normal', 'sticky']),
  startToCloseTimeoutMs: z.number(),
  scheduledTime: z.number(),
  startedTime: z.number(),
  requestId: z.string(),
  identity: z.string(),
  timeoutTasks: z.array(taskKey).optional(),
});

const sticky = z.object({ queueName: z.string(), scheduleToStartTimeoutMs: z.number() });

const activity = z.object({
  scheduledEventId: z.number(),
  activityId: z.string(),
  activityTypeName: z.string(),
  taskQueue: z.string(),
  scheduleToCloseTimeoutMs: z.number(),
  scheduleToStartTimeoutMs: z.number(),
  startToCloseTimeoutMs: z.number(),
  heartbeatTimeoutMs: z.number(),
  retryPolicy,
  scheduledTime: z.number(),
  attempt: z.number(),
  currentAttemptScheduledTime: z.number(),
  startedTime: z.number(),
  startedIdentity: z.string(),
  startedRequestId: z.string(),
  heartbeatDetails: z.string().nullable(),
  lastHeartbeatTime: z.number(),
  cancelRequested: z.boolean(),
  cancelRequestedEventId: z.number(),
  lastFailure: z.string().nullable(),
  lastWorkerIdentity: z.string(),
  heartbeatTimerDeadline: z.number(),
  timeoutTasks: z.array(taskKey).optional(),
});

const timer = z.object({ timerId: z.string(), startedEventId: z.number(), expiryTime: z.number() });

const child = z.object({
  initiatedEventId: z.number(),
  startedEventId: z.number(),
  namespaceId: z.string(),
  namespaceName: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  workflowTypeName: z.string(),
  parentClosePolicy: z.number(),
});

const externalRequest = z.object({
  initiatedEventId: z.number(),
  namespaceId: z.string(),
  namespaceName: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  childWorkflowOnly: z.boolean(),
  control: z.string(),
});

const update = z.object({
  updateId: z.string(),
  stage: z.enum(['admitted', 'sent', 'accepted', 'completed']),
  request: z.string(),
  sentInStartedEventId: z.number(),
  acceptedEventId: z.number(),
  completedEventId: z.number().default(0),
  outcome: z.string().nullable(),
  admittedTime: z.number(),
});

const bufferedEvent = z.object({ seq: z.number(), event: z.string(), bytes: z.number() });
const requestId = z.object({ seq: z.number() });
const blob = z.object({ blob: z.string() });
const execution = z.object({ workflowId: z.string(), runId: z.string() });
const batchJob = z.union([
  z.object({ request: z.string() }),
  z.object({
    seq: z.number(),
    pending: z.array(execution),
    cursor: z.string().nullable(),
    listIndex: z.number(),
    exhausted: z.boolean(),
    totalEstimate: z.number(),
    successCount: z.number(),
    failureCount: z.number(),
    operationsPerSecond: z.number(),
  }),
]);

/** Item schemas by kind (ItemKind). */
const ITEM_SCHEMAS: Record<string, z.ZodType> = {
  [ItemKind.activity]: activity,
  [ItemKind.timer]: timer,
  [ItemKind.child]: child,
  [ItemKind.signalRequest]: externalRequest,
  [ItemKind.cancelRequest]: externalRequest,
  [ItemKind.update]: update,
  [ItemKind.bufferedEvent]: bufferedEvent,
  [ItemKind.requestId]: requestId,
  [ItemKind.memo]: blob,
  [ItemKind.searchAttributes]: blob,
  [ItemKind.batchJob]: batchJob,
};

const coreV2 = z.object({
  version: z.literal(2),
  executionInfo,
  nextEventId: z.number(),
  lastCompletedWorkflowTaskStartedEventId: z.number(),
  workflowTask: workflowTask.nullable(),
  workflowTaskFailureStreak: z.number(),
  sticky: sticky.nullable(),
  backoffPending: z.boolean(),
  cancelRequested: z.boolean(),
  signalCount: z.number(),
  updateCount: z.number(),
  nextBufferedSeq: z.number(),
  bufferedBytes: z.number(),
  nextRequestIdSeq: z.number(),
});

/** Version 1: everything in one blob (fields added during version 1 default as they did then). */
const stateV1 = z.object({
  version: z.literal(1),
  executionInfo: executionInfo.extend({ memo: z.string().nullable(), searchAttributes: z.string().nullable() }),
  nextEventId: z.number(),
  lastCompletedWorkflowTaskStartedEventId: z.number(),
  workflowTask: workflowTask.nullable(),
  workflowTaskFailureStreak: z.number(),
  sticky: sticky.nullable(),
  activities: z.record(z.string(), activity),
  timers: z.record(z.string(), timer),
  bufferedEvents: z.array(z.string()),
  backoffPending: z.boolean(),
  requestIds: z.array(z.string()),
  cancelRequested: z.boolean().default(false),
  children: z.record(z.string(), child).default({}),
  externalSignals: z.record(z.string(), externalRequest).default({}),
  externalCancels: z.record(z.string(), externalRequest).default({}),
  updates: z.record(z.string(), update).default({}),
});

function describe(record: ExecutionRecord): string {
  return `workflow ${record.workflowId} run ${record.runId} (namespace ${record.namespaceId})`;
}

function invalid(record: ExecutionRecord, what: string, error: unknown): InvariantViolationError {
  const issue = error instanceof z.ZodError ? error.issues[0] : undefined;
  const detail = issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : String(error);
  return new InvariantViolationError(`mutable state of ${describe(record)} is corrupt: ${what}: ${detail}`);
}

/** The run's mutable state from its stored rows, upgraded from older versions (then every row is rewritten by the next commit). */
export function loadMutableState(record: ExecutionRecord): MutableState {
  let raw: unknown;
  try {
    raw = JSON.parse(record.state);
  } catch (err) {
    throw invalid(record, 'execution row is not JSON', err);
  }
  const version = (raw as { version?: unknown }).version;
  if (version === 1) return upgradeV1(record, raw);
  if (version !== MUTABLE_STATE_VERSION) {
    throw new InvariantViolationError(`mutable state of ${describe(record)} has version ${String(version)}; this build reads versions 1 to ${MUTABLE_STATE_VERSION}`);
  }
  const parsed = coreV2.safeParse(raw);
  if (!parsed.success) throw invalid(record, 'execution row', parsed.error);
  const ms = fromCore(parsed.data);
  for (const row of record.items) {
    const schema = ITEM_SCHEMAS[row.kind];
    if (!schema) throw new InvariantViolationError(`mutable state of ${describe(record)} has an item of unknown kind ${JSON.stringify(row.kind)}`);
    let item: unknown;
    try {
      item = schema.parse(JSON.parse(row.data));
    } catch (err) {
      throw invalid(record, `${row.kind} item ${JSON.stringify(row.id)}`, err);
    }
    ms.loadItem(row.kind, row.id, item, row.data.length);
  }
  ms.markStored();
  return ms;
}

function fromCore(core: z.infer<typeof coreV2>): MutableState {
  const info = core.executionInfo;
  const ms = new MutableState({
    ...info,
    parent: info.parent ?? null,
    rootWorkflowId: info.rootWorkflowId ?? info.workflowId,
    rootRunId: info.rootRunId ?? info.runId,
  });
  const rest: Omit<CoreState, 'version' | 'executionInfo'> = core;
  Object.assign(ms, {
    nextEventId: rest.nextEventId,
    lastCompletedWorkflowTaskStartedEventId: rest.lastCompletedWorkflowTaskStartedEventId,
    workflowTask: rest.workflowTask,
    workflowTaskFailureStreak: rest.workflowTaskFailureStreak,
    sticky: rest.sticky,
    backoffPending: rest.backoffPending,
    cancelRequested: rest.cancelRequested,
    signalCount: rest.signalCount,
    updateCount: rest.updateCount,
    nextBufferedSeq: rest.nextBufferedSeq,
    bufferedBytes: rest.bufferedBytes,
    nextRequestIdSeq: rest.nextRequestIdSeq,
  });
  return ms;
}

function upgradeV1(record: ExecutionRecord, raw: unknown): MutableState {
  const parsed = stateV1.safeParse(raw);
  if (!parsed.success) throw invalid(record, 'version 1 state', parsed.error);
  const v1 = parsed.data;
  const { memo, searchAttributes, ...info } = v1.executionInfo;
  const ms = fromCore({
    version: 2,
    executionInfo: info,
    nextEventId: v1.nextEventId,
    lastCompletedWorkflowTaskStartedEventId: v1.lastCompletedWorkflowTaskStartedEventId,
    workflowTask: v1.workflowTask,
    workflowTaskFailureStreak: v1.workflowTaskFailureStreak,
    sticky: v1.sticky,
    backoffPending: v1.backoffPending,
    cancelRequested: v1.cancelRequested,
    signalCount: 0,
    updateCount: Object.keys(v1.updates).length,
    nextBufferedSeq: 1,
    bufferedBytes: 0,
    nextRequestIdSeq: 1,
  });
  for (const a of Object.values(v1.activities)) ms.putActivity(a);
  for (const t of Object.values(v1.timers)) ms.timers.set(t.timerId, t);
  for (const c of Object.values(v1.children)) ms.children.set(String(c.initiatedEventId), c);
  for (const r of Object.values(v1.externalSignals)) ms.externalSignals.set(String(r.initiatedEventId), r);
  for (const r of Object.values(v1.externalCancels)) ms.externalCancels.set(String(r.initiatedEventId), r);
  for (const u of Object.values(v1.updates)) ms.updates.set(u.updateId, u);
  for (const event of v1.bufferedEvents) ms.bufferStoredEvent(event);
  for (const id of v1.requestIds) ms.rememberRequestId(id);
  ms.memo = memo;
  ms.searchAttributes = searchAttributes;
  ms.markAllDirty();
  return ms;
}
