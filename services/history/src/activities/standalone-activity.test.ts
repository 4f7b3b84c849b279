/**
 * Standalone activities on a manual clock: every timeout and retry backoff is a persisted task of
 * the activity category that fires at its time, not before, and a heartbeat moves its timeout.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { TimeoutType, msToDuration, temporal, toNumber } from '@hourglass/common';
import { decodeTaskToken, type ActivityTaskToken } from '@hourglass/contracts';
import { TaskCategories } from '../queues/task-categories';
import { createTestEngine, eventually, type TestEngine } from '../testing/engine-fixture';
import { STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX } from './standalone-activity';

const Status = temporal.api.enums.v1.ActivityExecutionStatus;

let t: TestEngine;
beforeEach(async () => {
  t = await createTestEngine();
});
afterEach(async () => {
  await t.close();
});

async function startActivity(activityId: string, extra: Partial<temporal.api.workflowservice.v1.IStartActivityExecutionRequest> = {}): Promise<string> {
  const res = await t.engine.startActivityExecution({
    namespaceId: t.namespace.id,
    request: { namespace: t.namespace.name, activityId, activityType: { name: 'work' }, taskQueue: { name: 'tq' }, requestId: `req-${activityId}`, ...extra },
  });
  return res.runId ?? '';
}

const pushed = (activityId: string, attempt: number) =>
  t.matching.pushed.filter((p) => p.kind === 'activity' && p.workflowId === STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX + activityId && p.attempt === attempt);

async function take(activityId: string, runId: string, attempt: number): Promise<ActivityTaskToken> {
  await eventually(() => pushed(activityId, attempt).length > 0);
  const res = await t.engine.recordActivityTaskStarted({
    namespaceId: t.namespace.id,
    task: { workflowId: STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX + activityId, runId, scheduledEventId: 1, attempt },
    identity: 'worker-1',
    pollRequestId: `poll-${attempt}`,
  });
  assert.equal(res.activityId, activityId);
  assert.equal(res.activityRunId, runId);
  assert.equal(res.attempt, attempt);
  return decodeTaskToken(res.taskToken) as ActivityTaskToken;
}

function describeActivity(activityId: string) {
  return t.engine.describeActivityExecution({ namespaceId: t.namespace.id, request: { namespace: t.namespace.name, activityId, includeOutcome: true, includeLastFailure: true } });
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe('standalone activities', () => {
  it('a heartbeat moves the heartbeat timeout; the timeout then retries after the backoff, a persisted task that fires when due', async () => {
    const runId = await startActivity('a1', { startToCloseTimeout: msToDuration(10_000), heartbeatTimeout: msToDuration(2000), retryPolicy: { initialInterval: msToDuration(5000), backoffCoefficient: 1 } });
    const token = await take('a1', runId, 1);
    t.clock.advance(1500);
    const beat = await t.engine.recordActivityTaskHeartbeat({ target: { by: 'token', token }, details: { payloads: [{ data: Buffer.from('1') }] }, identity: 'worker-1' });
    assert.equal(beat.cancelRequested, false);
    // The first heartbeat deadline (2 s) passes: the heartbeat at 1.5 s moved it to 3.5 s.
    t.clock.advance(1000);
    await tick();
    let d = await describeActivity('a1');
    assert.equal(d.info?.attempt, 1);
    assert.equal(toNumber(d.info?.totalHeartbeatCount), 1);
    t.clock.advance(1100);
    await eventually(async () => (await describeActivity('a1')).info?.attempt === 2);
    d = await describeActivity('a1');
    assert.equal(d.info?.lastFailure?.timeoutFailureInfo?.timeoutType, TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    assert.equal(d.info?.status, Status.ACTIVITY_EXECUTION_STATUS_RUNNING);
    const shardId = t.engine.shardFor(t.namespace.id, STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX + 'a1').shardId;
    const rows = await t.persistence.executions.listScheduledTasks(shardId, TaskCategories.activity.id, Number.MAX_SAFE_INTEGER, 100);
    assert.ok(rows.some((r) => r.type === 'activity-dispatch' && JSON.parse(r.data).attempt === 2), 'the retry is a persisted task');
    // The old attempt's token is no longer current.
    await assert.rejects(t.engine.respondActivityTaskCompleted({ target: { by: 'token', token }, identity: 'worker-1' }), /not found/);
    t.clock.advance(4999);
    await tick();
    assert.equal(pushed('a1', 2).length, 0, 'not dispatched before its backoff ended');
    t.clock.advance(1);
    const second = await take('a1', runId, 2);
    await t.engine.respondActivityTaskCompleted({ target: { by: 'token', token: second }, result: { payloads: [{ data: Buffer.from('done') }] }, identity: 'worker-1' });
    const polled = await t.engine.pollActivityExecution({ namespaceId: t.namespace.id, request: { namespace: t.namespace.name, activityId: 'a1' } });
    assert.equal(Buffer.from(polled.outcome?.result?.payloads?.[0]?.data ?? []).toString(), 'done');
    assert.equal((await describeActivity('a1')).info?.status, Status.ACTIVITY_EXECUTION_STATUS_COMPLETED);
  });

  it('schedule-to-start closes an activity no worker took, at its time; schedule-to-close bounds the retries', async () => {
    await startActivity('a2', { scheduleToCloseTimeout: msToDuration(60_000), scheduleToStartTimeout: msToDuration(1000) });
    t.clock.advance(999);
    await tick();
    assert.equal((await describeActivity('a2')).info?.status, Status.ACTIVITY_EXECUTION_STATUS_RUNNING);
    t.clock.advance(1);
    await eventually(async () => (await describeActivity('a2')).info?.status === Status.ACTIVITY_EXECUTION_STATUS_TIMED_OUT);
    const outcome = (await describeActivity('a2')).outcome;
    assert.equal(outcome?.failure?.timeoutFailureInfo?.timeoutType, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START);

    // Failing attempts retried every 4 s within a 10 s schedule-to-close: the third failure leaves no time.
    const runId = await startActivity('a3', { scheduleToCloseTimeout: msToDuration(10_000), retryPolicy: { initialInterval: msToDuration(4000), backoffCoefficient: 1 } });
    const fail = async (attempt: number): Promise<void> => {
      const token = await take('a3', runId, attempt);
      await t.engine.respondActivityTaskFailed({ target: { by: 'token', token }, failure: { message: `boom ${attempt}`, applicationFailureInfo: { type: 'Boom' } }, identity: 'worker-1' });
    };
    await fail(1);
    t.clock.advance(4000);
    await fail(2);
    t.clock.advance(4000);
    await fail(3);
    const closed = await describeActivity('a3');
    assert.equal(closed.info?.status, Status.ACTIVITY_EXECUTION_STATUS_FAILED);
    assert.equal(closed.outcome?.failure?.message, 'boom 3');
    assert.equal(closed.info?.attempt, 3);
  });

  it('DescribeActivityExecution with a long-poll token waits for the next change; cancel of an activity no worker took cancels it at once', async () => {
    const runId = await startActivity('a4', { startToCloseTimeout: msToDuration(10_000) });
    const first = await describeActivity('a4');
    assert.ok(first.longPollToken && first.longPollToken.length > 0);
    let answered = false;
    const waiting = t.engine
      .describeActivityExecution({ namespaceId: t.namespace.id, request: { namespace: t.namespace.name, activityId: 'a4', longPollToken: first.longPollToken } })
      .then((d) => {
        answered = true;
        return d;
      });
    await tick();
    assert.equal(answered, false, 'no change yet: the poll waits');
    const token = await take('a4', runId, 1);
    const changed = await waiting;
    assert.equal(changed.info?.runState, temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED);
    await t.engine.respondActivityTaskCompleted({ target: { by: 'token', token }, identity: 'worker-1' });

    await startActivity('a5', { startToCloseTimeout: msToDuration(10_000) });
    await t.engine.requestCancelActivityExecution({ namespaceId: t.namespace.id, request: { namespace: t.namespace.name, activityId: 'a5', requestId: 'c1', reason: 'not needed' } });
    const canceled = await describeActivity('a5');
    assert.equal(canceled.info?.status, Status.ACTIVITY_EXECUTION_STATUS_CANCELED);
    assert.equal(canceled.info?.canceledReason, 'not needed');
    assert.ok(canceled.outcome?.failure?.canceledFailureInfo);
    // The same request again is answered; another one is refused.
    await t.engine.requestCancelActivityExecution({ namespaceId: t.namespace.id, request: { namespace: t.namespace.name, activityId: 'a5', requestId: 'c1' } });
    await assert.rejects(t.engine.requestCancelActivityExecution({ namespaceId: t.namespace.id, request: { namespace: t.namespace.name, activityId: 'a5', requestId: 'c2' } }), /already closed \(canceled\)/);
  });
});
