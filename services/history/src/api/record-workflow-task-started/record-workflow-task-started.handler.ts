/**
 * Matching hands a scheduled workflow task to a poller: append WorkflowTaskStarted and build the
 * poll response — full history from the normal queue, partial (since the last completed task)
 * from a sticky queue.
 */
import { NotFoundError, TaskQueueKind, msToTimestamp, temporal, int64 } from '@hourglass/common';
import type { EngineContext } from '../../engine-context';
import { encodeTaskToken, type RecordWorkflowTaskStartedRequest } from '@hourglass/contracts';
import { takeUpdateRequests } from '../../workflow/updates';
import { startWorkflowTask } from '../../workflow/workflow-task';
import { requireRunning } from '../shared';

type PollResponse = temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse;

export async function recordWorkflowTaskStarted(env: EngineContext, args: RecordWorkflowTaskStartedRequest): Promise<PollResponse> {
  const key = { namespaceId: args.namespaceId, workflowId: args.task.workflowId, runId: args.task.runId };
  const shard = env.shardFor(key.namespaceId, key.workflowId);
  const started = await shard.updateExecution(key, (maybe) => {
    const ctx = requireRunning(maybe, key);
    const wft = ctx.ms.workflowTask;
    if (!wft || wft.scheduledEventId !== args.task.scheduledEventId) throw new NotFoundError('workflow task not found');
    if (wft.startedEventId > 0 && wft.requestId !== args.pollRequestId) throw new NotFoundError('workflow task already started');
    if (wft.startedEventId === 0) startWorkflowTask(ctx, { requestId: args.pollRequestId, identity: args.identity });
    const messages = takeUpdateRequests(ctx, wft.startedEventId);
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
      messages,
    };
  });
  const queries = env.queries.attachToTask(key, started.startedEventId);
  const from = args.pollKind === 'sticky' && started.previousStartedEventId > 0 ? started.previousStartedEventId + 1 : 1;
  const events = await shard.readHistory(key, from, started.startedEventId + 1, Number.MAX_SAFE_INTEGER);
  return {
    taskToken: encodeTaskToken({
      kind: 'workflow',
      ...key,
      scheduledEventId: started.scheduledEventId,
      startedEventId: started.startedEventId,
      attempt: started.attempt,
    }),
    workflowExecution: { workflowId: key.workflowId, runId: key.runId },
    workflowType: { name: started.workflowTypeName },
    previousStartedEventId: int64(started.previousStartedEventId),
    startedEventId: int64(started.startedEventId),
    attempt: started.attempt,
    history: { events },
    workflowExecutionTaskQueue: { name: started.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    scheduledTime: msToTimestamp(started.scheduledTime),
    startedTime: msToTimestamp(started.startedTime),
    ...(Object.keys(queries).length > 0 ? { queries } : {}),
    ...(started.messages.length > 0 ? { messages: started.messages } : {}),
  };
}

/**
 * The sticky queue of a scheduled workflow task is unusable (its worker is gone): clear
 * stickiness and dispatch the same task on the normal queue.
 */
export async function rescheduleStickyWorkflowTask(env: EngineContext, args: { namespaceId: string; task: { workflowId: string; runId: string; scheduledEventId: number } }): Promise<void> {
  const key = { namespaceId: args.namespaceId, workflowId: args.task.workflowId, runId: args.task.runId };
  await env.shardFor(key.namespaceId, key.workflowId).updateExecution(key, (maybe) => {
    const ctx = requireRunning(maybe, key);
    const wft = ctx.ms.workflowTask;
    if (!wft || wft.scheduledEventId !== args.task.scheduledEventId || wft.startedEventId > 0) throw new NotFoundError('workflow task not found');
    ctx.ms.sticky = null;
    ctx.markDirty();
    if (wft.taskQueueKind === 'normal') return;
    wft.taskQueueKind = 'normal';
    wft.taskQueueName = ctx.ms.executionInfo.taskQueue;
    ctx.addTransferTask({ type: 'workflow-task', scheduledEventId: wft.scheduledEventId, taskQueueName: wft.taskQueueName, taskQueueKind: 'normal' });
  });
}
