/**
 * Dynamic shard ownership on the embedded store, every host's membership round driven by hand on
 * one manual clock (the store's too): a newly assigned shard waits for its live holder to release
 * it, is taken at once once released, is taken anyway after the hand-off timeout, and a host
 * superseded by another incarnation of its id gives every shard up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, Membership, SettingsRegistry, ShardNotOwnedError, deferred, silentLogger, temporal } from '@hourglass/common';
import { openSqlitePersistence, type Persistence } from '@hourglass/persistence';
import { DEFAULT_HISTORY_CONFIG } from '../config';
import { HistoryEngine, type ShardOwnershipEvent } from '../history-engine';
import { NamespaceRegistry } from '../namespace-registry';
import { RecordingMatching, eventually } from '../testing/engine-fixture';
import { terminateWorkflow } from '../workflow/close';

const NUM_SHARDS = 8;
const HANDOFF_MS = 2_000;
const TTL_MS = 5_000;

interface Host {
  engine: HistoryEngine;
  membership: Membership;
  events: ShardOwnershipEvent[];
}

function cluster() {
  const clock = new ManualClock();
  const persistence = openSqlitePersistence({ path: ':memory:', clock, numHistoryShards: NUM_SHARDS });
  const namespaces = new NamespaceRegistry(persistence.namespaces, clock);
  const hosts: Host[] = [];
  const host = async (id: string): Promise<Host> => {
    const membership = new Membership({ self: { hostId: id, role: 'history', address: `${id}:7235` }, registry: persistence.membership, clock, logger: silentLogger(), heartbeatIntervalMs: 1_000, hostTtlMs: TTL_MS });
    const engine = new HistoryEngine({
      persistence,
      namespaces,
      matching: new RecordingMatching(),
      clock,
      config: { ...DEFAULT_HISTORY_CONFIG, numHistoryShards: NUM_SHARDS },
      logger: silentLogger(),
      settings: new SettingsRegistry({ 'history.shardHandoffTimeout': [{ value: HANDOFF_MS }] }),
      membership,
    });
    const events: ShardOwnershipEvent[] = [];
    engine.onOwnershipChange((e) => events.push(e));
    // Rounds by hand (tick), never on a timer.
    await membership.join();
    await engine.start();
    const h = { engine, membership, events };
    hosts.push(h);
    return h;
  };
  const close = async (): Promise<void> => {
    for (const h of hosts) await h.engine.stop();
    await persistence.close();
  };
  return { clock, persistence, namespaces, host, close };
}

/** Lets the ownership pass that a round kicked off finish (it runs after the round's listeners). */
async function round(...hosts: Host[]): Promise<void> {
  for (const h of hosts) {
    await h.membership.tick();
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  }
}

const owners = async (persistence: Persistence) => Promise.all(Array.from({ length: NUM_SHARDS }, async (_, s) => (await persistence.executions.getShard(s))?.owner));

describe('dynamic shard ownership (embedded store, manual rounds)', () => {
  it('a newly assigned shard waits for its live holder, which releases it at its next round; no shard is ever served twice', async () => {
    const { persistence, namespaces, host, close } = cluster();
    try {
      const a = await host('history-a');
      assert.equal(a.engine.ownedShards().length, NUM_SHARDS, 'alone, a host owns every shard');
      const b = await host('history-b');
      assert.deepEqual(b.engine.ownedShards(), [], 'B waits: A is live and has not released them');
      const forB = Array.from({ length: NUM_SHARDS }, (_, s) => s).filter((s) => b.engine.ownerOfShard(s)?.hostId === 'history-b');
      assert.ok(forB.length > 0 && forB.length < NUM_SHARDS, `rendezvous gives B ${forB.length} of ${NUM_SHARDS}`);
      // A long poll on A for a run of a shard about to move ends when A releases the shard, not after its 20 s budget.
      const namespace = await namespaces.ensure({ accountId: 'test-account', name: 'moving', retentionMs: 86_400_000 });
      const workflowId = Array.from({ length: 1000 }, (_, i) => `wf-${i}`).find((id) => forB.includes(a.engine.shardFor(namespace.id, id).shardId))!;
      await a.engine.startWorkflowExecution({ namespaceId: namespace.id, request: { workflowId, workflowType: { name: 'W' }, taskQueue: { name: 'q' }, requestId: 'r1' } });
      const poll = a.engine.getWorkflowExecutionHistory(
        { namespaceId: namespace.id, request: { execution: { workflowId }, waitNewEvent: true, historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT } },
        { deadline: 0 },
      );
      const outcome = poll.then(() => undefined, (err: unknown) => err);
      const pollStarted = Date.now();
      await round(a);
      const err = await outcome;
      assert.ok(err instanceof ShardNotOwnedError && err.ownerHostId === 'history-b', String(err));
      assert.ok(Date.now() - pollStarted < 2_000, 'the long poll was woken by the release');
      assert.deepEqual(a.events.filter((e) => e.event === 'released').map((e) => e.shardId).sort(), forB);
      assert.ok((await owners(persistence)).every((owner, s) => (forB.includes(s) ? owner === '' : owner === 'history-a')), 'released shards have no owner');
      await round(b);
      assert.deepEqual(b.engine.ownedShards(), forB);
      assert.deepEqual(a.engine.ownedShards(), Array.from({ length: NUM_SHARDS }, (_, s) => s).filter((s) => !forB.includes(s)));
      assert.deepEqual(await owners(persistence), Array.from({ length: NUM_SHARDS }, (_, s) => (forB.includes(s) ? 'history-b' : 'history-a')));
    } finally {
      await close();
    }
  });

  it('a release refuses new operations at once but lets those in flight commit, and the next owner sees them', async () => {
    const { namespaces, host, close } = cluster();
    try {
      const a = await host('history-a');
      const namespace = await namespaces.ensure({ accountId: 'test-account', name: 'draining', retentionMs: 86_400_000 });
      const b = await host('history-b');
      const forB = Array.from({ length: NUM_SHARDS }, (_, s) => s).filter((s) => b.engine.ownerOfShard(s)?.hostId === 'history-b');
      const workflowId = Array.from({ length: 1000 }, (_, i) => `wf-${i}`).find((id) => forB.includes(a.engine.shardFor(namespace.id, id).shardId))!;
      const { runId } = await a.engine.startWorkflowExecution({ namespaceId: namespace.id, request: { workflowId, workflowType: { name: 'W' }, taskQueue: { name: 'q' }, requestId: 'r1' } });
      const key = { namespaceId: namespace.id, workflowId, runId: runId as string };
      const shard = a.engine.shardFor(namespace.id, workflowId);
      // A change in flight, held inside its transaction while the release starts.
      const gate = deferred<void>();
      const entered = deferred<void>();
      const inFlight = shard.updateExecution(key, async (ctx) => {
        entered.resolve();
        await gate.promise;
        terminateWorkflow(ctx!, { reason: 'in flight', identity: 'test', retentionMs: 86_400_000 });
      });
      await entered.promise;
      const releasing = a.membership.tick();
      await eventually(() => !shard.owned);
      await assert.rejects(shard.readExecution(key, (ms) => ms.nextEventId), (err: unknown) => err instanceof ShardNotOwnedError, 'new operations are refused while draining');
      gate.resolve();
      await inFlight;
      await releasing;
      await eventually(() => a.events.some((e) => e.shardId === shard.shardId && e.event === 'released'));
      await round(b);
      assert.ok(b.engine.ownedShards().includes(shard.shardId));
      const described = await b.engine.describeWorkflowExecution({ namespaceId: namespace.id, request: { execution: { workflowId } } });
      assert.equal(described.workflowExecutionInfo?.status, temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED, 'the change in flight committed before the hand-over');
    } finally {
      await close();
    }
  });

  it('a holder that does not release is taken over after the hand-off timeout, and its next write is refused', async () => {
    const { clock, namespaces, host, close } = cluster();
    try {
      const a = await host('history-a');
      const namespace = await namespaces.ensure({ accountId: 'test-account', name: 'handoff', retentionMs: 86_400_000 });
      const b = await host('history-b');
      const forB = Array.from({ length: NUM_SHARDS }, (_, s) => s).filter((s) => b.engine.ownerOfShard(s)?.hostId === 'history-b');
      // A workflow in one of B's future shards, started while A holds it.
      const workflowId = Array.from({ length: 1000 }, (_, i) => `wf-${i}`).find((id) => forB.includes(a.engine.shardFor(namespace.id, id).shardId))!;
      await a.engine.startWorkflowExecution({ namespaceId: namespace.id, request: { workflowId, workflowType: { name: 'W' }, taskQueue: { name: 'q' }, requestId: 'r1' } });
      clock.advance(HANDOFF_MS / 2);
      await round(b);
      assert.deepEqual(b.engine.ownedShards(), [], 'still within the hand-off timeout');
      await assert.rejects(
        b.engine.signalWorkflowExecution({ namespaceId: namespace.id, request: { workflowExecution: { workflowId }, signalName: 's', requestId: 'r2' } }),
        (err: unknown) => err instanceof ShardNotOwnedError && err.ownerHostId === 'history-b',
        'assigned to B but not acquired yet: refused, naming B',
      );
      clock.advance(HANDOFF_MS / 2 + 1);
      await round(b);
      assert.deepEqual(b.engine.ownedShards(), forB, 'taken over after the timeout');
      // A never ran a round: it still believes it owns the shard, and fencing refuses its write.
      await assert.rejects(
        a.engine.signalWorkflowExecution({ namespaceId: namespace.id, request: { workflowExecution: { workflowId }, signalName: 's', requestId: 'r3' } }),
        (err: unknown) => err instanceof ShardNotOwnedError && /ownership moved/.test(err.message),
      );
      await b.engine.signalWorkflowExecution({ namespaceId: namespace.id, request: { workflowExecution: { workflowId }, signalName: 's', requestId: 'r4' } });
    } finally {
      await close();
    }
  });

  it('a host superseded by another incarnation of its id gives every shard up', async () => {
    const { persistence, host, close } = cluster();
    try {
      const a = await host('history-a');
      assert.equal(a.engine.ownedShards().length, NUM_SHARDS);
      const successor = new Membership({ self: { hostId: 'history-a', role: 'history', address: 'elsewhere:7235' }, registry: persistence.membership, clock: new ManualClock(), logger: silentLogger(), heartbeatIntervalMs: 1_000, hostTtlMs: TTL_MS });
      await successor.join();
      await round(a);
      assert.deepEqual(a.engine.ownedShards(), []);
      assert.ok((await owners(persistence)).every((owner) => owner === ''), 'every shard released for the successor');
    } finally {
      await close();
    }
  });
});
