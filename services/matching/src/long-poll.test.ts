import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SettingsRegistry } from '@hourglass/common';
import { cancellableCall, isPending, matchingFixture, pollersWaiting, pollRequest, storedBacklog, workflowTask, NAMESPACE_NAME, TASK_QUEUE } from './testing/fixture';

test('long poll: an empty poll answers null before the call deadline minus the margin', { timeout: 10_000 }, async (t) => {
  // The engine's clock stands still: only the caller's (wall-clock) deadline can end this poll, at
  // 1 s (the default margin) before it; the margin leaves a loaded machine time to answer.
  const f = await matchingFixture();
  t.after(() => f.close());
  const deadline = Date.now() + 1_300;
  const response = await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline });
  assert.equal(response, null);
  assert.ok(Date.now() < deadline, `answered ${Date.now() - deadline} ms after the caller's deadline`);
});

test('long poll: a poll whose deadline is already within the margin answers null at once and takes no task', async (t) => {
  const f = await matchingFixture(); // 1 s margin
  t.after(() => f.close());
  await f.engine.addWorkflowTask(workflowTask(3));
  const deadline = Date.now() + 500;
  assert.equal(await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline }), null);
  assert.ok(Date.now() < deadline);
  assert.equal(f.starter.calls.length, 0, 'a response that could not arrive in time would strand a started task');
  assert.deepEqual(await storedBacklog(f), ['wf-3']);
});

test('long poll: an empty poll answers null when the long-poll interval of its task queue passes', async (t) => {
  const settings = new SettingsRegistry({
    'matching.longPollExpirationInterval': [{ value: '5s', constraints: { namespace: NAMESPACE_NAME, taskQueue: TASK_QUEUE } }],
  });
  const f = await matchingFixture({ settings });
  t.after(() => f.close());
  const other = cancellableCall();
  const otherPoll = f.engine.pollWorkflowTaskQueue(pollRequest({ taskQueueName: 'other' }), other);
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  await pollersWaiting(f, 1);
  await pollersWaiting(f, 1, { taskQueueName: 'other' });

  f.clock.advance(4_999);
  assert.ok(await isPending(poll), 'still waiting before the interval');
  f.clock.advance(1);
  assert.equal(await isPending(poll), false, 'ends when the engine clock reaches the interval');
  assert.equal(await poll, null);
  assert.ok(await isPending(otherPoll), 'a queue without the override waits the default 60 s');
  other.cancel();
  assert.equal(await otherPoll, null);
});

test('long poll: a poll answers null when its caller aborts, and is never given a task afterwards', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const call = cancellableCall();
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(), call);
  await pollersWaiting(f, 1);
  call.cancel();
  assert.equal(await poll, null);

  await f.engine.addWorkflowTask(workflowTask(3));
  assert.equal(f.starter.calls.length, 0);
  assert.deepEqual(await storedBacklog(f), ['wf-3'], 'the task waits in the backlog');
});

test('long poll: a poll aborted before it reached the queue answers null and leaves the backlog alone', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await f.engine.addWorkflowTask(workflowTask(3));
  const call = cancellableCall();
  call.cancel();
  assert.equal(await f.engine.pollWorkflowTaskQueue(pollRequest(), call), null);
  assert.equal(f.starter.calls.length, 0);
  assert.deepEqual(await storedBacklog(f), ['wf-3']);
});
