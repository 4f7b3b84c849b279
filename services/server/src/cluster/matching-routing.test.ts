import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS, MatchingSettings, overlaySettings, type Settings } from '@hourglass/common';
import type { CallOptions, MatchingService, TaskQueueDescription } from '@hourglass/contracts';
import { ServicePartitionRouter } from '@hourglass/matching';
import { routingMatchingClient, taskQueueKey, taskQueuePartitionKey, workerRegistryKey } from './matching-routing';
import type { Placement } from './routing';

interface Call {
  address: string;
  method: string;
  request: Record<string, unknown>;
  call: CallOptions | undefined;
}

type Answer = (call: Call) => unknown;

/** Matching hosts that record which got each call and answer by `answer`; a key's owner is fixed by the test. */
function placement(owners: Map<string, string>, calls: Call[], answer: Answer = () => null): Placement<MatchingService> {
  return {
    ownerOf: (key) => Promise.resolve(owners.get(key) ?? 'default:1'),
    all: () => Promise.resolve([...new Set(owners.values())]),
    client: (address) =>
      new Proxy({} as MatchingService, {
        get: (_t, method: string) => (request: Record<string, unknown>, call?: CallOptions) => {
          const c = { address, method, request, call };
          calls.push(c);
          return Promise.resolve(answer(c));
        },
      }),
  };
}

function partitions(count: number): Settings {
  return overlaySettings(DEFAULT_SETTINGS, { [MatchingSettings.numTaskQueuePartitions.key]: [{ value: count }] });
}

/** A random source that returns `values` in turn. */
function scripted(...values: number[]): () => number {
  let i = 0;
  return () => {
    const v = values[i++];
    if (v === undefined) throw new Error('the test scripted too few random numbers');
    return v;
  };
}

const poll = { namespaceId: 'ns', namespaceName: 'n', taskQueueName: 'orders', kind: 'normal' as const, identity: 'i' };
const addActivity = { namespaceId: 'ns', taskQueueName: 'orders', workflowId: 'w', runId: 'r', scheduledEventId: 5, attempt: 1 };
const addWorkflow = { namespaceId: 'ns', taskQueueName: 'orders', kind: 'normal' as const, workflowId: 'w', runId: 'r', scheduledEventId: 5 };

describe('routing matching calls to the owner of the task queue', () => {
  it('without partitions placed across hosts (the default), names no partition and sends every call of a queue to the owner of its key', async () => {
    const owners = new Map([[taskQueueKey('ns', 'orders'), 'm1:1']]);
    const calls: Call[] = [];
    const client = routingMatchingClient(placement(owners, calls, (c) => (c.method === 'describeTaskQueue' ? { waitingPollers: 1, backlogTasks: 0, pendingQueries: 0, oldestBacklogTime: undefined, pollers: [] } : null)), { settings: partitions(4) });
    await client.addActivityTask(addActivity);
    await client.pollWorkflowTaskQueue(poll, { deadline: 0 });
    await client.describeTaskQueue({ namespaceId: 'ns', taskQueueName: 'orders', type: 'workflow', kind: 'normal' });
    assert.deepEqual(
      calls.map((c) => [c.address, c.method, c.request.partition]),
      [
        ['m1:1', 'addActivityTask', undefined],
        ['m1:1', 'pollWorkflowTaskQueue', undefined],
        ['m1:1', 'describeTaskQueue', undefined],
      ],
    );
  });

  it("with one partition, sends a queue's adds, polls and describes to its owner, and a namespace's worker registry to the namespace's", async () => {
    const owners = new Map([
      [taskQueueKey('ns', 'orders'), 'm1:1'],
      [taskQueueKey('ns', 'sticky-1'), 'm2:1'],
      [workerRegistryKey('ns'), 'm3:1'],
    ]);
    const calls: Call[] = [];
    const client = routingMatchingClient(placement(owners, calls), { settings: partitions(1), placePartitions: true });
    await client.addActivityTask(addActivity);
    await client.pollWorkflowTaskQueue(poll, { deadline: 0 });
    await client.describeTaskQueue({ namespaceId: 'ns', taskQueueName: 'orders', type: 'workflow', kind: 'normal' });
    await client.shutdownStickyQueue({ namespaceId: 'ns', stickyQueueName: 'sticky-1' });
    await client.recordWorkerHeartbeat({ namespaceId: 'ns', heartbeats: [] });
    await client.countWorkers({ namespaceId: 'ns' });
    assert.deepEqual(
      calls.map(({ address, method }) => ({ address, method })),
      [
        { address: 'm1:1', method: 'addActivityTask' },
        { address: 'm1:1', method: 'pollWorkflowTaskQueue' },
        { address: 'm1:1', method: 'describeTaskQueue' },
        { address: 'm2:1', method: 'shutdownStickyQueue' },
        { address: 'm3:1', method: 'recordWorkerHeartbeat' },
        { address: 'm3:1', method: 'countWorkers' },
      ],
    );
  });

  it('picks the partition of an add at random, names it, and sends the add to that partition’s owner; sticky adds stay on the one partition', async () => {
    const owners = new Map([0, 1, 2, 3].map((p) => [taskQueuePartitionKey('ns', 'orders', p), `m${p}:1`]));
    owners.set(taskQueueKey('ns', 'sticky-1'), 'ms:1');
    const calls: Call[] = [];
    const client = routingMatchingClient(placement(owners, calls), { settings: partitions(4), random: scripted(0.1, 0.6, 0.99), placePartitions: true });
    await client.addActivityTask(addActivity);
    await client.addWorkflowTask(addWorkflow);
    await client.addWorkflowTask(addWorkflow);
    await client.addWorkflowTask({ ...addWorkflow, taskQueueName: 'sticky-1', kind: 'sticky' });
    await client.addWorkflowTask({ ...addWorkflow, partition: 1 });
    assert.deepEqual(
      calls.map((c) => [c.address, c.request.partition]),
      [
        ['m0:1', 0],
        ['m2:1', 2],
        ['m3:1', 3],
        ['ms:1', undefined],
        ['m1:1', 1],
      ],
    );
    assert.equal(taskQueuePartitionKey('ns', 'orders', 0), taskQueueKey('ns', 'orders'), 'the root keeps the queue’s key');
  });

  it('sends a poll to the partition with the fewest polls under way, ties broken at random; a poll naming its partition goes there', async () => {
    const owners = new Map([0, 1, 2, 3].map((p) => [taskQueuePartitionKey('ns', 'orders', p), `m${p}:1`]));
    const calls: Call[] = [];
    const held: (() => void)[] = [];
    const client = routingMatchingClient(
      placement(owners, calls, () => new Promise((resolve) => held.push(() => resolve(null)))),
      { settings: partitions(4), random: scripted(0.5, 0.5, 0.5, 0.5, 0.5), placePartitions: true },
    );
    const first = client.pollWorkflowTaskQueue(poll, { deadline: 0 });
    const second = client.pollWorkflowTaskQueue(poll, { deadline: 0 });
    const third = client.pollWorkflowTaskQueue(poll, { deadline: 0 });
    // Activity polls of the same queue are counted apart.
    const activity = client.pollActivityTaskQueue(poll, { deadline: 0 });
    const forwarded = client.pollWorkflowTaskQueue({ ...poll, partition: 0, forwardedFrom: 3 }, { deadline: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      calls.map((c) => [c.method, c.address, c.request.partition]),
      [
        ['pollWorkflowTaskQueue', 'm2:1', 2],
        ['pollWorkflowTaskQueue', 'm3:1', 3],
        ['pollWorkflowTaskQueue', 'm0:1', 0],
        ['pollActivityTaskQueue', 'm2:1', 2],
        ['pollWorkflowTaskQueue', 'm0:1', 0],
      ],
    );
    assert.equal(calls[4]?.request.forwardedFrom, 3);
    for (const release of held) release();
    await Promise.all([first, second, third, activity, forwarded]);
    // All ended: partition 2 is free again.
    const last = client.pollWorkflowTaskQueue(poll, { deadline: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls[5]?.request.partition, 2);
    held.at(-1)?.();
    await last;
  });

  it("describes a queue by asking every partition's owner for its partition and merging; redirects on every partition and sums; queries on the root", async () => {
    const owners = new Map([0, 1, 2].map((p) => [taskQueuePartitionKey('ns', 'orders', p), `m${p % 2}:1`]));
    const calls: Call[] = [];
    const described: Record<number, TaskQueueDescription> = {
      0: { waitingPollers: 2, backlogTasks: 0, pendingQueries: 1, oldestBacklogTime: undefined, pollers: [{ identity: 'a', lastAccessTime: 100 }] },
      1: { waitingPollers: 0, backlogTasks: 3, pendingQueries: 0, oldestBacklogTime: 50, pollers: [{ identity: 'b', lastAccessTime: 90 }, { identity: 'a', lastAccessTime: 80 }] },
      2: { waitingPollers: 1, backlogTasks: 2, pendingQueries: 0, oldestBacklogTime: 40, pollers: [{ identity: 'c', lastAccessTime: 120 }] },
    };
    const client = routingMatchingClient(
      placement(owners, calls, (c) => {
        const partition = c.request.partition as number;
        if (c.method === 'describeTaskQueue') return described[partition];
        if (c.method === 'redirectBacklog') return partition + 1;
        return true;
      }),
      { settings: partitions(3), placePartitions: true },
    );
    const description = await client.describeTaskQueue({ namespaceId: 'ns', taskQueueName: 'orders', type: 'workflow', kind: 'normal' });
    assert.deepEqual(description, {
      waitingPollers: 3,
      backlogTasks: 5,
      pendingQueries: 1,
      oldestBacklogTime: 40,
      pollers: [
        { identity: 'c', lastAccessTime: 120 },
        { identity: 'a', lastAccessTime: 100 },
        { identity: 'b', lastAccessTime: 90 },
      ],
    });
    assert.deepEqual(
      calls.map((c) => [c.address, c.request.partition]),
      [
        ['m0:1', 0],
        ['m1:1', 1],
        ['m0:1', 2],
      ],
    );
    calls.length = 0;
    assert.equal(await client.redirectBacklog({ namespaceId: 'ns', taskQueueName: 'orders', type: 'activity' }), 1 + 2 + 3);
    assert.deepEqual(calls.map((c) => c.request.partition), [0, 1, 2]);
    calls.length = 0;
    await client.dispatchQueryTask({ namespaceId: 'ns', taskQueueName: 'orders', kind: 'normal', task: { workflowId: 'w', runId: 'r', queryId: 'q', query: {} }, timeoutMs: 1000 });
    assert.deepEqual(calls.map((c) => c.address), ['m0:1'], 'a query task waits on the root');
  });

  it('forwards through the network: a partition’s task and poll reach the owner of its parent, the poll with its deadline and cancellation; a failed offer is not repeated', async () => {
    const owners = new Map([0, 1, 2].map((p) => [taskQueuePartitionKey('ns', 'orders', p), `m${p}:1`]));
    const calls: Call[] = [];
    let offers = 0;
    const client = routingMatchingClient(
      placement(owners, calls, (c) => {
        if (c.method === 'offerForwardedTask') {
          offers += 1;
          if (offers === 2) throw Object.assign(new Error('connection reset'), { code: 14 });
          return true;
        }
        return new Promise((resolve) => c.call?.signal?.addEventListener('abort', () => resolve('aborted'), { once: true }));
      }),
      { settings: partitions(3), backoffMs: [1, 1], placePartitions: true },
    );
    const router = new ServicePartitionRouter(client);
    const task = { workflowId: 'w', runId: 'r', scheduledEventId: 5, attempt: 2, createdAt: 7 };
    const parent = { namespaceId: 'ns', name: 'orders', type: 'activity' as const, kind: 'normal' as const, partition: 0 };
    const before = Date.now();
    assert.equal(await router.forwardTask(parent, task, 2), true);
    const offer = calls[0];
    assert.deepEqual([offer?.address, offer?.method, offer?.request], ['m0:1', 'offerForwardedTask', { namespaceId: 'ns', taskQueueName: 'orders', type: 'activity', kind: 'normal', partition: 0, forwardedFrom: 2, task }]);
    const offerDeadline = offer?.call?.deadline ?? 0;
    assert.ok(offerDeadline >= before + 10_000 && offerDeadline <= Date.now() + 10_000, 'an offer is bounded by a deadline');
    await assert.rejects(router.forwardTask({ ...parent, partition: 1 }, task, 2), /connection reset/);
    assert.equal(offers, 2, 'an offer that may have reached its target is not sent again');

    const controller = new AbortController();
    const deadline = Date.now() + 60_000;
    const forwarded = router.forwardPoll({ ...parent, partition: 1 }, { ...poll, taskQueueName: 'orders' }, { deadline, signal: controller.signal }, 2);
    await new Promise((resolve) => setImmediate(resolve));
    const pollCall = calls.at(-1);
    assert.equal(pollCall?.method, 'pollActivityTaskQueue');
    assert.equal(pollCall?.address, 'm1:1');
    assert.equal(pollCall?.request.partition, 1);
    assert.equal(pollCall?.request.forwardedFrom, 2);
    assert.equal(pollCall?.call?.deadline, deadline);
    controller.abort();
    assert.equal(await forwarded, 'aborted', 'the forwarded poll ends when its caller cancels');
  });
});
