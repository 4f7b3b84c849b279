/**
 * Executes visibility-category tasks: builds the run's record from its committed state (the newest
 * one, whenever the task runs) and publishes it, or publishes the run's deletion. The task is
 * acknowledged only once the bus accepted the change, so every change reaches the index at least
 * once; the record's version (the run's state transition count) makes a repeat harmless.
 */
import type { HistoryTaskRow } from '@hourglass/persistence';
import type { VisibilityPublisher } from '@hourglass/visibility';
import type { EngineContext } from '../engine-context';
import { parseVisibilityTask } from '../tasks';
import { buildVisibilityRecord, namespaceCatalog } from '../workflow/visibility';

export function createVisibilityTaskExecutor(publisher: VisibilityPublisher) {
  return (env: EngineContext) =>
    async function executeVisibilityTask(row: HistoryTaskRow): Promise<void> {
      const task = parseVisibilityTask(row);
      const key = { namespaceId: row.namespaceId, workflowId: row.workflowId, runId: row.runId };
      if (task.type === 'delete-execution') {
        await publisher.publish([{ kind: 'delete', deletion: { ...key, version: task.version }, committedAt: task.committedAt }]);
        return;
      }
      const catalog = namespaceCatalog(await env.namespaces.getById(key.namespaceId));
      const record = await env.shardFor(key.namespaceId, key.workflowId).readExecution(key, (ms) => buildVisibilityRecord(ms, catalog));
      // Deleted since: the deletion's own task removes the record.
      if (!record) return;
      await publisher.publish([{ kind: 'upsert', record, committedAt: task.committedAt }]);
    };
}

/** For engines built without visibility (unit tests of other parts): tasks are acknowledged and dropped. */
export const DISCARDING_PUBLISHER: VisibilityPublisher = { publish: async () => undefined };
