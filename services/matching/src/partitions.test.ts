/**
 * Task queue partitions: the tree (who forwards to whom), adds forwarded to a poller waiting above,
 * polls forwarded up when nothing waits locally, backlog spread over partitions and moved up to
 * pollers, describe summed over partitions, sticky queues on one partition, and stores written
 * before partitions (root rows) still served.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SettingsRegistry, UnavailableError } from '@hourglass/common';
import { taskQueuePartitionName, versionedTaskQueueName, type CallOptions } from '@hourglass/contracts';
import type { TaskQueueKey } from '@hourglass/persistence';
import { InProcessPartitionRouter, isAncestor, parentPartition, type PartitionRouter, type PollResponse } from './partitions';
import type { MatchTask, PollTaskQueueRequest, WorkflowTaskResponse } from './types';
import {
  NAMESPACE_ID,
  NAMESPACE_NAME,
  STICKY_QUEUE,
  TASK_QUEUE,
  cancellableCall,
  eventually,
  matchingFixture,
  pollersWaiting,
  pollRequest,
  queryTask,
  queueKey,
  storedBacklog,
  storedBacklogAll,
  waitUntil,
  workflowTask,
  type MatchingFixture,
} from './testing/fixture';

const describeKey = { namespaceId: NAMESPACE_ID, taskQueueName: TASK_QUEUE, type: 'workflow' as const, kind: 'normal' as const };

/** The in-process router, recording each forwarded call as "from→to" (the real forwarding still happens). */
class RecordingRouter implements PartitionRouter {
  readonly tasks: string[] = [];
  readonly polls: string[] = [];
  private readonly inner: InProcessPartitionRouter;

  constructor(f: MatchingFixture) {
    this.inner = new InProcessPartitionRouter(f.engine);
    f.engine.setPartitionRouter(this);
  }

  forwardTask(target: TaskQueueKey, task: MatchTask, forwardedFrom: number): Promise<boolean> {
    this.tasks.push(`${forwardedFrom}→${target.partition}`);
    return this.inner.forwardTask(target, task, forwardedFrom);
  }

  forwardPoll(target: TaskQueueKey, request: PollTaskQueueRequest, call: CallOptions, forwardedFrom: number): Promise<PollResponse | null> {
    this.polls.push(`${forwardedFrom}→${target.partition}`);
    return this.inner.forwardPoll(target, request, call, forwardedFrom);
  }
}

function task(id: number): MatchTask {
  return { workflowId: `wf-${id}`, runId: 'run-1', scheduledEventId: id, attempt: 0, createdAt: 0 };
}

function pollOn(f: MatchingFixture, partition: number, call: CallOptions = { deadline: 0 }, identity = 'worker-1'): Promise<PollResponse | null> {
  return f.engine.pollPartition(queueKey({ partition }), pollRequest({ identity }), call);
}

function workflowIdOf(response: PollResponse | null): string | undefined {
  return response?.workflowExecution?.workflowId ?? undefined;
}

test('partition tree: with the defaults every partition is a child of the root; a smaller degree makes levels', () => {
  assert.equal(parentPartition(0, 20), undefined, 'the root has no parent');
  for (const k of [1, 2, 3, 20]) assert.equal(parentPartition(k, 20), 0);
  assert.equal(parentPartition(21, 20), 1);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((k) => parentPartition(k, 2)), [0, 0, 1, 1, 2, 2]);
  assert.deepEqual([1, 2, 3].map((k) => parentPartition(k, 1)), [0, 1, 2], 'degree 1 is a chain');
  assert.ok(isAncestor(0, 5, 2) && isAncestor(2, 5, 2));
  assert.ok(!isAncestor(1, 5, 2) && !isAncestor(5, 5, 2));
  assert.throws(() => parentPartition(3, 0), /degree must be a whole number of at least 1, got 0/);
  assert.equal(taskQueuePartitionName('orders', 0), 'orders', 'the root keeps the queue name');
  assert.equal(taskQueuePartitionName('orders', 3), '/_sys/orders/3');
});

test('partitions: an add with no poller on its partition is forwarded to a poller waiting on the root; nothing is stored', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const router = new RecordingRouter(f);
  const poll = pollOn(f, 0);
  await pollersWaiting(f, 1);
  await f.engine.addToPartition(queueKey({ partition: 2 }), task(3));
  assert.equal(workflowIdOf(await poll), 'wf-3');
  assert.deepEqual(router.tasks, ['2→0']);
  assert.deepEqual(await storedBacklogAll(f), []);
});

test('partitions: a poll that finds nothing on its partition waits on the root, where an add to any partition finds it', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const router = new RecordingRouter(f);
  const poll = pollOn(f, 3);
  await pollersWaiting(f, 1);
  assert.deepEqual(router.polls, ['3→0']);
  await f.engine.addToPartition(queueKey({ partition: 1 }), task(4));
  assert.equal(workflowIdOf(await poll), 'wf-4');
  assert.deepEqual(router.tasks, ['1→0'], 'the add went up to the root, where the poll waited');
  assert.deepEqual(await storedBacklogAll(f), []);
});

test('partitions: a poll takes its own partition\'s task without forwarding; with a smaller degree forwarding climbs level by level', async (t) => {
  const f = await matchingFixture({ partitions: 7, degree: 2 });
  t.after(() => f.close());
  const router = new RecordingRouter(f);
  await f.engine.addToPartition(queueKey({ partition: 5 }), task(1));
  // No poller anywhere: the add climbed to the root, was stored on 5, and offered up once more (a poller may have come while it was written).
  assert.deepEqual(router.tasks, ['5→2', '2→0', '5→2', '2→0']);
  assert.deepEqual(await storedBacklog(f, queueKey({ partition: 5 })), ['wf-1']);
  router.tasks.length = 0;
  assert.equal(workflowIdOf(await pollOn(f, 5)), 'wf-1');
  assert.deepEqual(router.polls, [], 'taken locally');

  const poll = pollOn(f, 6);
  await pollersWaiting(f, 1);
  assert.deepEqual(router.polls, ['6→2', '2→0']);
  await f.engine.addToPartition(queueKey({ partition: 3 }), task(2));
  assert.equal(workflowIdOf(await poll), 'wf-2');
  assert.deepEqual(router.tasks, ['3→1', '1→0']);
});

test('partitions: a forwarded poll ends as any poll: at the long-poll interval, or when its caller cancels, and leaves nothing waiting', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const expiring = pollOn(f, 2);
  await pollersWaiting(f, 1);
  f.clock.advance(60_000);
  assert.equal(await expiring, null);
  await pollersWaiting(f, 0);
  const call = cancellableCall();
  const cancelled = pollOn(f, 3, call);
  await pollersWaiting(f, 1);
  call.cancel();
  assert.equal(await cancelled, null);
  await pollersWaiting(f, 0);
  await f.engine.addToPartition(queueKey({ partition: 3 }), task(1));
  assert.deepEqual(await storedBacklog(f, queueKey({ partition: 3 })), ['wf-1'], 'no poller took it: stored where it was added');
  assert.equal(f.starter.calls.length, 0);
});

test('partitions: with pollers on some partitions only, every task added through the public API is matched', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const polls = [pollOn(f, 1, undefined, 'a'), pollOn(f, 3, undefined, 'b'), pollOn(f, 3, undefined, 'c')];
  await pollersWaiting(f, 3);
  for (const id of [1, 2, 3]) await f.engine.addWorkflowTask(workflowTask(id));
  assert.deepEqual((await Promise.all(polls)).map(workflowIdOf).sort(), ['wf-1', 'wf-2', 'wf-3']);
  assert.deepEqual(await storedBacklogAll(f), [], 'all sync matched, whatever partition each add picked');

  // Worker polls and history adds, interleaved, through the public API: each task is delivered once, none is left.
  const responses: Promise<PollResponse | null>[] = [];
  for (let i = 0; i < 24; i++) {
    if (i % 3 === 0) await f.engine.addWorkflowTask(workflowTask(100 + i));
    responses.push(f.engine.pollWorkflowTaskQueue(pollRequest({ identity: `w${i % 5}` }), { deadline: 0 }));
    if (i % 3 !== 0) await f.engine.addWorkflowTask(workflowTask(100 + i));
  }
  const delivered = (await Promise.all(responses)).map(workflowIdOf);
  assert.equal(new Set(delivered).size, 24);
  assert.ok(delivered.every((id) => id !== undefined));
  assert.deepEqual(await storedBacklogAll(f), []);
  assert.equal((await f.engine.describeTaskQueue(describeKey)).backlogTasks, 0);
});

test('partitions: backlog spread over the partitions drains when pollers come, even pollers of the root only', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  for (let id = 1; id <= 8; id++) await f.engine.addWorkflowTask(workflowTask(id));
  for (let p = 0; p < 4; p++) assert.equal((await storedBacklog(f, queueKey({ partition: p }))).length, 2, `partition ${p} holds its share`);
  assert.equal((await f.engine.describeTaskQueue(describeKey)).backlogTasks, 8, 'describe sums the partitions');

  const delivered: (string | undefined)[] = [];
  for (let i = 0; i < 8; i++) delivered.push(workflowIdOf(await pollOn(f, 0)));
  assert.deepEqual(delivered.slice(0, 2), ['wf-1', 'wf-5'], 'the root\'s own backlog first');
  assert.deepEqual([...delivered].sort(), ['wf-1', 'wf-2', 'wf-3', 'wf-4', 'wf-5', 'wf-6', 'wf-7', 'wf-8']);
  await eventually(async () => (await storedBacklogAll(f)).length === 0);
  assert.equal((await f.engine.describeTaskQueue(describeKey)).backlogTasks, 0);
});

test('partitions: while nobody polls, each add tries the tree once; the stored backlog is not offered up again per add', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const router = new RecordingRouter(f);
  for (let id = 1; id <= 10; id++) await f.engine.addToPartition(queueKey({ partition: 1 }), task(id));
  assert.equal(await storedBacklog(f, queueKey({ partition: 1 })).then((ids) => ids.length), 10);
  assert.equal(router.tasks.length, 11, 'one forward per add, and the first stored task offered up once');
});

test('partitions: a task returned to a child partition while a poller waits on the root moves up to it', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await f.engine.addToPartition(queueKey({ partition: 1 }), task(7));
  const hold = f.starter.holdNext('recordWorkflowTaskStarted');
  const child = pollOn(f, 1);
  await waitUntil(() => f.starter.calls.length === 1);
  const root = pollOn(f, 0);
  await pollersWaiting(f, 1);
  hold.fail(new UnavailableError('history shard 1 is moving'));
  await assert.rejects(child, UnavailableError);
  assert.equal(workflowIdOf(await root), 'wf-7', 'the returned task went up to the waiting poller');
  await eventually(async () => (await storedBacklogAll(f)).length === 0);
});

test('partitions: describe sums waiting polls and backlog over partitions and merges pollers by identity', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const first = f.clock.now();
  await f.engine.addToPartition(queueKey({ partition: 2 }), { ...task(1), createdAt: first });
  f.clock.advance(1_000);
  await f.engine.addToPartition(queueKey({ partition: 0 }), { ...task(2), createdAt: f.clock.now() });
  let d = await f.engine.describeTaskQueue(describeKey);
  assert.equal(d.backlogTasks, 2);
  assert.equal(d.oldestBacklogTime, first, 'the oldest task of any partition');

  // Drain the backlog, then leave polls waiting, coming in on different partitions.
  assert.ok(await pollOn(f, 0));
  assert.ok(await pollOn(f, 0));
  const calls = [cancellableCall(), cancellableCall(), cancellableCall()];
  const polls = [pollOn(f, 1, calls[0], 'a'), pollOn(f, 3, calls[1], 'b'), pollOn(f, 3, calls[2], 'a')];
  await pollersWaiting(f, 3);
  d = await f.engine.describeTaskQueue(describeKey);
  assert.equal(d.waitingPollers, 3);
  assert.equal(d.backlogTasks, 0);
  assert.deepEqual(d.pollers.map((p) => p.identity).sort(), ['a', 'b', 'worker-1'], 'each identity once');
  for (const c of calls) c.cancel();
  await Promise.all(polls);
});

test('partitions: a sticky queue has one partition and never forwards', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const router = new RecordingRouter(f);
  const sticky = { taskQueueName: STICKY_QUEUE, kind: 'sticky' } as const;
  const call = cancellableCall();
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(sticky), call);
  await pollersWaiting(f, 1, sticky);
  call.cancel();
  await poll;
  for (const id of [1, 2, 3]) await f.engine.addWorkflowTask(workflowTask(id, sticky));
  assert.deepEqual(await storedBacklog(f, queueKey({ name: STICKY_QUEUE, kind: 'sticky' })), ['wf-1', 'wf-2', 'wf-3'], 'all on partition 0');
  assert.deepEqual(await f.persistence.taskQueues.listQueuesWithTasks(), [queueKey({ name: STICKY_QUEUE, kind: 'sticky' })]);
  assert.equal(workflowIdOf(await f.engine.pollWorkflowTaskQueue(pollRequest(sticky), { deadline: 0 })), 'wf-1');
  assert.deepEqual([...router.tasks, ...router.polls], []);
});

test('partitions: a query reaches a poller that came in on any partition', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const poll = pollOn(f, 2);
  await pollersWaiting(f, 1);
  const taken = f.engine.dispatchQueryTask({ namespaceId: NAMESPACE_ID, taskQueueName: TASK_QUEUE, kind: 'normal', task: queryTask('q1'), timeoutMs: 5_000 });
  assert.equal(((await poll) as WorkflowTaskResponse | null)?.query?.queryType, 'status');
  assert.equal(await taken, true);
});

test('partitions: a backlog stored before partitions existed (root rows) is served after a restart, to polls of any partition', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  // What an earlier Hourglass left: rows of partition 0, under the queue's own name.
  const store = f.persistence.taskQueues;
  const { rangeId } = await store.leaseTaskQueue(queueKey());
  await store.createTasks(queueKey(), rangeId, [1, 2, 3].map((id) => ({ taskId: rangeId * 2 ** 32 + id, data: JSON.stringify(task(id)), expiresAt: 0 })));
  await f.restart();
  assert.equal((await f.engine.describeTaskQueue(describeKey)).backlogTasks, 3);
  const router = new RecordingRouter(f);
  assert.equal(workflowIdOf(await pollOn(f, 3)), 'wf-1', 'a poll of partition 3 found nothing there and took the root\'s oldest');
  assert.deepEqual(router.polls, ['3→0']);
  assert.equal(workflowIdOf(await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 })), 'wf-2');
  assert.equal(workflowIdOf(await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 })), 'wf-3');
  assert.deepEqual(await storedBacklogAll(f), []);
});

test('partitions: after the partition count is lowered, the backlog of partitions no longer polled drains to the root', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  for (let id = 1; id <= 4; id++) await f.engine.addWorkflowTask(workflowTask(id));
  assert.deepEqual(await storedBacklog(f, queueKey({ partition: 3 })), ['wf-4']);
  f.engine.stop();
  const lowered = await matchingFixture({ partitions: 1 });
  t.after(() => lowered.close());
  // Same store, one partition now: copy the rows over as a restart on the same database would find them.
  for (let p = 0; p < 4; p++) {
    const key = queueKey({ partition: p });
    const rows = await f.persistence.taskQueues.listTasks(key, 0, 100);
    const { rangeId } = await lowered.persistence.taskQueues.leaseTaskQueue(key);
    await lowered.persistence.taskQueues.createTasks(key, rangeId, rows);
  }
  await lowered.restart();
  const delivered: (string | undefined)[] = [];
  for (let i = 0; i < 4; i++) delivered.push(workflowIdOf(await lowered.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 })));
  assert.deepEqual(delivered.sort(), ['wf-1', 'wf-2', 'wf-3', 'wf-4']);
  await eventually(async () => (await storedBacklogAll(lowered)).length === 0);
});

test('partitions: the count is read per namespace and task queue (a versioned queue by its base name) once a poll named the namespace', async (t) => {
  const f = await matchingFixture({
    settings: new SettingsRegistry({ 'matching.numTaskQueuePartitions': [{ value: 2, constraints: { namespace: NAMESPACE_NAME, taskQueue: TASK_QUEUE } }] }),
  });
  t.after(() => f.close());
  const call = cancellableCall();
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest({ taskQueueName: 'other' }), call);
  await pollersWaiting(f, 1, { taskQueueName: 'other' });
  call.cancel();
  await poll;
  for (let id = 1; id <= 4; id++) await f.engine.addWorkflowTask(workflowTask(id));
  assert.deepEqual(await storedBacklogAll(f), ['wf-1', 'wf-3', 'wf-2', 'wf-4'], 'partitions 0 and 1 only');
  const versioned = versionedTaskQueueName(TASK_QUEUE, { deploymentName: 'd', buildId: 'b1' });
  for (let id = 5; id <= 8; id++) await f.engine.addWorkflowTask(workflowTask(id, { taskQueueName: versioned }));
  assert.deepEqual(await storedBacklogAll(f, 4, queueKey({ name: versioned })), ['wf-5', 'wf-7', 'wf-6', 'wf-8']);
  const other = queueKey({ name: 'other' });
  for (let id = 9; id <= 12; id++) await f.engine.addWorkflowTask(workflowTask(id, { taskQueueName: 'other' }));
  assert.deepEqual(await storedBacklogAll(f, 4, other), ['wf-9', 'wf-10', 'wf-11', 'wf-12'], 'other queues keep the default');
});
