/**
 * Executes timer-category tasks: user timers, activity and workflow-task timeouts, activity
 * retries, run timeouts, start backoff, retention and storage accrual. Each re-checks mutable state: a task that no
 * longer applies (timer canceled, attempt moved on, run closed) does nothing.
 */
import { HistorySettings, TimeoutType, assertNever } from '@hourglass/common';
import { nextAccrualAt } from '../usage/storage-accrual';
import type { HistoryTaskRow } from '@hourglass/persistence';
import type { EngineContext } from '../engine-context';
import { parseTimerTask, type TimerTask } from '../tasks';
import { activityTimeoutFailure, armHeartbeatTimer, dispatchActivityAttempt, failActivityAttempt, timeoutActivity } from '../workflow/activity';
import { dispatchWaitingQueries } from '../api/query-workflow/query-workflow.handler';
import { readStartedEvent } from '../api/shared';
import { mayContinue, timeoutWorkflow, type CloseEnv } from '../workflow/close';
import { isActivityStarted, isRunning, type ActivityInfo } from '../workflow/mutable-state';
import type { MutationContext } from '../workflow/mutation';
import { fireTimer } from '../workflow/timers';
import { timeoutWorkflowTask } from '../workflow/workflow-task';

export function createTimerTaskExecutor(env: EngineContext) {
  return async function executeTimerTask(row: HistoryTaskRow): Promise<void> {
    const task = parseTimerTask(row);
    const key = { namespaceId: row.namespaceId, workflowId: row.workflowId, runId: row.runId };
    const shard = env.shardFor(key.namespaceId, key.workflowId);
    if (task.type === 'delete-execution') {
      // Retention, through the one mutation helper: a racing change either finds the run gone or keeps it.
      await shard.updateWorkflow(key.namespaceId, key.workflowId, async (tx) => {
        const ctx = await tx.run(key.runId);
        if (ctx && !isRunning(ctx.ms)) tx.deleteRun(ctx);
      });
      return;
    }
    if (task.type === 'storage-accrual') {
      // The change itself accrues (shard-context); this only arms the next accrual, open or closed, until retention deletes the run.
      const intervalMs = env.settings.get(HistorySettings.storageAccrualInterval);
      await shard.updateExecution(key, (ctx) => {
        if (ctx && intervalMs > 0) ctx.addTimerTask(nextAccrualAt(ctx.now, intervalMs), { type: 'storage-accrual' });
      });
      return;
    }
    const closeEnv: CloseEnv = { retentionMs: 0 };
    if (task.type === 'workflow-timeout') closeEnv.retentionMs = (await env.namespaces.getById(key.namespaceId)).retentionMs;
    await shard.updateExecution(key, async (ctx) => {
      if (!ctx || !isRunning(ctx.ms)) return;
      // A timed-out cron or retrying run starts a successor that reuses the first event's input.
      if (task.type === 'workflow-timeout' && mayContinue(ctx)) closeEnv.startedEvent = await readStartedEvent(shard, key);
      applyTimer(ctx, task, row.fireAt, closeEnv);
    });
    // A timed-out workflow task's queries wait for the next attempt; a closed run's go as query tasks.
    if (task.type === 'workflow-task-timeout') env.queries.requeue(key);
    if (task.type === 'workflow-timeout') await dispatchWaitingQueries(env, key);
  };
}

function applyTimer(ctx: MutationContext, task: Exclude<TimerTask, { type: 'delete-execution' | 'storage-accrual' }>, fireAt: number, closeEnv: CloseEnv): void {
  const ms = ctx.ms;
  switch (task.type) {
    case 'user-timer':
      if (fireTimer(ctx, task.timerId, task.startedEventId)) ctx.requestWorkflowTask();
      return;
    case 'activity-timeout': {
      const id = String(task.scheduledEventId);
      const activity = ms.activities.get(id);
      if (!activity) return;
      switch (task.timeoutType) {
        case TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE:
          timeoutActivity(ctx, activity, task.timeoutType);
          ctx.requestWorkflowTask();
          return;
        case TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START:
          if (activity.attempt !== task.attempt || isActivityStarted(activity)) return;
          timeoutActivity(ctx, activity, task.timeoutType);
          ctx.requestWorkflowTask();
          return;
        case TimeoutType.TIMEOUT_TYPE_HEARTBEAT:
          if (activity.attempt !== task.attempt || !isActivityStarted(activity) || activity.heartbeatTimerDeadline !== fireAt) return;
          if (Math.max(activity.startedTime, activity.lastHeartbeatTime) + activity.heartbeatTimeoutMs > ctx.now) {
            // Heartbeats arrived since this deadline was set: wait for the new one.
            armHeartbeatTimer(ctx, ms.activities.mutable(id) as ActivityInfo);
            return;
          }
          break;
        case TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE:
          if (activity.attempt !== task.attempt || !isActivityStarted(activity)) return;
          break;
        default:
          return;
      }
      const failure = activityTimeoutFailure(activity, task.timeoutType);
      const retrying = failActivityAttempt(ctx, ms.activities.mutable(id) as ActivityInfo, { failure, identity: activity.startedIdentity, timeoutType: task.timeoutType });
      if (!retrying) ctx.requestWorkflowTask();
      return;
    }
    case 'activity-retry': {
      const id = String(task.scheduledEventId);
      const activity = ms.activities.get(id);
      if (!activity || activity.attempt !== task.attempt || isActivityStarted(activity)) return;
      dispatchActivityAttempt(ctx, ms.activities.mutable(id) as ActivityInfo);
      return;
    }
    case 'workflow-task-timeout': {
      const wft = ms.workflowTask;
      if (!wft || wft.scheduledEventId !== task.scheduledEventId || wft.attempt !== task.attempt) return;
      if (task.timeoutType === TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START && wft.startedEventId !== 0) return;
      if (task.timeoutType === TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE && wft.startedEventId !== task.startedEventId) return;
      timeoutWorkflowTask(ctx, task.timeoutType);
      return;
    }
    case 'workflow-timeout': {
      const info = ms.executionInfo;
      const deadlines = [info.executionExpirationTime, info.runExpirationTime].filter((t) => t > 0);
      if (deadlines.length === 0 || Math.min(...deadlines) > ctx.now) return;
      timeoutWorkflow(ctx, closeEnv);
      return;
    }
    case 'workflow-backoff':
      if (!ms.backoffPending) return;
      ms.backoffPending = false;
      ctx.requestWorkflowTask();
      return;
    case 'workflow-task-retry':
      // A new event (a signal, an update) already brought a workflow task, or the run moved on.
      if (ms.workflowTask || ms.workflowTaskFailureStreak !== task.failureStreak) return;
      ctx.requestWorkflowTask();
      return;
    default:
      assertNever(task, 'timer task');
  }
}
