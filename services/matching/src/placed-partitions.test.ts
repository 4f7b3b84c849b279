/**
 * Partitions on different hosts (cluster mode): two engines over one store, each owning half of a
 * queue's partitions (B the root and partition 2, A partitions 1 and 3), wired to each other
 * through ServicePartitionRouter over the MatchingService calls a routed client would send to the
 * owner. A task added on A reaches a poller waiting on B's root, A's stranded backlog reaches it
 * too, describe merges across both, and each loads only the stored backlog of what it owns.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_SETTINGS, MatchingSettings, UnavailableError, overlaySettings, silentLogger } from '@hourglass/common';
import { mergeTaskQueueDescriptions, type MatchingService } from '@hourglass/contracts';
import type { TaskQueueKey } from '@hourglass/persistence';
import { MatchingEngine } from './matching-engine';
import { ServicePartitionRouter, type PollResponse } from './partitions';
import type { MatchTask } from './types';
import { NAMESPACE_ID, TASK_QUEUE, cancellableCall, eventually, matchingFixture, pollRequest, queueKey, storedBacklog, storedBacklogAll, waitUntil, workflowTask, type MatchingFixture } from './testing/fixture';

const describeKey = { namespaceId: NAMESPACE_ID, taskQueueName: TASK_QUEUE, type: 'workflow' as const, kind: 'normal' as const };
const PARTITIONS = [0, 1, 2, 3];
const settings = overlaySettings(DEFAULT_SETTINGS, { [MatchingSettings.strandedBacklogRetryInterval.key]: [{ value: 20 }] });

interface Hosts {
  f: MatchingFixture;
  a: MatchingEngine;
  b: MatchingEngine;
  owner(partition: number): MatchingEngine;
  /** Calls that crossed from one engine to another: "offer 1→0", "poll 3→0". */
  hops: string[];
}

async function twoHosts(t: TestContext): Promise<Hosts> {
  const f = await matchingFixture({ settings });
  const hops: string[] = [];
  const engines: MatchingEngine[] = [];
  const owner = (partition: number): MatchingEngine => {
    const engine = engines[partition % 2 === 0 ? 1 : 0];
    if (!engine) throw new Error('engines not made yet');
    return engine;
  };
  // What the routed client does: send each call to the owner of the partition it names.
  const network: Pick<MatchingService, 'offerForwardedTask' | 'pollWorkflowTaskQueue' | 'pollActivityTaskQueue'> = {
    offerForwardedTask: (r) => {
      hops.push(`offer ${r.forwardedFrom}→${r.partition}`);
      return owner(r.partition).offerForwardedTask(r);
    },
    pollWorkflowTaskQueue: (r, call) => {
      hops.push(`poll ${r.forwardedFrom}→${r.partition}`);
      return owner(r.partition ?? 0).pollWorkflowTaskQueue(r, call);
    },
    pollActivityTaskQueue: (r, call) => owner(r.partition ?? 0).pollActivityTaskQueue(r, call),
  };
  for (let i = 0; i < 2; i++) {
    const engine = new MatchingEngine(f.store, f.clock, settings, silentLogger());
    engine.setTaskStarter(f.starter);
    engine.placePartitions({ router: new ServicePartitionRouter(network), owns: (key: TaskQueueKey) => owner(key.partition) === engine });
    await engine.start();
    engines.push(engine);
  }
  const [a, b] = engines as [MatchingEngine, MatchingEngine];
  // The engines' retry timer does not keep a process alive (a server's listeners do): the test must, while polls wait on it.
  const keepAlive = setInterval(() => undefined, 1_000);
  t.after(async () => {
    clearInterval(keepAlive);
    a.stop();
    b.stop();
    await f.close();
  });
  return { f, a, b, owner, hops };
}

function workflowIdOf(response: PollResponse | null): string | undefined {
  return response?.workflowExecution?.workflowId ?? undefined;
}

/** The queue as a routed client describes it: each partition at its owner, merged. */
async function describeAll(h: Hosts) {
  return mergeTaskQueueDescriptions(await Promise.all(PARTITIONS.map((partition) => h.owner(partition).describeTaskQueue({ ...describeKey, partition }))));
}

async function waitingOnRoot(h: Hosts, count: number): Promise<void> {
  await waitUntil(async () => (await h.b.describeTaskQueue({ ...describeKey, partition: 0 })).waitingPollers === count);
}

test('placed partitions: a task added on a partition of host A is taken by a poller waiting on the root on host B; nothing is stored', { timeout: 10_000 }, async (t) => {
  const h = await twoHosts(t);
  const poll = h.b.pollWorkflowTaskQueue(pollRequest({ partition: 0, identity: 'worker-b' }), { deadline: 0 });
  await waitingOnRoot(h, 1);
  await h.a.addWorkflowTask(workflowTask(1, { partition: 1 }));
  assert.equal(workflowIdOf(await poll), 'wf-1');
  assert.deepEqual(h.hops, ['offer 1→0']);
  assert.deepEqual(await storedBacklogAll(h.f), []);

  // And a poll of A's partition with nothing there waits on B's root, where B's add finds it.
  const forwarded = h.a.pollWorkflowTaskQueue(pollRequest({ partition: 3, identity: 'worker-a' }), { deadline: 0 });
  await waitingOnRoot(h, 1);
  assert.deepEqual(h.hops.slice(1), ['poll 3→0']);
  await h.b.addWorkflowTask(workflowTask(2, { partition: 2 }));
  assert.equal(workflowIdOf(await forwarded), 'wf-2');
  assert.deepEqual(await storedBacklogAll(h.f), []);
});

test('placed partitions: backlog stored on host A with no poller anywhere reaches a poller that waits on the root on host B later', { timeout: 10_000 }, async (t) => {
  const h = await twoHosts(t);
  await h.a.addWorkflowTask(workflowTask(3, { partition: 3 }));
  await h.a.addWorkflowTask(workflowTask(4, { partition: 3 }));
  assert.deepEqual(await storedBacklog(h.f, queueKey({ partition: 3 })), ['wf-3', 'wf-4']);
  // B cannot see A's backlog: A offers it up again and again until a poller takes it.
  assert.equal(workflowIdOf(await h.b.pollWorkflowTaskQueue(pollRequest({ partition: 0 }), { deadline: 0 })), 'wf-3');
  assert.equal(workflowIdOf(await h.b.pollWorkflowTaskQueue(pollRequest({ partition: 0 }), { deadline: 0 })), 'wf-4');
  await eventually(async () => (await storedBacklogAll(h.f)).length === 0);
  assert.deepEqual(
    h.f.starter.recorded.map((c) => (c.request as { task: MatchTask }).task.workflowId),
    ['wf-3', 'wf-4'],
    'each task started once',
  );
});

test('placed partitions: describe merges the partitions of both hosts (backlog, oldest task, pollers by identity, waiting polls)', { timeout: 10_000 }, async (t) => {
  const h = await twoHosts(t);
  const first = h.f.clock.now();
  await h.a.addWorkflowTask(workflowTask(5, { partition: 1 }));
  h.f.clock.advance(1_000);
  await h.b.addWorkflowTask(workflowTask(6, { partition: 2 }));
  const backlog = await describeAll(h);
  assert.equal(backlog?.backlogTasks, 2);
  assert.equal(backlog?.oldestBacklogTime, first);
  assert.equal((await h.a.describeTaskQueue(describeKey)).backlogTasks, 1, 'each host holds only its partitions');

  // Each partition's own poller takes its task; then two polls wait, both on B's root.
  assert.equal(workflowIdOf(await h.a.pollWorkflowTaskQueue(pollRequest({ partition: 1, identity: 'worker-a' }), { deadline: 0 })), 'wf-5');
  assert.equal(workflowIdOf(await h.b.pollWorkflowTaskQueue(pollRequest({ partition: 2, identity: 'worker-b' }), { deadline: 0 })), 'wf-6');
  const callA = cancellableCall();
  const callB = cancellableCall();
  const waitingA = h.a.pollWorkflowTaskQueue(pollRequest({ partition: 3, identity: 'worker-a' }), callA);
  const waitingB = h.b.pollWorkflowTaskQueue(pollRequest({ partition: 0, identity: 'worker-c' }), callB);
  await waitingOnRoot(h, 2);
  const merged = await describeAll(h);
  assert.equal(merged?.waitingPollers, 2);
  assert.equal(merged?.backlogTasks, 0);
  assert.deepEqual(merged?.pollers.map((p) => p.identity).sort(), ['worker-a', 'worker-b', 'worker-c']);
  callA.cancel();
  callB.cancel();
  assert.equal(await waitingA, null);
  assert.equal(await waitingB, null);
});

test('placed partitions: a host loads the stored backlog of the partitions it owns, and on an ownership change takes up new ones and lets go of lost ones', async (t) => {
  const f = await matchingFixture({ settings });
  t.after(() => f.close());
  // No poller: the tasks stay in partitions 1 and 2.
  await f.engine.addToPartition(queueKey({ partition: 1 }), { workflowId: 'wf-1', runId: 'run-1', scheduledEventId: 1, attempt: 0, createdAt: 0 });
  await f.engine.addToPartition(queueKey({ partition: 2 }), { workflowId: 'wf-2', runId: 'run-1', scheduledEventId: 2, attempt: 0, createdAt: 0 });
  f.engine.stop();
  let owned = new Set([2]);
  const engine = new MatchingEngine(f.store, f.clock, settings, silentLogger());
  t.after(() => engine.stop());
  engine.setTaskStarter(f.starter);
  engine.placePartitions({ router: new ServicePartitionRouter(engine), owns: (key) => owned.has(key.partition) });
  await engine.start();
  assert.equal((await engine.describeTaskQueue(describeKey)).backlogTasks, 1, 'only partition 2 is loaded');
  owned = new Set([1, 2]);
  await engine.ownershipChanged();
  assert.equal((await engine.describeTaskQueue(describeKey)).backlogTasks, 2, 'partition 1 is taken up');
  owned = new Set([1]);
  await engine.ownershipChanged();
  assert.equal((await engine.describeTaskQueue(describeKey)).backlogTasks, 1, 'partition 2 is let go of');
  assert.deepEqual(await storedBacklogAll(f), ['wf-1', 'wf-2'], 'letting go deletes nothing');
});

test('placed partitions: a host does not store backlog in a partition it does not own (the caller tries the owner); the owner finds what another host stored while both took themselves for its owner', async (t) => {
  const f = await matchingFixture({ settings: overlaySettings(settings, { [MatchingSettings.ownedBacklogRescanInterval.key]: [{ value: 20 }] }) });
  t.after(() => f.close());
  const keepAlive = setInterval(() => undefined, 1_000);
  t.after(() => clearInterval(keepAlive));
  const make = async (owns: (key: TaskQueueKey) => boolean): Promise<MatchingEngine> => {
    const engine = new MatchingEngine(f.store, f.clock, overlaySettings(settings, { [MatchingSettings.ownedBacklogRescanInterval.key]: [{ value: 20 }] }), silentLogger());
    t.after(() => engine.stop());
    engine.setTaskStarter(f.starter);
    engine.placePartitions({ router: new ServicePartitionRouter(engine), owns });
    await engine.start();
    return engine;
  };
  let xOwns = true;
  const y = await make((key) => key.partition === 1);
  const x = await make((key) => key.partition === 1 && xOwns);
  // Y loaded partition 1 (empty) first; X, taking itself for the owner too, stores a task there.
  assert.equal((await y.describeTaskQueue({ ...describeKey, partition: 1 })).backlogTasks, 0);
  await x.addWorkflowTask(workflowTask(7, { partition: 1 }));
  assert.deepEqual(await storedBacklog(f, queueKey({ partition: 1 })), ['wf-7']);
  // X learns it does not own it: it refuses to store there.
  xOwns = false;
  await assert.rejects(x.addWorkflowTask(workflowTask(8, { partition: 1 })), (err: Error) => err instanceof UnavailableError && /does not own partition 1/.test(err.message));
  // Y finds X's task at its next rescan and serves it.
  await waitUntil(async () => (await y.describeTaskQueue({ ...describeKey, partition: 1 })).backlogTasks === 1);
  assert.equal(workflowIdOf(await y.pollWorkflowTaskQueue(pollRequest({ partition: 1 }), { deadline: 0 })), 'wf-7');
});

test('placed partitions: a poll naming a partition this host does not own is refused (the caller tries the owner); polls waiting on a partition that moves away end empty at once', async (t) => {
  const f = await matchingFixture({ settings });
  t.after(() => f.close());
  const keepAlive = setInterval(() => undefined, 1_000);
  t.after(() => clearInterval(keepAlive));
  let owned = new Set([0, 1, 2, 3]);
  const engine = new MatchingEngine(f.store, f.clock, settings, silentLogger());
  t.after(() => engine.stop());
  engine.setTaskStarter(f.starter);
  engine.placePartitions({ router: new ServicePartitionRouter(engine), owns: (key) => owned.has(key.partition) });
  await engine.start();

  // Owned: the poll waits on the root (with no task anywhere).
  const call = cancellableCall();
  t.after(() => call.cancel());
  const waiting = engine.pollWorkflowTaskQueue(pollRequest({ partition: 0, identity: 'worker-a' }), call);
  await waitUntil(async () => (await engine.describeTaskQueue({ ...describeKey, partition: 0 })).waitingPollers === 1);
  // The root moves to another host: the waiting poll ends with nothing, instead of waiting for
  // tasks that now go to the new owner's root.
  owned = new Set([1, 2, 3]);
  await engine.ownershipChanged();
  assert.equal(await Promise.race([waiting, delay(2_000).then(() => 'still waiting after 2 s')]), null);
  assert.equal((await engine.describeTaskQueue({ ...describeKey, partition: 0 })).waitingPollers, 0);
  // A poll routed here by a view of membership that is behind is refused before it waits.
  await assert.rejects(
    engine.pollWorkflowTaskQueue(pollRequest({ partition: 0 }), cancellableCall()),
    (err: Error) => err instanceof UnavailableError && /does not own partition 0/.test(err.message),
  );
});
