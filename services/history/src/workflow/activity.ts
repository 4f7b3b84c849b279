/**
 * Activity sub-state machine. History records only: Scheduled (by command), then — lazily, right
 * before the outcome — Started and Completed/Failed/TimedOut/Canceled. Attempts, retries and
 * timeouts live in mutable state and timer tasks, as in Temporal.
 */
import {
  InvariantViolationError,
  RetryState,
  TimeoutType,
  WorkflowTaskFailedCause,
  durationToMs,
  msToDuration,
  temporal,
  type Failure,
  type HistoryEvent,
  type Payloads,
  int64,
  quote,
} from '@hourglass/common';
import { BadCommandError } from './command-error';
import { failureBlob, payloadsBlob } from './codec';
import { isActivityStarted, type ActivityInfo } from './mutable-state';
import { BUFFERED_STARTED_EVENT_ID, type MutationContext } from './mutation';
import type { CommandLimits } from './command-limits';
import { decideRetry, normalizeRetryPolicy, retryPolicyToProto } from './retry';

type ScheduleActivityAttributes = temporal.api.command.v1.IScheduleActivityTaskCommandAttributes;

const BAD_ATTRS = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES;

interface ActivityTimeouts {
  scheduleToCloseMs: number;
  scheduleToStartMs: number;
  startToCloseMs: number;
  heartbeatMs: number;
}

/** Temporal's timeout normalisation (validateAndNormalizeTimeouts), capped by the run timeout. */
export function normalizeActivityTimeouts(attrs: ScheduleActivityAttributes, runTimeoutMs: number): ActivityTimeouts {
  const read = (d: temporal.api.command.v1.IScheduleActivityTaskCommandAttributes['startToCloseTimeout'], name: string): number => {
    const ms = durationToMs(d) ?? 0;
    if (ms < 0) throw new BadCommandError(BAD_ATTRS, `${name} must not be negative`);
    return ms;
  };
  let scheduleToCloseMs = read(attrs.scheduleToCloseTimeout, 'ScheduleToCloseTimeout');
  let scheduleToStartMs = read(attrs.scheduleToStartTimeout, 'ScheduleToStartTimeout');
  let startToCloseMs = read(attrs.startToCloseTimeout, 'StartToCloseTimeout');
  let heartbeatMs = read(attrs.heartbeatTimeout, 'HeartbeatTimeout');
  if (scheduleToCloseMs > 0) {
    scheduleToStartMs = scheduleToStartMs > 0 ? Math.min(scheduleToStartMs, scheduleToCloseMs) : scheduleToCloseMs;
    startToCloseMs = startToCloseMs > 0 ? Math.min(startToCloseMs, scheduleToCloseMs) : scheduleToCloseMs;
  } else if (startToCloseMs > 0) {
    scheduleToCloseMs = runTimeoutMs;
    if (scheduleToStartMs === 0) scheduleToStartMs = runTimeoutMs;
  } else {
    throw new BadCommandError(BAD_ATTRS, 'a valid StartToCloseTimeout or ScheduleToCloseTimeout must be set on ScheduleActivityTask');
  }
  if (runTimeoutMs > 0) {
    const cap = (ms: number): number => (ms === 0 ? runTimeoutMs : Math.min(ms, runTimeoutMs));
    scheduleToCloseMs = cap(scheduleToCloseMs);
    scheduleToStartMs = cap(scheduleToStartMs);
    startToCloseMs = cap(startToCloseMs);
  }
  heartbeatMs = Math.min(heartbeatMs, startToCloseMs);
  return { scheduleToCloseMs, scheduleToStartMs, startToCloseMs, heartbeatMs };
}

/** An activity started in the completion that scheduled it (eager dispatch): who it was handed to. */
export interface EagerStart {
  requestId: string;
  identity: string;
}

/**
 * ScheduleActivityTask command → ActivityTaskScheduled (its apply creates the activity), then dispatch
 * and timeout tasks; with `eager`, the first attempt is started at once instead of dispatched through
 * matching (its start-to-close timer is armed in the same commit, so a response that never reaches
 * the worker ends in a timeout and a retry, as a lost poll response does).
 */
export function scheduleActivity(
  ctx: MutationContext,
  attrs: ScheduleActivityAttributes,
  workflowTaskCompletedEventId: number,
  limits: CommandLimits,
  eager?: EagerStart,
): { activity: ActivityInfo; event: HistoryEvent } {
  const ms = ctx.ms;
  const activityId = attrs.activityId ?? '';
  const activityTypeName = attrs.activityType?.name ?? '';
  if (!activityId) throw new BadCommandError(BAD_ATTRS, 'ActivityId is not set on ScheduleActivityTask');
  if (!activityTypeName) throw new BadCommandError(BAD_ATTRS, 'ActivityType is not set on ScheduleActivityTask');
  limits.checkId(BAD_ATTRS, 'ScheduleActivityTask.ActivityId', activityId);
  limits.checkId(BAD_ATTRS, 'ScheduleActivityTask.ActivityType', activityTypeName);
  if (attrs.taskQueue?.name) limits.checkTaskQueue(BAD_ATTRS, 'ScheduleActivityTask.TaskQueue', attrs.taskQueue.name);
  if (ms.activityById(activityId)) {
    throw new BadCommandError(
      WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID,
      `activity id ${quote(activityId)} is already used by a pending activity`,
    );
  }
  limits.checkPending(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED, 'activities', ms.activities.size, limits.pendingActivities);
  const timeouts = normalizeActivityTimeouts(attrs, ms.executionInfo.workflowRunTimeoutMs);
  let retryPolicy;
  try {
    retryPolicy = normalizeRetryPolicy(attrs.retryPolicy, 'ScheduleActivityTask.RetryPolicy');
  } catch (err) {
    throw new BadCommandError(BAD_ATTRS, (err as Error).message);
  }
  const taskQueue = attrs.taskQueue?.name || ms.executionInfo.taskQueue;
  const event = ctx.addEvent('activityTaskScheduledEventAttributes', {
    activityId,
    activityType: { name: activityTypeName },
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    header: attrs.header ?? {},
    ...(attrs.input ? { input: attrs.input } : {}),
    scheduleToCloseTimeout: msToDuration(timeouts.scheduleToCloseMs),
    scheduleToStartTimeout: msToDuration(timeouts.scheduleToStartMs),
    startToCloseTimeout: msToDuration(timeouts.startToCloseMs),
    heartbeatTimeout: msToDuration(timeouts.heartbeatMs),
    workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId),
    retryPolicy: retryPolicyToProto(retryPolicy),
    useWorkflowBuildId: attrs.useWorkflowBuildId ?? false,
    ...(attrs.priority ? { priority: attrs.priority } : {}),
  });
  const activity = ms.activities.mutable(String(Number(event.eventId))) as ActivityInfo;
  if (!eager) {
    generateActivityTasks(ctx, activity);
  } else {
    armScheduleToCloseTimer(ctx, activity);
    activity.currentAttemptScheduledTime = ctx.now;
    startActivityAttempt(ctx, activity, eager);
  }
  return { activity, event };
}

/** A scheduled activity's tasks: its schedule-to-close timeout and the dispatch of its current attempt. */
export function generateActivityTasks(ctx: MutationContext, activity: ActivityInfo): void {
  armScheduleToCloseTimer(ctx, activity);
  dispatchActivityAttempt(ctx, activity);
}

function armScheduleToCloseTimer(ctx: MutationContext, activity: ActivityInfo): void {
  if (activity.scheduleToCloseTimeoutMs > 0) {
    ctx.addTimerTask(activity.scheduledTime + activity.scheduleToCloseTimeoutMs, {
      type: 'activity-timeout',
      scheduledEventId: activity.scheduledEventId,
      attempt: 1,
      timeoutType: TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE,
    });
  }
}

/** Queues the activity's current attempt in matching and arms its schedule-to-start timeout. */
export function dispatchActivityAttempt(ctx: MutationContext, activity: ActivityInfo): void {
  activity.currentAttemptScheduledTime = ctx.now;
  // A new attempt: the last one's timer (if it has not come up) is left to find nothing to do.
  delete activity.timeoutTasks;
  ctx.addTransferTask({ type: 'activity-task', scheduledEventId: activity.scheduledEventId, attempt: activity.attempt, taskQueueName: activity.taskQueue });
  // Schedule-to-start equal to schedule-to-close is covered by the latter's timer.
  if (activity.scheduleToStartTimeoutMs > 0 && activity.scheduleToStartTimeoutMs !== activity.scheduleToCloseTimeoutMs) {
    ctx.addTimerTask(ctx.now + activity.scheduleToStartTimeoutMs, {
      type: 'activity-timeout',
      scheduledEventId: activity.scheduledEventId,
      attempt: activity.attempt,
      timeoutType: TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
    });
  }
}

/** A worker took the attempt: remember who and when, arm start-to-close and heartbeat timeouts. No event (it is written lazily). */
export function startActivityAttempt(ctx: MutationContext, activity: ActivityInfo, args: { requestId: string; identity: string }): void {
  ctx.bill('activityStarted');
  activity.startedTime = ctx.now;
  activity.startedIdentity = args.identity;
  activity.startedRequestId = args.requestId;
  activity.lastHeartbeatTime = 0;
  activity.heartbeatTimerDeadline = 0;
  if (activity.startToCloseTimeoutMs > 0) {
    ctx.addTimerTask(
      ctx.now + activity.startToCloseTimeoutMs,
      {
        type: 'activity-timeout',
        scheduledEventId: activity.scheduledEventId,
        attempt: activity.attempt,
        timeoutType: TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
      },
      // `activity` is this change's writable copy until the commit writes it.
      (key) => (activity.timeoutTasks = [key]),
    );
  }
  armHeartbeatTimer(ctx, activity);
}

/** Heartbeat timeout timer: one persisted task per deadline; a heartbeat only moves lastHeartbeatTime. */
export function armHeartbeatTimer(ctx: MutationContext, activity: ActivityInfo): void {
  if (activity.heartbeatTimeoutMs <= 0) return;
  const deadline = Math.max(activity.startedTime, activity.lastHeartbeatTime) + activity.heartbeatTimeoutMs;
  activity.heartbeatTimerDeadline = deadline;
  ctx.addTimerTask(deadline, {
    type: 'activity-timeout',
    scheduledEventId: activity.scheduledEventId,
    attempt: activity.attempt,
    timeoutType: TimeoutType.TIMEOUT_TYPE_HEARTBEAT,
  });
}

export function recordHeartbeat(ctx: MutationContext, activity: ActivityInfo, details: Payloads | null | undefined): void {
  ctx.bill('activityHeartbeat');
  if (details) activity.heartbeatDetails = payloadsBlob.pack(details);
  activity.lastHeartbeatTime = ctx.now;
}

/** Writes the lazy ActivityTaskStarted for the final attempt; returns its id (or the buffered placeholder). */
function appendStartedEvent(ctx: MutationContext, activity: Readonly<ActivityInfo>): number {
  const event = ctx.addEvent(
    'activityTaskStartedEventAttributes',
    {
      scheduledEventId: int64(activity.scheduledEventId),
      identity: activity.startedIdentity,
      requestId: activity.startedRequestId,
      attempt: activity.attempt,
      ...(activity.lastFailure ? { lastFailure: failureBlob.unpack(activity.lastFailure) } : {}),
    },
    { bufferable: true, eventTime: activity.startedTime },
  );
  return Number(event.eventId) || BUFFERED_STARTED_EVENT_ID;
}

export function completeActivity(ctx: MutationContext, activity: Readonly<ActivityInfo>, args: { result?: Payloads | null; identity: string }): void {
  const startedEventId = appendStartedEvent(ctx, activity);
  ctx.addEvent(
    'activityTaskCompletedEventAttributes',
    { scheduledEventId: int64(activity.scheduledEventId), startedEventId: int64(startedEventId), identity: args.identity, ...(args.result ? { result: args.result } : {}) },
    { bufferable: true },
  );
}

export function cancelActivity(ctx: MutationContext, activity: Readonly<ActivityInfo>, args: { details?: Payloads | null; identity: string }): void {
  const startedEventId = isActivityStarted(activity) ? appendStartedEvent(ctx, activity) : 0;
  ctx.addEvent(
    'activityTaskCanceledEventAttributes',
    {
      scheduledEventId: int64(activity.scheduledEventId),
      startedEventId: int64(startedEventId),
      latestCancelRequestedEventId: int64(activity.cancelRequestedEventId),
      identity: args.identity,
      ...(args.details ? { details: args.details } : {}),
    },
    { bufferable: true },
  );
}

/**
 * An attempt failed (worker failure, or a retryable timeout). Either schedules the next attempt
 * after its backoff (no events) or closes the activity with Failed/TimedOut. Returns whether it retries.
 */
export function failActivityAttempt(
  ctx: MutationContext,
  activity: ActivityInfo,
  args: { failure: Failure; identity: string; lastHeartbeatDetails?: Payloads | null; timeoutType?: number },
): boolean {
  if (args.lastHeartbeatDetails) activity.heartbeatDetails = payloadsBlob.pack(args.lastHeartbeatDetails);
  const deadline = activity.scheduleToCloseTimeoutMs > 0 ? activity.scheduledTime + activity.scheduleToCloseTimeoutMs : 0;
  const decision = activity.cancelRequested
    ? ({ retry: false, retryState: RetryState.RETRY_STATE_CANCEL_REQUESTED } as const)
    : decideRetry({ policy: activity.retryPolicy, attempt: activity.attempt, failure: args.failure, now: ctx.now, deadline });
  if (decision.retry) {
    activity.attempt += 1;
    activity.lastFailure = failureBlob.pack(args.failure);
    activity.lastWorkerIdentity = args.identity || activity.startedIdentity;
    activity.startedTime = 0;
    activity.startedIdentity = '';
    activity.startedRequestId = '';
    activity.lastHeartbeatTime = 0;
    activity.heartbeatTimerDeadline = 0;
    if (decision.backoffMs > 0) {
      activity.currentAttemptScheduledTime = ctx.now + decision.backoffMs;
      ctx.addTimerTask(ctx.now + decision.backoffMs, { type: 'activity-retry', scheduledEventId: activity.scheduledEventId, attempt: activity.attempt });
    } else {
      dispatchActivityAttempt(ctx, activity);
    }
    return true;
  }
  const startedEventId = isActivityStarted(activity) ? appendStartedEvent(ctx, activity) : 0;
  if (args.timeoutType !== undefined) {
    // Out of retries on a retryable timeout because the deadline would pass: reported as schedule-to-close.
    const timeoutType = decision.retryState === RetryState.RETRY_STATE_TIMEOUT ? TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE : args.timeoutType;
    const failure =
      timeoutType === args.timeoutType
        ? args.failure
        : activityTimeoutFailure(activity, timeoutType, failureBlob.unpack(activity.lastFailure) ?? undefined, 'Not enough time to schedule next retry before activity ScheduleToClose timeout, giving up retrying');
    ctx.addEvent(
      'activityTaskTimedOutEventAttributes',
      { scheduledEventId: int64(activity.scheduledEventId), startedEventId: int64(startedEventId), failure, retryState: decision.retryState },
      { bufferable: true },
    );
  } else {
    ctx.addEvent(
      'activityTaskFailedEventAttributes',
      { scheduledEventId: int64(activity.scheduledEventId), startedEventId: int64(startedEventId), failure: args.failure, retryState: decision.retryState, identity: args.identity },
      { bufferable: true },
    );
  }
  return false;
}

/** A non-retryable timeout (schedule-to-start, schedule-to-close): close the activity. */
export function timeoutActivity(ctx: MutationContext, activity: Readonly<ActivityInfo>, timeoutType: number): void {
  const failure = activityTimeoutFailure(activity, timeoutType, failureBlob.unpack(activity.lastFailure) ?? undefined);
  const startedEventId = isActivityStarted(activity) ? appendStartedEvent(ctx, activity) : 0;
  ctx.addEvent(
    'activityTaskTimedOutEventAttributes',
    { scheduledEventId: int64(activity.scheduledEventId), startedEventId: int64(startedEventId), failure, retryState: RetryState.RETRY_STATE_TIMEOUT },
    { bufferable: true },
  );
}

const TIMEOUT_TYPE_NAMES: Record<number, string> = {
  [TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE]: 'StartToClose',
  [TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START]: 'ScheduleToStart',
  [TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE]: 'ScheduleToClose',
  [TimeoutType.TIMEOUT_TYPE_HEARTBEAT]: 'Heartbeat',
};

/** The failure shape the SDK expects for a server-side activity timeout. */
export function activityTimeoutFailure(activity: Readonly<ActivityInfo>, timeoutType: number, cause?: Failure, message?: string): Failure {
  const name = TIMEOUT_TYPE_NAMES[timeoutType];
  if (!name) throw new InvariantViolationError(`unknown timeout type ${timeoutType}`);
  const details = payloadsBlob.unpack(activity.heartbeatDetails);
  return {
    message: message ?? `activity ${name} timeout`,
    source: 'Server',
    timeoutFailureInfo: { timeoutType, ...(details ? { lastHeartbeatDetails: details } : {}) },
    ...(cause ? { cause } : {}),
  };
}

/**
 * RequestCancelActivityTask command: CancelRequested, and if no attempt is running, Canceled
 * right away. Returns true when the activity was canceled immediately (a new workflow task is due).
 */
export function requestCancelActivity(ctx: MutationContext, scheduledEventId: number, workflowTaskCompletedEventId: number): boolean {
  if (!ctx.ms.activities.has(String(scheduledEventId))) {
    throw new BadCommandError(
      WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
      `RequestCancelActivityTask names scheduled event ${scheduledEventId}, which is not a pending activity`,
    );
  }
  if (ctx.ms.activities.get(String(scheduledEventId))?.cancelRequested) return false;
  ctx.addEvent('activityTaskCancelRequestedEventAttributes', { scheduledEventId: int64(scheduledEventId), workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId) });
  const activity = ctx.ms.activities.get(String(scheduledEventId)) as Readonly<ActivityInfo>;
  if (!isActivityStarted(activity)) {
    cancelActivity(ctx, activity, { identity: '' });
    return true;
  }
  return false;
}
