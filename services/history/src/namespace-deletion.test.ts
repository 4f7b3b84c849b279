/**
 * Deleting a namespace's executions: running runs are terminated, then every run is deleted with
 * its history; other namespaces are untouched; a process started on the store picks up a deletion
 * another one never finished (the job's state is the namespace record).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SettingsRegistry, msToDuration, silentLogger } from '@hourglass/common';
import { DEFAULT_HISTORY_CONFIG } from './config';
import { HistoryEngine } from './history-engine';
import { NamespaceRegistry } from './namespace-registry';
import { RecordingMatching, completeWorkflow, createTestEngine, type TestEngine } from './testing/engine-fixture';

let t: TestEngine;
beforeEach(async () => {
  t = await createTestEngine();
});
afterEach(async () => {
  await t.close();
});

async function runsOf(namespaceId: string): Promise<string[]> {
  const keys = [];
  for (const shardId of [0, 1]) keys.push(...(await t.persistence.executions.listExecutionKeys(shardId, namespaceId, undefined, 1000)));
  return keys.map((k) => k.workflowId).sort();
}

describe('namespace deletion', () => {
  it('terminates running runs and deletes every run of the deleted namespace, in batches, and nothing else', async () => {
    const ids = Array.from({ length: 130 }, (_, i) => `wf-${i}`);
    const runIds = new Map<string, string>();
    for (const id of ids) runIds.set(id, await t.start(id));
    const firstKey = { namespaceId: t.namespace.id, workflowId: 'wf-1', runId: runIds.get('wf-1') as string };
    const shardId = t.engine.shardFor(t.namespace.id, 'wf-1').shardId;
    assert.ok((await t.persistence.executions.readHistory(shardId, firstKey, 1, 100, 100)).length > 0);
    const closed = await t.start('wf-closed');
    const { token } = await t.startWorkflowTask('wf-closed', closed);
    await t.complete(token, [completeWorkflow]);
    const other = await t.persistence.namespaces.getNamespaceByName('unit');
    assert.ok(other);
    const registry = new NamespaceRegistry(t.persistence.namespaces, t.clock);
    const keep = await registry.register({ accountId: 'test-account', name: 'kept', retentionMs: 86_400_000 });
    await t.engine.startWorkflowExecution({ namespaceId: keep.id, request: { namespace: 'kept', workflowId: 'survivor', workflowType: { name: 'T' }, taskQueue: { name: 'tq' }, requestId: 'r' } });
    assert.equal((await runsOf(t.namespace.id)).length, 131);

    await registry.update('unit', () => ({ state: 'deleted' }));
    await t.engine.onNamespaceDeleted();
    assert.deepEqual(await runsOf(t.namespace.id), [], 'every run of the deleted namespace is gone (more than one batch of 100)');
    assert.deepEqual(await runsOf(keep.id), ['survivor']);
    assert.deepEqual(await t.persistence.executions.readHistory(shardId, firstKey, 1, 100, 100), [], 'with its history');
    assert.equal(await t.persistence.executions.getExecution(shardId, firstKey), undefined);
  });

  it('deletes the namespace\'s worker deployments too (an entity row, not a run)', async () => {
    await t.start('a');
    await t.engine.registerWorkerDeploymentVersion({ namespaceId: t.namespace.id, version: { deploymentName: 'orders', buildId: 'v1' }, taskQueue: { name: 'tq', type: 'workflow' }, identity: 'w' });
    assert.deepEqual(await runsOf(t.namespace.id), ['a', 'temporal-sys-worker-deployments']);
    const registry = new NamespaceRegistry(t.persistence.namespaces, t.clock);
    await registry.update('unit', () => ({ state: 'deleted' }));
    await t.engine.onNamespaceDeleted();
    assert.deepEqual(await runsOf(t.namespace.id), []);
  });

  it("deletes the namespace's schedules and standalone activities too (entity rows, not runs)", async () => {
    await t.start('a');
    await t.engine.createSchedule({
      namespaceId: t.namespace.id,
      request: {
        namespace: 'unit',
        scheduleId: 'nightly',
        requestId: 'create-nightly',
        schedule: { spec: { interval: [{ interval: msToDuration(3_600_000) }] }, action: { startWorkflow: { workflowId: 'nightly-run', workflowType: { name: 'T' }, taskQueue: { name: 'tq' } } } },
      },
    });
    await t.engine.startActivityExecution({
      namespaceId: t.namespace.id,
      request: { namespace: 'unit', activityId: 'charge', activityType: { name: 'Charge' }, taskQueue: { name: 'tq' }, requestId: 'start-charge', startToCloseTimeout: msToDuration(60_000) },
    });
    assert.deepEqual(await runsOf(t.namespace.id), ['a', 'temporal-sys-activity:charge', 'temporal-sys-scheduler:nightly']);
    const registry = new NamespaceRegistry(t.persistence.namespaces, t.clock);
    await registry.update('unit', () => ({ state: 'deleted' }));
    await t.engine.onNamespaceDeleted();
    assert.deepEqual(await runsOf(t.namespace.id), []);
  });

  it('a process started on the store finishes a deletion that no process finished', async () => {
    for (const id of ['a', 'b', 'c']) await t.start(id);
    // Marked deleted in the store, and nobody kicked the job (the process died right after).
    await t.persistence.namespaces.updateNamespace({ ...t.namespace, state: 'deleted', resourceVersion: t.namespace.resourceVersion + 1 });
    assert.equal((await runsOf(t.namespace.id)).length, 3);
    await t.engine.stop();
    const engine = new HistoryEngine({
      persistence: t.persistence,
      namespaces: new NamespaceRegistry(t.persistence.namespaces, t.clock),
      matching: new RecordingMatching(),
      clock: t.clock,
      config: { ...DEFAULT_HISTORY_CONFIG, numHistoryShards: 2 },
      logger: silentLogger(),
      settings: new SettingsRegistry({}),
    });
    await engine.start();
    try {
      await engine.onNamespaceDeleted();
      assert.deepEqual(await runsOf(t.namespace.id), []);
    } finally {
      await engine.stop();
    }
  });
});
