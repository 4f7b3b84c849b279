/**
 * Retention deletes a closed run through the one mutation helper (workflow lock, ownership,
 * conditional commit): a signal racing the deletion either lands on a live run or finds the
 * closed run gone — never a half-deleted execution.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { temporal } from '@hourglass/common';
import { TaskCategories } from './task-categories';
import { createTestEngine, eventually, type TestEngine } from '../testing/engine-fixture';

const RETENTION_MS = 1000;

let t: TestEngine;
beforeEach(async () => {
  // Every timer in memory from its commit (the periodic scan that brings later ones in runs on the real clock).
  t = await createTestEngine({ retentionMs: RETENTION_MS, settings: { 'history.timerLookahead': [{ value: 1000 * 86_400_000 }] } });
});
afterEach(async () => {
  await t.close();
});

function signal(workflowId: string, runId = '') {
  return t.engine.signalWorkflowExecution({
    namespaceId: t.namespace.id,
    request: { namespace: t.namespace.name, workflowExecution: { workflowId, runId }, signalName: 's', identity: 'test', requestId: `sig-${Math.random()}` },
  });
}

/**
 * Nothing of the run is left in the store: execution row (and its items), history, current pointer.
 * Its tasks stay until they come up (as Temporal's do): once the clock passes the last of them, each
 * has found no run, done nothing, brought nothing back, and is gone.
 */
async function assertGone(workflowId: string, runId: string): Promise<void> {
  const key = { namespaceId: t.namespace.id, workflowId, runId };
  const shardId = t.engine.shardFor(key.namespaceId, workflowId).shardId;
  const store = t.persistence.executions;
  const rowsAreGone = async (): Promise<void> => {
    assert.equal(await store.getExecution(shardId, key), undefined, 'no execution row');
    assert.deepEqual(await store.readHistory(shardId, key, 1, Number.MAX_SAFE_INTEGER, 10), [], 'no history');
  };
  await rowsAreGone();
  const tasksOfRun = async () => {
    const immediate = await store.listImmediateTasks(shardId, TaskCategories.transfer.id, 0, 1000);
    const scheduled = await store.listScheduledTasks(shardId, TaskCategories.timer.id, Number.MAX_SAFE_INTEGER, 1000);
    return [...immediate, ...scheduled].filter((row) => row.runId === runId);
  };
  const left = await tasksOfRun();
  assert.ok(left.some((row) => row.type === 'storage-accrual'), "the run's next storage accrual is among its tasks left");
  const lastFireAt = Math.max(t.clock.now(), ...left.map((row) => row.fireAt));
  t.clock.advance(lastFireAt - t.clock.now() + 1);
  await eventually(async () => (await tasksOfRun()).length === 0);
  await rowsAreGone();
}

describe('retention', () => {
  it('a signal racing the deletion of a closed run fails cleanly and the run is gone whole', async () => {
    const runId = await t.start('wf-retention');
    await t.engine.terminateWorkflowExecution({ namespaceId: t.namespace.id, request: { workflowExecution: { workflowId: 'wf-retention' }, reason: 'done' } });
    // The deletion timer is due; a signal arrives at the same moment.
    t.clock.advance(RETENTION_MS);
    const raced = await Promise.allSettled([signal('wf-retention', runId), signal('wf-retention')]);
    for (const outcome of raced) {
      assert.equal(outcome.status, 'rejected', 'a closed (or deleted) run takes no signal');
      assert.equal((outcome.reason as { code?: string }).code, 'NOT_FOUND');
    }
    await eventually(async () => (await t.persistence.executions.getExecution(t.engine.shardFor(t.namespace.id, 'wf-retention').shardId, { namespaceId: t.namespace.id, workflowId: 'wf-retention', runId })) === undefined);
    await assertGone('wf-retention', runId);
    const current = await t.engine.shardFor(t.namespace.id, 'wf-retention').getCurrentExecution(t.namespace.id, 'wf-retention');
    assert.equal(current, undefined, 'the pointer at the deleted run is gone too');
  });

  it('a signal to the live run of the same workflow id wins; only the closed run is deleted', async () => {
    const oldRun = await t.start('wf-two-runs');
    await t.engine.terminateWorkflowExecution({ namespaceId: t.namespace.id, request: { workflowExecution: { workflowId: 'wf-two-runs' }, reason: 'done' } });
    const liveRun = await t.start('wf-two-runs', { requestId: 'req-second-run' });
    t.clock.advance(RETENTION_MS);
    await signal('wf-two-runs');
    await eventually(async () => (await t.persistence.executions.getExecution(t.engine.shardFor(t.namespace.id, 'wf-two-runs').shardId, { namespaceId: t.namespace.id, workflowId: 'wf-two-runs', runId: oldRun })) === undefined);
    await assertGone('wf-two-runs', oldRun);
    const events = await t.history('wf-two-runs', liveRun);
    assert.ok(events.some((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), 'the live run has the signal');
    const current = await t.engine.shardFor(t.namespace.id, 'wf-two-runs').getCurrentExecution(t.namespace.id, 'wf-two-runs');
    assert.equal(current?.runId, liveRun);
  });
});
