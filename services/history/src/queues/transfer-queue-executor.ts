/** Executes transfer tasks: pushes workflow tasks and activity attempts to matching. */
import { StickyWorkerUnavailableError, assertNever } from '@hourglass/common';
import type { TransferTaskRow } from '@hourglass/persistence';
import { rescheduleStickyWorkflowTask } from '../api/record-workflow-task-started/record-workflow-task-started.handler';
import type { EngineContext } from '../engine-context';
import type { TransferTask } from '../tasks';
import { isRunning } from '../workflow/mutable-state';
import { executeCancelExternal, executeCloseExecution, executeParentClosePolicy, executeSignalExternal, executeStartChild } from './cross-execution';

export function createTransferTaskExecutor(env: EngineContext) {
  return async function executeTransferTask(row: TransferTaskRow): Promise<void> {
    const task = JSON.parse(row.data) as TransferTask;
    const key = { namespaceId: row.namespaceId, workflowId: row.workflowId, runId: row.runId };
    const shard = env.shardFor(key.namespaceId, key.workflowId);
    const loaded = await shard.loadExecution(key);
    if (!loaded) return;
    const ms = loaded.ms;
    // Tasks about a run's closing run after it closed; the others only matter while it runs.
    if (task.type === 'close-execution') return executeCloseExecution(env, key, ms);
    if (task.type === 'parent-close-policy') return executeParentClosePolicy(env, key, task.children);
    if (!isRunning(ms)) return;
    switch (task.type) {
      case 'workflow-task': {
        const wft = ms.workflowTask;
        // Stale: that task was started, closed, or moved to another queue since.
        if (!wft || wft.scheduledEventId !== task.scheduledEventId || wft.startedEventId > 0 || wft.taskQueueKind !== task.taskQueueKind) return;
        try {
          await env.matching.addWorkflowTask({ ...key, taskQueueName: task.taskQueueName, kind: task.taskQueueKind, scheduledEventId: task.scheduledEventId });
        } catch (err) {
          if (!(err instanceof StickyWorkerUnavailableError)) throw err;
          await rescheduleStickyWorkflowTask(env, { namespaceId: key.namespaceId, task: { ...key, scheduledEventId: task.scheduledEventId } });
        }
        return;
      }
      case 'activity-task': {
        const activity = ms.activities[String(task.scheduledEventId)];
        if (!activity || activity.attempt !== task.attempt || activity.startedTime > 0) return;
        await env.matching.addActivityTask({ ...key, taskQueueName: task.taskQueueName, scheduledEventId: task.scheduledEventId, attempt: task.attempt });
        return;
      }
      case 'start-child':
        return executeStartChild(env, key, ms, task.initiatedEventId);
      case 'signal-external':
        return executeSignalExternal(env, key, ms, task.initiatedEventId);
      case 'cancel-external':
        return executeCancelExternal(env, key, ms, task.initiatedEventId);
      default:
        assertNever(task, 'transfer task');
    }
  };
}
