import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '@hourglass/common';
import { openSqlitePersistence } from '@hourglass/persistence';
import { DEV_SEARCH_ATTRIBUTES, startVisibility } from './visibility';

describe('the visibility pipeline of a server', () => {
  it('by default: in-process bus into the SQL index, records searchable through the search', async () => {
    const persistence = openSqlitePersistence({ path: ':memory:' });
    try {
      const v = await startVisibility({ persistence, logger: silentLogger(), config: { visibilityStore: 'sql', kafkaBrokers: [], elasticsearchUrl: '' } });
      const record = {
        namespaceId: 'ns',
        workflowId: 'wf',
        runId: 'run',
        workflowType: 'T',
        status: 1,
        startTime: 1000,
        executionTime: 1000,
        closeTime: null,
        executionDuration: null,
        taskQueue: 'q',
        historyLength: 2,
        historySizeBytes: 10,
        stateTransitionCount: 1,
        parentWorkflowId: null,
        parentRunId: null,
        rootWorkflowId: null,
        rootRunId: null,
        memo: null,
        searchAttributes: { CustomKeywordField: 'k' },
        version: 1,
      };
      await v.bus.publish([{ kind: 'upsert', record, committedAt: Date.now() }]);
      const page = await v.search.list({ id: 'ns', searchAttributes: { ...DEV_SEARCH_ATTRIBUTES } }, { query: "CustomKeywordField = 'k'" });
      assert.deepEqual(page.executions.map((e) => e.execution?.runId), ['run']);
      assert.equal(v.indexer.lag.snapshot().count, 1);
      await v.stop();
    } finally {
      await persistence.close();
    }
  });

  it('with Elasticsearch or Kafka unreachable, start fails with one line naming them', async () => {
    const persistence = openSqlitePersistence({ path: ':memory:' });
    try {
      await assert.rejects(
        startVisibility({ persistence, logger: silentLogger(), config: { visibilityStore: 'elasticsearch', kafkaBrokers: [], elasticsearchUrl: 'http://127.0.0.1:1' } }),
        /Elasticsearch at http:\/\/127\.0\.0\.1:1 is unreachable/,
      );
      await assert.rejects(
        startVisibility({ persistence, logger: silentLogger(), config: { visibilityStore: 'sql', kafkaBrokers: ['127.0.0.1:1'], elasticsearchUrl: '' } }),
        /Kafka at 127\.0\.0\.1:1 is unreachable/,
      );
    } finally {
      await persistence.close();
    }
  });
});
