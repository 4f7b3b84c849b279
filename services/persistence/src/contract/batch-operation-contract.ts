import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConditionFailedError } from '../errors';
import type { BatchOperationRecord, Persistence } from '../types';
import { withStore } from './fixtures';

const job = (namespaceId: string, jobId: string, startTime: number, state: BatchOperationRecord['state'] = 'running'): BatchOperationRecord => ({
  namespaceId,
  jobId,
  state,
  version: 1,
  startTime,
  data: JSON.stringify({ query: "WorkflowType = 'x'", done: 0 }),
});

/** The batch operation store every backend must provide. `open` returns a store over an EMPTY database. */
export function runBatchOperationContract(name: string, open: () => Promise<Persistence>): void {
  const test = (title: string, body: (p: Persistence) => Promise<void>): void => {
    it(title, () => withStore(open, body));
  };
  describe(`${name}: batch operation store contract`, () => {
    test('one running operation per namespace; job ids unique per namespace; other namespaces independent', async (p) => {
      const s = p.batchOperations;
      await s.createBatchOperation(job('ns-a', 'j1', 100));
      await assert.rejects(s.createBatchOperation(job('ns-a', 'j1', 101)), (err: { code?: string }) => err.code === 'ALREADY_EXISTS');
      await assert.rejects(s.createBatchOperation(job('ns-a', 'j2', 102)), (err: { code?: string; message: string }) => err.code === 'FAILED_PRECONDITION' && /"j1"/.test(err.message));
      await s.createBatchOperation(job('ns-b', 'j1', 103));
      assert.deepEqual(await s.getBatchOperation('ns-a', 'j1'), job('ns-a', 'j1', 100));
      assert.equal(await s.getBatchOperation('ns-a', 'j2'), undefined);
      assert.deepEqual((await s.listRunningBatchOperations(10)).map((r) => `${r.namespaceId}/${r.jobId}`).sort(), ['ns-a/j1', 'ns-b/j1']);
      // Once the first one completes, the next may start.
      await s.updateBatchOperation({ ...job('ns-a', 'j1', 100), state: 'completed', version: 2, data: '{"done":5}' });
      await s.createBatchOperation(job('ns-a', 'j2', 104));
      assert.deepEqual((await s.listRunningBatchOperations(10)).map((r) => `${r.namespaceId}/${r.jobId}`).sort(), ['ns-a/j2', 'ns-b/j1']);
    });

    test('updates are conditional on the version', async (p) => {
      const s = p.batchOperations;
      await s.createBatchOperation(job('ns-a', 'j1', 100));
      await s.updateBatchOperation({ ...job('ns-a', 'j1', 100), version: 2, data: '{"done":1}' });
      await assert.rejects(s.updateBatchOperation({ ...job('ns-a', 'j1', 100), version: 2, data: '{"done":9}' }), ConditionFailedError);
      await s.updateBatchOperation({ ...job('ns-a', 'j1', 100), state: 'stopped', version: 3, data: '{"done":2}' });
      assert.deepEqual(await s.getBatchOperation('ns-a', 'j1'), { ...job('ns-a', 'j1', 100), state: 'stopped', version: 3, data: '{"done":2}' });
    });

    test('lists a namespace newest first, page by page', async (p) => {
      const s = p.batchOperations;
      for (let i = 0; i < 7; i++) await s.createBatchOperation(job('ns-a', `j${i}`, 100 + (i % 3), i === 6 ? 'running' : 'completed'));
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await s.listBatchOperations('ns-a', { pageSize: 3, ...(token ? { nextPageToken: token } : {}) });
        seen.push(...page.items.map((r) => r.jobId));
        token = page.nextPageToken;
      } while (token);
      assert.deepEqual(seen, ['j5', 'j2', 'j4', 'j1', 'j6', 'j3', 'j0']);
      assert.deepEqual((await s.listBatchOperations('ns-b', { pageSize: 3 })).items, []);
    });
  });
}
