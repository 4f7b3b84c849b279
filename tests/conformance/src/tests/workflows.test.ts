// Basic workflow behaviour: activities and their results, a saga with compensations, durable timers.
import assert from 'node:assert/strict';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import {
  EventType,
  assertContiguousHistory,
  conformanceFile,
  eventTypeNames,
  eventsOfType,
  rejectionOf,
  toNumber,
  uniqueName,
} from '../harness';
import { bookTrip, greetAndAdd, sleeper } from '../workflows';

const file = conformanceFile({ name: 'workflows' });

file.test('a workflow calls activities and returns their combined result', async (_t, env) => {
  const workflowId = uniqueName('greet-and-add');
  const handle = await env.client.workflow.start(greetAndAdd, {
    taskQueue: env.taskQueue,
    workflowId,
    args: ['Ada', 2, 3],
  });
  assert.equal(await handle.result(), 'Hello, Ada! 2+3=5 left/right');

  const calls = env.recorder.forWorkflow(workflowId);
  assert.deepEqual(
    calls.map((c) => c.activityType).sort(),
    ['add', 'echo', 'echo', 'greet'],
    'each activity ran exactly once',
  );
  assert.ok(calls.every((c) => c.attempt === 1 && c.outcome === 'completed'));

  const events = await assertContiguousHistory(handle);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length, 4);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length, 4);
  assert.equal(
    eventTypeNames(events).at(-1),
    'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
    'the execution completed',
  );
  const description = await handle.describe();
  assert.equal(description.status.name, 'COMPLETED');
});

file.test('a saga compensates the completed steps in reverse order when a step fails', async (_t, env) => {
  const workflowId = uniqueName('saga');
  const handle = await env.client.workflow.start(bookTrip, {
    taskQueue: env.taskQueue,
    workflowId,
    args: [{ steps: ['car', 'hotel', 'payment'], failingStep: 'payment' }],
  });
  const err = await rejectionOf(handle.result(), 'the saga');
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  assert.ok(err.cause instanceof ActivityFailure, `cause: ${String(err.cause)}`);
  assert.ok(err.cause.cause instanceof ApplicationFailure, `cause.cause: ${String(err.cause.cause)}`);
  assert.equal(err.cause.cause.type, 'StepDeclined');

  assert.deepEqual(env.recorder.stepsOf(workflowId), [
    'do:car',
    'do:hotel',
    'do:payment',
    'undo:hotel',
    'undo:car',
  ]);
  const stepCalls = env.recorder.forWorkflow(workflowId).filter((c) => c.activityType === 'sagaStep');
  assert.equal(stepCalls.length, 3, 'each step ran once; the declined one was not retried (non-retryable)');

  await assertContiguousHistory(handle);
  assert.equal((await handle.describe()).status.name, 'FAILED');
});

file.test('sleep waits on a durable timer for its full duration', async (_t, env) => {
  const workflowId = uniqueName('sleeper');
  const startedAt = Date.now();
  const handle = await env.client.workflow.start(sleeper, {
    taskQueue: env.taskQueue,
    workflowId,
    args: [2000],
  });
  const workflowElapsed = await handle.result();
  const elapsed = Date.now() - startedAt;
  assert.ok(elapsed >= 2000, `result came after ${elapsed} ms, before the 2 s timer could fire`);
  assert.ok(workflowElapsed >= 2000, `workflow time advanced only ${workflowElapsed} ms across the timer`);

  const events = await assertContiguousHistory(handle);
  const started = eventsOfType(events, EventType.EVENT_TYPE_TIMER_STARTED);
  const fired = eventsOfType(events, EventType.EVENT_TYPE_TIMER_FIRED);
  assert.equal(started.length, 1, `one TimerStarted in ${eventTypeNames(events).join(', ')}`);
  assert.equal(fired.length, 1, 'one TimerFired');
  const startAttrs = started[0]!.timerStartedEventAttributes;
  const firedAttrs = fired[0]!.timerFiredEventAttributes;
  assert.equal(toNumber(startAttrs?.startToFireTimeout?.seconds), 2, 'startToFireTimeout is 2 s');
  assert.equal(firedAttrs?.timerId, startAttrs?.timerId, 'TimerFired names the started timer');
  assert.equal(
    toNumber(firedAttrs?.startedEventId),
    toNumber(started[0]!.eventId),
    'TimerFired points at its TimerStarted event',
  );
  const firedAt = toNumber(fired[0]!.eventTime?.seconds) * 1000 + (fired[0]!.eventTime?.nanos ?? 0) / 1e6;
  const startedAtEvent =
    toNumber(started[0]!.eventTime?.seconds) * 1000 + (started[0]!.eventTime?.nanos ?? 0) / 1e6;
  assert.ok(firedAt - startedAtEvent >= 2000, `timer fired ${firedAt - startedAtEvent} ms after it started`);
});
