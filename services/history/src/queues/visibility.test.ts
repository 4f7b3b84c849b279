/**
 * The visibility pipeline inside history: a commit that changes what search shows (start, memo,
 * close, deletion) carries one visibility task; its executor publishes the run's record, built
 * from committed state, through the in-process bus to the SQL index. Commits that change nothing
 * visible (a signal) cost no task.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CommandType, temporal } from '@hourglass/common';
import { encodeSearchAttributeValue } from '@hourglass/visibility';
import { createTestEngine, eventually, type TestEngine } from '../testing/engine-fixture';

let t: TestEngine;
beforeEach(async () => {
  t = await createTestEngine({ retentionMs: 1000 });
});
afterEach(async () => {
  await t.close();
});

const applied = () => t.indexer.lag.snapshot().count;

function memoPayload(text: string): temporal.api.common.v1.IPayload {
  return { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(text)) };
}

describe('visibility records', () => {
  it('start, a signal, a memo change and the close: one record per visible change, the newest state indexed', async () => {
    const runId = await t.start('wf-vis', { memo: { fields: { note: memoPayload('first') } } });
    const started = await eventually(() => t.persistence.visibility.get(t.namespace.id, runId));
    assert.equal(started.workflowId, 'wf-vis');
    assert.equal(started.workflowType, 'TestWorkflow');
    assert.equal(started.taskQueue, 'tq');
    assert.equal(started.status, 1);
    assert.equal(started.closeTime, null);
    assert.equal(started.startTime, t.clock.now());
    const memo = temporal.api.common.v1.Memo.decode(started.memo as Uint8Array);
    assert.equal(Buffer.from(memo.fields.note?.data ?? []).toString(), '"first"');
    assert.equal(applied(), 1);

    // A signal changes nothing search shows: no visibility task.
    await t.engine.signalWorkflowExecution({
      namespaceId: t.namespace.id,
      request: { namespace: t.namespace.name, workflowExecution: { workflowId: 'wf-vis', runId }, signalName: 's', identity: 'test', requestId: 'sig-1' },
    });

    // The workflow upserts its memo (ModifyWorkflowProperties).
    const { token } = await t.startWorkflowTask('wf-vis', runId);
    await t.complete(token, [
      { commandType: CommandType.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES, modifyWorkflowPropertiesCommandAttributes: { upsertedMemo: { fields: { note: memoPayload('second') } } } },
    ]);
    const upserted = await eventually(async () => {
      const r = await t.persistence.visibility.get(t.namespace.id, runId);
      return r && r.memo && Buffer.from(temporal.api.common.v1.Memo.decode(r.memo).fields.note?.data ?? []).toString() === '"second"' ? r : undefined;
    });
    assert.ok(upserted.version > started.version);
    assert.equal(applied(), 2, 'the signal and the workflow task start published nothing');

    t.clock.advance(250);
    await t.engine.terminateWorkflowExecution({ namespaceId: t.namespace.id, request: { workflowExecution: { workflowId: 'wf-vis', runId }, reason: 'done' } });
    const closed = await eventually(async () => {
      const r = await t.persistence.visibility.get(t.namespace.id, runId);
      return r?.status === 5 ? r : undefined;
    });
    assert.equal(closed.closeTime, t.clock.now());
    assert.equal(closed.executionDuration, 250 * 1_000_000);
    assert.ok(closed.historyLength >= 5, String(closed.historyLength));
    assert.ok(closed.version > upserted.version);
    assert.equal(applied(), 3);
  });

  it('retention deletes the visibility row with the run', async () => {
    const runId = await t.start('wf-retained');
    await t.engine.terminateWorkflowExecution({ namespaceId: t.namespace.id, request: { workflowExecution: { workflowId: 'wf-retained' }, reason: 'done' } });
    await eventually(async () => (await t.persistence.visibility.get(t.namespace.id, runId))?.status === 5);
    t.clock.advance(1000);
    await eventually(async () => (await t.persistence.visibility.get(t.namespace.id, runId)) === undefined);
  });

  it('DeleteWorkflowExecution removes a closed run and its record at once, and a running one after terminating it', async () => {
    const closedRun = await t.start('wf-del-closed');
    await t.engine.terminateWorkflowExecution({ namespaceId: t.namespace.id, request: { workflowExecution: { workflowId: 'wf-del-closed' }, reason: 'done' } });
    await eventually(async () => (await t.persistence.visibility.get(t.namespace.id, closedRun))?.status === 5);
    await t.engine.deleteWorkflowExecution({ namespaceId: t.namespace.id, request: { namespace: t.namespace.name, workflowExecution: { workflowId: 'wf-del-closed', runId: closedRun } } });
    await eventually(async () => (await t.persistence.visibility.get(t.namespace.id, closedRun)) === undefined);
    const shard = t.engine.shardFor(t.namespace.id, 'wf-del-closed');
    assert.equal(await t.persistence.executions.getExecution(shard.shardId, { namespaceId: t.namespace.id, workflowId: 'wf-del-closed', runId: closedRun }), undefined);

    const runningRun = await t.start('wf-del-running');
    await eventually(() => t.persistence.visibility.get(t.namespace.id, runningRun));
    await t.engine.deleteWorkflowExecution({ namespaceId: t.namespace.id, request: { namespace: t.namespace.name, workflowExecution: { workflowId: 'wf-del-running' } } });
    await eventually(async () => (await t.persistence.visibility.get(t.namespace.id, runningRun)) === undefined);
    const shard2 = t.engine.shardFor(t.namespace.id, 'wf-del-running');
    await eventually(async () => (await t.persistence.executions.getExecution(shard2.shardId, { namespaceId: t.namespace.id, workflowId: 'wf-del-running', runId: runningRun })) === undefined);

    await assert.rejects(
      t.engine.deleteWorkflowExecution({ namespaceId: t.namespace.id, request: { namespace: t.namespace.name, workflowExecution: { workflowId: 'wf-never' } } }),
      (err: { code?: string }) => err.code === 'NOT_FOUND',
    );
  });

  it('search attributes: registered ones are checked and indexed by type, unregistered ones refused at start and in workflow code', async () => {
    // Register Tier (Keyword) and Score (Int); the registry's cache is refreshed after its TTL.
    await t.persistence.namespaces.updateNamespace({ ...t.namespace, searchAttributes: { Tier: 'Keyword', Score: 'Int' } });
    t.clock.advance(11_000);
    const runId = await t.start('wf-sa', { searchAttributes: { indexedFields: { Tier: encodeSearchAttributeValue('gold', 'Keyword'), Score: encodeSearchAttributeValue(7, 'Int') } } });
    const record = await eventually(() => t.persistence.visibility.get(t.namespace.id, runId));
    assert.deepEqual(record.searchAttributes, { Tier: 'gold', Score: 7 });

    await assert.rejects(
      t.start('wf-sa-bad', { searchAttributes: { indexedFields: { Nope: encodeSearchAttributeValue('x', 'Keyword') } } }),
      (err: { code?: string; message: string }) => err.code === 'INVALID_ARGUMENT' && /search attribute "Nope" is not defined/.test(err.message),
    );
    await assert.rejects(
      t.start('wf-sa-bad', { searchAttributes: { indexedFields: { Score: encodeSearchAttributeValue('seven', 'Keyword') } } }),
      (err: { code?: string; message: string }) => err.code === 'INVALID_ARGUMENT' && /Score/.test(err.message),
    );
    assert.equal(await t.engine.shardFor(t.namespace.id, 'wf-sa-bad').getCurrentExecution(t.namespace.id, 'wf-sa-bad'), undefined, 'nothing was created');

    const { token } = await t.startWorkflowTask('wf-sa', runId);
    await assert.rejects(
      t.complete(token, [
        {
          commandType: CommandType.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
          upsertWorkflowSearchAttributesCommandAttributes: { searchAttributes: { indexedFields: { Nope: encodeSearchAttributeValue('x', 'Keyword') } } },
        },
      ]),
      /Nope/,
    );
    const failed = (await t.history('wf-sa', runId)).find((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    assert.equal(failed?.workflowTaskFailedEventAttributes?.cause, temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES);
    assert.deepEqual((await t.persistence.visibility.get(t.namespace.id, runId))?.searchAttributes, { Tier: 'gold', Score: 7 }, 'the record is unchanged');
  });
});
