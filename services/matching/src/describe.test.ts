/**
 * What DescribeTaskQueue and the worker list read from matching: pollers by identity with their last
 * access time (forgotten after five minutes), the backlog's count and oldest task, worker heartbeats
 * (latest per instance, most recent first, paged, forgotten after five minutes of silence).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerRegistry, WORKER_TTL_MS } from './worker-registry';
import { NAMESPACE_ID, TASK_QUEUE, cancellableCall, matchingFixture, pollRequest, pollersWaiting, workflowTask } from './testing/fixture';

const describeKey = { namespaceId: NAMESPACE_ID, taskQueueName: TASK_QUEUE, type: 'workflow' as const, kind: 'normal' as const };

test('describe: pollers by identity with their last access time, most recent first; forgotten after five minutes', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const a = cancellableCall();
  const pollA = f.engine.pollWorkflowTaskQueue(pollRequest({ identity: 'worker-a' }), a);
  await pollersWaiting(f, 1);
  f.clock.advance(1_000);
  const b = cancellableCall();
  const pollB = f.engine.pollWorkflowTaskQueue(pollRequest({ identity: 'worker-b' }), b);
  await pollersWaiting(f, 2);
  const seen = await f.engine.describeTaskQueue(describeKey);
  assert.equal(seen.waitingPollers, 2);
  assert.deepEqual(seen.pollers.map((p) => p.identity), ['worker-b', 'worker-a']);
  assert.equal(seen.pollers[0]!.lastAccessTime - seen.pollers[1]!.lastAccessTime, 1_000);
  a.cancel();
  b.cancel();
  await Promise.all([pollA, pollB]);
  f.clock.advance(5 * 60_000 + 1);
  assert.deepEqual((await f.engine.describeTaskQueue(describeKey)).pollers, [], 'pollers silent for five minutes are gone');
});

test('describe: the backlog count and its oldest task', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  assert.equal((await f.engine.describeTaskQueue(describeKey)).oldestBacklogTime, undefined);
  const first = f.clock.now();
  await f.engine.addWorkflowTask(workflowTask(3));
  f.clock.advance(2_000);
  await f.engine.addWorkflowTask(workflowTask(4));
  const d = await f.engine.describeTaskQueue(describeKey);
  assert.equal(d.backlogTasks, 2);
  assert.equal(d.oldestBacklogTime, first);
  assert.equal((await f.engine.describeTaskQueue({ ...describeKey, type: 'activity' })).backlogTasks, 0, 'per type');
});

test('worker registry: the latest heartbeat per instance, most recent first, paged, forgotten after five minutes', () => {
  const registry = new WorkerRegistry();
  registry.record('ns', { workerInstanceKey: 'w1', taskQueue: 'q', workerIdentity: 'one' }, 0);
  registry.record('ns', { workerInstanceKey: 'w2', taskQueue: 'q' }, 10);
  registry.record('ns', { workerInstanceKey: 'w1', taskQueue: 'q', workerIdentity: 'one again' }, 20);
  registry.record('other', { workerInstanceKey: 'w9' }, 20);
  const all = registry.list('ns', 30, 10);
  assert.deepEqual(all.workers.map((w) => w.workerInstanceKey), ['w1', 'w2']);
  assert.equal(all.workers[0]?.workerIdentity, 'one again');
  const page1 = registry.list('ns', 30, 1);
  assert.deepEqual(page1.workers.map((w) => w.workerInstanceKey), ['w1']);
  assert.equal(page1.nextPageToken, 'w1');
  const page2 = registry.list('ns', 30, 1, page1.nextPageToken);
  assert.deepEqual(page2.workers.map((w) => w.workerInstanceKey), ['w2']);
  assert.equal(page2.nextPageToken, undefined);
  assert.equal(registry.count('ns', 30), 2);
  assert.equal(registry.get('other', 'w1', 30), undefined, 'one namespace never sees another one\'s workers');
  assert.equal(registry.get('ns', 'w2', 10 + WORKER_TTL_MS + 1), undefined);
  assert.deepEqual(registry.list('ns', 20 + WORKER_TTL_MS + 1, 10).workers, []);
  assert.equal(registry.count('ns', 20 + WORKER_TTL_MS + 1), 0);
  assert.throws(() => registry.record('ns', { taskQueue: 'q' }, 0), /workerInstanceKey is not set/);
});
