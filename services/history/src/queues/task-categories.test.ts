/**
 * A task category is a table row and an executor: a throwaway category registered by this test
 * alone has its tasks committed with the change that made them and executed at least once.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { HistoryTaskRow } from '@hourglass/persistence';
import { createTestEngine, eventually, type TestEngine } from '../testing/engine-fixture';
import type { TaskCategory } from './task-categories';

const PROBE: TaskCategory = { id: 90, name: 'probe', kind: 'immediate' };
const LATER: TaskCategory = { id: 91, name: 'probe-later', kind: 'scheduled' };

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('task categories', () => {
  it('a category registered only here gets its tasks committed with the execution and executed at least once', async () => {
    const executed: HistoryTaskRow[] = [];
    let succeed = false;
    t = await createTestEngine({
      extraTaskCategories: [
        {
          category: PROBE,
          executor: () => async (row) => {
            executed.push(row);
            // Until the test allows it the executor fails: the task must stay stored and run again.
            if (!succeed) throw new Error('probe executor is not ready');
          },
        },
      ],
    });
    const engine = t;
    const runId = await engine.start('wf-probe');
    const key = { namespaceId: engine.namespace.id, workflowId: 'wf-probe', runId };
    const shard = engine.engine.shardFor(key.namespaceId, key.workflowId);
    await shard.updateExecution(key, (ctx) => {
      ctx!.addTask(PROBE, 0, { type: 'probe', note: 'hello' } as { type: string });
    });
    // Committed in the store with the change, under its category.
    await eventually(() => executed.length >= 1);
    const stored = await engine.persistence.executions.listImmediateTasks(shard.shardId, PROBE.id, 0, 10);
    assert.equal(stored.length, 1, 'the task is stored until its executor succeeds');
    assert.equal(stored[0]?.type, 'probe');
    assert.equal(stored[0]?.runId, runId);
    assert.deepEqual(JSON.parse(stored[0]?.data ?? '{}'), { type: 'probe', note: 'hello' });
    // Executed again after the failure, then acknowledged.
    succeed = true;
    await eventually(() => executed.length >= 2, 5000);
    await eventually(async () => (await engine.persistence.executions.listImmediateTasks(shard.shardId, PROBE.id, 0, 10)).length === 0);
    assert.ok(executed.every((row) => row.categoryId === PROBE.id && row.runId === runId));
    // The standard categories never saw it.
    assert.equal((await engine.persistence.executions.listImmediateTasks(shard.shardId, 1, 0, 100)).some((row) => row.type === 'probe'), false);
  });

  it('a scheduled category fires its task when due, not before', async () => {
    const executed: HistoryTaskRow[] = [];
    t = await createTestEngine({ extraTaskCategories: [{ category: LATER, executor: () => async (row) => void executed.push(row) }] });
    const engine = t;
    const runId = await engine.start('wf-later');
    const key = { namespaceId: engine.namespace.id, workflowId: 'wf-later', runId };
    const shard = engine.engine.shardFor(key.namespaceId, key.workflowId);
    const due = engine.clock.now() + 5000;
    await shard.updateExecution(key, (ctx) => ctx!.addTask(LATER, due, { type: 'later' }));
    const stored = await engine.persistence.executions.listScheduledTasks(shard.shardId, LATER.id, Number.MAX_SAFE_INTEGER, 10);
    assert.deepEqual(stored.map((row) => [row.type, row.fireAt]), [['later', due]]);
    engine.clock.advance(4000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(executed.length, 0, 'not due yet');
    engine.clock.advance(1000);
    await eventually(() => executed.length === 1);
    assert.equal(executed[0]?.fireAt, due);
  });

  it('refuses two categories with one id', async () => {
    await assert.rejects(createTestEngine({ extraTaskCategories: [{ category: { id: 1, name: 'clash', kind: 'immediate' }, executor: () => async () => undefined }] }), /task category id 1 \(clash\) is registered twice/);
  });
});
