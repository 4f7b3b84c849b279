import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StickyWorkerUnavailableError, UnavailableError } from '@hourglass/common';
import type { DispatchQueryTaskRequest } from '@hourglass/contracts';
import { cancellableCall, isPending, matchingFixture, pollersWaiting, pollRequest, queryTask, storedBacklog, waitUntil, workflowTask, NAMESPACE_ID, STICKY_QUEUE, TASK_QUEUE } from './testing/fixture';

function dispatch(overrides: Partial<DispatchQueryTaskRequest> = {}): DispatchQueryTaskRequest {
  return { namespaceId: NAMESPACE_ID, taskQueueName: TASK_QUEUE, kind: 'normal', task: queryTask('q1'), timeoutMs: 5_000, ...overrides };
}

test('query task: taken by the next poller, which receives what buildQueryTask built with the query; never persisted', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const dispatched = f.engine.dispatchQueryTask(dispatch());
  assert.ok(await isPending(dispatched), 'waits for a poller');

  const response = await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  assert.equal(await dispatched, true);
  assert.deepEqual(response?.query, queryTask('q1').query);
  assert.deepEqual(f.starter.callsOf('buildQueryTask').map((c) => c.request), [{ namespaceId: NAMESPACE_ID, pollKind: 'normal', ...queryTask('q1') }]);
  assert.equal(f.starter.callsOf('recordWorkflowTaskStarted').length, 0);
  assert.deepEqual(await f.persistence.taskQueues.listQueuesWithTasks(), [], 'never persisted');
});

test('query task: handed to a poller already waiting', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  await pollersWaiting(f, 1);
  assert.equal(await f.engine.dispatchQueryTask(dispatch()), true);
  assert.equal((await poll)?.query?.queryType, 'status');
});

test('query task: resolves false after timeoutMs when nobody polls, and is not handed out afterwards', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const dispatched = f.engine.dispatchQueryTask(dispatch({ timeoutMs: 5_000 }));
  f.clock.advance(4_999);
  assert.ok(await isPending(dispatched));
  f.clock.advance(1);
  assert.equal(await isPending(dispatched), false, 'ends when the engine clock reaches the timeout');
  assert.equal(await dispatched, false);

  const call = cancellableCall();
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(), call);
  assert.ok(await isPending(poll), 'the expired query is not offered');
  call.cancel();
  assert.equal(await poll, null);
  assert.equal(f.starter.callsOf('buildQueryTask').length, 0);
});


test('query task: resolves false when its caller aborts', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const call = cancellableCall();
  const dispatched = f.engine.dispatchQueryTask(dispatch(), call);
  call.cancel();
  assert.equal(await dispatched, false);
});

test('query task: on a sticky queue with no poller rejects with StickyWorkerUnavailableError', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await assert.rejects(f.engine.dispatchQueryTask(dispatch({ taskQueueName: STICKY_QUEUE, kind: 'sticky' })), StickyWorkerUnavailableError);
});

test('query task: goes to the next poller before backlog tasks (a caller waits on it)', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await f.engine.addWorkflowTask(workflowTask(3));
  const dispatched = f.engine.dispatchQueryTask(dispatch());
  const response = await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  assert.equal(response?.query?.queryType, 'status');
  assert.equal(await dispatched, true);
  assert.deepEqual(await storedBacklog(f), ['wf-3'], 'the workflow task waits for the next poll');
});

test('query task: a query whose caller gave up is not handed to a later poller after its first poller failed to build it', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const hold = f.starter.holdNext('buildQueryTask');
  const dispatched = f.engine.dispatchQueryTask(dispatch({ timeoutMs: 5_000 }));
  const first = f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  await waitUntil(() => f.starter.callsOf('buildQueryTask').length === 1);

  f.clock.advance(5_000);
  assert.equal(await dispatched, false, 'the caller gave up');
  hold.fail(new UnavailableError('history shard 3 is moving'));
  await assert.rejects(first, UnavailableError);

  const call = cancellableCall();
  const second = f.engine.pollWorkflowTaskQueue(pollRequest(), call);
  assert.ok(await isPending(second), 'nobody waits for that query any more');
  call.cancel();
  assert.equal(await second, null);
  assert.equal(f.starter.callsOf('buildQueryTask').length, 1);
});

test('query task: resolves false at once when its caller had already cancelled, and is never offered', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const call = cancellableCall();
  call.cancel();
  const dispatched = f.engine.dispatchQueryTask(dispatch(), call);
  assert.equal(await isPending(dispatched), false);
  assert.equal(await dispatched, false);

  const pollCall = cancellableCall();
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(), pollCall);
  assert.ok(await isPending(poll), 'nothing to take');
  pollCall.cancel();
  assert.equal(await poll, null);
  assert.equal(f.starter.callsOf('buildQueryTask').length, 0);
});
