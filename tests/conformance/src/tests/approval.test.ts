// An approval workflow: `condition(approved, timeout)` ends either on the `approve` signal (the
// timer is cancelled) or on the timer (no signal came).
import assert from 'node:assert/strict';
import { EventType, assertContiguousHistory, conformanceFile, eventsOfType, eventually, fetchEvents, uniqueName } from '../harness';
import { approvalWorkflow, approveSignal } from '../workflows';

const file = conformanceFile({ name: 'approval' });

file.test('an approval signal ends the wait before the timer, which is cancelled', async (_t, env) => {
  const t0 = Date.now();
  const handle = await env.client.workflow.start(approvalWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('approve'), args: [10_000] });
  // Signal once the timer is in the history: a signal that reaches the first workflow task would
  // meet the condition in the same activation, and the SDK then drops the timer it never sent.
  await eventually(async () => eventsOfType(await fetchEvents(handle), EventType.EVENT_TYPE_TIMER_STARTED).length === 1, {
    description: 'the approval timer started',
  });
  await handle.signal(approveSignal, 'ops-lead');
  assert.equal(await handle.result(), 'approved by ops-lead');
  assert.ok(Date.now() - t0 < 8000, 'did not wait for the timer');
  const events = await assertContiguousHistory(handle);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).length, 1);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_TIMER_FIRED).length, 0, 'the timer never fired');
  const started = eventsOfType(events, EventType.EVENT_TYPE_TIMER_STARTED);
  const canceled = eventsOfType(events, EventType.EVENT_TYPE_TIMER_CANCELED);
  assert.equal(started.length, 1);
  assert.equal(canceled.length, 1, 'the SDK cancelled the timer when the condition won');
  assert.equal(canceled[0]!.timerCanceledEventAttributes?.timerId, started[0]!.timerStartedEventAttributes?.timerId);
});

file.test('with no approval, the timer ends the wait', async (_t, env) => {
  const t0 = Date.now();
  const handle = await env.client.workflow.start(approvalWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('approve'), args: [2000] });
  assert.equal(await handle.result(), 'timed out');
  assert.ok(Date.now() - t0 >= 1900, `waited for its 2 s timer (${Date.now() - t0} ms)`);
  const events = await assertContiguousHistory(handle);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_TIMER_STARTED).length, 1);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_TIMER_FIRED).length, 1);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).length, 0);
  // A signal after the workflow closed changes nothing.
  await assert.rejects(handle.signal(approveSignal, 'too late'));
  assert.equal((await assertContiguousHistory(handle)).length, events.length);
});
