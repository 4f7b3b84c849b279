// Workflow updates: validator rejections change nothing and write nothing, accepted updates return
// values (also through a handle obtained later), update ids deduplicate, completed workflows refuse.
import assert from 'node:assert/strict';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { EventType, assertContiguousHistory, conformanceFile, eventsOfType, rejectionOf, uniqueName } from '../harness';
import { accountWorkflow, balanceQuery, closeSignal, depositUpdate } from '../workflows';

const file = conformanceFile({ name: 'updates' });

file.test('a validator rejects bad input and the workflow is unchanged; accepted updates return values', async (_t, env) => {
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('account') });
  assert.equal(await handle.executeUpdate(depositUpdate, { args: [10] }), 10);
  const before = (await handle.fetchHistory()).events?.length ?? 0;

  const rejected = await rejectionOf(handle.executeUpdate(depositUpdate, { args: [-5] }), 'a negative deposit');
  assert.ok(rejected instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(rejected)}`);
  assert.match(String(rejected.cause?.message), /deposit must be positive, got -5/);
  assert.equal(await handle.query(balanceQuery), 10, 'the rejected update changed nothing');

  const unknown = await rejectionOf(handle.executeUpdate('withdraw', { args: [1] }), 'an update with no handler');
  assert.ok(unknown instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(unknown)}`);
  assert.match(String(unknown.cause?.message), /withdraw/);
  const after = (await handle.fetchHistory()).events ?? [];
  assert.equal(
    eventsOfType(after, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).length,
    1,
    `rejected updates write no Accepted event (history grew from ${before} to ${after.length} events)`,
  );

  const concurrent = await Promise.all([1, 2, 3].map((n) => handle.executeUpdate(depositUpdate, { args: [n] })));
  assert.equal(Math.max(...concurrent), 16, 'each concurrent update applied once');
  assert.equal(await handle.query(balanceQuery), 16);
  await handle.signal(closeSignal);
  assert.equal(await handle.result(), 16);

  const events = await assertContiguousHistory(handle);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).length, 4, 'one Accepted per accepted update, none for rejections');
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED).length, 4);
});

file.test('startUpdate returns once accepted; its result, and a handle fetched by update id, give the value', async (_t, env) => {
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('account') });
  const updateId = uniqueName('deposit');
  const started = await handle.startUpdate(depositUpdate, { args: [5], updateId, waitForStage: WorkflowUpdateStage.ACCEPTED });
  assert.equal(started.updateId, updateId);
  assert.equal(await started.result(), 5);
  assert.equal(await env.client.workflow.getHandle(handle.workflowId).getUpdateHandle<number>(updateId).result(), 5, 'PollWorkflowExecutionUpdate finds the outcome');

  // The same update id again is the same update: its outcome is returned, it is not applied twice.
  assert.equal(await handle.executeUpdate(depositUpdate, { args: [5], updateId }), 5);
  assert.equal(await handle.query(balanceQuery), 5, 'a repeated update id is not applied again');
  await handle.signal(closeSignal);
  assert.equal(await handle.result(), 5);
  const events = await assertContiguousHistory(handle);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).length, 1);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED).length, 1);
});

file.test('an update to a completed workflow fails with not found', async (_t, env) => {
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('account') });
  await handle.signal(closeSignal);
  assert.equal(await handle.result(), 0);
  const before = (await assertContiguousHistory(handle)).length;
  const late = await rejectionOf(handle.executeUpdate(depositUpdate, { args: [1] }), 'an update to a completed workflow');
  assert.ok(late instanceof WorkflowNotFoundError, `expected WorkflowNotFoundError, got ${String(late)}`);
  assert.match(late.message, /already completed/);
  assert.equal((await assertContiguousHistory(handle)).length, before, 'nothing was appended');
});
