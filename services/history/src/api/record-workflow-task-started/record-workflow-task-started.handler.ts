/**
 * Matching hands a scheduled workflow task to a poller: append WorkflowTaskStarted and build the
 * poll response — full history from the normal queue, partial (since the last completed task)
 * from a sticky queue — its first page, with a token for the rest (the worker fetches it).
 */
import { HistorySettings, NotFoundError, TaskQueueKind, msToTimestamp, temporal, int64 } from '@hourglass/common';
import { encodeTaskToken, type RecordWorkflowTaskStartedRequest } from '@hourglass/contracts';
import type { EngineContext } from '../../engine-context';
import { shouldSuggestContinueAsNew } from '../../workflow/limits';
import type { StartedWorkflowTask } from '../../workflow/mutation';
import { describeStartedWorkflowTask, startWorkflowTask } from '../../workflow/workflow-task';
import type { ExecutionKey } from '@hourglass/persistence';
import { HISTORY_PAGE_BYTES, encodePageToken } from '../history-page';
import { requireRunning } from '../shared';

type PollResponse = temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse;

export async function recordWorkflowTaskStarted(env: EngineContext, args: RecordWorkflowTaskStartedRequest): Promise<PollResponse> {
  const key = { namespaceId: args.namespaceId, workflowId: args.task.workflowId, runId: args.task.runId };
  const shard = env.shardFor(key.namespaceId, key.workflowId);
  const namespace = await env.namespaces.getById(key.namespaceId);
  const started = await shard.updateExecution(key, (maybe) => {
    const ctx = requireRunning(maybe, key);
    const wft = ctx.ms.workflowTask;
    if (!wft || wft.scheduledEventId !== args.task.scheduledEventId) throw new NotFoundError('workflow task not found');
    if (wft.startedEventId > 0 && wft.requestId !== args.pollRequestId) throw new NotFoundError('workflow task already started');
    if (wft.startedEventId === 0) {
      startWorkflowTask(ctx, {
        requestId: args.pollRequestId,
        identity: args.identity,
        suggestContinueAsNew: shouldSuggestContinueAsNew(ctx, env.settings, namespace.name),
      });
    }
    return describeStartedWorkflowTask(ctx);
  });
  return workflowTaskResponse(env, namespace.name, key, started, args.pollKind);
}

/**
 * The poll response of a started workflow task: full history for a worker without the run cached
 * (normal queue), since the last completed task for its sticky worker; the first page, with a
 * token for the rest (the worker fetches it). Queries waiting for the run ride along.
 */
export async function workflowTaskResponse(env: EngineContext, namespaceName: string, key: ExecutionKey, started: StartedWorkflowTask, pollKind: 'normal' | 'sticky'): Promise<PollResponse> {
  const shard = env.shardFor(key.namespaceId, key.workflowId);
  const queries = env.queries.attachToTask(key, started.startedEventId);
  const from = pollKind === 'sticky' && started.previousStartedEventId > 0 ? started.previousStartedEventId + 1 : 1;
  const end = started.startedEventId + 1;
  const pageSize = env.settings.get(HistorySettings.historyPageSize, { namespace: namespaceName });
  const page = await shard.readHistoryPage(key, from, end, pageSize, HISTORY_PAGE_BYTES);
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
    history: { events: page.events },
    ...(page.nextEventId < end ? { nextPageToken: encodePageToken({ runId: key.runId, nextEventId: page.nextEventId }) } : {}),
    workflowExecutionTaskQueue: { name: started.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    scheduledTime: msToTimestamp(started.scheduledTime),
    startedTime: msToTimestamp(started.startedTime),
    ...(Object.keys(queries).length > 0 ? { queries } : {}),
    ...(started.messages.length > 0 ? { messages: started.messages } : {}),
  };
}

/**
 * The sticky queue of a scheduled workflow task is unusable (its worker is gone): later tasks go
 * to the normal queue, and this one is dispatched there too (it stays the task its Scheduled event
 * says; whoever polls first starts it, as in Temporal).
 */
export async function rescheduleStickyWorkflowTask(env: EngineContext, args: { namespaceId: string; task: { workflowId: string; runId: string; scheduledEventId: number } }): Promise<void> {
  const key = { namespaceId: args.namespaceId, workflowId: args.task.workflowId, runId: args.task.runId };
  await env.shardFor(key.namespaceId, key.workflowId).updateExecution(key, (maybe) => {
    const ctx = requireRunning(maybe, key);
    const wft = ctx.ms.workflowTask;
    if (!wft || wft.scheduledEventId !== args.task.scheduledEventId || wft.startedEventId > 0) throw new NotFoundError('workflow task not found');
    ctx.ms.sticky = null;
    if (wft.taskQueueKind === 'normal') return;
    ctx.addTransferTask({ type: 'workflow-task', scheduledEventId: wft.scheduledEventId, taskQueueName: ctx.ms.executionInfo.taskQueue, taskQueueKind: 'normal' });
  });
}
