// Child workflows: fan-out/fan-in, parent close policies when the parent is terminated, and a child
// whose workflow id is already taken.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { EventType, assertContiguousHistory, conformanceFile, eventually, eventsOfType, rejectionOf, uniqueName } from '../harness';
import { childIdConflict, fanOutWorkflow, longSleepChild, parentOfLongChild } from '../workflows';

const file = conformanceFile({ name: 'children' });

file.test('fan-out of 50 child workflows and fan-in of their results', async (_t, env) => {
  const handle = await env.client.workflow.start(fanOutWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('fan-out'), args: [50] });
  assert.equal(await handle.result(), 2 * ((50 * 51) / 2));
  const events = await assertContiguousHistory(handle);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED).length, 50);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED).length, 50);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED).length, 50);
  const children = await Promise.all(
    Array.from({ length: 50 }, (_, i) => env.client.workflow.getHandle(`${handle.workflowId}-child-${i + 1}`).describe()),
  );
  for (const child of children) {
    assert.equal(child.status.name, 'COMPLETED', `${child.workflowId}`);
    assert.equal(child.parentExecution?.workflowId, handle.workflowId, `${child.workflowId} knows its parent`);
  }
});

for (const policy of ['TERMINATE', 'ABANDON'] as const) {
  file.test(`terminating a parent applies the ${policy} parent close policy to its child`, async (_t, env) => {
    const childId = uniqueName(`child-${policy.toLowerCase()}`);
    const parent = await env.client.workflow.start(parentOfLongChild, { taskQueue: env.taskQueue, workflowId: uniqueName('parent'), args: [childId, policy] });
    const child = env.client.workflow.getHandle(childId);
    await eventually(async () => (await child.describe()).status.name === 'RUNNING', { timeoutMs: 10_000 });
    await eventually(async () => (await parent.describe()).raw.pendingChildren?.length === 1, { timeoutMs: 10_000 });
    await parent.terminate('parent goes away');
    assert.equal((await parent.describe()).status.name, 'TERMINATED');
    if (policy === 'TERMINATE') {
      await eventually(async () => (await child.describe()).status.name === 'TERMINATED', { timeoutMs: 10_000 });
      const childEvents = await assertContiguousHistory(child);
      assert.equal(eventsOfType(childEvents, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED).length, 1);
    } else {
      // Give the close policy time to (wrongly) act, then check the child is untouched.
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await child.describe()).status.name, 'RUNNING', 'an abandoned child keeps running');
      await child.terminate('test cleanup');
    }
    const err = await rejectionOf(parent.result(), 'the terminated parent');
    assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
    await assertContiguousHistory(parent);
  });
}

file.test('a child whose id is taken by a running workflow fails to start, and the parent sees why', async (_t, env) => {
  const takenId = uniqueName('taken');
  const squatter = await env.client.workflow.start(longSleepChild, { taskQueue: env.taskQueue, workflowId: takenId });
  const parent = await env.client.workflow.start(childIdConflict, { taskQueue: env.taskQueue, workflowId: uniqueName('conflict-parent'), args: [takenId] });
  assert.equal(await parent.result(), `conflict: ${takenId}`, 'the parent caught WorkflowExecutionAlreadyStartedError');
  const events = await assertContiguousHistory(parent);
  const failed = eventsOfType(events, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED);
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.startChildWorkflowExecutionFailedEventAttributes?.workflowId, takenId);
  const squatterState = await squatter.describe();
  assert.equal(squatterState.status.name, 'RUNNING', 'the running workflow is untouched');
  assert.equal(squatterState.parentExecution, undefined, 'and did not become a child');
  await squatter.terminate('test cleanup');
});
