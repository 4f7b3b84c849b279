import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotFoundError, UnavailableError } from '@hourglass/common';
import { ConditionFailedError } from '@hourglass/persistence';
import { cancellableCall, isPending, matchingFixture, pollRequest, storedBacklog, workflowTask, NAMESPACE_ID, TASK_QUEUE } from './testing/fixture';

const QUEUE = { namespaceId: NAMESPACE_ID, taskQueueName: TASK_QUEUE, type: 'workflow', kind: 'normal' } as const;

test('backlog: a task added with no poller is persisted and given to the next poller, then deleted', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await f.engine.addWorkflowTask(workflowTask(3));
  assert.deepEqual(await storedBacklog(f), ['wf-3']);
  assert.equal(f.starter.calls.length, 0, 'nothing started yet');

  const response = await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  assert.equal(response?.workflowExecution?.workflowId, 'wf-3');
  assert.deepEqual(await storedBacklog(f), [], 'deleted once started');
  assert.equal((await f.engine.describeTaskQueue(QUEUE)).backlogTasks, 0);
});

test('backlog: tasks are served in the order they were added', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  for (const id of [3, 7, 5]) await f.engine.addWorkflowTask(workflowTask(id));
  const served: (string | null | undefined)[] = [];
  for (let i = 0; i < 3; i++) served.push((await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 }))?.workflowExecution?.workflowId);
  assert.deepEqual(served, ['wf-3', 'wf-7', 'wf-5']);
});

test('backlog: concurrent adds whose writes finish out of order are both served (the later id first does not hide the earlier)', async (t) => {
  const f = await matchingFixture({ partitions: 1 });
  t.after(() => f.close());
  // The lease first, so both adds below reach their writes at once.
  await f.engine.addWorkflowTask(workflowTask(1));
  assert.equal((await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 }))?.workflowExecution?.workflowId, 'wf-1');
  const first = f.store.holdNext('createTasks');
  const second = f.store.holdNext('createTasks');
  const addFirst = f.engine.addWorkflowTask(workflowTask(2));
  const addSecond = f.engine.addWorkflowTask(workflowTask(3));
  await new Promise((resolve) => setImmediate(resolve));
  // The database answers the second write (the higher task id) before the first.
  second.release();
  await addSecond;
  first.release();
  await addFirst;
  assert.deepEqual(await storedBacklog(f), ['wf-2', 'wf-3']);
  assert.equal((await f.engine.describeTaskQueue(QUEUE)).backlogTasks, 2, 'both in memory');
  const served = new Set<string | null | undefined>();
  for (let i = 0; i < 2; i++) served.add((await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 }))?.workflowExecution?.workflowId);
  assert.deepEqual([...served].sort(), ['wf-2', 'wf-3']);
  assert.deepEqual(await storedBacklog(f), []);
});

test('backlog: survives a restart; start() of a new engine over the same store loads it', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await f.engine.addWorkflowTask(workflowTask(3));
  const engine = await f.restart();
  assert.equal((await engine.describeTaskQueue(QUEUE)).backlogTasks, 1, 'loaded at start, before any poll');

  // A task added after the restart is served after the one left by the previous process.
  await engine.addWorkflowTask(workflowTask(4));
  const first = await engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  const second = await engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  assert.deepEqual([first?.workflowExecution?.workflowId, second?.workflowExecution?.workflowId], ['wf-3', 'wf-4']);
  assert.deepEqual(await storedBacklog(f), []);
});

test('backlog: a stale task (history answers NOT_FOUND) is dropped and deleted; the poller gets the next one', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await f.engine.addWorkflowTask(workflowTask(3));
  await f.engine.addWorkflowTask(workflowTask(4));
  f.starter.failNext('recordWorkflowTaskStarted', new NotFoundError('workflow task 3 of wf-3 not found'));

  const response = await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  assert.equal(response?.workflowExecution?.workflowId, 'wf-4');
  assert.deepEqual(
    f.starter.callsOf('recordWorkflowTaskStarted').map((c) => (c.request as { task: { workflowId: string } }).task.workflowId),
    ['wf-3', 'wf-4'],
  );
  assert.deepEqual(await storedBacklog(f), [], 'the stale task is deleted too');
});

test('backlog: a transient start failure returns the task to the backlog for the next poller', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await f.engine.addWorkflowTask(workflowTask(3));
  f.starter.failNext('recordWorkflowTaskStarted', new UnavailableError('history shard 3 is moving'));

  await assert.rejects(f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 }), UnavailableError);
  assert.deepEqual(await storedBacklog(f), ['wf-3'], 'still persisted');
  assert.equal((await f.engine.describeTaskQueue(QUEUE)).backlogTasks, 1, 'back in the backlog');

  const response = await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  assert.equal(response?.workflowExecution?.workflowId, 'wf-3');
  assert.deepEqual(await storedBacklog(f), []);
});

test('backlog: a lease that failed is tried again by the next add', async (t) => {
  const f = await matchingFixture({ partitions: 1 });
  t.after(() => f.close());
  f.store.failNext('leaseTaskQueue', new UnavailableError('database is locked'));
  await assert.rejects(f.engine.addWorkflowTask(workflowTask(3)), UnavailableError);
  await f.engine.addWorkflowTask(workflowTask(4));
  assert.deepEqual(await storedBacklog(f), ['wf-4']);
});

test('backlog: a host whose lease another host took fails that add and leases again for the next', async (t) => {
  const f = await matchingFixture({ partitions: 1 });
  t.after(() => f.close());
  const first = f.engine;
  await first.addWorkflowTask(workflowTask(3));
  const second = await f.restart(); // leases the queue over the first engine, which keeps running
  await second.addWorkflowTask(workflowTask(4));

  await assert.rejects(first.addWorkflowTask(workflowTask(5)), ConditionFailedError);
  await first.addWorkflowTask(workflowTask(6));
  assert.deepEqual(await storedBacklog(f), ['wf-3', 'wf-4', 'wf-6']);
});

test('backlog: a started task reaches its poller even when deleting its row fails, and is not offered again', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await f.engine.addWorkflowTask(workflowTask(3));
  f.store.failNext('deleteTasks', new UnavailableError('database is locked'));

  const response = await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  assert.equal(response?.workflowExecution?.workflowId, 'wf-3');
  const call = cancellableCall();
  const next = f.engine.pollWorkflowTaskQueue(pollRequest(), call);
  assert.ok(await isPending(next), 'history started it once; the row left behind is stale when reloaded');
  call.cancel();
  assert.equal(await next, null);
  assert.equal(f.starter.callsOf('recordWorkflowTaskStarted').length, 1);
});
