/**
 * Billable actions are committed with the change that records them and counted exactly once:
 * SQLite adds them to the hourly counters in the commit itself; a store that cannot (MySQL, and
 * SQLite opened with foldsUsageInCommit off for these tests) commits a usage task, folded into the
 * counters later. Retries of the same request, a fold repeated after a crash and a second engine
 * on the same store never count twice.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { CommandType, int64, msToDuration, shardIdFor, temporal, type Clock } from '@hourglass/common';
import { openSqlitePersistence, type Persistence, type ShardCommit, type UsageRow } from '@hourglass/persistence';
import { TaskCategories } from '../queues/task-categories';
import { createTestEngine, eventually, scheduleActivity, startTimer, usageFolded, type TestEngine } from '../testing/engine-fixture';
import { HOUR_MS } from './usage-task';

type Command = temporal.api.command.v1.ICommand;

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A SQLite store that commits usage as usage tasks, as MySQL does. */
const withUsageTasks = async (clock: Clock): Promise<Persistence> => openSqlitePersistence({ path: ':memory:', clock, foldsUsageInCommit: false });

function folded(engine: TestEngine): Promise<void> {
  return usageFolded(engine.persistence.executions, [0, 1]);
}

async function usage(engine: TestEngine, fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): Promise<Record<string, number>> {
  const rows: UsageRow[] = await engine.persistence.executions.readHourlyUsage({ namespaceIds: [engine.namespace.id], fromMs, toMs });
  const out: Record<string, number> = {};
  // Actions only: storage byte-seconds are storage.test.ts's.
  for (const row of rows) if (!row.recordType.endsWith('_byte_seconds')) out[row.recordType] = (out[row.recordType] ?? 0) + row.amount;
  return out;
}

const marker: Command = { commandType: CommandType.COMMAND_TYPE_RECORD_MARKER, recordMarkerCommandAttributes: { markerName: 'SideEffect' } };
const memo: Command = {
  commandType: CommandType.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES,
  modifyWorkflowPropertiesCommandAttributes: { upsertedMemo: { fields: { k: { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('1') } } } },
};

describe('usage metering', () => {
  it('counts each billable action once, in the hour its commit happened; request retries are not counted again', async () => {
    t = await createTestEngine();
    const e = t;
    const hour0 = Math.floor(e.clock.now() / HOUR_MS) * HOUR_MS;
    const runId = await e.start('wf-1');
    await e.start('wf-1'); // the same request id: the same run, no second start
    const signal = (requestId: string) =>
      e.engine.signalWorkflowExecution({ namespaceId: e.namespace.id, request: { workflowExecution: { workflowId: 'wf-1' }, signalName: 's', requestId } });
    await signal('sig-1');
    await signal('sig-1'); // a retry
    await signal('sig-2');
    const { token } = await e.startWorkflowTask('wf-1', runId);
    // Two markers in one workflow task are one marker action; the timer, the memo upsert and the activity one each.
    await e.complete(token, [
      scheduleActivity('a1', { retryPolicy: { maximumAttempts: 3, initialInterval: msToDuration(1000) }, heartbeatTimeout: msToDuration(5000) }),
      startTimer('t1', 60_000),
      marker,
      marker,
      memo,
    ]);
    const scheduled = (await e.history('wf-1', runId)).find((ev) => ev.activityTaskScheduledEventAttributes);
    const scheduledId = Number(scheduled?.eventId);
    const act = await e.startActivity('wf-1', runId, scheduledId);
    await e.engine.recordActivityTaskHeartbeat({ target: { by: 'token', token: act }, details: null, identity: 'w' });
    await e.engine.recordActivityTaskHeartbeat({ target: { by: 'token', token: act }, details: null, identity: 'w' });
    // The first attempt fails; the retry is a second activity action, in the next hour.
    await e.engine.respondActivityTaskFailed({ target: { by: 'token', token: act }, failure: { message: 'boom' }, identity: 'w' });
    e.clock.advance(HOUR_MS);
    await eventually(() => e.startActivity('wf-1', runId, scheduledId, 2));
    await folded(e);
    assert.deepEqual(await usage(e, hour0, hour0 + HOUR_MS), {
      workflow_started: 1,
      signal: 2,
      marker: 1,
      timer_started: 1,
      upsert: 1,
      activity_started: 1,
      activity_heartbeat: 2,
    });
    assert.deepEqual(await usage(e, hour0 + HOUR_MS, hour0 + 2 * HOUR_MS), { activity_started: 1 });
    // The in-process counter (hourglass_billable_actions_total) agrees with the durable one.
    const samples = Object.fromEntries(e.engine.billableActions.samples().map((s) => [s.action, s.value]));
    assert.deepEqual(samples, { workflow_started: 1, signal: 2, marker: 1, timer_started: 1, upsert: 1, activity_started: 2, activity_heartbeat: 2 });
  });

  it('a usage task folded twice (a crash between the fold and the ack) counts once', async () => {
    t = await createTestEngine({ openPersistence: withUsageTasks });
    const e = t;
    const runId = await e.start('wf-2');
    await folded(e);
    const key = { namespaceId: e.namespace.id, workflowId: 'wf-2', runId };
    const shard = e.engine.shardFor(key.namespaceId, key.workflowId);
    // A query's usage commit: the task is stored before the fold.
    await shard.commitUsage(key, new Map([['query', 1]]));
    await folded(e);
    const row = { categoryId: TaskCategories.usage.id, fireAt: 0, taskId: 1, ...key, type: 'usage', data: '{}' };
    assert.equal(await shard.foldUsage(row, [{ namespaceId: key.namespaceId, hourStart: 0, recordType: 'query', amount: 1 }]), false, 'an absent task adds nothing');
    assert.deepEqual(await usage(e), { workflow_started: 1, query: 1 });
  });

  it('usage tasks a crashed process left unfolded are folded once by the next owner of the shard', async () => {
    const H0 = Date.UTC(2026, 0, 1);
    let namespaceId = '';
    let workflowId = '';
    t = await createTestEngine({
      openPersistence: async (clock) => {
        const persistence = openSqlitePersistence({ path: ':memory:', clock });
        // What a process that committed and then died before folding leaves behind: usage tasks under its (older) range id.
        const shard = await persistence.executions.acquireShard(0, 'crashed-host');
        namespaceId = 'ns-of-the-crashed-host';
        // A workflow id of shard 0 (of the fixture's 2), as the rows a shard writes always are.
        workflowId = Array.from({ length: 100 }, (_, i) => `wf-crashed-${i}`).find((id) => shardIdFor(namespaceId, id, 2) === 0) as string;
        const usageTask = (taskId: number, amount: number) => ({
          categoryId: TaskCategories.usage.id,
          taskId,
          fireAt: 0,
          namespaceId,
          workflowId,
          runId: '',
          type: 'usage',
          data: JSON.stringify({ type: 'usage', increments: [{ hourStart: H0, recordType: 'signal', amount }] }),
        });
        await persistence.executions.commit({ shardId: 0, rangeId: shard.rangeId, tasks: [usageTask(shard.rangeId * 2 ** 32 + 1, 2), usageTask(shard.rangeId * 2 ** 32 + 2, 3)] });
        return persistence;
      },
    });
    const e = t;
    // The new owner acquires the shard (a higher range id), its processor loads the tasks at start and folds them.
    await usageFolded(e.persistence.executions, [0]);
    const rows = await e.persistence.executions.readHourlyUsage({ namespaceIds: [namespaceId], fromMs: 0, toMs: Number.MAX_SAFE_INTEGER });
    assert.deepEqual(rows, [{ namespaceId, hourStart: H0, recordType: 'signal', amount: 5 }]);
  });

  it('on SQLite the commit that records an action adds it to the counters itself: no usage task is written, and the metric counts it', async () => {
    const commits: ShardCommit[] = [];
    t = await createTestEngine({
      openPersistence: async (clock) => {
        const persistence = openSqlitePersistence({ path: ':memory:', clock });
        const store = persistence.executions;
        const commit = store.commit.bind(store);
        store.commit = (c) => {
          commits.push(c);
          return commit(c);
        };
        return persistence;
      },
    });
    const e = t;
    const runId = await e.start('wf-in-commit');
    // Counted when the start is answered: nothing to wait for.
    assert.deepEqual(await usage(e), { workflow_started: 1 });
    const { token } = await e.startWorkflowTask('wf-in-commit', runId);
    await e.complete(token, [startTimer('t1', 60_000)]);
    assert.deepEqual(await usage(e), { workflow_started: 1, timer_started: 1 });
    assert.ok(commits.some((c) => c.usage?.some((i) => i.recordType === 'timer_started')), "the timer's usage went in a commit");
    assert.deepEqual(commits.flatMap((c) => c.tasks).filter((row) => row.categoryId === TaskCategories.usage.id), [], 'no usage task');
    const samples = e.engine.billableActions.samples().filter((s) => s.namespaceId === e.namespace.id);
    assert.deepEqual(Object.fromEntries(samples.map((s) => [s.action, s.value])), { workflow_started: 1, timer_started: 1 });
  });

  it('a reset counts one reset and does not bill the copied start or the re-applied signals again', async () => {
    t = await createTestEngine();
    const e = t;
    const runId = await e.start('wf-3');
    const { token } = await e.startWorkflowTask('wf-3', runId);
    await e.complete(token, [startTimer('t1', 60_000)]);
    await e.engine.signalWorkflowExecution({ namespaceId: e.namespace.id, request: { workflowExecution: { workflowId: 'wf-3' }, signalName: 's', requestId: 'r1' } });
    await e.engine.resetWorkflowExecution({
      namespaceId: e.namespace.id,
      request: { workflowExecution: { workflowId: 'wf-3', runId }, workflowTaskFinishEventId: int64(4), requestId: 'reset-1', reason: 'test' },
    });
    await folded(e);
    assert.deepEqual(await usage(e), { workflow_started: 1, timer_started: 1, signal: 1, workflow_reset: 1 });
  });

  it('usage tasks committed close together fold in one transaction, and a shard acknowledges the tasks of all its categories together', async () => {
    const folds: number[] = [];
    const deleteBatches: Set<number>[] = [];
    t = await createTestEngine({
      openPersistence: async (clock) => {
        const persistence = openSqlitePersistence({ path: ':memory:', clock, foldsUsageInCommit: false });
        const store = persistence.executions;
        const fold = store.foldUsageTasks.bind(store);
        store.foldUsageTasks = (shardId, rangeId, batch) => {
          folds.push(batch.length);
          return fold(shardId, rangeId, batch);
        };
        const remove = store.deleteTasks.bind(store);
        store.deleteTasks = (shardId, keys) => {
          deleteBatches.push(new Set(keys.map((k) => k.categoryId)));
          return remove(shardId, keys);
        };
        return persistence;
      },
    });
    const e = t;
    // One after another: each start's usage task is handed over before the next start commits, so
    // without the fold's short wait each would be a fold (and a transaction) of its own.
    for (let i = 0; i < 6; i++) await e.start(`batched-${i}`);
    await folded(e);
    assert.deepEqual(await usage(e), { workflow_started: 6 });
    assert.equal(folds.reduce((a, b) => a + b, 0), 6);
    assert.ok(folds.length < 6, `6 usage tasks took ${folds.length} folds`);
    // Each start leaves a transfer task (its workflow task) and a visibility task: one shard's deleter takes both.
    await eventually(() => deleteBatches.some((categories) => categories.has(TaskCategories.transfer.id) && categories.has(TaskCategories.visibility.id)));
  });
});
