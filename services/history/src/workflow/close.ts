/** Closing a run: the close event, status, close time and the retention task. */
import { RetryState, WorkflowExecutionStatus, WorkflowTaskFailedCause, temporal, type Failure, type Payloads, int64 } from '@hourglass/common';
import type { MutationContext } from './mutation';

type Status = temporal.api.enums.v1.WorkflowExecutionStatus;

/** Marks the run closed; the shard moves the current-run pointer to "closed" in the same commit. */
function markClosed(ctx: MutationContext, status: Status, retentionMs: number): void {
  const info = ctx.ms.executionInfo;
  info.status = status;
  info.closeTime = ctx.now;
  ctx.ms.workflowTask = null;
  ctx.ms.sticky = null;
  ctx.addTimerTask(ctx.now + retentionMs, { type: 'delete-execution' });
}

export function completeWorkflow(ctx: MutationContext, args: { result?: Payloads | null; workflowTaskCompletedEventId: number; retentionMs: number }): void {
  ctx.addEvent('workflowExecutionCompletedEventAttributes', {
    ...(args.result ? { result: args.result } : {}),
    workflowTaskCompletedEventId: int64(args.workflowTaskCompletedEventId),
  });
  markClosed(ctx, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED, args.retentionMs);
}

export function failWorkflow(ctx: MutationContext, args: { failure?: Failure | null; workflowTaskCompletedEventId: number; retentionMs: number }): void {
  ctx.addEvent('workflowExecutionFailedEventAttributes', {
    ...(args.failure ? { failure: args.failure } : {}),
    retryState: RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET,
    workflowTaskCompletedEventId: int64(args.workflowTaskCompletedEventId),
  });
  markClosed(ctx, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED, args.retentionMs);
}

export function cancelWorkflow(ctx: MutationContext, args: { details?: Payloads | null; workflowTaskCompletedEventId: number; retentionMs: number }): void {
  ctx.addEvent('workflowExecutionCanceledEventAttributes', {
    ...(args.details ? { details: args.details } : {}),
    workflowTaskCompletedEventId: int64(args.workflowTaskCompletedEventId),
  });
  markClosed(ctx, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED, args.retentionMs);
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
    ctx.ms.workflowTask = null;
  }
  ctx.flushBufferedEvents();
}

export function terminateWorkflow(ctx: MutationContext, args: { reason: string; details?: Payloads | null; identity: string; retentionMs: number }): void {
  forceClose(ctx, args.identity);
  ctx.addEvent('workflowExecutionTerminatedEventAttributes', {
    reason: args.reason,
    ...(args.details ? { details: args.details } : {}),
    identity: args.identity,
  });
  markClosed(ctx, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED, args.retentionMs);
}

export function timeoutWorkflow(ctx: MutationContext, args: { retentionMs: number }): void {
  forceClose(ctx, 'history-service');
  ctx.addEvent('workflowExecutionTimedOutEventAttributes', { retryState: RetryState.RETRY_STATE_TIMEOUT });
  markClosed(ctx, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, args.retentionMs);
}
