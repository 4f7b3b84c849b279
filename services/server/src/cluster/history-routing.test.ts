import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shardIdFor } from '@hourglass/common';
import type { HistoryService } from '@hourglass/contracts';
import { HISTORY_ROUTES, routingHistoryClient, type HistoryHosts } from './history-routing';

const SHARDS = 8;
const NS = 'ns-1';

/** History hosts that record the calls they get and answer by a rule of the test. */
class Hosts implements HistoryHosts {
  readonly calls: { address: string; method: string; workflowId: string }[] = [];
  /** shard → owner as membership sees it now. */
  owners = new Map<number, string>();
  views = 0;
  answer: (address: string, method: string, shardId: number) => unknown = () => ({ ok: true });

  ownerOf(shardId: number, fresh: boolean): Promise<string | undefined> {
    if (fresh) this.views += 1;
    return Promise.resolve(this.owners.get(shardId));
  }

  all(): Promise<string[]> {
    return Promise.resolve([...new Set(this.owners.values())]);
  }

  client(address: string): HistoryService {
    return new Proxy({} as HistoryService, {
      get: (_t, method: string) => (request?: { request?: { workflowId?: string } }) => {
        const workflowId = request?.request?.workflowId ?? '';
        this.calls.push({ address, method, workflowId });
        const outcome = this.answer(address, method, shardIdFor(NS, workflowId, SHARDS));
        return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
      },
    });
  }
}

function hostsOver(addresses: string[]): Hosts {
  const hosts = new Hosts();
  for (let s = 0; s < SHARDS; s++) hosts.owners.set(s, addresses[s % addresses.length] as string);
  return hosts;
}

const start = (workflowId: string) => ({ namespaceId: NS, request: { workflowId } }) as never;

describe('routing history calls to the owner of their shard', () => {
  it('sends each call to the host owning shardIdFor(namespaceId, workflowId)', async () => {
    const hosts = hostsOver(['h0:1', 'h1:1', 'h2:1']);
    const client = routingHistoryClient(hosts, { numHistoryShards: SHARDS });
    for (let i = 0; i < 20; i++) await client.startWorkflowExecution(start(`wf-${i}`));
    assert.equal(hosts.calls.length, 20);
    for (const call of hosts.calls) assert.equal(call.address, hosts.owners.get(shardIdFor(NS, call.workflowId, SHARDS)), call.workflowId);
    assert.equal(new Set(hosts.calls.map((c) => c.address)).size, 3, 'spread over every host');
  });

  it('goes straight to the owner a ShardNotOwned refusal names', async () => {
    const hosts = hostsOver(['h0:1', 'h1:1']);
    const shardId = shardIdFor(NS, 'moved', SHARDS);
    const stale = hosts.owners.get(shardId) as string;
    const owner = stale === 'h0:1' ? 'h1:1' : 'h0:1';
    hosts.answer = (address) => (address === stale ? Object.assign(new Error(`shard ${shardId} is not owned here`), { name: 'ShardNotOwnedError', owner }) : { runId: 'r' });
    const client = routingHistoryClient(hosts, { numHistoryShards: SHARDS, backoffMs: [1, 1] });
    assert.deepEqual(await client.startWorkflowExecution(start('moved')), { runId: 'r' });
    assert.deepEqual(hosts.calls.map((c) => c.address), [stale, owner]);
  });

  it('re-reads membership and retries while the owner is UNAVAILABLE, until the shard has a new owner', async () => {
    const hosts = hostsOver(['h0:1', 'h1:1']);
    const shardId = shardIdFor(NS, 'failover', SHARDS);
    const dead = hosts.owners.get(shardId) as string;
    hosts.answer = (address) => (address === dead ? Object.assign(new Error('connect ECONNREFUSED'), { code: 14 }) : { runId: 'r2' });
    let retries = 0;
    const client = routingHistoryClient(hosts, {
      numHistoryShards: SHARDS,
      backoffMs: [1, 2],
      onRetry: () => {
        retries += 1;
        // Membership notices the dead host after the third failed attempt.
        if (retries === 3) hosts.owners.set(shardId, 'h9:1');
      },
    });
    assert.deepEqual(await client.startWorkflowExecution(start('failover')), { runId: 'r2' });
    assert.deepEqual(hosts.calls.map((c) => c.address), [dead, dead, dead, 'h9:1']);
    assert.ok(hosts.views >= 3, 'a fresh view of membership before each retry');
  });

  it('abandons a call on a host that stopped answering once membership moves its shard, and calls the new owner', async () => {
    const hosts = hostsOver(['h0:1', 'h1:1']);
    const shardId = shardIdFor(NS, 'paused', SHARDS);
    const paused = hosts.owners.get(shardId) as string;
    const listeners = new Set<() => void>();
    const watched: HistoryHosts = Object.assign(hosts, {
      watch: (listener: () => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    });
    // The paused host never answers; the other does.
    hosts.answer = (address) => (address === paused ? new Promise(() => undefined) : { runId: 'r3' });
    const call = routingHistoryClient(watched, { numHistoryShards: SHARDS, backoffMs: [1, 1] }).startWorkflowExecution(start('paused'), { deadline: Date.now() + 5000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(listeners.size, 1, 'the attempt watches membership while it runs');
    hosts.owners.set(shardId, 'h9:1');
    for (const listener of listeners) listener();
    assert.deepEqual(await call, { runId: 'r3' });
    assert.deepEqual(hosts.calls.map((c) => c.address), [paused, 'h9:1']);
    assert.equal(listeners.size, 0, 'and stops watching when it ends');
  });

  it('passes other errors through at once, and gives up at the deadline', async () => {
    const hosts = hostsOver(['h0:1']);
    hosts.answer = () => Object.assign(new Error('workflow already started'), { code: 'ALREADY_EXISTS' });
    const client = routingHistoryClient(hosts, { numHistoryShards: SHARDS, backoffMs: [1, 1] });
    await assert.rejects(client.startWorkflowExecution(start('dup')), /already started/);
    assert.equal(hosts.calls.length, 1);
    hosts.answer = () => Object.assign(new Error('down'), { code: 'UNAVAILABLE' });
    const began = Date.now();
    await assert.rejects(client.startWorkflowExecution(start('down'), { deadline: Date.now() + 60 }), /down/);
    assert.ok(Date.now() - began < 1000, 'bounded by the call deadline');
    hosts.owners.clear();
    await assert.rejects(client.startWorkflowExecution(start('none'), { deadline: Date.now() + 30 }), /no live host owns history shard \d+/);
  });

  it('tells every history host that a namespace was deleted', async () => {
    const hosts = hostsOver(['h0:1', 'h1:1', 'h2:1']);
    await routingHistoryClient(hosts, { numHistoryShards: SHARDS }).onNamespaceDeleted();
    assert.deepEqual(hosts.calls.map((c) => c.address).sort(), ['h0:1', 'h1:1', 'h2:1']);
  });

  it('finds the execution each kind of request names', () => {
    const key = (method: keyof HistoryService, request: unknown): string => {
      const route = HISTORY_ROUTES[method];
      assert.equal(route.kind, 'shard');
      return route.kind === 'shard' ? route.key(request as never).workflowId : '';
    };
    assert.equal(key('signalWorkflowExecution', { namespaceId: NS, request: { workflowExecution: { workflowId: 'a' } } }), 'a');
    assert.equal(key('getWorkflowExecutionHistory', { namespaceId: NS, request: { execution: { workflowId: 'b' } } }), 'b');
    assert.equal(key('respondWorkflowTaskCompleted', { namespaceId: NS, token: { workflowId: 'c' } }), 'c');
    assert.equal(key('recordActivityTaskStarted', { namespaceId: NS, task: { workflowId: 'd' } }), 'd');
    assert.equal(key('respondActivityTaskCompleted', { target: { by: 'id', namespaceId: NS, workflowId: 'e', runId: '', activityId: '1' } }), 'e');
    assert.equal(key('respondActivityTaskCompleted', { target: { by: 'id', namespaceId: NS, workflowId: '', runId: '', activityId: 'act' } }), 'temporal-sys-activity:act');
    assert.equal(key('createSchedule', { namespaceId: NS, request: { scheduleId: 's1' } }), 'temporal-sys-scheduler:s1');
    assert.equal(key('listWorkerDeployments', { namespaceId: NS, request: {} }), 'temporal-sys-worker-deployments');
    assert.equal(key('executeMultiOperation', { namespaceId: NS, request: { operations: [{ startWorkflow: { workflowId: 'f' } }] } }), 'f');
    assert.equal(key('pollWorkflowExecutionUpdate', { namespaceId: NS, request: { updateRef: { workflowExecution: { workflowId: 'g' } } } }), 'g');
    assert.equal(key('respondQueryTaskCompleted', { namespaceId: NS, workflowId: 'h', queryId: 'q', request: {} }), 'h');
  });
});
