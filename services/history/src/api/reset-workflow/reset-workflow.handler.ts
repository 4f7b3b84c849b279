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
import { generateActivityTasks } from '../../workflow/activity';
import { generateChildTask } from '../../workflow/children';
import { isChildStarted, type ActivityInfo } from '../../workflow/mutable-state';
import { generateRunTimeoutTask } from '../../workflow/start';
import { generateTimerTask } from '../../workflow/timers';
import { terminateWorkflow } from '../../workflow/close';
import { eventTypeName } from '../../workflow/events';
import { MutationContext } from '../../workflow/mutation';
import { rebuildMutableState } from '../../workflow/rebuild';
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
  return shard.updateWorkflow(baseKey.namespaceId, baseKey.workflowId, async (tx) => {
    const base = await tx.run(baseKey.runId);
    if (!base) throw executionNotFound(baseKey.workflowId, baseKey.runId);
    const current = await tx.current();
    if (current && current.createRequestId === requestId) return { runId: current.runId };

    const finishId = toNumber(req.workflowTaskFinishEventId);
    const history = await shard.readHistoryRange(baseKey, 1, base.ms.nextEventId);
    const finish = history[finishId - 1];
    const started = history[finishId - 2];
    if (!finish || !FINISH_TYPES.has(finish.eventType ?? 0) || !started?.workflowTaskStartedEventAttributes) {
      const what = finish ? `a ${eventTypeName(finish.eventType)} event` : `not an event of run ${baseKey.runId} (it has ${history.length})`;
      throw new InvalidArgumentError(
        `workflowTaskFinishEventId ${finishId} is ${what}; reset needs the id of a WorkflowTaskCompleted, WorkflowTaskFailed or WorkflowTaskTimedOut event`,
      );
    }
    const now = tx.now;
    const runId = randomUUID();
    const prefix = history.slice(0, finishId - 1);
    const ms = rebuildMutableState(prefix, {
      namespaceId: baseKey.namespaceId,
      workflowId: baseKey.workflowId,
      runId,
      startRequestId: requestId,
      identity: req.identity || base.ms.executionInfo.identity,
    });
    // The new run starts now (its first events are the old run's).
    const info = ms.executionInfo;
    info.startTime = now;
    info.executionTime = now;
    info.runExpirationTime = info.workflowRunTimeoutMs > 0 ? now + info.workflowRunTimeoutMs : 0;
    ms.rememberRequestId(requestId);
    const ctx = new MutationContext(ms, now);
    ctx.adoptEvents(prefix);
    ctx.bill('workflowReset');
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
        if (signal) ctx.addEvent('workflowExecutionSignaledEventAttributes', { ...signal }, { unbilled: true });
      }
    }
    ctx.requestWorkflowTask();
    resumePendingWork(ctx);
    if (current?.running) {
      const running = await tx.run(current.runId);
      if (running) terminateWorkflow(running, { reason: `reset to run ${runId}: ${req.reason ?? ''}`, identity: req.identity ?? '', retentionMs: namespace.retentionMs });
    }
    tx.startRun(ctx);
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
  for (const id of [...ms.activities.values()].map((a) => String(a.scheduledEventId))) {
    const activity = ms.activities.mutable(id) as ActivityInfo;
    activity.scheduledTime = ctx.now;
    generateActivityTasks(ctx, activity);
  }
  for (const timer of ms.timers.values()) generateTimerTask(ctx, timer);
  for (const child of ms.children.values()) {
    if (!isChildStarted(child)) generateChildTask(ctx, child.initiatedEventId);
  }
  for (const request of ms.externalSignals.values()) ctx.addTransferTask({ type: 'signal-external', initiatedEventId: request.initiatedEventId });
  for (const request of ms.externalCancels.values()) ctx.addTransferTask({ type: 'cancel-external', initiatedEventId: request.initiatedEventId });
  generateRunTimeoutTask(ctx);
}
