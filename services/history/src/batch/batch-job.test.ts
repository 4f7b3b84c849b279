/**
 * A batch job's step is safe to run again: a crash after a step chose (and committed) its targets
 * and acted on some of them re-runs the step on the same targets, affecting and counting each once;
 * a stale step task does nothing.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { EventType, temporal, toNumber } from '@hourglass/common';
import { SqlSearchBackend, VisibilitySearch } from '@hourglass/visibility';
import { TaskCategories } from '../queues/task-categories';
import { createTestEngine, eventually, type TestEngine } from '../testing/engine-fixture';
import type { BatchJobProgress } from '../workflow/mutable-state';
import type { BatchTask } from '../tasks';

const State = temporal.api.enums.v1.BatchOperationState;

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('batch jobs', () => {
  it('a step re-run after a crash mid-step terminates and counts each target once; a stale step does nothing', async () => {
    t = await createTestEngine();
    const engine = t;
    const ns = engine.namespace;
    const ids = ['w1', 'w2', 'w3', 'w4'];
    for (const id of ids) await engine.start(id);
    await engine.engine.startBatchOperation({
      namespaceId: ns.id,
      request: { namespace: ns.name, jobId: 'job', reason: 'unit', executions: ids.map((workflowId) => ({ workflowId })), maxOperationsPerSecond: 2, terminationOperation: {} },
    });
    const describe = () => engine.engine.describeBatchOperation({ namespaceId: ns.id, request: { namespace: ns.name, jobId: 'job' } });
    // The first step (two targets at 2/s) is due at once; the second a second later.
    await eventually(async () => toNumber((await describe()).completeOperationCount) === 2);
    const shard = engine.engine.shardFor(ns.id, 'job');
    const current = await shard.getCurrentExecution(ns.id, 'job');
    assert.ok(current);
    const key = { namespaceId: ns.id, workflowId: 'job', runId: current.runId };
    const progress = await shard.readExecution(key, (ms) => ms.batchJob.get('progress') as BatchJobProgress);
    assert.ok(progress);
    assert.deepEqual({ seq: progress.seq, listIndex: progress.listIndex, pending: progress.pending }, { seq: 2, listIndex: 2, pending: [] });

    // The crash: step 2 committed its targets, terminated w3, and died before committing its counts.
    await shard.updateExecution(key, (ctx) => {
      ctx?.ms.batchJob.set('progress', { ...progress, pending: [{ workflowId: 'w3', runId: '' }, { workflowId: 'w4', runId: '' }], listIndex: 4, exhausted: true });
    });
    await engine.engine.terminateWorkflowExecution({ namespaceId: ns.id, request: { namespace: ns.name, workflowExecution: { workflowId: 'w3' }, reason: 'unit', identity: 'batcher' } });

    engine.clock.advance(1000);
    const done = await eventually(async () => {
      const d = await describe();
      return d.state === State.BATCH_OPERATION_STATE_COMPLETED ? d : undefined;
    });
    assert.equal(toNumber(done.completeOperationCount), 4, 'w3 counted once though the re-run found it terminated');
    assert.equal(toNumber(done.failureOperationCount), 0);
    assert.equal(toNumber(done.totalOperationCount), 4);
    for (const id of ids) {
      const run = await engine.engine.describeWorkflowExecution({ namespaceId: ns.id, request: { namespace: ns.name, execution: { workflowId: id } } });
      const events = await engine.history(id, run.workflowExecutionInfo?.execution?.runId ?? '');
      assert.equal(events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED).length, 1, `${id}: terminated once`);
    }

    // A step task of an old sequence (a duplicate delivery) changes nothing.
    const historyLength = (await engine.history('job', key.runId)).length;
    const stale: BatchTask = { type: 'batch-step', seq: 2 };
    await shard.updateExecution(key, (ctx) => ctx?.addTask(TaskCategories.batch, engine.clock.now(), stale));
    engine.clock.advance(1000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await engine.history('job', key.runId)).length, historyLength, 'the stale step wrote nothing');
    assert.equal(toNumber((await describe()).completeOperationCount), 4);
  });

  it('a second job over the namespace limit is RESOURCE_EXHAUSTED', async () => {
    t = await createTestEngine();
    const engine = t;
    const ns = engine.namespace;
    await engine.start('w1');
    const start = (jobId: string) =>
      engine.engine.startBatchOperation({
        namespaceId: ns.id,
        request: { namespace: ns.name, jobId, reason: 'unit', executions: [{ workflowId: 'w1' }, { workflowId: 'w2' }, { workflowId: 'w3' }], maxOperationsPerSecond: 1, terminationOperation: {} },
      });
    await start('first');
    const search = new VisibilitySearch(new SqlSearchBackend(engine.persistence.visibility));
    await eventually(async () => toNumber((await search.count(ns, "TemporalNamespaceDivision = 'TemporalBatcher' AND ExecutionStatus = 'Running'")).count) === 1);
    await assert.rejects(start('second'), (err: Error & { code?: string }) => err.code === 'RESOURCE_EXHAUSTED' && /already runs 1 batch operation/.test(err.message));
  });
});
