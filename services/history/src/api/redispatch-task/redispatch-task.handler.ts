/**
 * Worker versioning: matching hands back a task that waited in a queue its task queue's routing no
 * longer targets (the deployment's current version changed). The task is scheduled again with a
 * transfer task of its own, whose execution routes it as any new task (a PINNED workflow's back to
 * its version, the others to the current or ramping one). A task that no longer applies (started,
 * closed, another attempt) is NOT_FOUND, and matching drops it.
 */
import { NotFoundError } from '@hourglass/common';
import type { MatchTask } from '@hourglass/contracts';
import type { EngineContext } from '../../engine-context';
import { isActivityStarted } from '../../workflow/mutable-state';
import { requireRunning } from '../shared';

export async function redispatchTask(
  env: EngineContext,
  args: { namespaceId: string; type: 'workflow' | 'activity'; task: Pick<MatchTask, 'workflowId' | 'runId' | 'scheduledEventId' | 'attempt'> },
): Promise<void> {
  const key = { namespaceId: args.namespaceId, workflowId: args.task.workflowId, runId: args.task.runId };
  await env.shardFor(key.namespaceId, key.workflowId).updateExecution(key, (maybe) => {
    const ctx = requireRunning(maybe, key);
    const scheduledEventId = args.task.scheduledEventId;
    if (args.type === 'workflow') {
      const wft = ctx.ms.workflowTask;
      if (!wft || wft.scheduledEventId !== scheduledEventId || wft.startedEventId > 0 || wft.taskQueueKind !== 'normal') throw new NotFoundError('workflow task not found');
      ctx.addTransferTask({ type: 'workflow-task', scheduledEventId, taskQueueName: wft.taskQueueName, taskQueueKind: 'normal' });
      return;
    }
    const activity = ctx.ms.activities.get(String(scheduledEventId));
    if (!activity || activity.attempt !== args.task.attempt || isActivityStarted(activity)) throw new NotFoundError('activity task not found');
    ctx.addTransferTask({ type: 'activity-task', scheduledEventId, attempt: activity.attempt, taskQueueName: activity.taskQueue });
  });
}
