import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SettingsRegistry, StickyWorkerUnavailableError, UnavailableError } from '@hourglass/common';
import {
  cancellableCall,
  isPending,
  matchingFixture,
  pollersWaiting,
  pollRequest,
  queryTask,
  queueKey,
  storedBacklog,
  waitUntil,
  workflowTask,
  NAMESPACE_ID,
  NAMESPACE_NAME,
  STICKY_QUEUE,
  type MatchingFixture,
} from './testing/fixture';

const sticky = { taskQueueName: STICKY_QUEUE, kind: 'sticky' } as const;
const STICKY_KEY = queueKey({ name: STICKY_QUEUE, kind: 'sticky' });

/** A worker polled the sticky queue and went away without a poll pending: the queue is recent but nobody waits. */
async function pollOnceAndLeave(f: MatchingFixture): Promise<void> {
  const call = cancellableCall();
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(sticky), call);
  await pollersWaiting(f, 1, sticky);
  call.cancel();
  assert.equal(await poll, null);
}

test('sticky: adding to a sticky queue nobody polled fails with StickyWorkerUnavailableError', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await assert.rejects(f.engine.addWorkflowTask(workflowTask(3, sticky)), StickyWorkerUnavailableError);
  assert.deepEqual(await storedBacklog(f, STICKY_KEY), []);
});

test('sticky: a sticky queue takes tasks within its namespace window after a poll, and not after it', async (t) => {
  const f = await matchingFixture({
    settings: new SettingsRegistry({ 'matching.stickyPollerUnavailableWindow': [{ value: '3s', constraints: { namespace: NAMESPACE_NAME } }] }),
  });
  t.after(() => f.close());
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(sticky), { deadline: 0 });
  await pollersWaiting(f, 1, sticky);
  await f.engine.addWorkflowTask(workflowTask(3, sticky));
  assert.equal((await poll)?.workflowExecution?.workflowId, 'wf-3');

  f.clock.advance(3_000);
  await f.engine.addWorkflowTask(workflowTask(4, sticky));
  assert.deepEqual(await storedBacklog(f, STICKY_KEY), ['wf-4'], 'within the window: kept for the worker');
  f.clock.advance(1);
  await assert.rejects(f.engine.addWorkflowTask(workflowTask(5, sticky)), (err: Error) => {
    assert.ok(err instanceof StickyWorkerUnavailableError);
    assert.match(err.message, /sticky queue "orders-sticky-worker-1" has had no poller for 3001 ms \(more than 3000 ms\)/);
    return true;
  });
});

test('sticky: after shutdownStickyQueue the queue is closed: waiting polls end, later polls answer null at once, adds fail', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const waiting = f.engine.pollWorkflowTaskQueue(pollRequest(sticky), { deadline: 0 });
  await pollersWaiting(f, 1, sticky);

  await f.engine.shutdownStickyQueue({ namespaceId: NAMESPACE_ID, stickyQueueName: STICKY_QUEUE });
  assert.equal(await waiting, null);
  const later = f.engine.pollWorkflowTaskQueue(pollRequest(sticky), { deadline: 0 });
  assert.equal(await isPending(later), false, 'no long poll on a closed queue');
  assert.equal(await later, null);
  await assert.rejects(f.engine.addWorkflowTask(workflowTask(3, sticky)), (err: Error) => {
    assert.ok(err instanceof StickyWorkerUnavailableError);
    assert.match(err.message, /is closed: its worker shut down/);
    return true;
  });
  await assert.rejects(
    f.engine.dispatchQueryTask({ namespaceId: NAMESPACE_ID, taskQueueName: STICKY_QUEUE, kind: 'sticky', task: queryTask('q1'), timeoutMs: 5_000 }),
    StickyWorkerUnavailableError,
  );
});

test('sticky: shutdownStickyQueue moves the backlog to the normal queue through rescheduleStickyWorkflowTask', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await pollOnceAndLeave(f);
  await f.engine.addWorkflowTask(workflowTask(3, sticky));
  await f.engine.addWorkflowTask(workflowTask(4, sticky));
  assert.deepEqual(await storedBacklog(f, STICKY_KEY), ['wf-3', 'wf-4']);

  await f.engine.shutdownStickyQueue({ namespaceId: NAMESPACE_ID, stickyQueueName: STICKY_QUEUE });
  assert.deepEqual(
    f.starter.callsOf('rescheduleStickyWorkflowTask').map((c) => c.request),
    [3, 4].map((id) => ({ namespaceId: NAMESPACE_ID, task: { workflowId: `wf-${id}`, runId: 'run-1', scheduledEventId: id, attempt: 0, createdAt: f.clock.now() } })),
  );
  assert.deepEqual(await storedBacklog(f, STICKY_KEY), [], 'the sticky backlog is gone from the store');
});

test('sticky: shutdownStickyQueue releases query tasks waiting on the queue', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await pollOnceAndLeave(f);
  const dispatched = f.engine.dispatchQueryTask({ namespaceId: NAMESPACE_ID, taskQueueName: STICKY_QUEUE, kind: 'sticky', task: queryTask('q1'), timeoutMs: 5_000 });
  assert.ok(await isPending(dispatched), 'the query waits for the sticky worker');

  await f.engine.shutdownStickyQueue({ namespaceId: NAMESPACE_ID, stickyQueueName: STICKY_QUEUE });
  assert.equal(await dispatched, false);
  assert.equal(f.starter.callsOf('buildQueryTask').length, 0);
});

test('sticky: shutdownStickyQueue closes a sticky queue this host had not served yet', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  // E.g. the worker's last poll reached another process before this one restarted.
  await f.engine.shutdownStickyQueue({ namespaceId: NAMESPACE_ID, stickyQueueName: STICKY_QUEUE });
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(sticky), { deadline: 0 });
  assert.equal(await isPending(poll), false, 'no long poll on a closed queue');
  assert.equal(await poll, null);
});

test('sticky: an add still being persisted when the queue closes fails with StickyWorkerUnavailableError and leaves no row', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await pollOnceAndLeave(f);
  const hold = f.store.holdNext('createTasks');
  const added = f.engine.addWorkflowTask(workflowTask(3, sticky));
  assert.ok(await isPending(added), 'persisting');

  await f.engine.shutdownStickyQueue({ namespaceId: NAMESPACE_ID, stickyQueueName: STICKY_QUEUE });
  hold.release();
  // History then schedules the task on the normal queue, as for any add to a gone sticky worker.
  await assert.rejects(added, StickyWorkerUnavailableError);
  assert.deepEqual(await storedBacklog(f, STICKY_KEY), [], 'nothing stranded on the closed queue');
  assert.equal((await f.engine.describeTaskQueue({ namespaceId: NAMESPACE_ID, taskQueueName: STICKY_QUEUE, type: 'workflow', kind: 'sticky' })).backlogTasks, 0);
});

test('sticky: a backlog task whose start fails after the queue closed moves to the normal queue too', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await pollOnceAndLeave(f);
  await f.engine.addWorkflowTask(workflowTask(3, sticky));
  const hold = f.starter.holdNext('recordWorkflowTaskStarted');
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(sticky), { deadline: 0 });
  await waitUntil(() => f.starter.callsOf('recordWorkflowTaskStarted').length === 1);

  await f.engine.shutdownStickyQueue({ namespaceId: NAMESPACE_ID, stickyQueueName: STICKY_QUEUE });
  assert.equal(f.starter.callsOf('rescheduleStickyWorkflowTask').length, 0, 'the task was with a poller');
  hold.fail(new UnavailableError('history shard 3 is moving'));
  await assert.rejects(poll, UnavailableError);

  await waitUntil(() => f.starter.callsOf('rescheduleStickyWorkflowTask').length === 1);
  assert.equal((f.starter.callsOf('rescheduleStickyWorkflowTask')[0]?.request as { task: { workflowId: string } }).task.workflowId, 'wf-3');
  await waitUntil(async () => (await storedBacklog(f, STICKY_KEY)).length === 0);
});

test('sticky: a query whose poller fails to build it after the queue closed resolves false at once', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await pollOnceAndLeave(f);
  const dispatched = f.engine.dispatchQueryTask({ namespaceId: NAMESPACE_ID, taskQueueName: STICKY_QUEUE, kind: 'sticky', task: queryTask('q1'), timeoutMs: 5_000 });
  const hold = f.starter.holdNext('buildQueryTask');
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(sticky), { deadline: 0 });
  await waitUntil(() => f.starter.callsOf('buildQueryTask').length === 1);

  await f.engine.shutdownStickyQueue({ namespaceId: NAMESPACE_ID, stickyQueueName: STICKY_QUEUE });
  hold.fail(new UnavailableError('history shard 3 is moving'));
  await assert.rejects(poll, UnavailableError);
  assert.equal(await isPending(dispatched), false, 'no sticky poller will come: the caller falls back now, not after its timeout');
  assert.equal(await dispatched, false);
});
