/** User timers: StartTimer / CancelTimer commands and the timer task that fires them. */
import { WorkflowTaskFailedCause, durationToMs, temporal, int64 } from '@hourglass/common';
import { BadCommandError } from './command-error';
import type { MutationContext } from './mutation';

export function startTimer(ctx: MutationContext, attrs: temporal.api.command.v1.IStartTimerCommandAttributes, workflowTaskCompletedEventId: number): void {
  const timerId = attrs.timerId ?? '';
  const bad = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES;
  if (!timerId) throw new BadCommandError(bad, 'TimerId is not set on StartTimer');
  if (ctx.ms.timers[timerId]) {
    throw new BadCommandError(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID, `timer id ${JSON.stringify(timerId)} is already in use`);
  }
  const fireInMs = durationToMs(attrs.startToFireTimeout) ?? 0;
  if (fireInMs <= 0) throw new BadCommandError(bad, `StartToFireTimeout of timer ${JSON.stringify(timerId)} must be positive`);
  const event = ctx.addEvent('timerStartedEventAttributes', {
    timerId,
    startToFireTimeout: attrs.startToFireTimeout ?? null,
    workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId),
  });
  const startedEventId = Number(event.eventId);
  const expiryTime = ctx.now + fireInMs;
  ctx.ms.timers[timerId] = { timerId, startedEventId, expiryTime };
  ctx.addTimerTask(expiryTime, { type: 'user-timer', timerId, startedEventId });
}

export function cancelTimer(
  ctx: MutationContext,
  attrs: temporal.api.command.v1.ICancelTimerCommandAttributes,
  workflowTaskCompletedEventId: number,
  identity: string,
): void {
  const timerId = attrs.timerId ?? '';
  const timer = ctx.ms.timers[timerId];
  if (!timer) {
    throw new BadCommandError(
      WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES,
      `CancelTimer names timer ${JSON.stringify(timerId)}, which is not pending`,
    );
  }
  ctx.addEvent('timerCanceledEventAttributes', { timerId, startedEventId: int64(timer.startedEventId), workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId), identity });
  delete ctx.ms.timers[timerId];
}

/** The persisted timer is due: TimerFired (buffered if a workflow task is running). Returns false if it no longer applies. */
export function fireTimer(ctx: MutationContext, timerId: string, startedEventId: number): boolean {
  const timer = ctx.ms.timers[timerId];
  if (!timer || timer.startedEventId !== startedEventId) return false;
  ctx.addEvent('timerFiredEventAttributes', { timerId, startedEventId: int64(startedEventId) }, { bufferable: true });
  delete ctx.ms.timers[timerId];
  return true;
}
