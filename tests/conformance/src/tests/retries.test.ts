// Activity retries: backoff per the retry policy, non-retryable failures, attempt limits.
import assert from 'node:assert/strict';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import {
  EventType,
  assertContiguousHistory,
  conformanceFile,
  eventTypeNames,
  eventsOfType,
  rejectionOf,
  uniqueName,
  type ConformanceEnv,
} from '../harness';
import { runActivity } from '../workflows';

const file = conformanceFile({ name: 'retries' });

/** Runs the workflow, expects it to fail with ActivityFailure(ApplicationFailure), returns both. */
async function expectActivityFailure(
  env: ConformanceEnv,
  workflowId: string,
  args: Parameters<typeof runActivity>,
): Promise<{ activityFailure: ActivityFailure; applicationFailure: ApplicationFailure }> {
  const handle = await env.client.workflow.start(runActivity, { taskQueue: env.taskQueue, workflowId, args });
  const err = await rejectionOf(handle.result(), `workflow ${workflowId}`);
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  assert.ok(err.cause instanceof ActivityFailure, `expected cause ActivityFailure, got ${String(err.cause)}`);
  const cause = err.cause.cause;
  assert.ok(cause instanceof ApplicationFailure, `expected ActivityFailure.cause ApplicationFailure, got ${String(cause)}`);
  const events = await assertContiguousHistory(handle);
  assert.equal(
    eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED).length,
    1,
    `exactly one ActivityTaskFailed (the final one) in ${eventTypeNames(events).join(', ')}`,
  );
  assert.equal((await handle.describe()).status.name, 'FAILED');
  return { activityFailure: err.cause, applicationFailure: cause };
}

file.test('a failing activity is retried with exponential backoff until it succeeds', async (_t, env) => {
  const workflowId = uniqueName('retry-backoff');
  const initialIntervalMs = 500;
  const backoffCoefficient = 3;
  const handle = await env.client.workflow.start(runActivity, {
    taskQueue: env.taskQueue,
    workflowId,
    args: [
      'failUntilAttempt',
      [3],
      {
        startToCloseTimeout: '5s',
        retry: { initialInterval: initialIntervalMs, backoffCoefficient, maximumAttempts: 5 },
      },
    ],
  });
  assert.equal(await handle.result(), 'succeeded on attempt 3');

  const calls = env.recorder.forWorkflow(workflowId);
  assert.deepEqual(
    calls.map((c) => [c.attempt, c.outcome]),
    [
      [1, 'failed'],
      [2, 'failed'],
      [3, 'completed'],
    ],
    'three attempts: two failures then success',
  );
  // The backoff runs from the failure of one attempt to the start of the next.
  const gaps = [calls[1]!.startedAt - calls[0]!.endedAt!, calls[2]!.startedAt - calls[1]!.endedAt!];
  const expected = [initialIntervalMs, initialIntervalMs * backoffCoefficient];
  const slackMs = 2000;
  for (const [i, gap] of gaps.entries()) {
    assert.ok(
      gap >= expected[i]! * 0.9,
      `retry ${i + 1} came after ${gap} ms, sooner than the ${expected[i]} ms backoff (gaps ${gaps.join(', ')})`,
    );
    assert.ok(
      gap <= expected[i]! + slackMs,
      `retry ${i + 1} came after ${gap} ms, far later than the ${expected[i]} ms backoff (gaps ${gaps.join(', ')})`,
    );
  }
  assert.ok(gaps[1]! > gaps[0]!, `the backoff grows between retries (gaps ${gaps.join(', ')})`);

  // Retries are internal to the server: the workflow sees one scheduled and one completed activity.
  const events = await assertContiguousHistory(handle);
  const names = eventTypeNames(events).join(', ');
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length, 1, names);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED).length, 0, names);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length, 1, names);
  const startedEvents = eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
  assert.equal(startedEvents.length, 1, names);
  assert.equal(startedEvents[0]!.activityTaskStartedEventAttributes?.attempt, 3, 'ActivityTaskStarted records attempt 3');
});

file.test('a non-retryable ApplicationFailure fails the workflow after one attempt', async (_t, env) => {
  const workflowId = uniqueName('non-retryable');
  const { activityFailure, applicationFailure } = await expectActivityFailure(env, workflowId, [
    'failWith',
    ['CardDeclined', 'card was declined', true],
    { startToCloseTimeout: '5s', retry: { initialInterval: '200ms', maximumAttempts: 5 } },
  ]);
  assert.equal(applicationFailure.type, 'CardDeclined');
  assert.equal(applicationFailure.message, 'card was declined');
  assert.equal(applicationFailure.nonRetryable, true);
  assert.equal(activityFailure.activityType, 'failWith');
  assert.equal(activityFailure.retryState, 'NON_RETRYABLE_FAILURE');
  assert.equal(env.recorder.forWorkflow(workflowId).length, 1, 'the activity ran exactly once');
});

file.test('an error type listed in nonRetryableErrorTypes is not retried', async (_t, env) => {
  const workflowId = uniqueName('non-retryable-type');
  const { activityFailure, applicationFailure } = await expectActivityFailure(env, workflowId, [
    'failWith',
    ['FatalConfigError', 'config is broken', false],
    {
      startToCloseTimeout: '5s',
      retry: { initialInterval: '200ms', maximumAttempts: 5, nonRetryableErrorTypes: ['FatalConfigError'] },
    },
  ]);
  assert.equal(applicationFailure.type, 'FatalConfigError');
  assert.equal(activityFailure.retryState, 'NON_RETRYABLE_FAILURE');
  assert.equal(env.recorder.forWorkflow(workflowId).length, 1, 'the activity ran exactly once');
});

file.test('retries stop at maximumAttempts', async (_t, env) => {
  const workflowId = uniqueName('max-attempts');
  const { activityFailure, applicationFailure } = await expectActivityFailure(env, workflowId, [
    'failUntilAttempt',
    [100],
    { startToCloseTimeout: '5s', retry: { initialInterval: '200ms', backoffCoefficient: 1, maximumAttempts: 2 } },
  ]);
  assert.equal(applicationFailure.type, 'TransientError');
  assert.equal(activityFailure.retryState, 'MAXIMUM_ATTEMPTS_REACHED');
  assert.deepEqual(
    env.recorder.forWorkflow(workflowId).map((c) => c.attempt),
    [1, 2],
  );
});
