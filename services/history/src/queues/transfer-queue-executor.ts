/** Executes transfer-category tasks: pushes workflow tasks and activity attempts to matching, and reaches other executions. */
import { StickyWorkerUnavailableError, assertNever } from '@hourglass/common';
import type { HistoryTaskRow } from '@hourglass/persistence';
import { rescheduleStickyWorkflowTask } from '../api/record-workflow-task-started/record-workflow-task-started.handler';
import type { EngineContext } from '../engine-context';
import { parseTransferTask } from '../tasks';
import { isActivityStarted, isRunning } from '../workflow/mutable-state';
import { executeCancelExternal, executeCloseExecution, executeParentClosePolicy, executeSignalExternal, executeStartChild } from './cross-execution';

export function createTransferTaskExecutor(env: EngineContext) {
  return async function executeTransferTask(row: HistoryTaskRow): Promise<void> {
    const task = parseTransferTask(row);
    const key = { namespaceId: row.namespaceId, workflowId: row.workflowId, runId: row.runId };
    const shard = env.shardFor(key.namespaceId, key.workflowId);
    switch (task.type) {
      // Tasks about a run's closing run after it closed; the others only matter while it runs.
      case 'close-execution':
        return executeCloseExecution(env, key);
      case 'parent-close-policy':
        return executeParentClosePolicy(env, key, task.children);
      case 'workflow-task': {
        // Stale: the run closed, or that task was started or closed since.
        const current = await shard.readExecution(key, (ms) => {
          const wft = ms.workflowTask;
          return isRunning(ms) && wft !== null && wft.scheduledEventId === task.scheduledEventId && wft.startedEventId === 0;
        });
        if (!current) return;
        try {
          await env.matching.addWorkflowTask({ ...key, taskQueueName: task.taskQueueName, kind: task.taskQueueKind, scheduledEventId: task.scheduledEventId });
        } catch (err) {
          if (!(err instanceof StickyWorkerUnavailableError)) throw err;
          await rescheduleStickyWorkflowTask(env, { namespaceId: key.namespaceId, task: { ...key, scheduledEventId: task.scheduledEventId } });
        }
        return;
      }
      case 'activity-task': {
        const current = await shard.readExecution(key, (ms) => {
          const activity = ms.activities.get(String(task.scheduledEventId));
          return isRunning(ms) && activity !== undefined && activity.attempt === task.attempt && !isActivityStarted(activity);
        });
        if (!current) return;
        await env.matching.addActivityTask({ ...key, taskQueueName: task.taskQueueName, scheduledEventId: task.scheduledEventId, attempt: task.attempt });
        return;
      }
      case 'start-child':
        return executeStartChild(env, key, task.initiatedEventId);
      case 'signal-external':
        return executeSignalExternal(env, key, task.initiatedEventId);
      case 'cancel-external':
        return executeCancelExternal(env, key, task.initiatedEventId);
      default:
        assertNever(task, 'transfer task');
    }
  };
}
