import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VisibilityRecord } from '../record';
import { rowOf } from '../search';
import { toEsDocument } from './query-index';
import { silentLogger } from '@hourglass/common';
import { ElasticsearchVisibilityStore, esDocumentId, esUpsertOperations, recordOfDocument } from './es-store';

const record: VisibilityRecord = {
  namespaceId: 'ns-1',
  workflowId: 'wf',
  runId: 'run-1',
  workflowType: 'Order',
  status: 5,
  startTime: 1_700_000_000_000,
  executionTime: 1_700_000_000_000,
  closeTime: 1_700_000_001_000,
  executionDuration: 1_000_000_000,
  taskQueue: 'orders',
  historyLength: 5,
  historySizeBytes: 900,
  stateTransitionCount: 3,
  parentWorkflowId: 'parent',
  parentRunId: 'parent-run',
  rootWorkflowId: 'parent',
  rootRunId: 'parent-run',
  memo: new Uint8Array([1, 2, 3]),
  searchAttributes: { Tier: 'gold', Score: 4, Due: 1_700_000_000_000, Tags: ['x'] },
  searchAttributeTypes: { Tier: 'Keyword', Score: 'Int', Due: 'Datetime', Tags: 'KeywordList' },
  version: 3,
};

describe('the Elasticsearch visibility store, without a server', () => {
  it('indexes each record with external versioning under <namespace>~<run>, laid out by type', () => {
    const ops = esUpsertOperations('vis', [record]);
    assert.deepEqual(ops[0], { index: { _index: 'vis', _id: 'ns-1~run-1', version: 3, version_type: 'external' } });
    const doc = ops[1] as Record<string, unknown>;
    assert.equal(doc.NamespaceId, 'ns-1');
    assert.equal(doc.ExecutionStatus, 'Terminated');
    assert.deepEqual(doc.SearchAttributes, { Keyword: { Tier: 'gold' }, Int: { Score: 4 }, Datetime: { Due: 1_700_000_000_000 }, KeywordList: { Tags: ['x'] } });
    assert.equal(esDocumentId('a', 'b'), 'a~b');
  });

  it('a document reads back as the record it was made from', () => {
    const doc = toEsDocument(rowOf(record), (name) => record.searchAttributeTypes?.[name]);
    const { searchAttributeTypes: _types, ...rest } = record;
    assert.deepEqual(recordOfDocument(doc), rest);
  });
});

describe('the Elasticsearch visibility store, unreachable', () => {
  it('open() fails with one line naming the host, never the credentials', async () => {
    await assert.rejects(
      ElasticsearchVisibilityStore.open({ url: 'http://user:secret@127.0.0.1:1', logger: silentLogger() }),
      (err: Error) => /^Elasticsearch at http:\/\/127\.0\.0\.1:1 is unreachable/.test(err.message) && !err.message.includes('secret'),
    );
    await assert.rejects(ElasticsearchVisibilityStore.open({ url: 'not a url', logger: silentLogger() }), /ELASTICSEARCH_URL is not a URL/);
  });
});
