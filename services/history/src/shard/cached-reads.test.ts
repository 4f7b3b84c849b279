/**
 * The reads that follow a change are served from the run's cached event tail: no store round trip,
 * and exactly the events the store holds.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { SettingOverrides } from '@hourglass/common';
import { completeWorkflow, createTestEngine, scheduleActivity, type TestEngine } from '../testing/engine-fixture';
import { encodeEvent } from '../workflow/events';

let engine: TestEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

/** An engine whose store counts its history reads. */
async function countingEngine(settings: SettingOverrides = {}): Promise<{ engine: TestEngine; reads: () => number }> {
  engine = await createTestEngine({ settings });
  const store = engine.persistence.executions;
  const read = store.readHistory.bind(store);
  let count = 0;
  store.readHistory = (...args) => {
    count += 1;
    return read(...args);
  };
  return { engine, reads: () => count };
}

/** A run through a workflow task, an activity and its completion; the reads a worker's steps cause. */
async function singleActivityRun(t: TestEngine, workflowId: string): Promise<string> {
  const runId = await t.start(workflowId);
  const first = await t.startWorkflowTask(workflowId, runId);
  assert.ok((first.res.history?.events?.length ?? 0) >= 3, 'the poll response carries the history so far');
  await t.complete(first.token, [scheduleActivity('a1')]);
  const attempt = await t.startActivity(workflowId, runId, 5);
  await t.engine.respondActivityTaskCompleted({ target: { by: 'token', token: attempt }, result: null, identity: 'w' });
  const second = await t.startWorkflowTask(workflowId, runId);
  await t.complete(second.token, [completeWorkflow]);
  return runId;
}

describe('cached event tail', () => {
  it('serves poll responses, the activity’s scheduled event and the history of a short run without reading the store', async () => {
    const { engine: t, reads } = await countingEngine();
    const runId = await singleActivityRun(t, 'wf-cached');
    await t.history('wf-cached', runId);
    assert.equal(reads(), 0, 'every read after a change came from the cached tail');
  });

  it('serves exactly the events the store holds', async () => {
    const { engine: t } = await countingEngine();
    const runId = await singleActivityRun(t, 'wf-same');
    const served = await t.history('wf-same', runId);
    const stored = await t.persistence.executions.readHistory(t.engine.shardFor(t.namespace.id, 'wf-same').shardId, { namespaceId: t.namespace.id, workflowId: 'wf-same', runId }, 1, 1000, 1000);
    assert.equal(served.length, stored.length);
    served.forEach((event, i) => assert.deepEqual(Buffer.from(encodeEvent(event)), Buffer.from(stored[i]?.data ?? []), `event ${i + 1}`));
  });

  it('with the tail off the same steps read the store', async () => {
    const { engine: t, reads } = await countingEngine({ 'history.cachedHistoryTailEvents': [{ value: 0 }] });
    await singleActivityRun(t, 'wf-uncached');
    assert.ok(reads() >= 3, `the poll responses and the activity start read the store (${reads()} reads)`);
  });
});
