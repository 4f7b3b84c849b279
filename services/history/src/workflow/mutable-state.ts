/**
 * Mutable state: everything about one run that is not its history, persisted with every change
 * (in the same transaction as the events and tasks the change causes). Serialised as JSON;
 * protobuf blobs inside are base64 (see codec.ts). Times are ms since the epoch, durations ms
 * (0 = unset / infinite, as in Temporal).
 */
import { InvariantViolationError } from '@hourglass/common';
import type { RetryPolicyMs } from './retry';

export const MUTABLE_STATE_VERSION = 1;

export interface ExecutionInfo {
  namespaceId: string;
  workflowId: string;
  runId: string;
  firstExecutionRunId: string;
  workflowTypeName: string;
  /** The run's normal task queue. */
  taskQueue: string;
  workflowExecutionTimeoutMs: number;
  workflowRunTimeoutMs: number;
  workflowTaskTimeoutMs: number;
  /** Absolute deadlines; 0 = none. */
  executionExpirationTime: number;
  runExpirationTime: number;
  startTime: number;
  /** When the first workflow task may run (start time + start delay / backoff). */
  executionTime: number;
  closeTime: number;
  /** temporal.api.enums.v1.WorkflowExecutionStatus */
  status: number;
  startRequestId: string;
  identity: string;
  memo: string | null;
  searchAttributes: string | null;
  retryPolicy: RetryPolicyMs | null;
  attempt: number;
  cronSchedule: string;
  historySizeBytes: number;
  stateTransitionCount: number;
  /** The parent that started this run as a child (kept across continue-as-new), or null. */
  parent: ParentInfo | null;
  /** The root of the workflow's child tree (itself when it has no parent). */
  rootWorkflowId: string;
  rootRunId: string;
}

export interface ParentInfo {
  namespaceId: string;
  namespaceName: string;
  workflowId: string;
  runId: string;
  initiatedEventId: number;
}

export type TaskQueueKindName = 'normal' | 'sticky';

export interface WorkflowTaskInfo {
  scheduledEventId: number;
  /** 0 while scheduled, the WorkflowTaskStarted event id once a worker took it. */
  startedEventId: number;
  attempt: number;
  taskQueueName: string;
  taskQueueKind: TaskQueueKindName;
  startToCloseTimeoutMs: number;
  scheduledTime: number;
  startedTime: number;
  requestId: string;
  identity: string;
}

export interface ActivityInfo {
  scheduledEventId: number;
  activityId: string;
  activityTypeName: string;
  taskQueue: string;
  scheduleToCloseTimeoutMs: number;
  scheduleToStartTimeoutMs: number;
  startToCloseTimeoutMs: number;
  heartbeatTimeoutMs: number;
  retryPolicy: RetryPolicyMs;
  scheduledTime: number;
  attempt: number;
  /** When the current attempt became eligible to run (after its backoff). */
  currentAttemptScheduledTime: number;
  /** 0 while the attempt is queued or in backoff. */
  startedTime: number;
  startedIdentity: string;
  startedRequestId: string;
  heartbeatDetails: string | null;
  lastHeartbeatTime: number;
  cancelRequested: boolean;
  cancelRequestedEventId: number;
  lastFailure: string | null;
  lastWorkerIdentity: string;
  /** The heartbeat timeout task currently persisted for this attempt, 0 if none. */
  heartbeatTimerDeadline: number;
}

export interface UserTimerInfo {
  timerId: string;
  startedEventId: number;
  expiryTime: number;
}

export interface ChildInfo {
  initiatedEventId: number;
  /** 0 until ChildWorkflowExecutionStarted was recorded. */
  startedEventId: number;
  namespaceId: string;
  namespaceName: string;
  workflowId: string;
  runId: string;
  workflowTypeName: string;
  /** temporal.api.enums.v1.ParentClosePolicy */
  parentClosePolicy: number;
}

/** A signal or cancel request this run sent to another execution, waiting for its outcome. */
export interface ExternalRequestInfo {
  initiatedEventId: number;
  namespaceId: string;
  namespaceName: string;
  workflowId: string;
  runId: string;
  /** Only a child of this run may be targeted. */
  childWorkflowOnly: boolean;
  control: string;
}

export type UpdateStage = 'admitted' | 'sent' | 'accepted' | 'completed';

/** A workflow update, from admission to outcome. Admitted updates wait to be delivered in a workflow task. */
export interface UpdateInfo {
  updateId: string;
  stage: UpdateStage;
  /** base64 temporal.api.update.v1.Request */
  request: string;
  /** WorkflowTaskStarted id of the task that carried the request (stage 'sent'). */
  sentInStartedEventId: number;
  acceptedEventId: number;
  /** WorkflowExecutionUpdateCompleted event id; its outcome is read from history (not kept here). */
  completedEventId: number;
  /** base64 temporal.api.update.v1.Outcome of a rejected update (a rejection writes no event). */
  outcome: string | null;
  admittedTime: number;
}

export interface StickyInfo {
  queueName: string;
  scheduleToStartTimeoutMs: number;
}

export interface MutableStateData {
  version: number;
  executionInfo: ExecutionInfo;
  /** Next event id to assign (history holds 1..nextEventId-1; buffered events have none yet). */
  nextEventId: number;
  /** WorkflowTaskStarted id of the last completed workflow task (previous_started_event_id). */
  lastCompletedWorkflowTaskStartedEventId: number;
  workflowTask: WorkflowTaskInfo | null;
  /** Consecutive failed/timed-out workflow task attempts; the next attempt is this + 1. */
  workflowTaskFailureStreak: number;
  sticky: StickyInfo | null;
  activities: Record<string, ActivityInfo>;
  timers: Record<string, UserTimerInfo>;
  /** Events that arrived while a workflow task was started, waiting to be flushed (base64 events, ids unassigned). */
  bufferedEvents: string[];
  /** The first workflow task waits for a start delay / backoff timer. */
  backoffPending: boolean;
  /** Recently seen request ids (signal/cancel dedupe), bounded. */
  requestIds: string[];
  /** A cancellation was requested (WorkflowExecutionCancelRequested written). */
  cancelRequested: boolean;
  /** Child workflows by initiated event id. */
  children: Record<string, ChildInfo>;
  externalSignals: Record<string, ExternalRequestInfo>;
  externalCancels: Record<string, ExternalRequestInfo>;
  updates: Record<string, UpdateInfo>;
}

/** Mutable state of a run that has no history yet. */
export function emptyMutableState(executionInfo: ExecutionInfo): MutableStateData {
  return {
    version: MUTABLE_STATE_VERSION,
    executionInfo,
    nextEventId: 1,
    lastCompletedWorkflowTaskStartedEventId: 0,
    workflowTask: null,
    workflowTaskFailureStreak: 0,
    sticky: null,
    activities: {},
    timers: {},
    bufferedEvents: [],
    backoffPending: false,
    requestIds: [],
    cancelRequested: false,
    children: {},
    externalSignals: {},
    externalCancels: {},
    updates: {},
  };
}

/** A scheduled activity before its first attempt: what ActivityTaskScheduled says, nothing run yet. */
export function newActivityInfo(
  args: Pick<
    ActivityInfo,
    | 'scheduledEventId'
    | 'activityId'
    | 'activityTypeName'
    | 'taskQueue'
    | 'scheduleToCloseTimeoutMs'
    | 'scheduleToStartTimeoutMs'
    | 'startToCloseTimeoutMs'
    | 'heartbeatTimeoutMs'
    | 'retryPolicy'
    | 'scheduledTime'
  >,
): ActivityInfo {
  return {
    ...args,
    attempt: 1,
    currentAttemptScheduledTime: args.scheduledTime,
    startedTime: 0,
    startedIdentity: '',
    startedRequestId: '',
    heartbeatDetails: null,
    lastHeartbeatTime: 0,
    cancelRequested: false,
    cancelRequestedEventId: 0,
    lastFailure: null,
    lastWorkerIdentity: '',
    heartbeatTimerDeadline: 0,
  };
}

/** How many request ids a run remembers for deduplication. */
export const REQUEST_ID_MEMORY = 100;

/** Remembers a request id; returns false when it was seen before (the request is a retry). */
export function rememberRequestId(ms: MutableStateData, requestId: string): boolean {
  if (!requestId) return true;
  if (ms.requestIds.includes(requestId)) return false;
  ms.requestIds.push(requestId);
  if (ms.requestIds.length > REQUEST_ID_MEMORY) ms.requestIds.splice(0, ms.requestIds.length - REQUEST_ID_MEMORY);
  return true;
}

export function serializeMutableState(ms: MutableStateData): string {
  return JSON.stringify(ms);
}

export function deserializeMutableState(state: string): MutableStateData {
  const ms = JSON.parse(state) as MutableStateData;
  if (ms.version !== MUTABLE_STATE_VERSION) {
    throw new InvariantViolationError(`unsupported mutable state version ${ms.version}`);
  }
  // Fields added after version 1 was first written: default them.
  ms.cancelRequested ??= false;
  ms.children ??= {};
  ms.externalSignals ??= {};
  ms.externalCancels ??= {};
  ms.updates ??= {};
  for (const update of Object.values(ms.updates)) update.completedEventId ??= 0;
  ms.executionInfo.parent ??= null;
  ms.executionInfo.rootWorkflowId ??= ms.executionInfo.workflowId;
  ms.executionInfo.rootRunId ??= ms.executionInfo.runId;
  return ms;
}

export function isRunning(ms: MutableStateData): boolean {
  return ms.executionInfo.closeTime === 0;
}

export function isWorkflowTaskStarted(ms: MutableStateData): boolean {
  return ms.workflowTask !== null && ms.workflowTask.startedEventId > 0;
}

export function activityById(ms: MutableStateData, activityId: string): ActivityInfo | undefined {
  return Object.values(ms.activities).find((a) => a.activityId === activityId);
}
