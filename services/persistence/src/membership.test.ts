/**
 * The Membership module (services/common) heartbeating into the real embedded store, on a manual
 * clock shared by the store and the hosts: joins, expiry after the TTL, a paused host coming back,
 * a second incarnation of a host id superseding the first, a clean leave.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, Membership, PRUNE_HOSTS_AFTER_MS, historyShardKey, silentLogger, type MembershipChange, type MembershipView } from '@hourglass/common';
import { openSqlitePersistence } from './sqlite';

const INTERVAL = 1_000;
const TTL = 5_000;

function setup() {
  const clock = new ManualClock();
  const persistence = openSqlitePersistence({ path: ':memory:', clock });
  const host = (hostId: string) =>
    new Membership({ self: { hostId, role: 'history', address: `${hostId}:7235` }, registry: persistence.membership, clock, logger: silentLogger(), heartbeatIntervalMs: INTERVAL, hostTtlMs: TTL });
  return { clock, persistence, host };
}

const ids = (m: Membership) => m.hosts('history').map((h) => h.hostId);

describe('membership on the embedded store', () => {
  it('hosts see each other join, expire after the TTL without heartbeats, and come back', async () => {
    const { clock, persistence, host } = setup();
    const a = host('history-a');
    const b = host('history-b');
    const changes: MembershipChange[] = [];
    const views: MembershipView[] = [];
    a.onChange((c) => changes.push(c));
    a.onView((v) => views.push(v));
    await a.join();
    await b.join();
    assert.deepEqual(ids(a), ['history-a']);
    await a.tick();
    assert.deepEqual(ids(a), ['history-a', 'history-b']);
    assert.deepEqual(changes.map((c) => [c.joined.map((h) => h.hostId), c.left.map((h) => h.hostId)]), [[['history-a'], []], [['history-b'], []]]);
    // Both compute the same owner of every shard from the same list, and both hosts own some.
    const owners = Array.from({ length: 16 }, (_, s) => a.ownerOf(historyShardKey(s), 'history')?.hostId);
    assert.deepEqual(Array.from({ length: 16 }, (_, s) => b.ownerOf(historyShardKey(s), 'history')?.hostId), owners);
    assert.deepEqual([...new Set(owners)].sort(), ['history-a', 'history-b']);

    // B pauses: A keeps heartbeating; past the TTL since B's last heartbeat, B is gone for A.
    for (let t = 0; t < 5; t++) {
      clock.advance(INTERVAL);
      await a.tick();
    }
    assert.deepEqual(ids(a), ['history-a', 'history-b'], 'exactly the TTL old: still live');
    clock.advance(INTERVAL);
    await a.tick();
    assert.deepEqual(ids(a), ['history-a']);
    assert.deepEqual(changes.at(-1)?.left.map((h) => h.hostId), ['history-b']);
    assert.equal(b.selfLive, false, 'B knows by its own clock that its heartbeats stopped landing');
    assert.equal(a.selfLive, true);
    assert.ok(views.every((v) => v.fresh));

    // B resumes: its heartbeat lands, it is live again for itself and for A.
    await b.tick();
    assert.equal(b.selfLive, true);
    await a.tick();
    assert.deepEqual(ids(a), ['history-a', 'history-b']);
    await persistence.close();
  });

  it('a second incarnation of a host id supersedes the first, which stops being a member', async () => {
    const { persistence, host } = setup();
    const first = host('history-a');
    await first.join();
    const views: MembershipView[] = [];
    first.onView((v) => views.push(v));
    const second = host('history-a');
    await second.join();
    await first.tick();
    assert.equal(first.selfLive, false);
    assert.equal(views.at(-1)?.selfLive, false);
    await second.tick();
    assert.equal(second.selfLive, true);
    assert.deepEqual((await persistence.membership.listLiveHosts('history', TTL)).hosts.map((h) => h.sessionId), [second.self.sessionId]);
    await persistence.close();
  });

  it('a joining host removes the rows of hosts silent for over an hour, and only those', async () => {
    const { clock, persistence, host } = setup();
    await host('history-gone').join();
    clock.advance(PRUNE_HOSTS_AFTER_MS / 2);
    await host('history-quiet').join();
    clock.advance(PRUNE_HOSTS_AFTER_MS / 2 + 1);
    await host('history-new').join();
    assert.deepEqual((await persistence.membership.listLiveHosts('history', 2 * PRUNE_HOSTS_AFTER_MS)).hosts.map((h) => h.hostId), ['history-new', 'history-quiet']);
    await persistence.close();
  });

  it('leave removes the row at once; a host whose row was removed behind its back joins again', async () => {
    const { persistence, host } = setup();
    const a = host('history-a');
    const b = host('history-b');
    await a.join();
    await b.join();
    await b.leave();
    await a.tick();
    assert.deepEqual(ids(a), ['history-a']);
    await persistence.membership.removeHost('history', 'history-a', a.self.sessionId);
    await a.tick();
    assert.deepEqual(ids(a), ['history-a'], 'missing row: written again by the next heartbeat');
    assert.equal(a.selfLive, true);
    await persistence.close();
  });
});
