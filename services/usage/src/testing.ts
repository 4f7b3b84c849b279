/** Test helpers: an in-memory store with namespaces and usage counters written as the history service writes them. */
import { ManualClock } from '@hourglass/common';
import { openSqlitePersistence, type NamespaceRecord, type Persistence, type UsageIncrement } from '@hourglass/persistence';

export async function usageStore(now: number): Promise<{ persistence: Persistence; clock: ManualClock }> {
  const clock = new ManualClock(now);
  const persistence = openSqlitePersistence({ path: ':memory:', clock });
  return { persistence, clock };
}

export async function addNamespace(persistence: Persistence, accountId: string, name: string): Promise<NamespaceRecord> {
  const record: NamespaceRecord = {
    id: `id-${name}`,
    name,
    accountId,
    resourceVersion: 1,
    limits: {},
    state: 'registered',
    description: '',
    ownerEmail: '',
    retentionMs: 86_400_000,
    data: {},
    createdAt: 0,
    updatedAt: 0,
  };
  await persistence.namespaces.createNamespace(record);
  return record;
}

let nextTaskId = 1;

/** Writes increments through the same path as usage tasks: a committed task, folded. */
export async function addUsage(persistence: Persistence, increments: UsageIncrement[]): Promise<void> {
  const shard = await persistence.executions.acquireShard(0, 'test');
  const taskId = nextTaskId++;
  await persistence.executions.commit({
    shardId: 0,
    rangeId: shard.rangeId,
    tasks: [{ categoryId: 4, taskId, fireAt: 0, namespaceId: 'x', workflowId: 'w', runId: 'r', type: 'usage', data: '{}' }],
  });
  await persistence.executions.foldUsageTasks(0, shard.rangeId, [{ task: { categoryId: 4, fireAt: 0, taskId }, increments }]);
}
