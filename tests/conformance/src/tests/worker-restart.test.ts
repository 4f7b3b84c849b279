// A workflow survives losing its worker: a new Worker (empty sticky cache) replays the full
// history and finishes it, without nondeterminism.
import assert from 'node:assert/strict';
import {
  EventType,
  assertContiguousHistory,
  conformanceFile,
  eventTypeNames,
  eventually,
  eventsOfType,
  fetchEvents,
  nondeterminismFailures,
  uniqueName,
} from '../harness';
import { activityThenTimer } from '../workflows';

const FIRST_IDENTITY = 'conformance-worker-1';
const SECOND_IDENTITY = 'conformance-worker-2';

const file = conformanceFile({ name: 'worker-restart', workerOptions: { identity: FIRST_IDENTITY } });

file.test('a new worker replays and completes a workflow the old worker started', async (_t, env) => {
  const workflowId = uniqueName('worker-restart');
  const handle = await env.client.workflow.start(activityThenTimer, {
    taskQueue: env.taskQueue,
    workflowId,
    args: ['x', 4000],
  });

  // Activity A done and the timer started: the workflow is now parked on the timer.
  await eventually(
    async () => eventsOfType(await fetchEvents(handle), EventType.EVENT_TYPE_TIMER_STARTED).length === 1,
    { description: 'TimerStarted after activity A', timeoutMs: 15_000 },
  );
  await env.worker!.shutdown();
  const parked = await fetchEvents(handle);
  assert.equal(
    eventsOfType(parked, EventType.EVENT_TYPE_TIMER_FIRED).length,
    0,
    'the first worker shut down before the timer fired (else this test proves nothing)',
  );

  await env.startExtraWorker({ identity: SECOND_IDENTITY });
  assert.equal(await handle.result(), 'A:x|B:x');

  const events = await assertContiguousHistory(handle);
  const names = eventTypeNames(events).join(', ');
  assert.deepEqual(nondeterminismFailures(events), [], `no nondeterminism failures: ${names}`);

  const completedBy = eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).map(
    (e) => e.workflowTaskCompletedEventAttributes?.identity,
  );
  assert.equal(completedBy[0], FIRST_IDENTITY, `first workflow task completed by ${completedBy[0]}`);
  assert.equal(completedBy.at(-1), SECOND_IDENTITY, `last workflow task completed by ${completedBy.at(-1)}`);
  const activityStartedBy = eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED).map(
    (e) => e.activityTaskStartedEventAttributes?.identity,
  );
  assert.deepEqual(activityStartedBy, [FIRST_IDENTITY, SECOND_IDENTITY], 'A ran on worker 1, B on worker 2');

  // Each activity ran exactly once: the replay did not re-run A.
  const counts = env.recorder.forWorkflow(workflowId).map((c) => `${c.activityId}:${c.attempt}`);
  assert.deepEqual(counts, ['1:1', '2:1']);
});
