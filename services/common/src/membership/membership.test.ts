import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffHosts, isSelfLive, liveHosts, Membership, membershipOptionsFromSettings, type HostRecord } from './membership';
import { DEFAULT_SETTINGS, SettingsRegistry } from '../settings';
import { ManualClock } from '../clock';
import { silentLogger } from '../logger';

const host = (hostId: string, lastHeartbeatAt: number, sessionId = 's1'): HostRecord => ({ hostId, role: 'history', address: `${hostId}:7235`, sessionId, startedAt: 0, lastHeartbeatAt });

describe('membership liveness', () => {
  it('a host is live while its last heartbeat is at most the TTL old, listed by host id', () => {
    const records = [host('c', 1000), host('a', 5000), host('b', 6000)];
    assert.deepEqual(liveHosts(records, 6000, 5000).map((h) => h.hostId), ['a', 'b', 'c']);
    assert.deepEqual(liveHosts(records, 6001, 5000).map((h) => h.hostId), ['a', 'b']);
    assert.deepEqual(liveHosts(records, 20_000, 5000), []);
  });

  it('diff: joined and left hosts; a restarted host (new session) both left and joined', () => {
    const before = [host('a', 0), host('b', 0)];
    const after = [host('b', 0, 's2'), host('c', 0)];
    const { joined, left } = diffHosts(before, after);
    assert.deepEqual(joined.map((h) => `${h.hostId}/${h.sessionId}`), ['b/s2', 'c/s1']);
    assert.deepEqual(left.map((h) => `${h.hostId}/${h.sessionId}`), ['a/s1', 'b/s1']);
    assert.deepEqual(diffHosts(before, [host('a', 99), host('b', 42)]), { joined: [], left: [] }, 'a heartbeat is no change');
  });

  it('a host considers itself live only while its last landed heartbeat is younger than the TTL', () => {
    assert.equal(isSelfLive({ joined: true, superseded: false, lastHeartbeatOkAt: 1000 }, 5999, 5000), true);
    assert.equal(isSelfLive({ joined: true, superseded: false, lastHeartbeatOkAt: 1000 }, 6000, 5000), false);
    assert.equal(isSelfLive({ joined: false, superseded: false, lastHeartbeatOkAt: 1000 }, 1000, 5000), false);
    assert.equal(isSelfLive({ joined: true, superseded: true, lastHeartbeatOkAt: 1000 }, 1000, 5000), false);
    assert.equal(isSelfLive({ joined: true, superseded: false, lastHeartbeatOkAt: undefined }, 1000, 5000), false);
  });

  it('takes its interval and TTL from the settings registry', () => {
    const settings = new SettingsRegistry({ 'membership.heartbeatInterval': [{ value: '250ms' }], 'membership.hostTtl': [{ value: '2s' }] });
    const registry = { upsertHost: async () => host('a', 0), heartbeatHost: async () => 'ok' as const, listLiveHosts: async () => ({ now: 0, hosts: [] }), removeHost: async () => true, pruneHosts: async () => 0 };
    const options = membershipOptionsFromSettings(settings, { self: { hostId: 'a', role: 'history', address: '' }, registry, clock: new ManualClock(), logger: silentLogger() });
    assert.deepEqual([options.heartbeatIntervalMs, options.hostTtlMs], [250, 2000]);
    const defaults = membershipOptionsFromSettings(DEFAULT_SETTINGS, { self: { hostId: 'a', role: 'history', address: '' }, registry, clock: new ManualClock(), logger: silentLogger() });
    assert.deepEqual([defaults.heartbeatIntervalMs, defaults.hostTtlMs], [1000, 5000]);
  });

  it('refuses a TTL shorter than two heartbeat intervals, with both values', () => {
    const registry = { upsertHost: async () => host('a', 0), heartbeatHost: async () => 'ok' as const, listLiveHosts: async () => ({ now: 0, hosts: [] }), removeHost: async () => true, pruneHosts: async () => 0 };
    assert.throws(
      () => new Membership({ self: { hostId: 'a', role: 'history', address: '' }, registry, clock: new ManualClock(), logger: silentLogger(), heartbeatIntervalMs: 1000, hostTtlMs: 1500 }),
      /membership.hostTtl \(1500 ms\) must be at least twice membership.heartbeatInterval \(1000 ms\)/,
    );
  });
});
