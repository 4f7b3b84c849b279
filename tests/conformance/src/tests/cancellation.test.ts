// Cancellation of a workflow running a heartbeating activity (the activity sees it, cleanup runs),
// and one workflow cancelling or signalling another, including one that does not exist.
import assert from 'node:assert/strict';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { EventType, assertContiguousHistory, conformanceFile, eventually, eventsOfType, rejectionOf, uniqueName } from '../harness';
import { cancelOtherWorkflow, cancellableWorkflow, signalOtherWorkflow, waitForFinish } from '../workflows';

const file = conformanceFile({ name: 'cancellation' });

file.test('cancelling a workflow reaches its heartbeating activity and runs its cleanup', async (_t, env) => {
  const workflowId = uniqueName('cancellable');
  const handle = await env.client.workflow.start(cancellableWorkflow, { taskQueue: env.taskQueue, workflowId });
  await eventually(() => env.recorder.forWorkflow(workflowId).some((i) => i.activityType === 'waitForCancellation'), { timeoutMs: 10_000 });
  await handle.cancel();
  const err = await rejectionOf(handle.result(), 'the cancelled workflow');
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  assert.ok(err.cause instanceof CancelledFailure, `cause: ${String(err.cause)}`);
  assert.deepEqual(
    env.recorder.stepsOf(workflowId),
    ['activity:saw-cancellation:CancelledFailure', 'undo:cleanup'],
    'the activity saw a CancelledFailure, then the non-cancellable cleanup ran',
  );
  const events = await assertContiguousHistory(handle);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED).length, 1);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED).length, 1);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED).length, 1);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length, 1, 'the cleanup activity completed');
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED).length, 1);
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
});

file.test('one workflow cancels another through RequestCancelExternal', async (_t, env) => {
  const victim = await env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId: uniqueName('victim') });
  const canceller = await env.client.workflow.start(cancelOtherWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('canceller'), args: [victim.workflowId] });
  assert.equal(await canceller.result(), 'cancel requested');
  const err = await rejectionOf(victim.result(), 'the cancelled victim');
  assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, `got ${String(err)}`);
  const victimEvents = await assertContiguousHistory(victim);
  const requested = eventsOfType(victimEvents, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)[0];
  assert.equal(requested?.workflowExecutionCancelRequestedEventAttributes?.externalWorkflowExecution?.workflowId, canceller.workflowId);
  const cancellerEvents = await assertContiguousHistory(canceller);
  assert.equal(eventsOfType(cancellerEvents, EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED).length, 1);
  assert.equal(eventsOfType(cancellerEvents, EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED).length, 1);

  const missing = await env.client.workflow.start(cancelOtherWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('canceller'), args: [uniqueName('nobody')] });
  assert.match(await missing.result(), /^failed: Unable to cancel external workflow because not found/);
  const missingEvents = await assertContiguousHistory(missing);
  assert.equal(eventsOfType(missingEvents, EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED).length, 1);
});

file.test('one workflow signals another; signalling a missing workflow fails in the workflow', async (_t, env) => {
  const target = await env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId: uniqueName('target') });
  const signaller = await env.client.workflow.start(signalOtherWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('signaller'), args: [target.workflowId, 'hello from a workflow'] });
  assert.equal(await signaller.result(), 'signalled');
  assert.equal(await target.result(), 'hello from a workflow');
  const targetEvents = await assertContiguousHistory(target);
  const signaled = eventsOfType(targetEvents, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)[0];
  assert.equal(signaled?.workflowExecutionSignaledEventAttributes?.externalWorkflowExecution?.workflowId, signaller.workflowId);
  const signallerEvents = await assertContiguousHistory(signaller);
  assert.equal(eventsOfType(signallerEvents, EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED).length, 1);
  assert.equal(eventsOfType(signallerEvents, EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED).length, 1);

  const missing = await env.client.workflow.start(signalOtherWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('signaller'), args: [uniqueName('nobody'), 'x'] });
  // The SDK words the failure after the cause the server recorded (ExternalWorkflowExecutionNotFound).
  assert.equal(await missing.result(), 'failed: Unable to signal external workflow because it was not found');
  const missingEvents = await assertContiguousHistory(missing);
  assert.equal(eventsOfType(missingEvents, EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED).length, 1);
});
