// Activity timeouts (start-to-close, heartbeat) and resuming from heartbeat details.
import assert from 'node:assert/strict';
import { ActivityFailure, TimeoutFailure, WorkflowFailedError } from '@temporalio/client';
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
import type { CheckpointResult } from '../activities';
import { runActivity } from '../workflows';

const file = conformanceFile({ name: 'timeouts' });

async function expectTimeout(
  env: ConformanceEnv,
  workflowId: string,
  args: Parameters<typeof runActivity>,
): Promise<TimeoutFailure> {
  const handle = await env.client.workflow.start(runActivity, { taskQueue: env.taskQueue, workflowId, args });
  const err = await rejectionOf(handle.result(), `workflow ${workflowId}`);
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  assert.ok(err.cause instanceof ActivityFailure, `expected cause ActivityFailure, got ${String(err.cause)}`);
  const timeout = err.cause.cause;
  assert.ok(timeout instanceof TimeoutFailure, `expected ActivityFailure.cause TimeoutFailure, got ${String(timeout)}`);
  const events = await assertContiguousHistory(handle);
  assert.equal(
    eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT).length,
    1,
    `one ActivityTaskTimedOut in ${eventTypeNames(events).join(', ')}`,
  );
  assert.equal((await handle.describe()).status.name, 'FAILED');
  return timeout;
}

file.test('an activity running past startToCloseTimeout times out with START_TO_CLOSE', async (_t, env) => {
  const workflowId = uniqueName('start-to-close');
  const startedAt = Date.now();
  const timeout = await expectTimeout(env, workflowId, [
    'sleepThenEcho',
    ['too late', 4000],
    { startToCloseTimeout: '1s', retry: { maximumAttempts: 1 } },
  ]);
  assert.equal(timeout.timeoutType, 'START_TO_CLOSE');
  const elapsed = Date.now() - startedAt;
  assert.ok(elapsed >= 1000, `timed out after ${elapsed} ms, before the 1 s timeout`);
  assert.equal(env.recorder.forWorkflow(workflowId).length, 1, 'one attempt (maximumAttempts 1)');
});

file.test('an activity that stops heartbeating times out with HEARTBEAT', async (_t, env) => {
  const workflowId = uniqueName('heartbeat-timeout');
  const timeout = await expectTimeout(env, workflowId, [
    'heartbeatThenGoSilent',
    [3, 5000],
    { startToCloseTimeout: '20s', heartbeatTimeout: '1s', retry: { maximumAttempts: 1 } },
  ]);
  assert.equal(timeout.timeoutType, 'HEARTBEAT');
  assert.equal(env.recorder.forWorkflow(workflowId).length, 1, 'one attempt (maximumAttempts 1)');
});

file.test('a retried activity resumes from its last heartbeat details', async (_t, env) => {
  const workflowId = uniqueName('heartbeat-resume');
  const total = 8;
  const failAfter = 5;
  const handle = await env.client.workflow.start(runActivity, {
    taskQueue: env.taskQueue,
    workflowId,
    args: [
      'processWithCheckpoints',
      [total, failAfter, 150],
      {
        startToCloseTimeout: '20s',
        heartbeatTimeout: '5s',
        retry: { initialInterval: '200ms', maximumAttempts: 3 },
      },
    ],
  });
  const result = (await handle.result()) as CheckpointResult;

  const calls = env.recorder.forWorkflow(workflowId);
  assert.deepEqual(
    calls.map((c) => [c.attempt, c.outcome]),
    [
      [1, 'failed'],
      [2, 'completed'],
    ],
  );
  assert.equal(calls[0]!.heartbeatDetails, undefined, 'attempt 1 starts without heartbeat details');
  assert.equal(calls[1]!.heartbeatDetails, failAfter, 'attempt 2 got the last heartbeat of attempt 1');
  assert.deepEqual(result, {
    attempt: 2,
    resumedFrom: failAfter,
    processed: [5, 6, 7],
  });
  assert.deepEqual(
    env.recorder.stepsOf(workflowId),
    ['item:0@1', 'item:1@1', 'item:2@1', 'item:3@1', 'item:4@1', 'item:5@2', 'item:6@2', 'item:7@2'],
    'every item processed exactly once across the two attempts',
  );
  await assertContiguousHistory(handle);
});
