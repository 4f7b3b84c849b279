/** User timers: StartTimer / CancelTimer commands and the timer task that fires them. */
import { WorkflowTaskFailedCause, durationToMs, int64, quote, temporal } from '@hourglass/common';
import { BadCommandError } from './command-error';
import type { CommandLimits } from './command-limits';
import type { UserTimerInfo } from './mutable-state';
import type { MutationContext } from './mutation';

const BAD_START = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES;

export function startTimer(ctx: MutationContext, attrs: temporal.api.command.v1.IStartTimerCommandAttributes, workflowTaskCompletedEventId: number, limits: CommandLimits): void {
  const timerId = attrs.timerId ?? '';
  if (!timerId) throw new BadCommandError(BAD_START, 'TimerId is not set on StartTimer');
  limits.checkId(BAD_START, 'StartTimer.TimerId', timerId);
  if (ctx.ms.timers.has(timerId)) {
    throw new BadCommandError(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID, `timer id ${quote(timerId)} is already in use`);
  }
  const fireInMs = durationToMs(attrs.startToFireTimeout) ?? 0;
  if (fireInMs <= 0) throw new BadCommandError(BAD_START, `StartToFireTimeout of timer ${quote(timerId)} must be positive`);
  ctx.addEvent('timerStartedEventAttributes', {
    timerId,
    startToFireTimeout: attrs.startToFireTimeout ?? null,
    workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId),
  });
  generateTimerTask(ctx, ctx.ms.timers.get(timerId) as UserTimerInfo);
}

/** The persisted task that fires a pending timer. */
export function generateTimerTask(ctx: MutationContext, timer: Readonly<UserTimerInfo>): void {
  ctx.addTimerTask(Math.max(ctx.now, timer.expiryTime), { type: 'user-timer', timerId: timer.timerId, startedEventId: timer.startedEventId });
}

export function cancelTimer(
  ctx: MutationContext,
  attrs: temporal.api.command.v1.ICancelTimerCommandAttributes,
  workflowTaskCompletedEventId: number,
  identity: string,
): void {
  const timerId = attrs.timerId ?? '';
  const timer = ctx.ms.timers.get(timerId);
  if (!timer) {
    throw new BadCommandError(
      WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES,
      `CancelTimer names timer ${quote(timerId)}, which is not pending`,
    );
  }
  ctx.addEvent('timerCanceledEventAttributes', { timerId, startedEventId: int64(timer.startedEventId), workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId), identity });
}

/** The persisted timer is due: TimerFired (buffered if a workflow task is running). Returns false if it no longer applies. */
export function fireTimer(ctx: MutationContext, timerId: string, startedEventId: number): boolean {
  const timer = ctx.ms.timers.get(timerId);
  if (!timer || timer.startedEventId !== startedEventId) return false;
  ctx.addEvent('timerFiredEventAttributes', { timerId, startedEventId: int64(startedEventId) }, { bufferable: true });
  return true;
}
