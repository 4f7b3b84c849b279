import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { msToTimestamp, temporal } from '@hourglass/common';
import type { WorkerFilter } from '@hourglass/contracts';
import { matchesWorker } from './worker-filter';
import { WorkerRegistry, type WorkerHeartbeat } from './worker-registry';

const Status = temporal.api.enums.v1.WorkerStatus;
const T0 = Date.UTC(2026, 11, 6, 12);

function worker(key: string, overrides: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  return {
    workerInstanceKey: key,
    workerIdentity: `${key}@host`,
    hostInfo: { hostName: key.startsWith('a') ? 'alpha' : 'beta' },
    taskQueue: key.endsWith('1') ? 'orders' : 'billing',
    sdkName: 'temporal-typescript',
    sdkVersion: '1.24.0',
    status: Status.WORKER_STATUS_RUNNING,
    startTime: msToTimestamp(T0),
    heartbeatTime: msToTimestamp(T0 + 60_000),
    ...overrides,
  };
}

describe('worker filters', () => {
  it('evaluates each field and operator against a heartbeat', () => {
    const hb = worker('a1', { deploymentVersion: { deploymentName: 'shop', buildId: 'v7' } });
    const yes: WorkerFilter[] = [
      { kind: 'string', field: 'TaskQueue', op: '=', values: ['orders'] },
      { kind: 'string', field: 'HostName', op: 'startsWith', values: ['al'] },
      { kind: 'string', field: 'BuildId', op: 'in', values: ['v6', 'v7'] },
      { kind: 'string', field: 'DeploymentName', op: '!=', values: ['other'] },
      { kind: 'string', field: 'WorkerStatus', op: '=', values: ['WORKER_STATUS_RUNNING'] },
      { kind: 'time', field: 'HeartbeatTime', op: '>', values: [T0] },
      { kind: 'time', field: 'StartTime', op: 'between', values: [T0, T0 + 1] },
      { kind: 'not', operand: { kind: 'string', field: 'SdkVersion', op: 'startsWith', values: ['2.'] } },
    ];
    for (const f of yes) assert.equal(matchesWorker(f, hb), true, JSON.stringify(f));
    const no: WorkerFilter[] = [
      { kind: 'string', field: 'TaskQueue', op: '=', values: ['billing'] },
      { kind: 'string', field: 'WorkerIdentity', op: 'notStartsWith', values: ['a1'] },
      { kind: 'string', field: 'BuildId', op: 'notIn', values: ['v7'] },
      { kind: 'time', field: 'StartTime', op: 'notBetween', values: [T0, T0 + 1] },
      { kind: 'and', operands: [yes[0] as WorkerFilter, { kind: 'string', field: 'SdkName', op: '=', values: ['x'] }] },
    ];
    for (const f of no) assert.equal(matchesWorker(f, hb), false, JSON.stringify(f));
    // A worker that did not report a time matches no condition on it.
    assert.equal(matchesWorker({ kind: 'time', field: 'StartTime', op: '!=', values: [0] }, worker('b2', { startTime: null })), false);
  });

  it('lists and counts only the matching workers, paging over them', () => {
    const registry = new WorkerRegistry();
    for (const key of ['a1', 'b1', 'a2', 'b2', 'c1']) registry.record('ns', worker(key), T0);
    const orders = (hb: WorkerHeartbeat): boolean => matchesWorker({ kind: 'string', field: 'TaskQueue', op: '=', values: ['orders'] }, hb);
    assert.equal(registry.count('ns', T0, orders), 3);
    assert.equal(registry.count('ns', T0), 5);
    const first = registry.list('ns', T0, 2, undefined, orders);
    assert.deepEqual(first.workers.map((w) => w.workerInstanceKey), ['c1', 'b1']);
    assert.ok(first.nextPageToken);
    const second = registry.list('ns', T0, 2, first.nextPageToken, orders);
    assert.deepEqual(second.workers.map((w) => w.workerInstanceKey), ['a1']);
    assert.equal(second.nextPageToken, undefined, 'no token when nothing more matches');
    // A full page with nothing matching after it ends the listing.
    assert.equal(registry.list('ns', T0, 1, 'b1', orders).nextPageToken, undefined);
  });
});
