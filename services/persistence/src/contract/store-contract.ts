import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlreadyExistsError, InvalidArgumentError, InvariantViolationError, NotFoundError, type HostRole } from '@hourglass/common';
import { ConditionFailedError, CurrentExecutionConditionFailedError, ShardOwnershipLostError } from '../errors';
import type {
  CurrentExecutionRecord,
  ExecutionItemRow,
  ExecutionKey,
  HistoryEventRow,
  HistoryTaskRow,
  Persistence,
  ShardCommit,
  TaskQueueTaskRow,
} from '../types';
import {
  NAMESPACE_ID,
  T0,
  TIMER,
  TRANSFER,
  VISIBILITY,
  allTasks,
  currentRecord,
  events,
  item,
  namespace,
  queueKey,
  runKey,
  snapshot,
  sortItems,
  startCommit,
  task,
  timerTask,
  transferTask,
  withStore,
} from './fixtures';

export { runIdentityContract } from './identity-contract';
export { runVisibilityContract, visibilityRecord } from './visibility-contract';

/**
 * The behaviour every persistence backend must have, as node:test tests. Each backend's test
 * file calls this once per configuration.
 *
 * `open` must return a store over an EMPTY database on every call: each test opens its own
 * and closes it at the end.
 *
 * @example
 * runStoreContract('sqlite :memory:', async () => openSqlitePersistence({ path: ':memory:' }));
 */
export function runStoreContract(name: string, open: () => Promise<Persistence>): void {
  const test = (title: string, body: (p: Persistence) => Promise<void>): void => {
    it(title, () => withStore(open, body));
  };

  describe(`${name}: store contract`, () => {
    describe('cluster metadata', () => {
      // Recording at creation and checking on reopen are backend tests: they need a second open of one store.
      test('the metadata recorded when the store was created reads back, the same on every read', async (p) => {
        const recorded = await p.cluster.getClusterMetadata();
        assert.equal(recorded.clusterName, 'active');
        assert.ok(Number.isSafeInteger(recorded.numHistoryShards) && recorded.numHistoryShards >= 1, String(recorded.numHistoryShards));
        assert.ok(Number.isSafeInteger(recorded.createdAt) && recorded.createdAt > 0, String(recorded.createdAt));
        assert.deepEqual(await p.cluster.getClusterMetadata(), recorded);
      });
    });

    describe('namespaces', () => {
      test('creates and reads by name and by id', async (p) => {
        const record = namespace('orders');
        await p.namespaces.createNamespace(record);
        assert.deepEqual(await p.namespaces.getNamespaceByName('orders'), record);
        assert.deepEqual(await p.namespaces.getNamespaceById(record.id), record);
        assert.equal(await p.namespaces.getNamespaceByName('missing'), undefined);
        assert.equal(await p.namespaces.getNamespaceById('missing'), undefined);
      });

      test('rejects a taken name or id with AlreadyExistsError', async (p) => {
        await p.namespaces.createNamespace(namespace('orders'));
        const byName = await rejection(p.namespaces.createNamespace(namespace('orders', { id: 'another-id' })), AlreadyExistsError);
        assert.equal(byName.message, 'namespace orders already exists');
        await rejection(p.namespaces.createNamespace(namespace('billing', { id: 'id-orders' })), AlreadyExistsError);
        assert.equal(await p.namespaces.getNamespaceByName('billing'), undefined);
      });

      test('updates replace the record; a missing id is NotFoundError', async (p) => {
        await p.namespaces.createNamespace(namespace('orders'));
        const updated = namespace('orders', { description: 'new', state: 'deprecated', data: {}, updatedAt: T0 + 5 });
        await p.namespaces.updateNamespace(updated);
        assert.deepEqual(await p.namespaces.getNamespaceById(updated.id), updated);
        await rejection(p.namespaces.updateNamespace(namespace('ghost')), NotFoundError);
        assert.equal(await p.namespaces.getNamespaceById('id-ghost'), undefined);
      });

      test('an update to a name another namespace holds is AlreadyExistsError', async (p) => {
        await p.namespaces.createNamespace(namespace('orders'));
        await p.namespaces.createNamespace(namespace('billing'));
        await rejection(p.namespaces.updateNamespace(namespace('billing', { id: 'id-orders' })), AlreadyExistsError);
        assert.equal((await p.namespaces.getNamespaceById('id-orders'))?.name, 'orders');
      });

      test('lists in name order, page by page, with an opaque token', async (p) => {
        const names = ['e', 'b', 'd', 'a', 'c'];
        for (const n of names) await p.namespaces.createNamespace(namespace(n));
        const pages: string[][] = [];
        let token: string | undefined;
        do {
          const page = await p.namespaces.listNamespaces({ pageSize: 2, ...(token ? { nextPageToken: token } : {}) });
          pages.push(page.items.map((r) => r.name));
          token = page.nextPageToken;
        } while (token);
        assert.deepEqual(pages, [['a', 'b'], ['c', 'd'], ['e']]);
        const all = await p.namespaces.listNamespaces({ pageSize: 5 });
        assert.equal(all.items.length, 5);
        assert.equal(all.nextPageToken, undefined);
      });

      test('rejects a page token it did not issue and a non-positive page size', async (p) => {
        await rejection(p.namespaces.listNamespaces({ pageSize: 2, nextPageToken: 'not a token!' }), InvalidArgumentError);
        await rejection(p.namespaces.listNamespaces({ pageSize: 0 }), InvalidArgumentError);
      });
    });

    describe('shards', () => {
      test('acquireShard creates at rangeId 1 and bumps it on every acquisition', async (p) => {
        assert.equal(await p.executions.getShard(7), undefined);
        const first = await p.executions.acquireShard(7, 'host-a');
        assert.deepEqual([first.shardId, first.rangeId, first.owner], [7, 1, 'host-a']);
        const second = await p.executions.acquireShard(7, 'host-b');
        assert.deepEqual([second.rangeId, second.owner], [2, 'host-b']);
        assert.deepEqual(await p.executions.getShard(7), second);
        assert.equal((await p.executions.acquireShard(8, 'host-a')).rangeId, 1);
      });

      test('a commit with an old rangeId fails with ShardOwnershipLostError and writes nothing', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(startCommit(1, 1, key));
        await p.executions.acquireShard(1, 'host-b');
        const before = await snapshot(p.executions, 1, key);

        const err = await rejection(
          p.executions.commit({
            shardId: 1,
            rangeId: 1,
            update: {
              key,
              state: 'stale writer',
              nextEventId: 6,
              events: events(4, 5),
              expectedDbVersion: 1,
              upsertItems: [item('activity', '5')],
              deleteItems: [],
            },
            current: {
              namespaceId: NAMESPACE_ID,
              workflowId: 'wf-1',
              expectedRunId: 'run-1',
              record: currentRecord(key, { running: false, status: 2 }),
            },
            tasks: [transferTask(10), timerTask(T0, 11)],
          }),
          ShardOwnershipLostError,
        );
        assert.deepEqual([err.shardId, err.expectedRangeId, err.actualRangeId], [1, 1, 2]);
        assert.deepEqual(await snapshot(p.executions, 1, key), before);
      });

      test('releaseShard fences the releasing owner out and leaves no owner; a stale release changes nothing', async (p) => {
        const key = runKey('run-1');
        const a = await p.executions.acquireShard(4, 'host-a');
        await p.executions.commit(startCommit(4, a.rangeId, key));
        assert.equal(await p.executions.releaseShard(4, 'host-b', a.rangeId), false, 'not the owner');
        assert.equal(await p.executions.releaseShard(4, 'host-a', a.rangeId + 1), false, 'not its range');
        assert.equal(await p.executions.releaseShard(4, 'host-a', a.rangeId), true);
        const released = await p.executions.getShard(4);
        assert.deepEqual([released?.rangeId, released?.owner], [a.rangeId + 1, '']);
        const before = await snapshot(p.executions, 4, key);
        await rejection(p.executions.commit({ shardId: 4, rangeId: a.rangeId, tasks: [transferTask(50)] }), ShardOwnershipLostError);
        assert.deepEqual(await snapshot(p.executions, 4, key), before);
        const b = await p.executions.acquireShard(4, 'host-b');
        assert.deepEqual([b.rangeId, b.owner], [a.rangeId + 2, 'host-b']);
        assert.equal(await p.executions.releaseShard(4, 'host-a', a.rangeId + 1), false, 'a second release after the next owner acquired it');
        assert.equal((await p.executions.getShard(4))?.owner, 'host-b');
      });

      test('a commit to a shard never acquired fails with actual rangeId 0', async (p) => {
        const key = runKey('run-1');
        const err = await rejection(p.executions.commit(startCommit(3, 1, key)), ShardOwnershipLostError);
        assert.equal(err.actualRangeId, 0);
        assert.equal(await p.executions.getExecution(3, key), undefined);
      });
    });

    describe('membership', () => {
      const join = (p: Persistence, hostId: string, role: HostRole = 'history', sessionId = `${hostId}-s1`) =>
        p.membership.upsertHost({ hostId, role, address: `${hostId}.internal:7235`, sessionId, startedAt: T0 });

      test('a joined host is listed under its role with the store time as its heartbeat; other roles are apart', async (p) => {
        const { now: before } = await p.membership.listLiveHosts('history', 60_000);
        const b = await join(p, 'history-b');
        await join(p, 'history-a');
        await join(p, 'matching-a', 'matching');
        assert.deepEqual([b.hostId, b.role, b.address, b.sessionId, b.startedAt], ['history-b', 'history', 'history-b.internal:7235', 'history-b-s1', T0]);
        assert.ok(b.lastHeartbeatAt >= before - 1000 && b.lastHeartbeatAt <= before + 60_000, `heartbeat ${b.lastHeartbeatAt}, store time ${before}`);
        const { now, hosts } = await p.membership.listLiveHosts('history', 60_000);
        assert.deepEqual(hosts.map((h) => h.hostId), ['history-a', 'history-b']);
        assert.ok(now >= b.lastHeartbeatAt);
        assert.deepEqual(hosts[1], b);
        assert.deepEqual((await p.membership.listLiveHosts('matching', 60_000)).hosts.map((h) => h.hostId), ['matching-a']);
        assert.deepEqual((await p.membership.listLiveHosts('frontend', 60_000)).hosts, []);
      });

      test('a host whose heartbeat is older than the TTL is not live; a heartbeat makes it live again', async (p) => {
        await join(p, 'history-a');
        await new Promise((resolve) => setTimeout(resolve, 120));
        assert.deepEqual((await p.membership.listLiveHosts('history', 50)).hosts, []);
        assert.equal((await p.membership.listLiveHosts('history', 60_000)).hosts.length, 1, 'still stored');
        assert.equal(await p.membership.heartbeatHost('history', 'history-a', 'history-a-s1'), 'ok');
        assert.deepEqual((await p.membership.listLiveHosts('history', 5_000)).hosts.map((h) => h.hostId), ['history-a']);
      });

      test('heartbeats: ok for the row of this session, superseded after a new session joined, missing when gone', async (p) => {
        await join(p, 'history-a');
        assert.equal(await p.membership.heartbeatHost('history', 'history-a', 'history-a-s1'), 'ok');
        assert.equal(await p.membership.heartbeatHost('history', 'history-a', 'history-a-s1'), 'ok', 'twice within the same millisecond');
        await join(p, 'history-a', 'history', 'history-a-s2');
        assert.equal(await p.membership.heartbeatHost('history', 'history-a', 'history-a-s1'), 'superseded');
        assert.equal(await p.membership.removeHost('history', 'history-a', 'history-a-s1'), false, 'an old session removes nothing');
        assert.deepEqual((await p.membership.listLiveHosts('history', 60_000)).hosts.map((h) => h.sessionId), ['history-a-s2']);
        assert.equal(await p.membership.removeHost('history', 'history-a', 'history-a-s2'), true);
        assert.equal(await p.membership.heartbeatHost('history', 'history-a', 'history-a-s2'), 'missing');
        assert.deepEqual((await p.membership.listLiveHosts('history', 60_000)).hosts, []);
      });

      test('pruneHosts deletes only the rows older than asked', async (p) => {
        await join(p, 'history-old');
        await new Promise((resolve) => setTimeout(resolve, 120));
        await join(p, 'history-new');
        assert.equal(await p.membership.pruneHosts(60), 1);
        assert.deepEqual((await p.membership.listLiveHosts('history', 60_000)).hosts.map((h) => h.hostId), ['history-new']);
      });

      test('refuses an empty host id or session, an unknown role and a negative TTL, naming the value', async (p) => {
        await assert.rejects(join(p, ''), (err: Error) => err instanceof InvalidArgumentError && err.message === 'hostId must not be empty');
        await assert.rejects(join(p, 'h', 'history', ''), (err: Error) => err instanceof InvalidArgumentError && err.message === 'host h: sessionId must not be empty');
        await assert.rejects(join(p, 'h', 'scheduler' as HostRole), (err: Error) => err instanceof InvalidArgumentError && /got 'scheduler'|got "scheduler"/.test(err.message));
        await assert.rejects(p.membership.listLiveHosts('history', -1), (err: Error) => err instanceof InvalidArgumentError && /got -1/.test(err.message));
      });
    });

    describe('executions', () => {
      test('create writes the run at dbVersion 1 with its history; creating it again fails', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(startCommit(1, 1, key));
        assert.deepEqual(await p.executions.getExecution(1, key), { ...key, state: 'state of run-1 v1', items: [], nextEventId: 4, dbVersion: 1 });
        assert.deepEqual(await p.executions.readHistory(1, key, 1, 100, 100), events(1, 3));

        const again = { ...startCommit(1, 1, key), current: undefined };
        const err = await rejection(p.executions.commit(again), ConditionFailedError);
        assert.match(err.message, /run-1/);
        assert.equal((await p.executions.getExecution(1, key))?.dbVersion, 1);
      });

      test("lists a namespace's runs in a shard in (workflowId, runId) order, in pages", async (p) => {
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.acquireShard(2, 'host-a');
        const keys = [runKey('r-2', 'wf-b'), runKey('r-1', 'wf-a'), runKey('r-3', 'wf-c')];
        for (const key of keys) await p.executions.commit(startCommit(1, 1, key));
        await p.executions.commit(startCommit(1, 1, { ...runKey('r-9', 'wf-0'), namespaceId: 'another-namespace' }));
        await p.executions.commit(startCommit(2, 1, runKey('r-8', 'wf-a0')));
        const first = await p.executions.listExecutionKeys(1, NAMESPACE_ID, undefined, 2);
        assert.deepEqual(first, [runKey('r-1', 'wf-a'), runKey('r-2', 'wf-b')]);
        const rest = await p.executions.listExecutionKeys(1, NAMESPACE_ID, first[1], 2);
        assert.deepEqual(rest, [runKey('r-3', 'wf-c')], 'after the last key of the page; other namespaces and shards are not listed');
        assert.deepEqual(await p.executions.listExecutionKeys(1, NAMESPACE_ID, rest[0], 2), []);
      });

      test('update checks dbVersion; a stale version fails and writes nothing', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(startCommit(1, 1, key));
        await p.executions.commit(updateCommit(key, 1, 'v2', 4, 5, [transferTask(20)]));
        assert.deepEqual(await p.executions.getExecution(1, key), { ...key, state: 'v2', items: [], nextEventId: 6, dbVersion: 2 });
        const before = await snapshot(p.executions, 1, key);

        const err = await rejection(p.executions.commit(updateCommit(key, 1, 'stale', 6, 6, [transferTask(21)])), ConditionFailedError);
        assert.match(err.message, /run-1/);
        assert.match(err.message, /\b2\b/, 'names the stored version');
        assert.deepEqual(await snapshot(p.executions, 1, key), before);
      });

      test('update of a run that does not exist fails with ConditionFailedError', async (p) => {
        await p.executions.acquireShard(1, 'host-a');
        await rejection(p.executions.commit(updateCommit(runKey('nope'), 1, 'v2', 1, 1)), ConditionFailedError);
        assert.equal(await p.executions.getExecution(1, runKey('nope')), undefined);
      });

      test('rejects appended events that leave a gap, repeat stored ids or disagree with nextEventId', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(startCommit(1, 1, key));
        const before = await snapshot(p.executions, 1, key);
        const bad: Array<[string, ShardCommit]> = [
          ['gap after stored history', updateCommit(key, 1, 'x', 5, 6)],
          ['repeats stored id', updateCommit(key, 1, 'x', 3, 4)],
          ['gap inside the batch', withEvents(updateCommit(key, 1, 'x', 4, 4), [...events(4, 4), ...events(6, 6)], 7)],
          ['duplicate inside the batch', withEvents(updateCommit(key, 1, 'x', 4, 4), [...events(4, 4), ...events(4, 4)], 5)],
          ['nextEventId not after the last event', withEvents(updateCommit(key, 1, 'x', 4, 5), events(4, 5), 9)],
        ];
        for (const [what, commit] of bad) {
          await rejection(p.executions.commit(commit), ConditionFailedError, what);
          assert.deepEqual(await snapshot(p.executions, 1, key), before, what);
        }
      });

      test('a created run must start its history at event 1', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        const commit = startCommit(1, 1, key);
        await rejection(p.executions.commit({ ...commit, create: { ...commit.create!, events: events(2, 3) } }), ConditionFailedError);
        assert.equal(await p.executions.getExecution(1, key), undefined);
        assert.equal(await p.executions.getCurrentExecution(1, NAMESPACE_ID, 'wf-1'), undefined);
      });

      test('update and create commit together (continue-as-new)', async (p) => {
        const [oldRun, newRun] = [runKey('run-1'), runKey('run-2')];
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(startCommit(1, 1, oldRun));
        await p.executions.commit({
          ...updateCommit(oldRun, 1, 'closed', 4, 4),
          create: { key: newRun, state: 'fresh', nextEventId: 2, events: events(1, 1), upsertItems: [] },
          current: { namespaceId: NAMESPACE_ID, workflowId: 'wf-1', expectedRunId: 'run-1', record: currentRecord(newRun) },
        });
        assert.equal((await p.executions.getExecution(1, oldRun))?.dbVersion, 2);
        assert.equal((await p.executions.getExecution(1, newRun))?.dbVersion, 1);
        assert.equal((await p.executions.getCurrentExecution(1, NAMESPACE_ID, 'wf-1'))?.runId, 'run-2');
      });

      test('the current pointer: null expects no pointer, a run id expects that run', async (p) => {
        const [run1, run2] = [runKey('run-1'), runKey('run-2')];
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(startCommit(1, 1, run1));
        assert.deepEqual(await p.executions.getCurrentExecution(1, NAMESPACE_ID, 'wf-1'), currentRecord(run1));

        const closed = currentRecord(run1, { running: false, status: 2 });
        await p.executions.commit(currentCommit(closed, 'run-1'));
        assert.deepEqual(await p.executions.getCurrentExecution(1, NAMESPACE_ID, 'wf-1'), closed);

        await p.executions.commit({ ...startCommit(1, 1, run2), current: currentCommit(currentRecord(run2), 'run-1').current! });
        assert.deepEqual(await p.executions.getCurrentExecution(1, NAMESPACE_ID, 'wf-1'), currentRecord(run2));
        assert.equal(await p.executions.getCurrentExecution(1, NAMESPACE_ID, 'other'), undefined);
      });

      test('a mismatched pointer fails with the actual record and rolls back the whole commit', async (p) => {
        const [run1, run2] = [runKey('run-1'), runKey('run-2')];
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(startCommit(1, 1, run1));
        const before = await snapshot(p.executions, 1, run2);

        // A second start of the same workflow id (expects no pointer) must see run-1's record.
        const dup = { ...startCommit(1, 1, run2), tasks: [transferTask(30, run2)] };
        const err = await rejection(p.executions.commit(dup), CurrentExecutionConditionFailedError);
        assert.deepEqual(err.actual, currentRecord(run1));
        assert.deepEqual(await snapshot(p.executions, 1, run2), before);

        const wrongRun = await rejection(p.executions.commit(currentCommit(currentRecord(run2), 'run-9')), CurrentExecutionConditionFailedError);
        assert.deepEqual(wrongRun.actual, currentRecord(run1));

        const noPointer = currentCommit(currentRecord(runKey('run-1', 'wf-2')), 'run-1');
        const absent = await rejection(p.executions.commit(noPointer), CurrentExecutionConditionFailedError);
        assert.equal(absent.actual, undefined);
        assert.equal(await p.executions.getCurrentExecution(1, NAMESPACE_ID, 'wf-2'), undefined);
      });

      test('readHistory returns fromEventId <= id < toEventId ascending, at most limit', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(startCommit(1, 1, key, 10));
        assert.deepEqual(await p.executions.readHistory(1, key, 3, 6, 100), events(3, 5));
        assert.deepEqual(await p.executions.readHistory(1, key, 3, 100, 2), events(3, 4));
        assert.deepEqual(await p.executions.readHistory(1, key, 9, 100, 100), events(9, 10));
        assert.deepEqual(await p.executions.readHistory(1, key, 11, 100, 100), []);
        assert.deepEqual(await p.executions.readHistory(1, runKey('other'), 1, 100, 100), []);
        await rejection(p.executions.readHistory(1, key, 1, 100, 0), InvalidArgumentError);
      });

      test("a deletion removes the run, its history and its current pointer; the run's tasks stay, to be dropped when they come up", async (p) => {
        const [key, other] = [runKey('run-1'), runKey('run-x', 'wf-x')];
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit({ ...startCommit(1, 1, key), tasks: [transferTask(1, key), timerTask(T0, 2, key)] });
        await p.executions.commit({ ...startCommit(1, 1, other), tasks: [transferTask(3, other), timerTask(T0, 4, other)] });

        await p.executions.commit(deletionCommit(key, 1));
        assert.equal(await p.executions.getExecution(1, key), undefined);
        assert.equal(await p.executions.getCurrentExecution(1, NAMESPACE_ID, 'wf-1'), undefined);
        assert.deepEqual(await p.executions.readHistory(1, key, 1, 100, 100), []);
        // As in Temporal: a task finds no run when it comes up and is dropped; the deletion does not look for them.
        assert.deepEqual((await p.executions.listImmediateTasks(1, TRANSFER, 0, 100)).map((t) => t.taskId), [1, 3]);
        assert.deepEqual((await p.executions.listScheduledTasks(1, TIMER, T0 + 1, 100)).map((t) => t.taskId), [2, 4]);
        assert.equal((await p.executions.getExecution(1, other))?.dbVersion, 1);
        assert.deepEqual(await p.executions.readHistory(1, other, 1, 100, 100), events(1, 3));
      });

      test('a deletion keeps a pointer at a newer run; deleting an absent run is ConditionFailedError', async (p) => {
        const [run1, run2] = [runKey('run-1'), runKey('run-2')];
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(startCommit(1, 1, run1));
        await p.executions.commit({ ...startCommit(1, 1, run2), current: currentCommit(currentRecord(run2), 'run-1').current! });
        await p.executions.commit(deletionCommit(run1, 1));
        assert.equal((await p.executions.getCurrentExecution(1, NAMESPACE_ID, 'wf-1'))?.runId, 'run-2');
        const before = await snapshot(p.executions, 1, run2);
        const absent = await rejection(p.executions.commit(deletionCommit(runKey('never-existed'), 1)), ConditionFailedError);
        assert.match(absent.message, /never-existed.*does not exist/);
        await rejection(p.executions.commit(deletionCommit(run1, 1)), ConditionFailedError, 'deleted twice');
        assert.equal((await p.executions.getExecution(1, run2))?.dbVersion, 1);
        assert.deepEqual(await snapshot(p.executions, 1, run2), before);
      });

      test("a deletion removes every row of the run's state, its items of every kind, and nothing of other runs; tasks of every category stay", async (p) => {
        const [doomed, sibling, otherWf] = [runKey('run-1'), runKey('run-2'), runKey('run-1', 'wf-2')];
        await p.executions.acquireShard(1, 'host-a');
        let nextTask = 1;
        const tasksOf = (key: ExecutionKey): HistoryTaskRow[] => [
          transferTask(nextTask++, key),
          timerTask(T0 + 5, nextTask++, key),
          task(VISIBILITY, 0, nextTask++, key),
        ];
        const items = [item('activity', '5'), item('timer', 't-1'), item('buffered', '')];
        // The sibling is an older run of the same workflow id (the pointer stays at the doomed run).
        await p.executions.commit({ ...withItems(startCommit(1, 1, sibling), items), tasks: tasksOf(sibling) });
        await p.executions.commit({
          ...withItems(startCommit(1, 1, doomed), items),
          current: currentCommit(currentRecord(doomed), 'run-2').current!,
          tasks: tasksOf(doomed),
        });
        await p.executions.commit({ ...withItems(startCommit(1, 1, otherWf), items), tasks: tasksOf(otherWf) });
        await p.executions.commit({ ...updateCommit(doomed, 1, 'closed', 4, 4), tasks: [timerTask(T0 + 9, nextTask++, doomed)] });
        const survivors = [await snapshot(p.executions, 1, sibling), await snapshot(p.executions, 1, otherWf)];

        await p.executions.commit(deletionCommit(doomed, 2));
        assert.equal(await p.executions.getExecution(1, doomed), undefined);
        assert.equal(await p.executions.getCurrentExecution(1, NAMESPACE_ID, 'wf-1'), undefined, 'the pointer was at the deleted run');
        assert.deepEqual(await p.executions.readHistory(1, doomed, 1, 100, 100), []);
        const remaining = Object.values(await allTasks(p.executions, 1)).flat();
        assert.equal(remaining.filter((t) => t.workflowId === 'wf-1' && t.runId === 'run-1').length, 4, "the deleted run's tasks stay, to be dropped when they come up");
        assert.equal(remaining.length, 10, "the other runs' tasks are all there");
        // What the other runs had, they still have.
        for (const [i, key] of [sibling, otherWf].entries()) {
          const now = await snapshot(p.executions, 1, key);
          assert.deepEqual(now.execution, survivors[i]!.execution);
          assert.deepEqual(now.history, survivors[i]!.history);
          assert.deepEqual(now.execution?.items, sortItems(items));
        }
        assert.equal(await p.executions.maxTaskId(1), nextTask - 1, 'task ids of the deleted run stay used');
        // A new run may reuse nothing of the old one: the same run id starts from scratch.
        await p.executions.commit({ ...startCommit(1, 1, doomed), current: undefined });
        assert.deepEqual((await p.executions.getExecution(1, doomed))?.items, []);
      });

      test('a deletion fails with ConditionFailedError when the db version moved, and writes nothing', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit({ ...withItems(startCommit(1, 1, key), [item('activity', '5')]), tasks: [transferTask(1, key), timerTask(T0, 2, key)] });
        await p.executions.commit(updateCommit(key, 1, 'v2', 4, 4));
        const before = await snapshot(p.executions, 1, key);
        const err = await rejection(p.executions.commit(deletionCommit(key, 1)), ConditionFailedError);
        assert.match(err.message, /run-1/);
        assert.match(err.message, /db version is 2/);
        assert.deepEqual(await snapshot(p.executions, 1, key), before);
      });

      test('a deletion fails with ShardOwnershipLostError when the range id moved, and writes nothing', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit({ ...withItems(startCommit(1, 1, key), [item('activity', '5')]), tasks: [transferTask(1, key)] });
        await p.executions.acquireShard(1, 'host-b');
        const before = await snapshot(p.executions, 1, key);
        const err = await rejection(p.executions.commit(deletionCommit(key, 1)), ShardOwnershipLostError);
        assert.deepEqual([err.expectedRangeId, err.actualRangeId], [1, 2]);
        assert.deepEqual(await snapshot(p.executions, 1, key), before);
      });

      test('a commit may not write and delete the same run', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(startCommit(1, 1, key));
        const before = await snapshot(p.executions, 1, key);
        await rejection(p.executions.commit({ ...updateCommit(key, 1, 'v2', 4, 4), deletion: { key, expectedDbVersion: 1 } }), InvalidArgumentError);
        assert.deepEqual(await snapshot(p.executions, 1, key), before);
      });
    });

    describe('execution items', () => {
      const LARGE = 'x'.repeat(1024 * 1024);
      // 250 four-byte characters: 1000 bytes of UTF-8 (and 500 UTF-16 code units).
      const LONG_ID = '\u{1F600}'.repeat(250);

      test('items round-trip with the execution row: large data, a 1000-byte UTF-8 id, an empty id', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        const items = [item('activity', '5', LARGE), item('activity', LONG_ID), item('timer', 'é 1'), item('buffered', '', '[]')];
        await p.executions.commit(withItems(startCommit(1, 1, key), items));
        const stored = await p.executions.getExecution(1, key);
        assert.equal(stored?.state, 'state of run-1 v1');
        assert.equal(stored?.dbVersion, 1);
        assert.equal(stored?.items.find((i) => i.id === '5')?.data.length, LARGE.length);
        assert.deepEqual(sortItems(stored!.items), sortItems(items));
      });

      test('ids and kinds are exact keys: ids that differ in case, trailing space or prefix are different items', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        const items = [item('activity', 'a'), item('activity', 'A'), item('activity', 'a '), item('activity', LONG_ID), item('activity', LONG_ID.slice(0, -2)), item('timer', 'a')];
        await p.executions.commit(withItems(startCommit(1, 1, key), items));
        assert.deepEqual(sortItems((await p.executions.getExecution(1, key))!.items), sortItems(items));
        await p.executions.commit(itemsCommit(key, 1, [], [{ kind: 'activity', id: 'a' }, { kind: 'activity', id: LONG_ID }]));
        assert.deepEqual(sortItems((await p.executions.getExecution(1, key))!.items), sortItems(items.filter((_, i) => i !== 0 && i !== 3)));
      });

      test('an upsert replaces the item with the same kind and id; deleted items go, absent ones are ignored', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(withItems(startCommit(1, 1, key), [item('activity', '5', 'scheduled'), item('activity', '6'), item('timer', 't-1')]));
        await p.executions.commit(
          itemsCommit(key, 1, [item('activity', '5', 'started'), item('child', 'c-1')], [{ kind: 'timer', id: 't-1' }, { kind: 'timer', id: 'absent' }]),
        );
        const stored = await p.executions.getExecution(1, key);
        assert.equal(stored?.dbVersion, 2);
        assert.deepEqual(sortItems(stored!.items), sortItems([item('activity', '5', 'started'), item('activity', '6'), item('child', 'c-1')]));
      });

      test('deleting and upserting the same key in one commit leaves the upserted item', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(withItems(startCommit(1, 1, key), [item('activity', '5', 'old'), item('activity', LONG_ID, 'old')]));
        await p.executions.commit(
          itemsCommit(key, 1, [item('activity', '5', 'new'), item('activity', LONG_ID, 'new')], [{ kind: 'activity', id: '5' }, { kind: 'activity', id: LONG_ID }]),
        );
        assert.deepEqual(sortItems((await p.executions.getExecution(1, key))!.items), sortItems([item('activity', '5', 'new'), item('activity', LONG_ID, 'new')]));
        // The same key upserted twice in one commit: the last one given wins.
        await p.executions.commit(itemsCommit(key, 2, [item('activity', '5', 'first'), item('activity', '5', 'last')], []));
        assert.equal((await p.executions.getExecution(1, key))?.items.find((i) => i.id === '5')?.data, 'last');
      });

      test('items of other runs are untouched by writes and deletes of the same keys', async (p) => {
        const [key, sibling, otherWf] = [runKey('run-1'), runKey('run-2'), runKey('run-1', 'wf-2')];
        const items = [item('activity', '5'), item('timer', 't-1')];
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.acquireShard(2, 'host-a');
        await p.executions.commit(withItems(startCommit(1, 1, key), items));
        await p.executions.commit({ ...withItems(startCommit(1, 1, sibling), items), current: undefined });
        await p.executions.commit(withItems(startCommit(1, 1, otherWf), items));
        await p.executions.commit(withItems(startCommit(2, 1, key), items));
        await p.executions.commit(itemsCommit(key, 1, [item('activity', '5', 'changed')], [{ kind: 'timer', id: 't-1' }]));
        for (const [shardId, other] of [[1, sibling], [1, otherWf], [2, key]] as const) {
          assert.deepEqual(sortItems((await p.executions.getExecution(shardId, other))!.items), sortItems(items), `${shardId} ${other.workflowId} ${other.runId}`);
        }
        assert.deepEqual(sortItems((await p.executions.getExecution(1, key))!.items), [item('activity', '5', 'changed')]);
      });

      test('a failed condition writes no item: stale db version, moved pointer, bad events', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(withItems(startCommit(1, 1, key), [item('activity', '5', 'kept')]));
        const before = await snapshot(p.executions, 1, key);
        const change = itemsCommit(key, 1, [item('activity', '5', 'lost'), item('activity', '6')], [{ kind: 'activity', id: '5' }]);
        await p.executions.commit(updateCommit(key, 1, 'v2', 4, 3));
        const afterBump = await snapshot(p.executions, 1, key);
        assert.deepEqual(afterBump.execution?.items, before.execution?.items);
        await rejection(p.executions.commit(change), ConditionFailedError, 'stale db version');
        const moved = { ...itemsCommit(key, 2, [item('activity', '7')], []), current: currentCommit(currentRecord(key), 'run-9').current! };
        await rejection(p.executions.commit(moved), CurrentExecutionConditionFailedError, 'moved pointer');
        await rejection(p.executions.commit(withEvents(itemsCommit(key, 2, [item('activity', '8')], []), events(9, 9), 10)), ConditionFailedError, 'gap');
        // A new run whose start fails (a pointer already exists) leaves no items either.
        const run2 = runKey('run-2');
        await rejection(p.executions.commit(withItems(startCommit(1, 1, run2), [item('activity', '1')])), CurrentExecutionConditionFailedError);
        assert.equal(await p.executions.getExecution(1, run2), undefined);
        assert.deepEqual(await snapshot(p.executions, 1, key), afterBump);
      });

      test('an item kind or id beyond the limits is InvalidArgumentError and writes nothing', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(startCommit(1, 1, key));
        const before = await snapshot(p.executions, 1, key);
        for (const [what, bad] of [
          ['id of 1001 bytes', item('activity', `${LONG_ID}x`)],
          ['kind of 33 characters', item('k'.repeat(33), '1')],
          ['empty kind', item('', '1')],
          ['non-ASCII kind', item('activité', '1')],
        ] as const) {
          await rejection(p.executions.commit(itemsCommit(key, 1, [bad], [])), InvalidArgumentError, what);
        }
        assert.deepEqual(await snapshot(p.executions, 1, key), before);
      });
    });

    describe('shard tasks', () => {
      test('transfer tasks list ascending after a task id, at most limit, and delete by id', async (p) => {
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.acquireShard(2, 'host-a');
        await p.executions.commit(tasksCommit(1, [transferTask(5), transferTask(2), transferTask(9)], []));
        await p.executions.commit(tasksCommit(2, [transferTask(3)], []));
        assert.deepEqual(await p.executions.listImmediateTasks(1, TRANSFER, 0, 100), [transferTask(2), transferTask(5), transferTask(9)]);
        assert.deepEqual(await p.executions.listImmediateTasks(1, TRANSFER, 2, 1), [transferTask(5)]);
        await p.executions.deleteTasks(1, [transferKey(2), transferKey(9), transferKey(404)]);
        assert.deepEqual(await p.executions.listImmediateTasks(1, TRANSFER, 0, 100), [transferTask(5)]);
        assert.deepEqual(await p.executions.listImmediateTasks(2, TRANSFER, 0, 100), [transferTask(3)]);
      });

      test('timer tasks list by (fireAt, taskId) strictly before the bound, and delete by key', async (p) => {
        await p.executions.acquireShard(1, 'host-a');
        const timers = [timerTask(T0 + 20, 1), timerTask(T0 + 10, 7), timerTask(T0 + 10, 3), timerTask(T0 + 30, 2)];
        await p.executions.commit(tasksCommit(1, [], timers));
        const ids = async (before: number, limit = 100) => (await p.executions.listScheduledTasks(1, TIMER, before, limit)).map((t) => t.taskId);
        assert.deepEqual(await ids(T0 + 100), [3, 7, 1, 2]);
        assert.deepEqual(await ids(T0 + 20), [3, 7]);
        assert.deepEqual(await ids(T0 + 100, 3), [3, 7, 1]);
        assert.deepEqual(await ids(T0 + 10), []);
        assert.deepEqual((await p.executions.listScheduledTasks(1, TIMER, T0 + 11, 1))[0], timerTask(T0 + 10, 3));

        await p.executions.deleteTasks(1, [{ categoryId: TIMER, fireAt: T0 + 10, taskId: 7 }, { categoryId: TIMER, fireAt: T0 + 30, taskId: 1 }]);
        assert.deepEqual(await ids(T0 + 100), [3, 1, 2]);
      });

      test('categories do not mix: an immediate and a scheduled category interleaved, each in its own order', async (p) => {
        await p.executions.acquireShard(1, 'host-a');
        // Ids interleave across the categories, and one timer is due at time 0.
        const immediate = [transferTask(1), transferTask(4), transferTask(6), transferTask(9)];
        const scheduled = [timerTask(T0 + 10, 2), timerTask(T0, 3), timerTask(0, 5), timerTask(T0, 8)];
        const visibility = [task(VISIBILITY, 0, 7), task(VISIBILITY, 0, 10)];
        await p.executions.commit(tasksCommit(1, [...immediate.slice(0, 2), ...visibility.slice(0, 1)], scheduled.slice(0, 2)));
        await p.executions.commit(tasksCommit(1, [...immediate.slice(2), ...visibility.slice(1)], scheduled.slice(2)));
        assert.deepEqual(await p.executions.listImmediateTasks(1, TRANSFER, 0, 100), immediate);
        assert.deepEqual(await p.executions.listImmediateTasks(1, VISIBILITY, 0, 100), visibility);
        assert.deepEqual(await p.executions.listImmediateTasks(1, TRANSFER, 4, 2), [transferTask(6), transferTask(9)]);
        assert.deepEqual(await p.executions.listImmediateTasks(1, TIMER, 0, 100), [timerTask(0, 5)], 'immediate reads of a scheduled category see only fireAt 0');
        assert.deepEqual((await p.executions.listScheduledTasks(1, TIMER, T0 + 100, 100)).map((t) => t.taskId), [5, 3, 8, 2]);
        assert.deepEqual(await p.executions.listScheduledTasks(1, TIMER, T0 + 1, 2), [timerTask(0, 5), timerTask(T0, 3)]);
        assert.deepEqual(await p.executions.listScheduledTasks(1, TRANSFER, T0, 100), immediate, 'immediate tasks are due at 0');
        assert.deepEqual(await p.executions.listImmediateTasks(1, 4, 0, 100), []);
      });

      test('deleteImmediateTasksUpTo removes the ack range only: later ids and other categories stay', async (p) => {
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.acquireShard(2, 'host-a');
        await p.executions.commit(
          tasksCommit(1, [transferTask(1), transferTask(3), transferTask(5), transferTask(7), task(VISIBILITY, 0, 2), task(VISIBILITY, 0, 4)], [timerTask(0, 6), timerTask(T0, 8)]),
        );
        await p.executions.commit(tasksCommit(2, [transferTask(1), transferTask(3)], []));
        await p.executions.deleteImmediateTasksUpTo(1, TRANSFER, 5);
        assert.deepEqual(await p.executions.listImmediateTasks(1, TRANSFER, 0, 100), [transferTask(7)]);
        assert.deepEqual(await p.executions.listImmediateTasks(1, VISIBILITY, 0, 100), [task(VISIBILITY, 0, 2), task(VISIBILITY, 0, 4)]);
        assert.deepEqual(await p.executions.listScheduledTasks(1, TIMER, T0 + 1, 100), [timerTask(0, 6), timerTask(T0, 8)]);
        assert.deepEqual(await p.executions.listImmediateTasks(2, TRANSFER, 0, 100), [transferTask(1), transferTask(3)]);
        await p.executions.deleteImmediateTasksUpTo(1, TIMER, 100);
        assert.deepEqual(await p.executions.listScheduledTasks(1, TIMER, T0 + 1, 100), [timerTask(T0, 8)], 'fireAt 0 rows of the category only');
        await p.executions.deleteImmediateTasksUpTo(1, VISIBILITY, 1);
        assert.equal((await p.executions.listImmediateTasks(1, VISIBILITY, 0, 100)).length, 2);
        await p.executions.deleteImmediateTasksUpTo(1, TRANSFER, 1000);
        assert.deepEqual(await p.executions.listImmediateTasks(1, TRANSFER, 0, 100), []);
        assert.equal(await p.executions.maxTaskId(1), 8);
      });

      test('deleteTasks removes keys of several categories at once, in batches of any size', async (p) => {
        await p.executions.acquireShard(1, 'host-a');
        const many = Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? transferTask(i + 1) : i % 3 === 1 ? timerTask(T0 + (i % 7), i + 1) : task(VISIBILITY, 0, i + 1)));
        for (let i = 0; i < many.length; i += 200) await p.executions.commit(tasksCommit(1, many.slice(i, i + 200), []));
        const keep = (t: HistoryTaskRow): boolean => t.taskId % 10 === 0;
        await p.executions.deleteTasks(1, many.filter((t) => !keep(t)).map(keyOf));
        const left = Object.values(await allTasks(p.executions, 1)).flat().map((t) => t.taskId).sort((a, b) => a - b);
        assert.deepEqual(left, many.filter(keep).map((t) => t.taskId));
        // A key whose category or fireAt does not match removes nothing.
        await p.executions.deleteTasks(1, [{ categoryId: TIMER, fireAt: 0, taskId: 10 }, { categoryId: TRANSFER, fireAt: 0, taskId: 20 }]);
        assert.equal(Object.values(await allTasks(p.executions, 1)).flat().length, left.length);
        await p.executions.deleteTasks(1, []);
      });

      test('maxTaskId is the largest task id ever committed in the shard, 0 if none', async (p) => {
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.acquireShard(2, 'host-a');
        assert.equal(await p.executions.maxTaskId(1), 0);
        assert.equal(await p.executions.maxTaskId(99), 0);
        await p.executions.commit(tasksCommit(1, [transferTask(12)], [timerTask(T0, 40), timerTask(T0 + 1, 8)]));
        await p.executions.commit(tasksCommit(2, [transferTask(100)], []));
        assert.equal(await p.executions.maxTaskId(1), 40);
        // Ids are never reused after their tasks complete, so the mark survives deletion.
        await p.executions.deleteTasks(1, [{ categoryId: TIMER, fireAt: T0, taskId: 40 }]);
        assert.equal(await p.executions.maxTaskId(1), 40);
        assert.equal(await p.executions.maxTaskId(2), 100);
        // ... and range deletion, across categories.
        await p.executions.commit(tasksCommit(2, [task(VISIBILITY, 0, 150)], []));
        await p.executions.deleteImmediateTasksUpTo(2, VISIBILITY, 1000);
        await p.executions.deleteImmediateTasksUpTo(2, TRANSFER, 1000);
        assert.equal(await p.executions.maxTaskId(2), 150);
      });

      test('a repeated task id fails the commit as an invariant violation and writes nothing', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(tasksCommit(1, [transferTask(1)], []));
        const before = await snapshot(p.executions, 1, key);
        await rejection(p.executions.commit({ ...startCommit(1, 1, key), tasks: [transferTask(1)] }), InvariantViolationError);
        assert.deepEqual(await snapshot(p.executions, 1, key), before);
      });

      test('task ids are unique across categories: an id used in one category fails in another', async (p) => {
        const key = runKey('run-1');
        await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(tasksCommit(1, [transferTask(1)], [timerTask(T0, 2)]));
        const before = await snapshot(p.executions, 1, key);
        for (const [what, dup] of [
          ['transfer id as a timer', timerTask(T0 + 5, 1)],
          ['timer id as a visibility task', task(VISIBILITY, 0, 2)],
          ['timer id at another time', timerTask(T0 + 1, 2)],
        ] as const) {
          await rejection(p.executions.commit({ ...startCommit(1, 1, key), tasks: [transferTask(3, key), dup] }), InvariantViolationError, what);
          assert.deepEqual(await snapshot(p.executions, 1, key), before, what);
        }
        // The same task id in another shard is another task.
        await p.executions.acquireShard(2, 'host-a');
        await p.executions.commit(tasksCommit(2, [task(VISIBILITY, 0, 1)], []));
      });

      test('rejects a non-positive limit and negative or fractional task fields', async (p) => {
        await rejection(p.executions.listImmediateTasks(1, TRANSFER, 0, 0), InvalidArgumentError);
        await rejection(p.executions.listScheduledTasks(1, TIMER, T0, -1), InvalidArgumentError);
        await p.executions.acquireShard(1, 'host-a');
        await rejection(p.executions.commit(tasksCommit(1, [task(-1, 0, 1)], [])), InvalidArgumentError, 'negative category');
        await rejection(p.executions.commit(tasksCommit(1, [], [timerTask(1.5, 1)])), InvalidArgumentError, 'fractional fireAt');
        assert.equal(await p.executions.maxTaskId(1), 0);
      });
    });

    describe('usage counters', () => {
      const USAGE = 4;
      const H = 3_600_000;
      const HOUR = Math.floor(T0 / H) * H;
      const usageKey = (taskId: number) => ({ categoryId: USAGE, fireAt: 0, taskId });
      test('folding a usage task deletes it and adds its increments once; a second fold changes nothing', async (p) => {
        const shard = await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(tasksCommit(1, [task(USAGE, 0, 7), task(USAGE, 0, 8)], []));
        const inc = [
          { namespaceId: 'ns-a', hourStart: HOUR, recordType: 'signal', amount: 2 },
          { namespaceId: 'ns-a', hourStart: HOUR + H, recordType: 'signal', amount: 1 },
          { namespaceId: 'ns-b', hourStart: HOUR, recordType: 'timer', amount: 5 },
        ];
        assert.deepEqual(await p.executions.foldUsageTasks(1, shard.rangeId, [{ task: usageKey(7), increments: inc }]), [true]);
        // Folded again (a retry after a crash before the ack), alone or in a batch with a new task: only the new one counts.
        assert.deepEqual(await p.executions.foldUsageTasks(1, shard.rangeId, [{ task: usageKey(7), increments: inc }]), [false]);
        assert.deepEqual(
          await p.executions.foldUsageTasks(1, shard.rangeId, [
            { task: usageKey(7), increments: inc },
            { task: usageKey(8), increments: [{ namespaceId: 'ns-a', hourStart: HOUR, recordType: 'signal', amount: 3 }] },
          ]),
          [false, true],
        );
        assert.deepEqual(await p.executions.foldUsageTasks(1, shard.rangeId, []), []);
        assert.deepEqual(await p.executions.listImmediateTasks(1, USAGE, 0, 100), []);
        assert.equal(await p.executions.maxTaskId(1), 8);
        assert.deepEqual(await p.executions.readHourlyUsage({ namespaceIds: ['ns-a', 'ns-b'], fromMs: HOUR, toMs: HOUR + 2 * H }), [
          { namespaceId: 'ns-a', hourStart: HOUR, recordType: 'signal', amount: 5 },
          { namespaceId: 'ns-b', hourStart: HOUR, recordType: 'timer', amount: 5 },
          { namespaceId: 'ns-a', hourStart: HOUR + H, recordType: 'signal', amount: 1 },
        ]);
        // The range is [from, to), and only the namespaces asked for.
        assert.deepEqual(await p.executions.readHourlyUsage({ namespaceIds: ['ns-a'], fromMs: HOUR + H, toMs: HOUR + 2 * H }), [
          { namespaceId: 'ns-a', hourStart: HOUR + H, recordType: 'signal', amount: 1 },
        ]);
        assert.deepEqual(await p.executions.readHourlyUsage({ namespaceIds: ['ns-c'], fromMs: 0, toMs: HOUR * 2 }), []);
      });

      test('a large batch folds in one call: every task deleted, every increment counted once', async (p) => {
        const shard = await p.executions.acquireShard(1, 'host-a');
        const ids = Array.from({ length: 600 }, (_, i) => i + 1);
        await p.executions.commit(tasksCommit(1, ids.map((id) => task(USAGE, 0, id)), []));
        const batch = ids.map((id) => ({
          task: usageKey(id),
          increments: [
            { namespaceId: `ns-${id % 3}`, hourStart: HOUR + (id % 2) * H, recordType: 'signal', amount: 1 },
            { namespaceId: 'ns-all', hourStart: HOUR, recordType: 'timer_started', amount: 2 },
          ],
        }));
        const folded = await p.executions.foldUsageTasks(1, shard.rangeId, [...batch, batch[0]!]);
        assert.equal(folded.filter(Boolean).length, 600, 'a task listed twice in one batch counts once');
        assert.deepEqual(await p.executions.listImmediateTasks(1, USAGE, 0, 1000), []);
        const rows = await p.executions.readHourlyUsage({ namespaceIds: ['ns-0', 'ns-1', 'ns-2', 'ns-all'], fromMs: 0, toMs: HOUR + 2 * H });
        assert.equal(rows.filter((r) => r.recordType === 'signal').reduce((s, r) => s + r.amount, 0), 600);
        assert.deepEqual(rows.filter((r) => r.namespaceId === 'ns-all'), [{ namespaceId: 'ns-all', hourStart: HOUR, recordType: 'timer_started', amount: 1200 }]);
      });

      test('counters of several shards sum; a fold with a stale rangeId fails and writes nothing', async (p) => {
        const one = await p.executions.acquireShard(1, 'host-a');
        const two = await p.executions.acquireShard(2, 'host-a');
        await p.executions.commit(tasksCommit(1, [task(USAGE, 0, 1)], []));
        await p.executions.commit(tasksCommit(2, [task(USAGE, 0, 1)], []));
        const inc = [{ namespaceId: 'ns-a', hourStart: HOUR, recordType: 'query', amount: 1 }];
        await p.executions.acquireShard(1, 'host-b');
        await assert.rejects(p.executions.foldUsageTasks(1, one.rangeId, [{ task: usageKey(1), increments: inc }]), ShardOwnershipLostError);
        assert.equal((await p.executions.listImmediateTasks(1, USAGE, 0, 100)).length, 1);
        assert.deepEqual(await p.executions.foldUsageTasks(1, one.rangeId + 1, [{ task: usageKey(1), increments: inc }]), [true]);
        assert.deepEqual(await p.executions.foldUsageTasks(2, two.rangeId, [{ task: usageKey(1), increments: inc }]), [true]);
        assert.deepEqual(await p.executions.readHourlyUsage({ namespaceIds: ['ns-a'], fromMs: 0, toMs: HOUR + H }), [
          { namespaceId: 'ns-a', hourStart: HOUR, recordType: 'query', amount: 2 },
        ]);
      });

      test('a commit carries usage only to a store that folds it in commits: added in the same transaction, and a refused commit adds none', async (p) => {
        const shard = await p.executions.acquireShard(1, 'host-a');
        const usage = [
          { namespaceId: 'ns-a', hourStart: HOUR, recordType: 'signal', amount: 2 },
          { namespaceId: 'ns-a', hourStart: HOUR, recordType: 'active_storage_byte_seconds', amount: 40 },
        ];
        const read = () => p.executions.readHourlyUsage({ namespaceIds: ['ns-a'], fromMs: 0, toMs: HOUR + H });
        const key = runKey('run-u');
        if (!p.executions.foldsUsageInCommit) {
          await rejection(p.executions.commit({ ...startCommit(1, shard.rangeId, key), usage }), InvalidArgumentError);
          assert.equal(await p.executions.getExecution(1, key), undefined, 'nothing of the refused commit is written');
          assert.deepEqual(await read(), []);
          return;
        }
        await p.executions.commit({ ...startCommit(1, shard.rangeId, key), usage });
        const once = [
          { namespaceId: 'ns-a', hourStart: HOUR, recordType: 'active_storage_byte_seconds', amount: 40 },
          { namespaceId: 'ns-a', hourStart: HOUR, recordType: 'signal', amount: 2 },
        ];
        assert.deepEqual(await read(), once);
        // Refused commits add nothing: the run exists already, a malformed increment, a stale range id.
        const { current: _pointer, ...again } = startCommit(1, shard.rangeId, key);
        await rejection(p.executions.commit({ ...again, usage }), ConditionFailedError);
        await rejection(p.executions.commit({ ...tasksCommit(1, [], []), rangeId: shard.rangeId, usage: [{ ...usage[0]!, amount: -1 }] }), InvalidArgumentError);
        await p.executions.acquireShard(1, 'host-b');
        await rejection(p.executions.commit({ ...tasksCommit(1, [], []), rangeId: shard.rangeId, usage }), ShardOwnershipLostError);
        assert.deepEqual(await read(), once);
        // A commit of usage alone (a query's) counts.
        await p.executions.commit({ ...tasksCommit(1, [], []), rangeId: shard.rangeId + 1, usage: [usage[0]!] });
        assert.deepEqual(await read(), [once[0], { ...once[1]!, amount: 4 }]);
      });

      test('rejects increments that are not whole hours, negative or fractional, or of a malformed type, and writes nothing', async (p) => {
        const shard = await p.executions.acquireShard(1, 'host-a');
        await p.executions.commit(tasksCommit(1, [task(USAGE, 0, 1)], []));
        for (const bad of [
          { namespaceId: 'ns-a', hourStart: HOUR + 1, recordType: 'query', amount: 1 },
          { namespaceId: 'ns-a', hourStart: HOUR, recordType: 'query', amount: -1 },
          { namespaceId: 'ns-a', hourStart: HOUR, recordType: 'query', amount: 1.5 },
          { namespaceId: 'ns-a', hourStart: HOUR, recordType: 'Query Type', amount: 1 },
        ]) {
          await assert.rejects(p.executions.foldUsageTasks(1, shard.rangeId, [{ task: usageKey(1), increments: [bad] }]), InvalidArgumentError);
        }
        assert.equal((await p.executions.listImmediateTasks(1, USAGE, 0, 100)).length, 1);
        await assert.rejects(p.executions.readHourlyUsage({ namespaceIds: ['ns-a'], fromMs: 10, toMs: 5 }), InvalidArgumentError);
      });
    });

    describe('task queues', () => {
      test('leaseTaskQueue creates at rangeId 1 and bumps it, per queue key', async (p) => {
        const key = queueKey('orders');
        assert.deepEqual(await p.taskQueues.leaseTaskQueue(key), { rangeId: 1 });
        assert.deepEqual(await p.taskQueues.leaseTaskQueue(key), { rangeId: 2 });
        assert.deepEqual(await p.taskQueues.leaseTaskQueue({ ...key, type: 'activity' }), { rangeId: 1 });
        assert.deepEqual(await p.taskQueues.leaseTaskQueue({ ...key, partition: 1 }), { rangeId: 1 });
        assert.deepEqual(await p.taskQueues.leaseTaskQueue({ ...key, kind: 'sticky' }), { rangeId: 1 });
      });

      test('createTasks checks the lease: a stale rangeId fails and writes nothing', async (p) => {
        const key = queueKey('orders');
        await rejection(p.taskQueues.createTasks(key, 1, [queueTask(1)]), ConditionFailedError);
        await p.taskQueues.leaseTaskQueue(key);
        await p.taskQueues.createTasks(key, 1, [queueTask(1)]);
        await p.taskQueues.leaseTaskQueue(key);
        await rejection(p.taskQueues.createTasks(key, 1, [queueTask(2), queueTask(3)]), ConditionFailedError);
        assert.deepEqual(await p.taskQueues.listTasks(key, 0, 100), [queueTask(1)]);
        await p.taskQueues.createTasks(key, 2, [queueTask(2)]);
        assert.deepEqual(await p.taskQueues.listTasks(key, 0, 100), [queueTask(1), queueTask(2)]);
      });

      test('lists tasks after an id, at most limit, and deletes by id', async (p) => {
        const [key, other] = [queueKey('orders'), queueKey('orders', { type: 'activity' })];
        await p.taskQueues.leaseTaskQueue(key);
        await p.taskQueues.leaseTaskQueue(other);
        await p.taskQueues.createTasks(key, 1, [queueTask(4), queueTask(1), queueTask(7, T0)]);
        await p.taskQueues.createTasks(other, 1, [queueTask(2)]);
        assert.deepEqual(await p.taskQueues.listTasks(key, 0, 100), [queueTask(1), queueTask(4), queueTask(7, T0)]);
        assert.deepEqual(await p.taskQueues.listTasks(key, 1, 1), [queueTask(4)]);
        await p.taskQueues.deleteTasks(key, [1, 7, 404]);
        assert.deepEqual(await p.taskQueues.listTasks(key, 0, 100), [queueTask(4)]);
        assert.deepEqual(await p.taskQueues.listTasks(other, 0, 100), [queueTask(2)]);
      });

      test('listQueuesWithTasks returns each queue with backlog once', async (p) => {
        const [a, b, idle] = [queueKey('a'), queueKey('b', { kind: 'sticky', partition: 3 }), queueKey('idle')];
        for (const key of [a, b, idle]) await p.taskQueues.leaseTaskQueue(key);
        await p.taskQueues.createTasks(a, 1, [queueTask(1), queueTask(2)]);
        await p.taskQueues.createTasks(b, 1, [queueTask(1)]);
        assert.deepEqual(sortQueues(await p.taskQueues.listQueuesWithTasks()), [a, b]);
        await p.taskQueues.deleteTasks(b, [1]);
        assert.deepEqual(await p.taskQueues.listQueuesWithTasks(), [a]);
      });
    });
  });
}

/** Awaits a rejection of the given type and returns the error for further checks. */
async function rejection<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E, what = ''): Promise<E> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof type, `${what}: expected ${type.name}, got ${String(err)}`);
    return err;
  }
  return assert.fail(`${what}: expected ${type.name}, but the call succeeded`);
}

/** An update of `key` appending events from..to (none when to < from) on shard 1 at rangeId 1. */
function updateCommit(
  key: ExecutionKey,
  expectedDbVersion: number,
  state: string,
  from: number,
  to: number,
  tasks: HistoryTaskRow[] = [],
): ShardCommit {
  const update = { key, state, nextEventId: to + 1, events: events(from, to), expectedDbVersion, upsertItems: [], deleteItems: [] };
  return { shardId: 1, rangeId: 1, update, tasks };
}

/** An update of `key` on shard 1 that changes only items (no events). */
function itemsCommit(
  key: ExecutionKey,
  expectedDbVersion: number,
  upsertItems: ExecutionItemRow[],
  deleteItems: { kind: string; id: string }[],
  nextEventId = 4,
): ShardCommit {
  const commit = updateCommit(key, expectedDbVersion, `items v${expectedDbVersion + 1}`, nextEventId, nextEventId - 1);
  return { ...commit, update: { ...commit.update!, upsertItems, deleteItems } };
}

function withItems(commit: ShardCommit, upsertItems: ExecutionItemRow[]): ShardCommit {
  return { ...commit, create: { ...commit.create!, upsertItems } };
}

function deletionCommit(key: ExecutionKey, expectedDbVersion: number): ShardCommit {
  return { shardId: 1, rangeId: 1, deletion: { key, expectedDbVersion }, tasks: [] };
}

function transferKey(taskId: number) {
  return { categoryId: TRANSFER, fireAt: 0, taskId };
}

function keyOf(row: HistoryTaskRow) {
  return { categoryId: row.categoryId, fireAt: row.fireAt, taskId: row.taskId };
}

function withEvents(commit: ShardCommit, appended: HistoryEventRow[], nextEventId: number): ShardCommit {
  return { ...commit, update: { ...commit.update!, events: appended, nextEventId } };
}

function currentCommit(record: CurrentExecutionRecord, expectedRunId: string | null): ShardCommit {
  return {
    shardId: 1,
    rangeId: 1,
    current: { namespaceId: record.namespaceId, workflowId: record.workflowId, expectedRunId, record },
    tasks: [],
  };
}

function tasksCommit(shardId: number, transferTasks: HistoryTaskRow[], timerTasks: HistoryTaskRow[]): ShardCommit {
  return { shardId, rangeId: 1, tasks: [...transferTasks, ...timerTasks] };
}

function queueTask(taskId: number, expiresAt = 0): TaskQueueTaskRow {
  return { taskId, data: JSON.stringify({ taskId }), expiresAt };
}

function sortQueues<T extends { name: string }>(keys: T[]): T[] {
  return [...keys].sort((x, y) => x.name.localeCompare(y.name));
}
