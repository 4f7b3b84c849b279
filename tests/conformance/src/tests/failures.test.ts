// Workflow failure and termination, as the client sees them through result() and describe().
import assert from 'node:assert/strict';
import { ApplicationFailure, TerminatedFailure, WorkflowFailedError } from '@temporalio/client';
import {
  EventType,
  assertContiguousHistory,
  conformanceFile,
  eventTypeNames,
  eventually,
  eventsOfType,
  fetchEvents,
  rejectionOf,
  uniqueName,
} from '../harness';
import { failingWorkflow, waitForFinish } from '../workflows';

const file = conformanceFile({ name: 'failures' });

file.test('an ApplicationFailure thrown by a workflow fails it', async (_t, env) => {
  const workflowId = uniqueName('failing');
  const handle = await env.client.workflow.start(failingWorkflow, {
    taskQueue: env.taskQueue,
    workflowId,
    args: ['the order is invalid', 'InvalidOrder'],
  });
  const err = await rejectionOf(handle.result(), 'the failing workflow');
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  assert.ok(err.cause instanceof ApplicationFailure, `expected cause ApplicationFailure, got ${String(err.cause)}`);
  assert.equal(err.cause.type, 'InvalidOrder');
  assert.equal(err.cause.message, 'the order is invalid');
  assert.deepEqual(err.cause.details, ['detail-1']);

  const events = await assertContiguousHistory(handle);
  assert.equal(eventTypeNames(events).at(-1), 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
  const description = await handle.describe();
  assert.equal(description.status.name, 'FAILED');
  assert.ok(description.closeTime instanceof Date, 'a failed execution has a close time');
});

file.test('a terminated workflow fails result() with TerminatedFailure', async (_t, env) => {
  const workflowId = uniqueName('terminated');
  const handle = await env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId });
  // Wait until the worker has run the first workflow task, so the execution is really in flight.
  await eventually(
    async () =>
      eventsOfType(await fetchEvents(handle), EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length > 0,
    { description: 'first workflow task completed' },
  );
  assert.equal((await handle.describe()).status.name, 'RUNNING');

  await handle.terminate('conformance: terminate on purpose');
  const err = await rejectionOf(handle.result(), 'the terminated workflow');
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  assert.ok(err.cause instanceof TerminatedFailure, `expected cause TerminatedFailure, got ${String(err.cause)}`);

  const events = await assertContiguousHistory(handle);
  assert.equal(eventTypeNames(events).at(-1), 'EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED');
  assert.equal(
    events.at(-1)!.workflowExecutionTerminatedEventAttributes?.reason,
    'conformance: terminate on purpose',
  );
  const description = await handle.describe();
  assert.equal(description.status.name, 'TERMINATED');
  assert.ok(description.closeTime instanceof Date, 'a terminated execution has a close time');
});
