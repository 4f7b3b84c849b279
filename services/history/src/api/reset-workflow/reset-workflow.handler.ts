/**
 * ResetWorkflowExecution: a new run whose history is the old run's up to a workflow task, then
 * WorkflowTaskFailed(RESET_WORKFLOW) (the worker reseeds its randomness from it), then — by
 * default — the signals the old run received after that point, then a new workflow task. The
 * running run of the workflow is terminated in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import { EventType, InvalidArgumentError, WorkflowTaskFailedCause, int64, temporal, toNumber } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import type { RunWrite } from '../../shard/shard-context';
import { dispatchActivityAttempt } from '../../workflow/activity';
import { terminateWorkflow } from '../../workflow/close';
import { eventTypeName } from '../../workflow/events';
import { MutationContext } from '../../workflow/mutation';
import { rebuildMutableState } from '../../workflow/rebuild';
import { scheduleWorkflowTask } from '../../workflow/workflow-task';
import { executionNotFound, resolveRun } from '../shared';

type Request = temporal.api.workflowservice.v1.IResetWorkflowExecutionRequest;

const FINISH_TYPES: ReadonlySet<number> = new Set([
  EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
]);

export async function resetWorkflowExecution(env: EngineContext, namespace: NamespaceRecord, req: Request): Promise<{ runId: string }> {
  const baseKey = await resolveRun(env, namespace.id, req.workflowExecution?.workflowId ?? '', req.workflowExecution?.runId);
  const shard = env.shardFor(baseKey.namespaceId, baseKey.workflowId);
  const requestId = req.requestId || randomUUID();
  return shard.withWorkflowLock(baseKey.namespaceId, baseKey.workflowId, async () => {
    const base = await shard.loadExecution(baseKey);
    if (!base) throw executionNotFound(baseKey.workflowId, baseKey.runId);
    const current = await shard.getCurrentExecution(baseKey.namespaceId, baseKey.workflowId);
    if (current && current.createRequestId === requestId) return { runId: current.runId };

    const finishId = toNumber(req.workflowTaskFinishEventId);
    const history = await shard.readHistory(baseKey, 1, base.ms.nextEventId, Number.MAX_SAFE_INTEGER);
    const finish = history[finishId - 1];
    const started = history[finishId - 2];
    if (!finish || !FINISH_TYPES.has(finish.eventType ?? 0) || !started?.workflowTaskStartedEventAttributes) {
      const what = finish ? `a ${eventTypeName(finish.eventType)} event` : `not an event of run ${baseKey.runId} (it has ${history.length})`;
      throw new InvalidArgumentError(
        `workflowTaskFinishEventId ${finishId} is ${what}; reset needs the id of a WorkflowTaskCompleted, WorkflowTaskFailed or WorkflowTaskTimedOut event`,
      );
    }
    const now = env.clock.now();
    const runId = randomUUID();
    const prefix = history.slice(0, finishId - 1);
    const ms = rebuildMutableState(prefix, {
      ...base.ms.executionInfo,
      runId,
      startTime: now,
      executionTime: now,
      startRequestId: requestId,
      identity: req.identity ?? base.ms.executionInfo.identity,
      runExpirationTime: base.ms.executionInfo.workflowRunTimeoutMs > 0 ? now + base.ms.executionInfo.workflowRunTimeoutMs : 0,
      stateTransitionCount: 0,
    });
    ms.requestIds = [requestId];
    const ctx = new MutationContext(ms, now);
    ctx.adoptEvents(prefix);
    ctx.addEvent('workflowTaskFailedEventAttributes', {
      scheduledEventId: started.workflowTaskStartedEventAttributes.scheduledEventId ?? int64(0),
      startedEventId: started.eventId ?? int64(0),
      cause: WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
      failure: { message: req.reason || 'reset', source: 'Server', resetWorkflowFailureInfo: {} },
      identity: req.identity ?? '',
      baseRunId: baseKey.runId,
      newRunId: runId,
    });
    if (reappliesSignals(req)) {
      for (const event of history.slice(finishId - 1)) {
        const signal = event.workflowExecutionSignaledEventAttributes;
        if (signal) ctx.addEvent('workflowExecutionSignaledEventAttributes', { ...signal });
      }
    }
    scheduleWorkflowTask(ctx);
    resumePendingWork(ctx);
    const writes: RunWrite[] = [];
    if (current?.running) {
      const running = current.runId === baseKey.runId ? base : await shard.loadExecution(current);
      if (running) {
        const terminate = new MutationContext(running.ms, now);
        terminateWorkflow(terminate, { reason: `reset to run ${runId}: ${req.reason ?? ''}`, identity: req.identity ?? '', retentionMs: namespace.retentionMs });
        writes.push({ ctx: terminate, loadedFrom: running.record });
      }
    }
    writes.push({ ctx });
    await shard.commitRuns(writes, current?.runId ?? null);
    return { runId };
  });
}

function reappliesSignals(req: Request): boolean {
  const type = req.resetReapplyType ?? 0;
  if (type === temporal.api.enums.v1.ResetReapplyType.RESET_REAPPLY_TYPE_NONE) return false;
  return !(req.resetReapplyExcludeTypes ?? []).includes(temporal.api.enums.v1.ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL);
}

/** The new run re-arms what was pending at the reset point: activities, timers, children, external requests, its run timeout. */
function resumePendingWork(ctx: MutationContext): void {
  const ms = ctx.ms;
  for (const activity of Object.values(ms.activities)) {
    activity.scheduledTime = ctx.now;
    if (activity.scheduleToCloseTimeoutMs > 0) {
      ctx.addTimerTask(ctx.now + activity.scheduleToCloseTimeoutMs, {
        type: 'activity-timeout',
        scheduledEventId: activity.scheduledEventId,
        attempt: 1,
        timeoutType: temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE,
      });
    }
    dispatchActivityAttempt(ctx, activity);
  }
  for (const timer of Object.values(ms.timers)) {
    ctx.addTimerTask(Math.max(ctx.now, timer.expiryTime), { type: 'user-timer', timerId: timer.timerId, startedEventId: timer.startedEventId });
  }
  for (const child of Object.values(ms.children)) {
    if (child.startedEventId === 0) ctx.addTransferTask({ type: 'start-child', initiatedEventId: child.initiatedEventId });
  }
  for (const request of Object.values(ms.externalSignals)) ctx.addTransferTask({ type: 'signal-external', initiatedEventId: request.initiatedEventId });
  for (const request of Object.values(ms.externalCancels)) ctx.addTransferTask({ type: 'cancel-external', initiatedEventId: request.initiatedEventId });
  const info = ms.executionInfo;
  const deadlines = [info.executionExpirationTime, info.runExpirationTime].filter((t) => t > 0);
  if (deadlines.length > 0) ctx.addTimerTask(Math.min(...deadlines), { type: 'workflow-timeout' });
}
