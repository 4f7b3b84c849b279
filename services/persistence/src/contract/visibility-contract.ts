import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VisibilityRecord } from '@hourglass/visibility';
import type { Persistence } from '../types';
import { withStore } from './fixtures';

const NS = 'ns-visibility-a';
const OTHER_NS = 'ns-visibility-b';
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

/** A run's record at `version`; overrides win. */
export function visibilityRecord(runId: string, version: number, overrides: Partial<VisibilityRecord> = {}): VisibilityRecord {
  return {
    namespaceId: NS,
    workflowId: `wf-${runId}`,
    runId,
    workflowType: 'OrderWorkflow',
    status: 1,
    startTime: T0,
    executionTime: T0 + 5,
    closeTime: null,
    executionDuration: null,
    taskQueue: 'orders',
    historyLength: 3,
    historySizeBytes: 512,
    stateTransitionCount: version,
    parentWorkflowId: null,
    parentRunId: null,
    rootWorkflowId: `wf-${runId}`,
    rootRunId: runId,
    memo: null,
    searchAttributes: null,
    version,
    ...overrides,
  };
}

const closed = (runId: string, version: number, overrides: Partial<VisibilityRecord> = {}): VisibilityRecord =>
  visibilityRecord(runId, version, { status: 2, closeTime: T0 + 60_000, executionDuration: 59_995_000_000, historyLength: 11, ...overrides });

/**
 * The visibility index every SQL backend must provide: versioned writes (late, duplicated and
 * out-of-order records leave the newest state), versioned deletes, and translated queries run as
 * given. `open` returns a store over an EMPTY database on every call.
 */
export function runVisibilityContract(name: string, open: () => Promise<Persistence>): void {
  const test = (title: string, body: (p: Persistence) => Promise<void>): void => {
    it(title, () => withStore(open, body));
  };

  describe(`${name}: visibility store contract`, () => {
    test('a record reads back exactly, memo bytes and search attributes of every type included', async (p) => {
      const record = visibilityRecord('r1', 4, {
        memo: new Uint8Array([10, 3, 1, 2, 3]),
        searchAttributes: { CustomKeyword: 'gold', CustomInt: 42, CustomDouble: 1.5, CustomBool: true, CustomDatetime: T0, CustomKeywordList: ['a', 'b'], CustomText: 'hello world' },
        parentWorkflowId: 'parent',
        parentRunId: 'parent-run',
        rootWorkflowId: 'root',
        rootRunId: 'root-run',
      });
      await p.visibility.upsert([record]);
      assert.deepEqual(await p.visibility.get(NS, 'r1'), record);
      assert.equal(await p.visibility.get(OTHER_NS, 'r1'), undefined);
      assert.equal(await p.visibility.get(NS, 'missing'), undefined);
    });

    test('a newer version replaces the row; an equal or older one (late, duplicated) changes nothing', async (p) => {
      await p.visibility.upsert([visibilityRecord('r1', 3)]);
      const newest = closed('r1', 7, { searchAttributes: { CustomKeyword: 'done' } });
      await p.visibility.upsert([newest]);
      assert.deepEqual(await p.visibility.get(NS, 'r1'), newest);
      // Late: an older state arrives after the newer one.
      await p.visibility.upsert([visibilityRecord('r1', 5, { searchAttributes: { CustomKeyword: 'stale' } })]);
      // Duplicate: the same version again, with different content (must not win either).
      await p.visibility.upsert([closed('r1', 7, { searchAttributes: { CustomKeyword: 'duplicate' } })]);
      assert.deepEqual(await p.visibility.get(NS, 'r1'), newest);
    });

    test('records of one run out of order within one batch leave the newest', async (p) => {
      const newest = closed('r1', 9);
      await p.visibility.upsert([visibilityRecord('r1', 2), newest, visibilityRecord('r1', 5), visibilityRecord('r2', 1)]);
      assert.deepEqual(await p.visibility.get(NS, 'r1'), newest);
      assert.deepEqual(await p.visibility.get(NS, 'r2'), visibilityRecord('r2', 1));
    });

    test('a delete removes the run unless the store holds a newer version, and only that run of that namespace', async (p) => {
      await p.visibility.upsert([closed('r1', 6), closed('r2', 6), closed('r1', 6, { namespaceId: OTHER_NS })]);
      await p.visibility.delete([{ namespaceId: NS, workflowId: 'wf-r1', runId: 'r1', version: 5 }]);
      assert.ok(await p.visibility.get(NS, 'r1'), 'an older delete leaves the newer row');
      await p.visibility.delete([{ namespaceId: NS, workflowId: 'wf-r1', runId: 'r1', version: 7 }]);
      assert.equal(await p.visibility.get(NS, 'r1'), undefined);
      assert.ok(await p.visibility.get(NS, 'r2'));
      assert.ok(await p.visibility.get(OTHER_NS, 'r1'), 'the same run id in another namespace stays');
    });

    test('list and count run the given SQL with string, integer, double and boolean parameters', async (p) => {
      const records = Array.from({ length: 30 }, (_, i) =>
        visibilityRecord(`r${String(i).padStart(2, '0')}`, 1, { startTime: T0 + i, searchAttributes: { CustomDouble: i / 2 }, ...(i % 3 === 0 ? { status: 2, closeTime: T0 + 100 + i } : {}) }),
      );
      await p.visibility.upsert(records);
      await p.visibility.upsert([visibilityRecord('x1', 1, { namespaceId: OTHER_NS })]);
      const listed = await p.visibility.list({ sql: `SELECT * FROM visibility_executions WHERE namespace_id = ? AND start_time >= ? ORDER BY start_time DESC, run_id LIMIT ?`, params: [NS, T0 + 20, 5] });
      assert.deepEqual(listed.map((r) => r.runId), ['r29', 'r28', 'r27', 'r26', 'r25']);
      assert.deepEqual(listed[0], records[29]);
      const doubleSql =
        p.visibility.dialect === 'mysql'
          ? "SELECT COUNT(*) AS n FROM visibility_executions WHERE namespace_id = ? AND CAST(JSON_EXTRACT(search_attributes, '$.CustomDouble') AS DOUBLE) > ?"
          : "SELECT COUNT(*) AS n FROM visibility_executions WHERE namespace_id = ? AND json_extract(search_attributes, '$.CustomDouble') > ?";
      assert.deepEqual(await p.visibility.count({ sql: doubleSql, params: [NS, 12.25] }), [{ n: 5 }]);
      const grouped = await p.visibility.count({ sql: 'SELECT status, COUNT(*) AS n FROM visibility_executions WHERE namespace_id = ? GROUP BY status ORDER BY status', params: [NS] });
      assert.deepEqual(grouped, [
        { status: 1, n: 20 },
        { status: 2, n: 10 },
      ]);
      const open = await p.visibility.count({ sql: 'SELECT COUNT(*) AS n FROM visibility_executions WHERE namespace_id = ? AND (close_time IS NULL) = ?', params: [NS, true] });
      assert.deepEqual(open, [{ n: 20 }]);
    });
  });
}
