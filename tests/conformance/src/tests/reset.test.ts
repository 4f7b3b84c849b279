// Reset after a bug fix: ResetWorkflowExecution to the first workflow task forks a new run that
// runs the fixed activity, with the signals received after the reset point re-applied.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import {
  EventType,
  NAMESPACE,
  assertContiguousHistory,
  conformanceFile,
  eventually,
  eventsOfType,
  fetchEvents,
  rejectionOf,
  signalArgs,
  toNumber,
  uniqueName,
  type ConformanceEnv,
  type HistoryEvent,
} from '../harness';
import { approveSignal, pricedOrderWorkflow, resettableWorkflow, shipSignal } from '../workflows';

const file = conformanceFile({ name: 'reset' });

function firstWorkflowTaskCompleted(events: readonly HistoryEvent[]): HistoryEvent {
  const completed = eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)[0];
  assert.ok(completed, 'the run has a completed workflow task to reset to');
  return completed;
}

async function reset(env: ConformanceEnv, workflowId: string, runId: string, workflowTaskFinishEventId: HistoryEvent['eventId']): Promise<string> {
  const { runId: newRunId } = await env.client.workflowService.resetWorkflowExecution({
    namespace: NAMESPACE,
    workflowExecution: { workflowId, runId },
    reason: 'bug fixed',
    workflowTaskFinishEventId,
    requestId: uniqueName('reset-request'),
  });
  assert.ok(newRunId && newRunId !== runId, `the reset made a new run (${newRunId})`);
  return newRunId;
}

/** The new run's history: the prefix up to the reset point, then a reset-caused WorkflowTaskFailed naming the new run. */
function assertResetPoint(resetEvents: readonly HistoryEvent[], resetPoint: HistoryEvent, newRunId: string): void {
  const failed = resetEvents[toNumber(resetPoint.eventId) - 1];
  assert.equal(failed?.eventType, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, 'the reset point became a WorkflowTaskFailed');
  assert.equal(failed?.workflowTaskFailedEventAttributes?.newRunId, newRunId, 'the reset point carries the new run id');
}

file.test('reset of a failed run after a bug fix: the new run completes with the new code and keeps the signal', async (_t, env) => {
  env.recorder.flags.set('bugFixed', false);
  const workflowId = uniqueName('reset');
  const handle = await env.client.workflow.start(resettableWorkflow, { taskQueue: env.taskQueue, workflowId });
  await handle.signal(approveSignal, 'alice');
  const err = await rejectionOf(handle.result(), 'the buggy run');
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  const resetPoint = firstWorkflowTaskCompleted(await fetchEvents(handle));

  env.recorder.flags.set('bugFixed', true);
  const newRunId = await reset(env, workflowId, handle.firstExecutionRunId, resetPoint.eventId);
  const resetRun = env.client.workflow.getHandle(workflowId, newRunId);
  assert.equal(await resetRun.result(), '100 after alice', 'the signal sent before the reset was re-applied');
  assert.equal((await env.client.workflow.getHandle(workflowId).describe()).runId, newRunId, 'the new run is the current one');
  const resetEvents = await assertContiguousHistory(resetRun);
  assertResetPoint(resetEvents, resetPoint, newRunId);
  assert.deepEqual(signalArgs(resetEvents, 'approve'), [['alice']], 'the signal is in the new run once');
});

file.test('reset of a running workflow terminates it and the new run computes the fixed result', async (_t, env) => {
  env.recorder.flags.set('priceFixed', false);
  const workflowId = uniqueName('priced-order');
  const handle = await env.client.workflow.start(pricedOrderWorkflow, { taskQueue: env.taskQueue, workflowId });
  await handle.signal(approveSignal, 'alice');
  // The buggy price is in: the run waits for `ship` with the wrong result.
  await eventually(() => env.recorder.forWorkflow(workflowId).some((i) => i.activityType === 'price' && i.outcome === 'completed'), { timeoutMs: 10_000 });
  const oldRunId = handle.firstExecutionRunId;
  const resetPoint = firstWorkflowTaskCompleted(await fetchEvents(handle));

  env.recorder.flags.set('priceFixed', true);
  const newRunId = await reset(env, workflowId, oldRunId, resetPoint.eventId);
  const oldRun = await env.client.workflow.getHandle(workflowId, oldRunId).describe();
  assert.equal(oldRun.status.name, 'TERMINATED', 'the reset terminated the running run');
  await assertContiguousHistory(env.client.workflow.getHandle(workflowId, oldRunId));

  const current = env.client.workflow.getHandle(workflowId);
  assert.equal((await current.describe()).runId, newRunId);
  await current.signal(shipSignal);
  assert.equal(await env.client.workflow.getHandle(workflowId, newRunId).result(), '100 after alice');
  const resetEvents = await assertContiguousHistory(env.client.workflow.getHandle(workflowId, newRunId));
  assertResetPoint(resetEvents, resetPoint, newRunId);
  assert.deepEqual(signalArgs(resetEvents, 'approve'), [['alice']], 'the approval was re-applied');
  assert.equal(signalArgs(resetEvents, 'ship').length, 1);
  const prices = env.recorder.forWorkflow(workflowId).filter((i) => i.activityType === 'price');
  assert.deepEqual(
    prices.map((i) => i.runId),
    [oldRunId, newRunId],
    'the activity ran once in the old run and once in the new one',
  );
});
