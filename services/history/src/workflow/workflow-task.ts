/**
 * The workflow task sub-state machine: none → scheduled → started → none. Each transition appends
 * its event (whose effect on state is applyEvent's) and generates the tasks it needs (dispatch,
 * timeouts). Changes that need a new workflow task ask for one (`ctx.requestWorkflowTask()`); the
 * mutation helper schedules it once, at the end of the change, through scheduleWorkflowTaskIfNeeded.
 */
import { InvariantViolationError, TaskQueueKind, TimeoutType, msToDuration, type Failure, int64 } from '@hourglass/common';
import { isRunning, type WorkflowTaskInfo } from './mutable-state';
import type { MutationContext, StartedWorkflowTask } from './mutation';
import { resendUnansweredUpdates, takeUpdateRequests } from './updates';

/** Schedules a workflow task unless one is pending, the run closed, or its first task waits for a backoff. */
export function scheduleWorkflowTaskIfNeeded(ctx: MutationContext): void {
  const ms = ctx.ms;
  if (!isRunning(ms) || ms.backoffPending || ms.workflowTask) return;
  const info = ms.executionInfo;
  const sticky = ms.sticky;
  ctx.addEvent('workflowTaskScheduledEventAttributes', {
    taskQueue: {
      name: sticky ? sticky.queueName : info.taskQueue,
      kind: sticky ? TaskQueueKind.TASK_QUEUE_KIND_STICKY : TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
      ...(sticky ? { normalName: info.taskQueue } : {}),
    },
    startToCloseTimeout: msToDuration(info.workflowTaskTimeoutMs),
    attempt: ms.workflowTaskFailureStreak + 1,
  });
  // applyEvent has just set the workflow task from its Scheduled event.
  const inline = ctx.inlineWorkflowTask;
  if (inline && !inline.started) {
    // Handed to the caller: no dispatch through matching, no sticky schedule-to-start timer.
    startWorkflowTask(ctx, { requestId: inline.requestId, identity: inline.identity, suggestContinueAsNew: inline.suggestContinueAsNew(ctx) });
    inline.started = describeStartedWorkflowTask(ctx);
    return;
  }
  generateWorkflowTaskTasks(ctx, ms.workflowTask!);
}

/** The started workflow task of the run as a poll response needs it; delivers the update requests waiting for it. */
export function describeStartedWorkflowTask(ctx: MutationContext): StartedWorkflowTask {
  const wft = ctx.ms.workflowTask;
  if (!wft || wft.startedEventId === 0) throw new InvariantViolationError('describeStartedWorkflowTask without a started workflow task');
  const info = ctx.ms.executionInfo;
  return {
    startedEventId: wft.startedEventId,
    scheduledEventId: wft.scheduledEventId,
    attempt: wft.attempt,
    scheduledTime: wft.scheduledTime,
    startedTime: wft.startedTime,
    previousStartedEventId: ctx.ms.lastCompletedWorkflowTaskStartedEventId,
    workflowTypeName: info.workflowTypeName,
    taskQueue: info.taskQueue,
    messages: takeUpdateRequests(ctx, wft.startedEventId),
  };
}

/** Dispatch of a scheduled workflow task, and on a sticky queue its fallback timer. */
export function generateWorkflowTaskTasks(ctx: MutationContext, wft: WorkflowTaskInfo): void {
  ctx.addTransferTask({ type: 'workflow-task', scheduledEventId: wft.scheduledEventId, taskQueueName: wft.taskQueueName, taskQueueKind: wft.taskQueueKind });
  if (wft.taskQueueKind === 'sticky' && ctx.ms.sticky) {
    // A sticky task nobody picks up in time goes back to the normal queue.
    ctx.addTimerTask(
      ctx.now + ctx.ms.sticky.scheduleToStartTimeoutMs,
      {
        type: 'workflow-task-timeout',
        scheduledEventId: wft.scheduledEventId,
        startedEventId: 0,
        attempt: wft.attempt,
        timeoutType: TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
      },
      (key) => (wft.timeoutTasks = [...(wft.timeoutTasks ?? []), key]),
    );
  }
}

/** A worker took the scheduled workflow task: append WorkflowTaskStarted and arm its timeout. */
export function startWorkflowTask(ctx: MutationContext, args: { requestId: string; identity: string; suggestContinueAsNew: boolean }): number {
  const wft = ctx.ms.workflowTask;
  if (!wft || wft.startedEventId !== 0) throw new InvariantViolationError('startWorkflowTask without a scheduled workflow task');
  ctx.addEvent('workflowTaskStartedEventAttributes', {
    scheduledEventId: int64(wft.scheduledEventId),
    identity: args.identity,
    requestId: args.requestId,
    historySizeBytes: int64(ctx.ms.executionInfo.historySizeBytes),
    suggestContinueAsNew: args.suggestContinueAsNew,
  });
  ctx.addTimerTask(
    ctx.now + wft.startToCloseTimeoutMs,
    {
      type: 'workflow-task-timeout',
      scheduledEventId: wft.scheduledEventId,
      startedEventId: wft.startedEventId,
      attempt: wft.attempt,
      timeoutType: TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
    },
    // Started: its schedule-to-start timer (if any) is pointless now, this one replaces it.
    (key) => (wft.timeoutTasks = [key]),
  );
  return wft.startedEventId;
}

/**
 * The started workflow task failed (worker report, bad commands, UnhandledCommand, too many
 * buffered events): record it, deliver what was buffered, and ask for the next attempt (on the
 * normal queue: a failure drops stickiness).
 */
/**
 * How long the next attempt waits after the server itself failed a workflow task for its commands
 * (a command this server does not support, bad attributes): the worker sends the same commands
 * again on every attempt, so without a pause a run would spin through tasks as fast as the worker
 * answers. The first failure retries at once (a deploy may have fixed it); then 1 s, doubling, to
 * at most a minute. `failureStreak` counts the attempt that just failed.
 */
export function rejectedCommandRetryDelayMs(failureStreak: number): number {
  if (failureStreak <= 1) return 0;
  return Math.min(1000 * 2 ** (failureStreak - 2), 60_000);
}

export function failWorkflowTask(ctx: MutationContext, args: { cause: number; failure?: Failure | null; identity: string; retryAfterMs?: number }): void {
  const wft = ctx.ms.workflowTask;
  if (!wft || wft.startedEventId === 0) throw new InvariantViolationError('failWorkflowTask without a started workflow task');
  ctx.addEvent('workflowTaskFailedEventAttributes', {
    scheduledEventId: int64(wft.scheduledEventId),
    startedEventId: int64(wft.startedEventId),
    cause: args.cause,
    ...(args.failure ? { failure: args.failure } : {}),
    identity: args.identity,
  });
  if (args.retryAfterMs && args.retryAfterMs > 0) {
    resendUnansweredUpdates(ctx.ms);
    // Events that were waiting are new input: they get a workflow task now, as they would anyway.
    if (ctx.flushBufferedEvents() > 0) ctx.requestWorkflowTask();
    else ctx.addTimerTask(ctx.now + args.retryAfterMs, { type: 'workflow-task-retry', failureStreak: ctx.ms.workflowTaskFailureStreak });
    return;
  }
  afterWorkflowTaskAttempt(ctx);
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
  afterWorkflowTaskAttempt(ctx);
}

function afterWorkflowTaskAttempt(ctx: MutationContext): void {
  resendUnansweredUpdates(ctx.ms);
  ctx.flushBufferedEvents();
  ctx.requestWorkflowTask();
}
