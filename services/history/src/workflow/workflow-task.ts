/**
 * The workflow task sub-state machine: none → scheduled → started → none.
 * Every transition appends its event and the tasks it needs (dispatch, timeouts).
 */
import { InvariantViolationError, TaskQueueKind, TimeoutType, WorkflowTaskFailedCause, msToDuration, type Failure, int64 } from '@hourglass/common';
import type { MutationContext } from './mutation';
import { resendUnansweredUpdates } from './updates';

/** Schedules a workflow task unless one is already pending. Returns its scheduled event id. */
export function scheduleWorkflowTask(ctx: MutationContext): number {
  const ms = ctx.ms;
  if (ms.workflowTask) return ms.workflowTask.scheduledEventId;
  const info = ms.executionInfo;
  const sticky = ms.sticky;
  const taskQueueName = sticky ? sticky.queueName : info.taskQueue;
  const taskQueueKind = sticky ? 'sticky' : 'normal';
  const attempt = ms.workflowTaskFailureStreak + 1;
  const event = ctx.addEvent('workflowTaskScheduledEventAttributes', {
    taskQueue: {
      name: taskQueueName,
      kind: sticky ? TaskQueueKind.TASK_QUEUE_KIND_STICKY : TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
      ...(sticky ? { normalName: info.taskQueue } : {}),
    },
    startToCloseTimeout: msToDuration(info.workflowTaskTimeoutMs),
    attempt,
  });
  const scheduledEventId = Number(event.eventId);
  ms.workflowTask = {
    scheduledEventId,
    startedEventId: 0,
    attempt,
    taskQueueName,
    taskQueueKind,
    startToCloseTimeoutMs: info.workflowTaskTimeoutMs,
    scheduledTime: ctx.now,
    startedTime: 0,
    requestId: '',
    identity: '',
  };
  ctx.addTransferTask({ type: 'workflow-task', scheduledEventId, taskQueueName, taskQueueKind });
  if (sticky) {
    // A sticky task nobody picks up in time goes back to the normal queue.
    ctx.addTimerTask(ctx.now + sticky.scheduleToStartTimeoutMs, {
      type: 'workflow-task-timeout',
      scheduledEventId,
      startedEventId: 0,
      attempt,
      timeoutType: TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
    });
  }
  return scheduledEventId;
}

/** A worker took the scheduled workflow task: append WorkflowTaskStarted and arm its timeout. */
export function startWorkflowTask(ctx: MutationContext, args: { requestId: string; identity: string }): number {
  const wft = ctx.ms.workflowTask;
  if (!wft || wft.startedEventId !== 0) throw new InvariantViolationError('startWorkflowTask without a scheduled workflow task');
  const event = ctx.addEvent('workflowTaskStartedEventAttributes', {
    scheduledEventId: int64(wft.scheduledEventId),
    identity: args.identity,
    requestId: args.requestId,
    historySizeBytes: int64(ctx.ms.executionInfo.historySizeBytes),
    suggestContinueAsNew: false,
  });
  wft.startedEventId = Number(event.eventId);
  wft.startedTime = ctx.now;
  wft.requestId = args.requestId;
  wft.identity = args.identity;
  ctx.addTimerTask(ctx.now + wft.startToCloseTimeoutMs, {
    type: 'workflow-task-timeout',
    scheduledEventId: wft.scheduledEventId,
    startedEventId: wft.startedEventId,
    attempt: wft.attempt,
    timeoutType: TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
  });
  return wft.startedEventId;
}

/**
 * The started workflow task failed (worker report, bad commands, UnhandledCommand): record it,
 * drop stickiness, flush what was buffered and schedule the next attempt on the normal queue.
 */
export function failWorkflowTask(
  ctx: MutationContext,
  args: { cause: number; failure?: Failure | null; identity: string; scheduleRetry: boolean },
): void {
  const wft = ctx.ms.workflowTask;
  if (!wft || wft.startedEventId === 0) throw new InvariantViolationError('failWorkflowTask without a started workflow task');
  const wasSticky = wft.taskQueueKind === 'sticky';
  ctx.addEvent('workflowTaskFailedEventAttributes', {
    scheduledEventId: int64(wft.scheduledEventId),
    startedEventId: int64(wft.startedEventId),
    cause: args.cause,
    ...(args.failure ? { failure: args.failure } : {}),
    identity: args.identity,
  });
  // UnhandledCommand is not the workflow's fault (new events raced its decision): no attempt bump,
  // and neither is the first failure on a sticky queue (a stale cache; a full replay may fix it).
  const notTheWorkflowsFault =
    args.cause === WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND || (wasSticky && ctx.ms.workflowTaskFailureStreak === 0);
  closeWorkflowTaskAttempt(ctx, { countsAsFailure: !notTheWorkflowsFault });
  if (args.scheduleRetry) scheduleWorkflowTask(ctx);
}

/** The workflow task timed out (start-to-close, or schedule-to-start on a sticky queue). */
export function timeoutWorkflowTask(ctx: MutationContext, timeoutType: number): void {
  const wft = ctx.ms.workflowTask;
  if (!wft) throw new InvariantViolationError('timeoutWorkflowTask without a workflow task');
  const scheduleToStart = timeoutType === TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START;
  ctx.addEvent('workflowTaskTimedOutEventAttributes', {
    scheduledEventId: int64(wft.scheduledEventId),
    startedEventId: int64(scheduleToStart ? 0 : wft.startedEventId),
    timeoutType,
  });
  // A sticky worker that never picked the task up is not the workflow's fault: no attempt bump.
  closeWorkflowTaskAttempt(ctx, { countsAsFailure: !scheduleToStart });
  scheduleWorkflowTask(ctx);
}

function closeWorkflowTaskAttempt(ctx: MutationContext, args: { countsAsFailure: boolean }): void {
  const ms = ctx.ms;
  ms.workflowTask = null;
  ms.sticky = null;
  if (args.countsAsFailure) ms.workflowTaskFailureStreak += 1;
  resendUnansweredUpdates(ms);
  ctx.flushBufferedEvents();
}

/** After an external event: make sure a workflow task will deliver it (unless one is pending or the run waits for its backoff). */
export function scheduleWorkflowTaskIfNeeded(ctx: MutationContext): void {
  if (ctx.ms.backoffPending || ctx.ms.workflowTask) return;
  scheduleWorkflowTask(ctx);
}
