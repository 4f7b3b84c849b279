import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotFoundError, UnavailableError } from '@hourglass/common';
import { cancellableCall, isPending, matchingFixture, pollersWaiting, pollRequest, queueKey, storedBacklog, waitUntil, workflowTask, NAMESPACE_ID, TASK_QUEUE } from './testing/fixture';

test('sync match: a task added while a poller waits is handed over directly and never persisted', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  await pollersWaiting(f, 1);

  let recordedWhenAdded = -1;
  await f.engine.addWorkflowTask(workflowTask(3)).then(() => (recordedWhenAdded = f.starter.recorded.length));

  const response = await poll;
  assert.equal(response?.workflowExecution?.workflowId, 'wf-3');
  assert.equal(recordedWhenAdded, 1, 'the add resolved after history recorded the start');
  const [start] = f.starter.callsOf('recordWorkflowTaskStarted');
  assert.deepEqual((start?.request as { task: unknown }).task, { workflowId: 'wf-3', runId: 'run-1', scheduledEventId: 3, attempt: 0, createdAt: f.clock.now() });
  assert.deepEqual(await storedBacklog(f), [], 'no backlog row');
  assert.deepEqual(await f.persistence.taskQueues.listQueuesWithTasks(), []);
});

test('sync match: addWorkflowTask resolves only after the starter recorded the start', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const hold = f.starter.holdNext('recordWorkflowTaskStarted');
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  await pollersWaiting(f, 1);

  let recordedWhenAdded = -1;
  const added = f.engine.addWorkflowTask(workflowTask(3)).then(() => (recordedWhenAdded = f.starter.recorded.length));
  await waitUntil(() => f.starter.calls.length === 1);
  assert.ok(await isPending(added), 'the add waits while history records the start');

  hold.release();
  await added;
  assert.equal(recordedWhenAdded, 1);
  assert.equal((await poll)?.workflowExecution?.workflowId, 'wf-3');
  assert.deepEqual(await storedBacklog(f), []);
});

test('sync match: a task history finds stale is dropped, the add resolves and the poller keeps waiting', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  f.starter.failNext('recordWorkflowTaskStarted', new NotFoundError('workflow task 3 of wf-3 not found'));
  const call = cancellableCall();
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(), call);
  await pollersWaiting(f, 1);

  await f.engine.addWorkflowTask(workflowTask(3));
  assert.deepEqual(await storedBacklog(f), [], 'the stale task is not persisted');
  assert.ok(await isPending(poll), 'the poller waits for another task');
  await pollersWaiting(f, 1);

  await f.engine.addWorkflowTask(workflowTask(4));
  assert.equal((await poll)?.workflowExecution?.workflowId, 'wf-4');
});

test('sync match: when the start fails transiently the poller gets the error and the task goes to the backlog', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  f.starter.failNext('recordWorkflowTaskStarted', new UnavailableError('history shard 3 is moving'));
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  await pollersWaiting(f, 1);

  // The poll fails while the add is still persisting the task: watch for it from the start.
  const pollFails = assert.rejects(poll, UnavailableError);
  await f.engine.addWorkflowTask(workflowTask(3));
  await pollFails;
  assert.deepEqual(await storedBacklog(f), ['wf-3'], 'no live poller was left: the task is persisted');

  const next = await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  assert.equal(next?.workflowExecution?.workflowId, 'wf-3');
  assert.deepEqual(await storedBacklog(f), []);
});

test('sync match: an activity task goes to a waiting activity poller with its attempt', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const workflowPoll = cancellableCall();
  const stillWaiting = f.engine.pollWorkflowTaskQueue(pollRequest(), workflowPoll);
  const poll = f.engine.pollActivityTaskQueue(pollRequest(), { deadline: 0 });
  await pollersWaiting(f, 1, { type: 'activity' });

  await f.engine.addActivityTask({ namespaceId: NAMESPACE_ID, taskQueueName: TASK_QUEUE, workflowId: 'wf-5', runId: 'run-1', scheduledEventId: 5, attempt: 2 });
  const response = await poll;
  assert.equal(response?.activityId, '5');
  assert.equal(response?.attempt, 2);
  assert.deepEqual(await storedBacklog(f, queueKey({ type: 'activity' })), []);
  assert.ok(await isPending(stillWaiting), 'the workflow poller of the same name was not offered the activity task');
  workflowPoll.cancel();
  assert.equal(await stillWaiting, null);
});
