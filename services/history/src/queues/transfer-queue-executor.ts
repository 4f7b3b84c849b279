/** Executes transfer-category tasks: pushes workflow tasks and activity attempts to matching, and reaches other executions. */
import { StickyWorkerUnavailableError, assertNever } from '@hourglass/common';
import { versionedTaskQueueName, type DeploymentVersionRef } from '@hourglass/contracts';
import type { HistoryTaskRow } from '@hourglass/persistence';
import { rescheduleStickyWorkflowTask } from '../api/record-workflow-task-started/record-workflow-task-started.handler';
import type { EngineContext } from '../engine-context';
import { parseTransferTask } from '../tasks';
import { effectivePinnedVersion, isActivityStarted, isRunning, type MutableState } from '../workflow/mutable-state';
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
          const pending = isRunning(ms) && wft !== null && wft.scheduledEventId === task.scheduledEventId && wft.startedEventId === 0;
          const info = ms.executionInfo;
          return pending ? { pinned: pinnedVersionOf(ms), declared: info.versioningInfo, normalQueue: info.taskQueue } : undefined;
        });
        if (!current) return;
        // A sticky queue is one worker's own: only the normal queue is routed by version. A workflow
        // that moves to another version (auto-upgrade to a new current one, or an override pinning it
        // elsewhere) leaves its old worker's sticky queue, as Temporal's history does on a versioning
        // transition.
        if (task.taskQueueKind === 'sticky') {
          const target = current.pinned ?? (await env.deployments.targetVersion(key.namespaceId, { name: current.normalQueue, type: 'workflow' }, key.workflowId, undefined));
          if (target?.deploymentName !== current.declared?.deploymentName || target?.buildId !== current.declared?.buildId) {
            await rescheduleStickyWorkflowTask(env, { namespaceId: key.namespaceId, task: { ...key, scheduledEventId: task.scheduledEventId } });
            return;
          }
        }
        const queueName =
          task.taskQueueKind === 'normal' ? await routedQueueName(env, key, { name: task.taskQueueName, type: 'workflow' }, current.pinned) : task.taskQueueName;
        try {
          await env.matching.addWorkflowTask({ ...key, taskQueueName: queueName, kind: task.taskQueueKind, scheduledEventId: task.scheduledEventId });
        } catch (err) {
          if (!(err instanceof StickyWorkerUnavailableError)) throw err;
          await rescheduleStickyWorkflowTask(env, { namespaceId: key.namespaceId, task: { ...key, scheduledEventId: task.scheduledEventId } });
        }
        return;
      }
      case 'activity-task': {
        const current = await shard.readExecution(key, (ms) => {
          const activity = ms.activities.get(String(task.scheduledEventId));
          const pending = isRunning(ms) && activity !== undefined && activity.attempt === task.attempt && !isActivityStarted(activity);
          return pending ? { pinned: pinnedVersionOf(ms) } : undefined;
        });
        if (!current) return;
        const queueName = await routedQueueName(env, key, { name: task.taskQueueName, type: 'activity' }, current.pinned);
        await env.matching.addActivityTask({ ...key, taskQueueName: queueName, scheduledEventId: task.scheduledEventId, attempt: task.attempt });
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

/** The version a PINNED workflow stays on (undefined: it follows its task queue's routing). */
function pinnedVersionOf(ms: MutableState): DeploymentVersionRef | undefined {
  return effectivePinnedVersion(ms.executionInfo);
}

/** The matching queue of a task: its version's queue when its task queue is versioned, else the queue itself. */
async function routedQueueName(
  env: EngineContext,
  key: { namespaceId: string; workflowId: string },
  taskQueue: { name: string; type: 'workflow' | 'activity' },
  pinned: DeploymentVersionRef | undefined,
): Promise<string> {
  const version = await env.deployments.targetVersion(key.namespaceId, taskQueue, key.workflowId, pinned);
  return version ? versionedTaskQueueName(taskQueue.name, version) : taskQueue.name;
}
