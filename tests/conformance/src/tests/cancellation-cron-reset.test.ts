// Cancellation (with a heartbeating activity, and from another workflow), external signals, cron
// schedules, reset after a bug fix, and workflow retry policies.
import assert from 'node:assert/strict';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { EventType, assertContiguousHistory, conformanceFile, eventually, eventsOfType, fetchEvents, rejectionOf, toNumber, uniqueName } from '../harness';
import {
  approveSignal,
  cancelOtherWorkflow,
  cancellableWorkflow,
  cronWorkflow,
  flakyWorkflow,
  resettableWorkflow,
  signalOtherWorkflow,
  waitForFinish,
} from '../workflows';

const file = conformanceFile({ name: 'cancel-cron-reset' });

file.test('cancelling a workflow reaches its heartbeating activity and runs its cleanup', async (_t, env) => {
  const workflowId = uniqueName('cancellable');
  const handle = await env.client.workflow.start(cancellableWorkflow, { taskQueue: env.taskQueue, workflowId });
  await eventually(() => env.recorder.forWorkflow(workflowId).some((i) => i.activityType === 'waitForCancellation'), { timeoutMs: 10_000 });
  await handle.cancel();
  const err = await rejectionOf(handle.result(), 'the cancelled workflow');
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  assert.ok(err.cause instanceof CancelledFailure, `cause: ${String(err.cause)}`);
  assert.deepEqual(env.recorder.stepsOf(workflowId), ['activity:saw-cancellation', 'undo:cleanup'], 'the activity saw the cancellation, then cleanup ran');
  const events = await assertContiguousHistory(handle);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED).length, 1);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED).length, 1);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED).length, 1);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED).length, 1);
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
});

file.test('one workflow signals and cancels others; signalling a missing workflow fails visibly', async (_t, env) => {
  const target = await env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId: uniqueName('target') });
  const signaller = await env.client.workflow.start(signalOtherWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('signaller'), args: [target.workflowId, 'hello from a workflow'] });
  assert.equal(await signaller.result(), 'signalled');
  assert.equal(await target.result(), 'hello from a workflow');
  const targetEvents = await assertContiguousHistory(target);
  const signaled = eventsOfType(targetEvents, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)[0];
  assert.equal(signaled?.workflowExecutionSignaledEventAttributes?.externalWorkflowExecution?.workflowId, signaller.workflowId);

  const missing = await env.client.workflow.start(signalOtherWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('signaller'), args: [uniqueName('nobody'), 'x'] });
  assert.match(await missing.result(), /^failed: /);
  const missingEvents = await assertContiguousHistory(missing);
  assert.equal(eventsOfType(missingEvents, EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED).length, 1);

  const victim = await env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId: uniqueName('victim') });
  const canceller = await env.client.workflow.start(cancelOtherWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('canceller'), args: [victim.workflowId] });
  assert.equal(await canceller.result(), 'cancel requested');
  const err = await rejectionOf(victim.result(), 'the cancelled victim');
  assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, `got ${String(err)}`);
  const victimEvents = await assertContiguousHistory(victim);
  const requested = eventsOfType(victimEvents, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)[0];
  assert.equal(requested?.workflowExecutionCancelRequestedEventAttributes?.externalWorkflowExecution?.workflowId, canceller.workflowId);
  await assertContiguousHistory(canceller);
});

file.test('a cron workflow runs on schedule, each run a new run id, until terminated', async (_t, env) => {
  const workflowId = uniqueName('cron');
  await env.client.workflow.start(cronWorkflow, { taskQueue: env.taskQueue, workflowId, cronSchedule: '@every 1s' });
  const runIds = (): string[] => env.recorder.forWorkflow(workflowId).filter((i) => i.outcome === 'completed').map((i) => i.runId);
  await eventually(() => runIds().length >= 3, { timeoutMs: 15_000 });
  const seen = runIds();
  assert.equal(new Set(seen).size, seen.length, 'every run has its own run id');
  await env.client.workflow.getHandle(workflowId).terminate('enough');
  const countAtStop = runIds().length;
  await new Promise((r) => setTimeout(r, 2500));
  assert.ok(runIds().length <= countAtStop + 1, 'termination stops the chain');
  assert.equal((await env.client.workflow.getHandle(workflowId).describe()).status.name, 'TERMINATED');
});

file.test('reset after a bug fix: the new run completes with the new code and keeps the signal', async (_t, env) => {
  env.recorder.flags.set('bugFixed', false);
  const workflowId = uniqueName('reset');
  const handle = await env.client.workflow.start(resettableWorkflow, { taskQueue: env.taskQueue, workflowId });
  await handle.signal(approveSignal, 'alice');
  const err = await rejectionOf(handle.result(), 'the buggy run');
  assert.ok(err instanceof WorkflowFailedError);
  const events = await fetchEvents(handle);
  const firstCompleted = eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)[0];
  assert.ok(firstCompleted);

  env.recorder.flags.set('bugFixed', true);
  const { runId } = await env.client.workflowService.resetWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId, runId: handle.firstExecutionRunId },
    reason: 'bug fixed',
    workflowTaskFinishEventId: firstCompleted.eventId,
    requestId: uniqueName('reset-request'),
  });
  assert.ok(runId && runId !== handle.firstExecutionRunId);
  const reset = env.client.workflow.getHandle(workflowId, runId);
  assert.equal(await reset.result(), '100 after alice', 'the signal sent before the reset was re-applied');
  const resetEvents = await assertContiguousHistory(reset);
  const failed = resetEvents[toNumber(firstCompleted.eventId) - 1]?.workflowTaskFailedEventAttributes;
  assert.equal(failed?.newRunId, runId, 'the reset point carries the new run id');
  assert.equal(eventsOfType(resetEvents, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).length, 1);
});

file.test('a workflow retry policy retries failed runs until one succeeds, and result() follows them', async (_t, env) => {
  const handle = await env.client.workflow.start(flakyWorkflow, {
    taskQueue: env.taskQueue,
    workflowId: uniqueName('flaky'),
    args: [3],
    retry: { maximumAttempts: 3, initialInterval: '200ms' },
  });
  assert.equal(await handle.result(), 'succeeded on attempt 3');
  const first = await assertContiguousHistory(env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId));
  const failedEvent = eventsOfType(first, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)[0];
  assert.ok(failedEvent?.workflowExecutionFailedEventAttributes?.newExecutionRunId, 'the failed run names its retry');
  assert.equal((await env.client.workflow.getHandle(handle.workflowId).describe()).status.name, 'COMPLETED');
});
