/**
 * Several history hosts (engines in one process, each with its own pools, membership and host id)
 * on the same MySQL databases, owning the shards rendezvous hashing gives them: they split the
 * shards with no overlap; a host that stops cleanly hands its shards to the others at once; a host
 * that stops heartbeating (a pause: its membership rounds stop, its engine does not) loses its
 * shards after the TTL, its next write is refused by fencing and it stops serving the shard, and
 * what it acknowledged is intact on the new owner, which carries the workflow on.
 * Needs the machine's MariaDB (skips loudly outside CI when it is down, fails under CI=true).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Membership,
  SettingsRegistry,
  ShardNotOwnedError,
  SystemClock,
  shardIdFor,
  silentLogger,
  temporal,
  toNumber,
} from '@hourglass/common';
import { ShardOwnershipLostError, type Persistence } from '@hourglass/persistence';
import type { HistoryEngine, ShardOwnershipEvent } from '../history-engine';
import type { NamespaceRegistry } from '../namespace-registry';
import { mysqlHistoryDatabases } from '../testing/mysql-hosts';

const NUM_SHARDS = 16;
const INTERVAL_MS = 200;
const TTL_MS = 2_000;
const ALL = Array.from({ length: NUM_SHARDS }, (_, i) => i);

// The file's databases: created before its tests, dropped after them.
const mysql = mysqlHistoryDatabases({ prefix: `hg_members_${process.pid}`, numHistoryShards: NUM_SHARDS, what: 'dynamic shard ownership test' });

interface Host {
  id: string;
  engine: HistoryEngine;
  membership: Membership;
  persistence: Persistence;
  namespaces: NamespaceRegistry;
  events: ShardOwnershipEvent[];
}

async function startHost(id: string): Promise<Host> {
  const clock = new SystemClock();
  const persistence = await mysql.openStore(clock, { poolSize: 4 });
  const membership = new Membership({
    self: { hostId: id, role: 'history', address: `${id}.internal:7235` },
    registry: persistence.membership,
    clock,
    logger: silentLogger(),
    heartbeatIntervalMs: INTERVAL_MS,
    hostTtlMs: TTL_MS,
  });
  const { engine, namespaces } = mysql.newEngine(persistence, {
    clock,
    hostIdentity: 'unused',
    settings: new SettingsRegistry({ 'history.shardHandoffTimeout': [{ value: 2_000 }] }),
    membership,
    onShardOwnershipLost: () => assert.fail('dynamic ownership never calls the own-every-shard hook'),
  });
  const events: ShardOwnershipEvent[] = [];
  engine.onOwnershipChange((e) => events.push(e));
  await membership.start();
  await engine.start();
  return { id, engine, membership, persistence, namespaces, events };
}

async function stopHost(host: Host): Promise<void> {
  await host.engine.stop();
  await host.membership.leave();
  await host.persistence.close();
}

async function eventually<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`, { cause: err });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Every shard owned by exactly one of `hosts`, each of them owning some; the shard rows agree. */
async function assertSplit(hosts: readonly Host[], persistence: Persistence): Promise<Map<number, Host>> {
  const owner = new Map<number, Host>();
  for (const host of hosts) {
    const owned = host.engine.ownedShards();
    assert.ok(owned.length > 0, `${host.id} owns no shard`);
    for (const s of owned) {
      assert.equal(owner.get(s), undefined, `shard ${s} owned by ${owner.get(s)?.id} and ${host.id}`);
      owner.set(s, host);
    }
  }
  assert.deepEqual([...owner.keys()].sort((a, b) => a - b), ALL, 'every shard is owned');
  for (const [s, host] of owner) {
    assert.equal((await persistence.executions.getShard(s))?.owner, host.id, `shard ${s} row`);
    assert.equal(hosts[0]!.engine.ownerOfShard(s)?.hostId, host.id, `placement of shard ${s}`);
  }
  return owner;
}

/** A workflow id of this namespace that lands in a shard `host` owns. */
function workflowIdOn(host: Host, namespaceId: string, prefix: string): string {
  const owned = new Set(host.engine.ownedShards());
  for (let i = 0; ; i++) if (owned.has(shardIdFor(namespaceId, `${prefix}-${i}`, NUM_SHARDS))) return `${prefix}-${i}`;
}

describe('dynamic shard ownership across history hosts (MySQL)', () => {
  it('three hosts split the shards; a clean stop hands its shards over at once; a workflow started before carries on', async (t) => {
    if (!mysql.available()) return t.skip('MySQL unavailable');
    const hosts = [await startHost('history-a'), await startHost('history-b'), await startHost('history-c')];
    const [a, b, c] = hosts as [Host, Host, Host];
    try {
      await eventually('three hosts split the shards', () => assertSplit(hosts, a.persistence));
      const namespace = await a.namespaces.ensure({ accountId: 'test-account', name: 'members', retentionMs: 86_400_000 });
      const workflowId = workflowIdOn(c, namespace.id, 'wf-clean');
      const shardId = shardIdFor(namespace.id, workflowId, NUM_SHARDS);
      const started = await c.engine.startWorkflowExecution({
        namespaceId: namespace.id,
        request: { workflowId, workflowType: { name: 'W' }, taskQueue: { name: 'q' }, requestId: `req-${workflowId}` },
      });

      // A host that does not own the shard refuses, naming the owner.
      await assert.rejects(
        a.engine.signalWorkflowExecution({ namespaceId: namespace.id, request: { workflowExecution: { workflowId }, signalName: 'nope', requestId: 'r-a' } }),
        (err: unknown) => err instanceof ShardNotOwnedError && err.shardId === shardId && err.ownerHostId === 'history-c' && err.ownerAddress === 'history-c.internal:7235',
      );

      const stoppedAt = Date.now();
      await stopHost(c);
      assert.deepEqual(c.engine.ownedShards(), []);
      assert.ok(c.events.filter((e) => e.event === 'released').length > 0);
      const survivors = [a, b];
      const split = await eventually('the two others own every shard', () => assertSplit(survivors, a.persistence));
      const tookMs = Date.now() - stoppedAt;
      assert.ok(tookMs < TTL_MS, `the hand-over took ${tookMs} ms: a clean stop must not wait for the TTL`);

      const owner = split.get(shardId)!;
      await owner.engine.signalWorkflowExecution({ namespaceId: namespace.id, request: { workflowExecution: { workflowId }, signalName: 'after-move', requestId: 'r-move' } });
      const history = await owner.engine.getWorkflowExecutionHistory({ namespaceId: namespace.id, request: { execution: { workflowId, runId: started.runId as string } } }, { deadline: 0 });
      const events = history.history?.events ?? [];
      events.forEach((e, i) => assert.equal(toNumber(e.eventId), i + 1));
      assert.deepEqual(
        events.map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]),
        ['EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'],
      );
    } finally {
      for (const host of hosts) await stopHost(host).catch(() => undefined);
    }
  });

  it('a host that stops heartbeating loses its shards after the TTL; its next write is fenced out and nothing it acknowledged is lost', async (t) => {
    if (!mysql.available()) return t.skip('MySQL unavailable');
    const hosts = [await startHost('history-d'), await startHost('history-e'), await startHost('history-f')];
    const [d, e, f] = hosts as [Host, Host, Host];
    try {
      await eventually('three hosts split the shards', () => assertSplit(hosts, d.persistence));
      const namespace = await d.namespaces.ensure({ accountId: 'test-account', name: 'members-paused', retentionMs: 86_400_000 });
      const workflowId = workflowIdOn(f, namespace.id, 'wf-paused');
      const shardId = shardIdFor(namespace.id, workflowId, NUM_SHARDS);
      const started = await f.engine.startWorkflowExecution({
        namespaceId: namespace.id,
        request: { workflowId, workflowType: { name: 'W' }, taskQueue: { name: 'q' }, requestId: `req-${workflowId}` },
      });
      await f.engine.signalWorkflowExecution({ namespaceId: namespace.id, request: { workflowExecution: { workflowId }, signalName: 'acknowledged', requestId: 'r-ack' } });

      // F pauses: its membership rounds stop (its row goes stale), its engine keeps running and still believes it owns its shards.
      const pausedShards = f.engine.ownedShards();
      await f.membership.stop();
      const split = await eventually('the two others own every shard', () => assertSplit([d, e], d.persistence), TTL_MS + 10_000);
      assert.deepEqual(f.engine.ownedShards(), pausedShards, 'a paused host changes nothing on its own');

      // F's next write is refused by fencing; it stops serving that shard but keeps running.
      await assert.rejects(
        f.engine.signalWorkflowExecution({ namespaceId: namespace.id, request: { workflowExecution: { workflowId }, signalName: 'stale', requestId: 'r-stale' } }),
        (err: unknown) => err instanceof ShardNotOwnedError && err.shardId === shardId && /ownership moved/.test(err.message) && err.cause instanceof ShardOwnershipLostError,
      );
      assert.ok(!f.engine.ownedShards().includes(shardId), 'the fenced-out host stopped serving the shard');
      assert.deepEqual(f.events.filter((x) => x.shardId === shardId).map((x) => x.event), ['acquired', 'lost']);
      await assert.rejects(
        f.engine.describeWorkflowExecution({ namespaceId: namespace.id, request: { execution: { workflowId } } }),
        (err: unknown) => err instanceof ShardNotOwnedError && err.shardId === shardId,
        'reads are refused too, not served from a stale cache',
      );

      // The new owner has everything F acknowledged, nothing it refused, and carries the workflow on.
      const owner = split.get(shardId)!;
      await owner.engine.signalWorkflowExecution({ namespaceId: namespace.id, request: { workflowExecution: { workflowId }, signalName: 'on-new-owner', requestId: 'r-new' } });
      const history = await owner.engine.getWorkflowExecutionHistory({ namespaceId: namespace.id, request: { execution: { workflowId, runId: started.runId as string } } }, { deadline: 0 });
      const events = history.history?.events ?? [];
      events.forEach((ev, i) => assert.equal(toNumber(ev.eventId), i + 1));
      assert.deepEqual(
        events.filter((ev) => ev.workflowExecutionSignaledEventAttributes).map((ev) => ev.workflowExecutionSignaledEventAttributes?.signalName),
        ['acknowledged', 'on-new-owner'],
      );
    } finally {
      for (const host of hosts) await stopHost(host).catch(() => undefined);
    }
  });
});
