// Updates (validator rejections, accepted updates, async handles, completed workflows) and child
// workflows (fan-out/fan-in, parent close policies, id conflicts).
import assert from 'node:assert/strict';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { EventType, assertContiguousHistory, conformanceFile, eventually, eventsOfType, rejectionOf, uniqueName } from '../harness';
import { accountWorkflow, balanceQuery, childIdConflict, closeSignal, depositUpdate, fanOutWorkflow, longSleepChild, parentOfLongChild } from '../workflows';

const file = conformanceFile({ name: 'updates-children' });

file.test('updates: a validator rejects bad input and changes nothing; accepted updates return values', async (_t, env) => {
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('account') });
  assert.equal(await handle.executeUpdate(depositUpdate, { args: [10] }), 10);
  const rejected = await rejectionOf(handle.executeUpdate(depositUpdate, { args: [-5] }), 'a negative deposit');
  assert.ok(rejected instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(rejected)}`);
  assert.match(String((rejected as WorkflowUpdateFailedError).cause?.message), /deposit must be positive, got -5/);
  assert.equal(await handle.query(balanceQuery), 10, 'the rejected update changed nothing');

  const started = await handle.startUpdate(depositUpdate, { args: [5], waitForStage: WorkflowUpdateStage.ACCEPTED });
  assert.equal(await started.result(), 15);
  const concurrent = await Promise.all([1, 2, 3].map((n) => handle.executeUpdate(depositUpdate, { args: [n] })));
  assert.deepEqual([...concurrent].sort((a, b) => a - b).at(-1), 21, 'each update applied once');
  await handle.signal(closeSignal);
  assert.equal(await handle.result(), 21);

  const events = await assertContiguousHistory(handle);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).length, 5, 'one Accepted per accepted update, none for the rejection');
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED).length, 5);

  const late = await rejectionOf(handle.executeUpdate(depositUpdate, { args: [1] }), 'an update to a completed workflow');
  assert.ok(late instanceof WorkflowNotFoundError, `expected WorkflowNotFoundError, got ${String(late)}`);
  assert.match((late as Error).message, /already completed/);
});

file.test('fan-out of 50 child workflows and fan-in of their results', async (_t, env) => {
  const handle = await env.client.workflow.start(fanOutWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('fan-out'), args: [50] });
  assert.equal(await handle.result(), 2 * ((50 * 51) / 2));
  const events = await assertContiguousHistory(handle);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED).length, 50);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED).length, 50);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED).length, 50);
  const child = await env.client.workflow.getHandle(`${handle.workflowId}-child-7`).describe();
  assert.equal(child.status.name, 'COMPLETED');
  assert.equal(child.parentExecution?.workflowId, handle.workflowId, 'the child knows its parent');
});

for (const policy of ['TERMINATE', 'ABANDON'] as const) {
  file.test(`terminating a parent applies the ${policy} parent close policy to its child`, async (_t, env) => {
    const childId = uniqueName(`child-${policy.toLowerCase()}`);
    const parent = await env.client.workflow.start(parentOfLongChild, { taskQueue: env.taskQueue, workflowId: uniqueName('parent'), args: [childId, policy] });
    const child = env.client.workflow.getHandle(childId);
    await eventually(async () => (await child.describe()).status.name === 'RUNNING', { timeoutMs: 10_000 });
    await eventually(async () => (await parent.describe()).raw.pendingChildren?.length === 1, { timeoutMs: 10_000 });
    await parent.terminate('parent goes away');
    if (policy === 'TERMINATE') {
      await eventually(async () => (await child.describe()).status.name === 'TERMINATED', { timeoutMs: 10_000 });
    } else {
      // Give the close policy time to (wrongly) act, then check the child is untouched.
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await child.describe()).status.name, 'RUNNING');
      await child.terminate('test cleanup');
    }
    const err = await rejectionOf(parent.result(), 'the terminated parent');
    assert.ok(err instanceof WorkflowFailedError);
  });
}

file.test('a child whose id is taken by a running workflow fails to start, and the parent sees why', async (_t, env) => {
  const takenId = uniqueName('taken');
  const squatter = await env.client.workflow.start(longSleepChild, { taskQueue: env.taskQueue, workflowId: takenId });
  const parent = await env.client.workflow.start(childIdConflict, { taskQueue: env.taskQueue, workflowId: uniqueName('conflict-parent'), args: [takenId] });
  assert.equal(await parent.result(), `conflict: ${takenId}`);
  const events = await assertContiguousHistory(parent);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED).length, 1);
  assert.equal((await squatter.describe()).status.name, 'RUNNING', 'the running workflow is untouched');
  await squatter.terminate('test cleanup');
});
