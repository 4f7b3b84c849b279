/** A new run: its mutable state and first events (WorkflowExecutionStarted, then the first workflow task or its backoff). */
import { TaskQueueKind, WorkflowExecutionStatus, msToDuration, msToTimestamp, temporal, type Payloads } from '@hourglass/common';
import { memoBlob, searchAttributesBlob } from './codec';
import { MUTABLE_STATE_VERSION, type MutableStateData } from './mutable-state';
import { MutationContext } from './mutation';
import type { RetryPolicyMs } from './retry';
import { retryPolicyToProto } from './retry';
import { scheduleWorkflowTask } from './workflow-task';

export interface NewRunArgs {
  namespaceId: string;
  workflowId: string;
  runId: string;
  firstExecutionRunId: string;
  requestId: string;
  identity: string;
  workflowTypeName: string;
  taskQueue: string;
  input?: Payloads | null;
  header?: temporal.api.common.v1.IHeader | null;
  memo?: temporal.api.common.v1.IMemo | null;
  searchAttributes?: temporal.api.common.v1.ISearchAttributes | null;
  retryPolicy: RetryPolicyMs | null;
  cronSchedule: string;
  executionTimeoutMs: number;
  runTimeoutMs: number;
  workflowTaskTimeoutMs: number;
  startDelayMs: number;
  userMetadata?: temporal.api.sdk.v1.IUserMetadata | null;
  priority?: temporal.api.common.v1.IPriority | null;
  now: number;
}

export function newRun(args: NewRunArgs): MutationContext {
  const now = args.now;
  const executionExpirationTime = args.executionTimeoutMs > 0 ? now + args.executionTimeoutMs : 0;
  const runExpirationTime = args.runTimeoutMs > 0 ? now + args.runTimeoutMs : 0;
  const ms: MutableStateData = {
    version: MUTABLE_STATE_VERSION,
    executionInfo: {
      namespaceId: args.namespaceId,
      workflowId: args.workflowId,
      runId: args.runId,
      firstExecutionRunId: args.firstExecutionRunId,
      workflowTypeName: args.workflowTypeName,
      taskQueue: args.taskQueue,
      workflowExecutionTimeoutMs: args.executionTimeoutMs,
      workflowRunTimeoutMs: args.runTimeoutMs,
      workflowTaskTimeoutMs: args.workflowTaskTimeoutMs,
      executionExpirationTime,
      runExpirationTime,
      startTime: now,
      executionTime: now + args.startDelayMs,
      closeTime: 0,
      status: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
      startRequestId: args.requestId,
      identity: args.identity,
      memo: memoBlob.pack(args.memo),
      searchAttributes: searchAttributesBlob.pack(args.searchAttributes),
      retryPolicy: args.retryPolicy,
      attempt: 1,
      cronSchedule: args.cronSchedule,
      historySizeBytes: 0,
      stateTransitionCount: 0,
    },
    nextEventId: 1,
    lastCompletedWorkflowTaskStartedEventId: 0,
    workflowTask: null,
    workflowTaskFailureStreak: 0,
    sticky: null,
    activities: {},
    timers: {},
    bufferedEvents: [],
    backoffPending: args.startDelayMs > 0,
    requestIds: [args.requestId],
  };
  const ctx = new MutationContext(ms, now);
  ctx.addEvent('workflowExecutionStartedEventAttributes', {
    workflowType: { name: args.workflowTypeName },
    taskQueue: { name: args.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    ...(args.input ? { input: args.input } : {}),
    ...(args.executionTimeoutMs > 0 ? { workflowExecutionTimeout: msToDuration(args.executionTimeoutMs) } : {}),
    ...(args.runTimeoutMs > 0 ? { workflowRunTimeout: msToDuration(args.runTimeoutMs) } : {}),
    workflowTaskTimeout: msToDuration(args.workflowTaskTimeoutMs),
    identity: args.identity,
    originalExecutionRunId: args.runId,
    firstExecutionRunId: args.firstExecutionRunId,
    attempt: 1,
    ...(executionExpirationTime > 0 ? { workflowExecutionExpirationTime: msToTimestamp(executionExpirationTime) } : {}),
    ...(args.cronSchedule ? { cronSchedule: args.cronSchedule } : {}),
    ...(args.startDelayMs > 0 ? { firstWorkflowTaskBackoff: msToDuration(args.startDelayMs) } : {}),
    ...(args.memo ? { memo: args.memo } : {}),
    ...(args.searchAttributes ? { searchAttributes: args.searchAttributes } : {}),
    header: args.header ?? {},
    ...(args.retryPolicy ? { retryPolicy: retryPolicyToProto(args.retryPolicy) } : {}),
    ...(args.priority ? { priority: args.priority } : {}),
  }, args.userMetadata ? { userMetadata: args.userMetadata } : {});
  if (args.startDelayMs > 0) {
    ctx.addTimerTask(now + args.startDelayMs, { type: 'workflow-backoff' });
  } else {
    scheduleWorkflowTask(ctx);
  }
  const deadlines = [executionExpirationTime, runExpirationTime].filter((t) => t > 0);
  if (deadlines.length > 0) ctx.addTimerTask(Math.min(...deadlines), { type: 'workflow-timeout' });
  return ctx;
}
