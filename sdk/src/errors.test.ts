/** The error helpers on failures the official SDK really produces, and on hand-built chains. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { causeChain, findApplicationFailure, findTimeoutFailure, isApplicationFailure, isCancellation, isTimeoutFailure, rootCause } from './errors';
import { rejectionOf, uniqueName, useServer } from './test-support';
import type { TestActivities } from './test-support/activities';
import { failingActivity, timingOutActivity, waitForever } from './test-support/workflows';

describe('error helpers on hand-built chains', () => {
  const declined = ApplicationFailure.create({ message: 'card declined', type: 'CardDeclined', details: [{ code: 51 }] });
  const activity = new ActivityFailure('Activity task failed', 'charge', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker-1', declined);
  const workflow = new WorkflowFailedError('Workflow execution failed', activity, RetryState.NON_RETRYABLE_FAILURE);

  test('causeChain and rootCause walk WorkflowFailedError → ActivityFailure → ApplicationFailure', () => {
    assert.deepEqual(causeChain(workflow), [workflow, activity, declined]);
    assert.equal(rootCause(workflow), declined);
    assert.equal(rootCause('not an error'), 'not an error');
    assert.deepEqual(causeChain(undefined), []);
  });

  test('a cycle in the cause chain ends the walk', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.deepEqual(causeChain(a), [a, b]);
  });

  test('isApplicationFailure matches any type, or the given one', () => {
    assert.ok(isApplicationFailure(workflow));
    assert.ok(isApplicationFailure(workflow, 'CardDeclined'));
    assert.ok(!isApplicationFailure(workflow, 'OutOfStock'));
    assert.ok(!isApplicationFailure(new Error('plain')));
    assert.deepEqual(findApplicationFailure(workflow, 'CardDeclined')?.details, [{ code: 51 }]);
  });

  test('isTimeoutFailure and isCancellation look through wrappers', () => {
    const timeout = new TimeoutFailure('heartbeat timeout', [42], TimeoutType.HEARTBEAT);
    const timedOut = new ActivityFailure('Activity task timed out', 'scan', '2', RetryState.TIMEOUT, undefined, timeout);
    assert.ok(isTimeoutFailure(timedOut));
    assert.ok(isTimeoutFailure(timedOut, TimeoutType.HEARTBEAT));
    assert.ok(!isTimeoutFailure(timedOut, TimeoutType.START_TO_CLOSE));
    assert.deepEqual(findTimeoutFailure(timedOut)?.lastHeartbeatDetails, [42]);
    assert.ok(!isTimeoutFailure(workflow));
    assert.ok(isCancellation(new ActivityFailure('Activity task cancelled', 'x', '3', RetryState.CANCEL_REQUESTED, undefined, new CancelledFailure('cancelled'))));
    assert.ok(!isCancellation(workflow));
  });
});

describe('error helpers on real failures from the SDK', () => {
  const file = useServer();

  async function failureOf(fn: (taskQueue: string) => Promise<unknown>, activities: Partial<TestActivities> = {}): Promise<unknown> {
    const taskQueue = uniqueName('errors');
    const worker = await file.createWorker({ taskQueue, workflowBundle: file.workflowBundle, activities });
    return worker.runUntil(rejectionOf(fn(taskQueue)));
  }

  test('an activity ApplicationFailure: WorkflowFailedError → ActivityFailure → ApplicationFailure', async () => {
    const err = await failureOf(
      (taskQueue) => file.hg.client.workflow.execute(failingActivity, { taskQueue, workflowId: uniqueName('fail'), args: ['CardDeclined', 'card declined'] }),
      {
        fail: async (type: string, message: string) => {
          throw ApplicationFailure.create({ message, type, nonRetryable: true });
        },
      },
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(isApplicationFailure(err, 'CardDeclined'));
    assert.ok(!isApplicationFailure(err, 'OutOfStock'));
    assert.ok(!isTimeoutFailure(err));
    assert.ok(!isCancellation(err));
    const root = rootCause(err);
    assert.ok(root instanceof ApplicationFailure);
    assert.equal(root.message, 'card declined');
    assert.deepEqual(causeChain(err).map((e) => (e as Error).name), ['WorkflowFailedError', 'ActivityFailure', 'ApplicationFailure']);
  });

  test('an activity start-to-close timeout', async () => {
    const err = await failureOf((taskQueue) => file.hg.client.workflow.execute(timingOutActivity, { taskQueue, workflowId: uniqueName('timeout') }), {
      // Outlives its timeout; ends early when the worker shuts down.
      slow: async (ms: number) => {
        await Context.current().sleep(ms).catch(() => undefined);
      },
    });
    assert.ok(isTimeoutFailure(err), `not a timeout: ${String(err)}`);
    assert.ok(isTimeoutFailure(err, TimeoutType.START_TO_CLOSE));
    assert.ok(!isTimeoutFailure(err, TimeoutType.HEARTBEAT));
    assert.ok(rootCause(err) instanceof TimeoutFailure);
  });

  test('a workflow execution timeout (one virtual day, skipped)', async () => {
    const err = await failureOf((taskQueue) =>
      file.hg.client.workflow.execute(waitForever, { taskQueue, workflowId: uniqueName('wf-timeout'), workflowExecutionTimeout: '1 day' }),
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(isTimeoutFailure(err, TimeoutType.START_TO_CLOSE));
  });

  test('a cancelled workflow', async () => {
    const err = await failureOf(async (taskQueue) => {
      const handle = await file.hg.client.workflow.start(waitForever, { taskQueue, workflowId: uniqueName('cancel') });
      await handle.cancel();
      return handle.result();
    });
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(isCancellation(err));
    assert.ok(!isApplicationFailure(err));
    assert.ok(rootCause(err) instanceof CancelledFailure);
  });
});
