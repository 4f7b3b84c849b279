/**
 * Against a real Elasticsearch when ELASTICSEARCH_URL is set (e.g. http://127.0.0.1:9200); skipped
 * loudly otherwise (none can run on the development machines).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '@hourglass/common';
import { attributeCatalog } from '../attributes';
import { compileQuery } from '../query';
import type { VisibilityRecord } from '../record';
import { ElasticsearchVisibilityStore } from './es-store';

const url = process.env.ELASTICSEARCH_URL;

function record(runId: string, version: number, overrides: Partial<VisibilityRecord> = {}): VisibilityRecord {
  return {
    namespaceId: 'ns-a',
    workflowId: `wf-${runId}`,
    runId,
    workflowType: 'Order',
    status: 1,
    startTime: 1_700_000_000_000 + Number(runId.replace(/\D/g, '') || 0),
    executionTime: 1_700_000_000_000,
    closeTime: null,
    executionDuration: null,
    taskQueue: 'orders',
    historyLength: 2,
    historySizeBytes: 100,
    stateTransitionCount: version,
    parentWorkflowId: null,
    parentRunId: null,
    rootWorkflowId: null,
    rootRunId: null,
    memo: null,
    searchAttributes: { Tier: 'gold' },
    searchAttributeTypes: { Tier: 'Keyword' },
    version,
    ...overrides,
  };
}

if (!url) {
  describe('elasticsearch visibility store', () => {
    it('runs against a real Elasticsearch', { skip: 'ELASTICSEARCH_URL is not set: NOT TESTED against Elasticsearch (set it, e.g. http://127.0.0.1:9200, to run)' }, () => undefined);
  });
  process.stderr.write('\n#### elasticsearch visibility store: SKIPPED, ELASTICSEARCH_URL is not set ####\n\n');
} else {
  describe('elasticsearch visibility store', () => {
    let store: ElasticsearchVisibilityStore;
    const catalog = attributeCatalog({ Tier: 'Keyword' });
    before(async () => {
      store = await ElasticsearchVisibilityStore.open({ url, index: `hourglass-test-${randomUUID()}`, logger: silentLogger() });
    });
    after(async () => store?.close());

    it('keeps the newest version of each run, lists it in the namespace only, counts by status, deletes', async () => {
      await store.upsert([record('r1', 5, { status: 2, closeTime: 1_700_000_100_000, executionDuration: 1 }), record('r2', 1), record('r1', 1, { namespaceId: 'ns-b' })]);
      await store.upsert([record('r1', 3)]); // late: ignored
      const q = compileQuery("Tier = 'gold'", catalog);
      const deadline = Date.now() + 10_000;
      let page = await store.list(q, { namespaceId: 'ns-a', pageSize: 10 });
      while (page.records.length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        page = await store.list(q, { namespaceId: 'ns-a', pageSize: 10 });
      }
      assert.deepEqual(page.records.map((r) => [r.runId, r.version, r.status]).sort(), [['r1', 5, 2], ['r2', 1, 1]]);
      const grouped = await store.count(compileQuery('GROUP BY ExecutionStatus', catalog), { namespaceId: 'ns-a' });
      assert.deepEqual(grouped.groups, [{ value: 1, count: 1 }, { value: 2, count: 1 }]);
      await store.delete([{ namespaceId: 'ns-a', workflowId: 'wf-r1', runId: 'r1', version: 6 }]);
    });
  });
}
