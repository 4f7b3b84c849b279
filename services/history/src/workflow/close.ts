/**
 * Closing a run: the close event, status, close time, retention, the parent's notification and
 * the parent close policy — and, when the run continues (continue-as-new, workflow retry, cron),
 * the successor run created in the same commit.
 */
import { randomUUID } from 'node:crypto';
import {
  RetryState,
  WorkflowTaskFailedCause,
  durationToMs,
  int64,
  msToDuration,
  temporal,
  type Failure,
  type Payloads,
} from '@hourglass/common';
import { cronBackoffMs } from './cron';
import { memoBlob, searchAttributesBlob } from './codec';
import { isChildStarted, type ExecutionInfo } from './mutable-state';
import type { MutationContext } from './mutation';
import { decideRetry, normalizeRetryPolicy, type RetryPolicyMs } from './retry';
import { newRun } from './start';

type StartedAttributes = temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes;
type ContinueAsNewAttributes = temporal.api.command.v1.IContinueAsNewWorkflowExecutionCommandAttributes;

const Initiator = temporal.api.enums.v1.ContinueAsNewInitiator;
const ParentClosePolicy = temporal.api.enums.v1.ParentClosePolicy;

export interface CloseEnv {
  retentionMs: number;
  /** The run's WorkflowExecutionStarted attributes; needed when the run may continue (retry, cron). */
  startedEvent?: StartedAttributes;
}

/** Whether closing this run may start a successor that reuses the first event's input. */
export function mayContinue(ctx: MutationContext): boolean {
  const info = ctx.ms.executionInfo;
  return Boolean(info.cronSchedule || info.retryPolicy);
}

/** The tasks a closed run needs (its close event already set status and close time): retention, the parent's notification, the parent close policy. */
function generateCloseTasks(ctx: MutationContext, retentionMs: number, continued: boolean): void {
  const ms = ctx.ms;
  ctx.addTimerTask(ctx.now + retentionMs, { type: 'delete-execution' });
  // The parent hears from the last run of the chain only.
  if (ms.executionInfo.parent && !continued) ctx.addTransferTask({ type: 'close-execution' });
  const children = [...ms.children.values()]
    .filter((c) => isChildStarted(c) && c.parentClosePolicy !== ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON)
    .map((c) => ({ namespaceId: c.namespaceId, workflowId: c.workflowId, runId: c.runId, policy: c.parentClosePolicy }));
  if (children.length > 0) ctx.addTransferTask({ type: 'parent-close-policy', children });
}

interface SuccessorArgs {
  initiator: number;
  backoffMs: number;
  attempt: number;
  input?: Payloads | null;
  header?: temporal.api.common.v1.IHeader | null;
  failure?: Failure | null;
  lastCompletionResult?: Payloads | null;
  workflowTypeName?: string;
  taskQueue?: string;
  runTimeoutMs?: number;
  workflowTaskTimeoutMs?: number;
  memo?: temporal.api.common.v1.IMemo | null;
  searchAttributes?: temporal.api.common.v1.ISearchAttributes | null;
  retryPolicy?: RetryPolicyMs | null;
  cronSchedule?: string;
}

/**
 * A PINNED run that continues as new on its own task queue keeps its version (as Temporal's runs
 * do when the new run's queue is in that version); cron and retry runs never inherit here.
 */
function inheritedPinnedVersion(info: ExecutionInfo, args: SuccessorArgs): { inheritedPinnedVersion?: { deploymentName: string; buildId: string } } {
  const v = info.versioningInfo;
  if (!v || v.behavior !== temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED) return {};
  if (args.initiator !== temporal.api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW) return {};
  if ((args.taskQueue || info.taskQueue) !== info.taskQueue) return {};
  return { inheritedPinnedVersion: { deploymentName: v.deploymentName, buildId: v.buildId } };
}

/** Creates the run that continues this one (same workflow id and chain) and returns its run id. */
function startSuccessor(ctx: MutationContext, args: SuccessorArgs): string {
  const info = ctx.ms.executionInfo;
  const runId = randomUUID();
  ctx.successor = newRun({
    namespaceId: info.namespaceId,
    workflowId: info.workflowId,
    runId,
    firstExecutionRunId: info.firstExecutionRunId,
    requestId: randomUUID(),
    identity: info.identity,
    workflowTypeName: args.workflowTypeName || info.workflowTypeName,
    taskQueue: args.taskQueue || info.taskQueue,
    input: args.input ?? null,
    header: args.header ?? null,
    memo: args.memo !== undefined ? args.memo : (memoBlob.unpack(ctx.ms.memo) ?? null),
    searchAttributes: args.searchAttributes !== undefined ? args.searchAttributes : (searchAttributesBlob.unpack(ctx.ms.searchAttributes) ?? null),
    retryPolicy: args.retryPolicy !== undefined ? args.retryPolicy : info.retryPolicy,
    cronSchedule: args.cronSchedule ?? info.cronSchedule,
    executionTimeoutMs: info.workflowExecutionTimeoutMs,
    runTimeoutMs: args.runTimeoutMs || info.workflowRunTimeoutMs,
    workflowTaskTimeoutMs: args.workflowTaskTimeoutMs || info.workflowTaskTimeoutMs,
    startDelayMs: args.backoffMs,
    now: ctx.now,
    parent: info.parent,
    root: { workflowId: info.rootWorkflowId, runId: info.rootRunId },
    attempt: args.attempt,
    executionExpirationTime: info.executionExpirationTime,
    inheritedRequestIds: ctx.ms.rememberedRequestIds(),
    ...inheritedPinnedVersion(info, args),
    // A PINNED override carries over to continue-as-new, cron and retry runs (as Temporal's).
    ...(info.versioningOverride?.behavior === temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED ? { versioningOverride: info.versioningOverride } : {}),
    continuedFrom: {
      runId: info.runId,
      initiator: args.initiator,
      ...(args.failure ? { failure: args.failure } : {}),
      ...(args.lastCompletionResult ? { lastCompletionResult: args.lastCompletionResult } : {}),
    },
  });
  return runId;
}

/** A cron successor after this run closed, or undefined when the run is not a cron run. */
function cronSuccessor(ctx: MutationContext, env: CloseEnv, extra: { failure?: Failure | null; lastCompletionResult?: Payloads | null }): string | undefined {
  const info = ctx.ms.executionInfo;
  if (!info.cronSchedule) return undefined;
  const backoffMs = cronBackoffMs(info.cronSchedule, ctx.now, info.startTime);
  if (info.executionExpirationTime > 0 && ctx.now + backoffMs >= info.executionExpirationTime) return undefined;
  return startSuccessor(ctx, {
    initiator: Initiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE,
    backoffMs,
    attempt: 1,
    input: env.startedEvent?.input ?? null,
    header: env.startedEvent?.header ?? null,
    ...extra,
  });
}

/** A retry successor under the workflow's retry policy, or the retry state explaining why not. */
function retrySuccessor(ctx: MutationContext, env: CloseEnv, failure: Failure): { runId?: string; retryState: number } {
  const info = ctx.ms.executionInfo;
  if (!info.retryPolicy) return { retryState: RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET };
  const decision = decideRetry({ policy: info.retryPolicy, attempt: info.attempt, failure, now: ctx.now, deadline: info.executionExpirationTime });
  if (!decision.retry) return { retryState: decision.retryState };
  const runId = startSuccessor(ctx, {
    initiator: Initiator.CONTINUE_AS_NEW_INITIATOR_RETRY,
    backoffMs: decision.backoffMs,
    attempt: info.attempt + 1,
    input: env.startedEvent?.input ?? null,
    header: env.startedEvent?.header ?? null,
    failure,
  });
  return { runId, retryState: RetryState.RETRY_STATE_IN_PROGRESS };
}

export function completeWorkflow(ctx: MutationContext, args: { result?: Payloads | null; workflowTaskCompletedEventId: number }, env: CloseEnv): void {
  const newRunId = cronSuccessor(ctx, env, { lastCompletionResult: args.result ?? null });
  ctx.addEvent('workflowExecutionCompletedEventAttributes', {
    ...(args.result ? { result: args.result } : {}),
    workflowTaskCompletedEventId: int64(args.workflowTaskCompletedEventId),
    ...(newRunId ? { newExecutionRunId: newRunId } : {}),
  });
  generateCloseTasks(ctx, env.retentionMs, newRunId !== undefined);
}

export function failWorkflow(ctx: MutationContext, args: { failure?: Failure | null; workflowTaskCompletedEventId: number }, env: CloseEnv): void {
  const failure = args.failure ?? { message: 'workflow failed' };
  const retry = retrySuccessor(ctx, env, failure);
  const newRunId = retry.runId ?? cronSuccessor(ctx, env, { failure });
  ctx.addEvent('workflowExecutionFailedEventAttributes', {
    ...(args.failure ? { failure: args.failure } : {}),
    retryState: retry.retryState,
    workflowTaskCompletedEventId: int64(args.workflowTaskCompletedEventId),
    ...(newRunId ? { newExecutionRunId: newRunId } : {}),
  });
  generateCloseTasks(ctx, env.retentionMs, newRunId !== undefined);
}

export function cancelWorkflow(ctx: MutationContext, args: { details?: Payloads | null; workflowTaskCompletedEventId: number }, env: CloseEnv): void {
  ctx.addEvent('workflowExecutionCanceledEventAttributes', {
    ...(args.details ? { details: args.details } : {}),
    workflowTaskCompletedEventId: int64(args.workflowTaskCompletedEventId),
  });
  generateCloseTasks(ctx, env.retentionMs, false);
}

/** ContinueAsNewWorkflowExecution: close with ContinuedAsNew and start the next run, unset fields taken from this one. */
export function continueAsNew(ctx: MutationContext, attrs: ContinueAsNewAttributes, workflowTaskCompletedEventId: number, env: CloseEnv): void {
  const info = ctx.ms.executionInfo;
  const runTimeoutMs = durationToMs(attrs.workflowRunTimeout) || info.workflowRunTimeoutMs;
  const workflowTaskTimeoutMs = durationToMs(attrs.workflowTaskTimeout) || info.workflowTaskTimeoutMs;
  const backoffMs = durationToMs(attrs.backoffStartInterval) ?? 0;
  const memo = attrs.memo ?? memoBlob.unpack(ctx.ms.memo) ?? null;
  const searchAttributes = attrs.searchAttributes ?? searchAttributesBlob.unpack(ctx.ms.searchAttributes) ?? null;
  const initiator = attrs.initiator || Initiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW;
  const newRunId = startSuccessor(ctx, {
    initiator,
    backoffMs,
    attempt: 1,
    input: attrs.input ?? null,
    header: attrs.header ?? null,
    failure: attrs.failure ?? null,
    lastCompletionResult: attrs.lastCompletionResult ?? null,
    workflowTypeName: attrs.workflowType?.name ?? '',
    taskQueue: attrs.taskQueue?.name ?? '',
    runTimeoutMs,
    workflowTaskTimeoutMs,
    memo,
    searchAttributes,
    retryPolicy: attrs.retryPolicy ? normalizeRetryPolicy(attrs.retryPolicy, 'ContinueAsNew.RetryPolicy') : info.retryPolicy,
    cronSchedule: attrs.cronSchedule || info.cronSchedule,
  });
  ctx.addEvent('workflowExecutionContinuedAsNewEventAttributes', {
    newExecutionRunId: newRunId,
    workflowType: { name: attrs.workflowType?.name || info.workflowTypeName },
    taskQueue: { name: attrs.taskQueue?.name || info.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    ...(attrs.input ? { input: attrs.input } : {}),
    ...(runTimeoutMs > 0 ? { workflowRunTimeout: msToDuration(runTimeoutMs) } : {}),
    workflowTaskTimeout: msToDuration(workflowTaskTimeoutMs),
    workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId),
    ...(backoffMs > 0 ? { backoffStartInterval: msToDuration(backoffMs) } : {}),
    initiator,
    ...(attrs.failure ? { failure: attrs.failure } : {}),
    ...(attrs.lastCompletionResult ? { lastCompletionResult: attrs.lastCompletionResult } : {}),
    header: attrs.header ?? {},
    ...(memo ? { memo } : {}),
    ...(searchAttributes ? { searchAttributes } : {}),
  });
  generateCloseTasks(ctx, env.retentionMs, true);
}

/**
 * Forcible close (terminate, run timeout): not buffered. A started workflow task is failed first
 * (FORCE_CLOSE_COMMAND) and whatever was buffered is flushed before the close event.
 */
function forceClose(ctx: MutationContext, identity: string): void {
  const wft = ctx.ms.workflowTask;
  if (wft && wft.startedEventId > 0) {
    ctx.addEvent('workflowTaskFailedEventAttributes', {
      scheduledEventId: int64(wft.scheduledEventId),
      startedEventId: int64(wft.startedEventId),
      cause: WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND,
      identity,
    });
  }
  ctx.flushBufferedEvents();
}

/** Termination ends the chain: no retry, no cron successor. */
export function terminateWorkflow(ctx: MutationContext, args: { reason: string; details?: Payloads | null; identity: string; retentionMs: number }): void {
  forceClose(ctx, args.identity);
  ctx.addEvent('workflowExecutionTerminatedEventAttributes', {
    reason: args.reason,
    ...(args.details ? { details: args.details } : {}),
    identity: args.identity,
  });
  generateCloseTasks(ctx, args.retentionMs, false);
}

/** Run or execution timeout. A run timeout may be retried under the retry policy; cron continues. */
export function timeoutWorkflow(ctx: MutationContext, env: CloseEnv): void {
  forceClose(ctx, 'history-service');
  const info = ctx.ms.executionInfo;
  const executionExpired = info.executionExpirationTime > 0 && ctx.now >= info.executionExpirationTime;
  const failure: Failure = {
    message: 'workflow run timed out',
    source: 'Server',
    timeoutFailureInfo: { timeoutType: temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE },
  };
  const retry = executionExpired ? { retryState: RetryState.RETRY_STATE_TIMEOUT } : retrySuccessor(ctx, env, failure);
  const newRunId = retry.runId ?? (executionExpired ? undefined : cronSuccessor(ctx, env, { failure }));
  ctx.addEvent('workflowExecutionTimedOutEventAttributes', {
    retryState: retry.runId ? RetryState.RETRY_STATE_IN_PROGRESS : retry.retryState === RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET ? RetryState.RETRY_STATE_TIMEOUT : retry.retryState,
    ...(newRunId ? { newExecutionRunId: newRunId } : {}),
  });
  generateCloseTasks(ctx, env.retentionMs, newRunId !== undefined);
}
