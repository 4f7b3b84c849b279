/**
 * Storage metering and retention, as one suite run on SQLite (usage/storage.test.ts) and on MySQL
 * (usage/storage.mysql.test.ts): active storage accrues while a run is open, retained storage once
 * it is closed, retention deletes exactly the expired runs, and a deleted run accrues nothing more.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { ManualClock } from '@hourglass/common';
import type { Persistence } from '@hourglass/persistence';
import { TaskCategories } from '../queues/task-categories';
import { createTestEngine, eventually, usageFolded, type TestEngine } from './engine-fixture';

const H = 3_600_000;
const RETENTION_MS = 6 * H;

export function runStorageRetentionSuite(name: string, open: (clock: ManualClock) => Promise<Persistence>, enabled: () => boolean = () => true): void {
  describe(`${name}: storage metering and retention`, () => {
    let t: TestEngine | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    const snapshot = async (e: TestEngine, workflowId: string, runId: string) =>
      e.engine.shardFor(e.namespace.id, workflowId).readExecution({ namespaceId: e.namespace.id, workflowId, runId }, (ms) => ({
        at: ms.executionInfo.storageAccruedAt as number,
        bytes: ms.executionInfo.storageAccruedBytes as number,
      }));

    const exists = async (e: TestEngine, workflowId: string, runId: string): Promise<boolean> =>
      (await e.persistence.executions.getExecution(e.engine.shardFor(e.namespace.id, workflowId).shardId, { namespaceId: e.namespace.id, workflowId, runId })) !== undefined;

    const storage = async (e: TestEngine): Promise<{ active: number; retained: number }> => {
      await usageFolded(e.persistence.executions, [0, 1]);
      const rows = await e.persistence.executions.readHourlyUsage({ namespaceIds: [e.namespace.id], fromMs: 0, toMs: Number.MAX_SAFE_INTEGER });
      const sum = (type: string): number => rows.filter((r) => r.recordType === type).reduce((s, r) => s + r.amount, 0);
      return { active: sum('active_storage_byte_seconds'), retained: sum('retained_storage_byte_seconds') };
    };

    const terminate = (e: TestEngine, workflowId: string) =>
      e.engine.terminateWorkflowExecution({ namespaceId: e.namespace.id, request: { workflowExecution: { workflowId }, reason: 'done' } });

    it('active storage accrues while open and retained once closed; retention deletes exactly the expired runs, which then accrue nothing', async (ctx) => {
      if (!enabled()) return ctx.skip('store unavailable');
      // Every timer held in memory (the clock jumps hours). Periodic accrual off: every accrual here is a change or a deletion, so each figure is exact.
      t = await createTestEngine({ retentionMs: RETENTION_MS, openPersistence: open, settings: { 'history.storageAccrualInterval': [{ value: 0 }], 'history.timerLookahead': [{ value: 1000 * 24 * H }] } });
      const e = t;
      const T0 = e.clock.now();
      const runs: Record<string, { runId: string; created: { at: number; bytes: number } }> = {};
      for (const id of ['a', 'b', 'c', 'd']) {
        const runId = await e.start(`wf-${id}`);
        runs[id] = { runId, created: (await snapshot(e, `wf-${id}`, runId))! };
      }
      const closed: Record<string, { at: number; bytes: number }> = {};
      // a closes after 1 h, b after 2 h, d after 5 h; c stays open.
      for (const [id, hours] of [['a', 1], ['b', 2], ['d', 5]] as const) {
        e.clock.set(T0 + hours * H);
        await terminate(e, `wf-${id}`);
        closed[id] = (await snapshot(e, `wf-${id}`, runs[id]!.runId))!;
      }
      const active = ['a', 'b', 'd'].reduce((s, id) => s + (runs[id]!.created.bytes * (closed[id]!.at - T0)) / 1000, 0);
      assert.deepEqual(await storage(e), { active, retained: 0 });

      // 8 h: a (closed at 1 h) and b (2 h) are past their 6 h retention; d (5 h) is not, c is open.
      e.clock.set(T0 + 8 * H);
      await eventually(async () => !(await exists(e, 'wf-a', runs.a!.runId)) && !(await exists(e, 'wf-b', runs.b!.runId)), 5000);
      assert.equal(await exists(e, 'wf-c', runs.c!.runId), true, 'the open run stays');
      assert.equal(await exists(e, 'wf-d', runs.d!.runId), true, 'the run within retention stays');
      // Retained from the close to the deletion (which ran at 8 h).
      let retained = (closed.a!.bytes * (T0 + 8 * H - closed.a!.at)) / 1000 + (closed.b!.bytes * (T0 + 8 * H - closed.b!.at)) / 1000;
      assert.deepEqual(await storage(e), { active, retained });

      // Much later: d is deleted too (at 30 h); a and b accrue nothing more.
      e.clock.set(T0 + 30 * H);
      await eventually(async () => !(await exists(e, 'wf-d', runs.d!.runId)), 5000);
      retained += (closed.d!.bytes * (T0 + 30 * H - closed.d!.at)) / 1000;
      assert.deepEqual(await storage(e), { active, retained });
      e.clock.set(T0 + 100 * H);
      // A change to the open run accrues its active storage, and nothing of the deleted ones.
      await terminate(e, 'wf-c');
      const cActive = (runs.c!.created.bytes * (T0 + 100 * H - T0)) / 1000;
      assert.deepEqual(await storage(e), { active: active + cActive, retained });
      // The deleted run's timers come up (the clock is past them all) and find no run: none is left.
      const timersOfA = async () =>
        (await e.persistence.executions.listScheduledTasks(e.engine.shardFor(e.namespace.id, 'wf-a').shardId, TaskCategories.timer.id, Number.MAX_SAFE_INTEGER, 100)).filter(
          (row) => row.runId === runs.a!.runId,
        ).length;
      await eventually(async () => (await timersOfA()) === 0, 5000);
    });

    it('the periodic accrual brings an idle run up to date at every interval boundary, split by hour, open then closed', async (ctx) => {
      if (!enabled()) return ctx.skip('store unavailable');
      t = await createTestEngine({ openPersistence: open, settings: { 'history.storageAccrualInterval': [{ value: H }], 'history.timerLookahead': [{ value: 1000 * 24 * H }] } });
      const e = t;
      const T0 = e.clock.now();
      const runId = await e.start('wf-idle');
      const first = (await snapshot(e, 'wf-idle', runId))!;
      e.clock.set(T0 + H);
      await eventually(async () => (await snapshot(e, 'wf-idle', runId))?.at === T0 + H);
      const second = (await snapshot(e, 'wf-idle', runId))!;
      e.clock.set(T0 + 2 * H);
      await eventually(async () => (await snapshot(e, 'wf-idle', runId))?.at === T0 + 2 * H);
      const expected = (first.bytes * H) / 1000 + (second.bytes * H) / 1000;
      assert.deepEqual(await storage(e), { active: expected, retained: 0 });
      const rows = await e.persistence.executions.readHourlyUsage({ namespaceIds: [e.namespace.id], fromMs: 0, toMs: Number.MAX_SAFE_INTEGER });
      assert.deepEqual(
        rows.filter((r) => r.recordType === 'active_storage_byte_seconds').map((r) => [r.hourStart - T0, r.amount]),
        [
          [0, (first.bytes * H) / 1000],
          [H, (second.bytes * H) / 1000],
        ],
      );
      // Closed half an hour later: active up to the close, then the next boundary accrues it as retained.
      const atTwo = (await snapshot(e, 'wf-idle', runId))!;
      e.clock.set(T0 + 2 * H + H / 2);
      await terminate(e, 'wf-idle');
      const closed = (await snapshot(e, 'wf-idle', runId))!;
      assert.equal(closed.at, T0 + 2 * H + H / 2);
      e.clock.set(T0 + 3 * H);
      await eventually(async () => (await snapshot(e, 'wf-idle', runId))?.at === T0 + 3 * H);
      assert.deepEqual(await storage(e), { active: expected + (atTwo.bytes * (H / 2)) / 1000, retained: (closed.bytes * (H / 2)) / 1000 });
    });
  });
}
