/**
 * Shard ownership between two history hosts on the same MySQL databases: the host that acquired a
 * shard last is its owner; the other one's writes fail (UNAVAILABLE, ownership lost), it stops
 * writing and drops its cache, and the history it shared with the new owner stays intact.
 * Needs the machine's MariaDB (skips loudly outside CI when it is down, fails under CI=true).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, silentLogger, temporal, toNumber } from '@hourglass/common';
import { migrateMysql, mysqlAnswers, openMysqlPersistence, type Persistence } from '@hourglass/persistence';
import { createConnection } from 'mysql2/promise';
import { DEFAULT_HISTORY_CONFIG } from './config';
import { HistoryEngine } from './history-engine';
import { NamespaceRegistry } from './namespace-registry';
import { RecordingMatching } from './testing/engine-fixture';

const MYSQL_URL = 'mysql://root@127.0.0.1:3306';
const PREFIX = `hg_fence_${process.pid}`;
const CLUSTER = `${MYSQL_URL}/${PREFIX}_cluster`;
const SHARDS = [0, 1].map((i) => `${MYSQL_URL}/${PREFIX}_shard_${i}`);
const NUM_SHARDS = 2;


interface Host {
  engine: HistoryEngine;
  persistence: Persistence;
  namespaces: NamespaceRegistry;
}

async function startHost(name: string, clock: ManualClock): Promise<Host> {
  const persistence = await openMysqlPersistence({ clusterDsn: CLUSTER, shardDsns: SHARDS, numHistoryShards: NUM_SHARDS, clock });
  const namespaces = new NamespaceRegistry(persistence.namespaces, clock);
  const engine = new HistoryEngine({
    persistence,
    namespaces,
    matching: new RecordingMatching(),
    clock,
    config: { ...DEFAULT_HISTORY_CONFIG, numHistoryShards: NUM_SHARDS, hostIdentity: name },
    logger: silentLogger(),
  });
  await engine.start();
  return { engine, persistence, namespaces };
}

describe('shard ownership fencing between two history hosts (MySQL)', () => {
  let available = false;
  before(async () => {
    available = await mysqlAnswers();
    if (!available && process.env.CI === 'true') throw new Error('MySQL does not answer on 127.0.0.1:3306 and CI=true: the fencing test must run');
    if (!available) {
      console.warn('!!! MySQL does not answer on 127.0.0.1:3306: SKIPPING the history fencing test');
      return;
    }
    await migrateMysql({ clusterDsn: CLUSTER, shardDsns: SHARDS });
  });
  after(async () => {
    if (!available) return;
    const c = await createConnection(MYSQL_URL);
    for (const db of [`${PREFIX}_cluster`, ...SHARDS.map((_, i) => `${PREFIX}_shard_${i}`)]) await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await c.end();
  });

  it('only the newest owner writes; the old one fails, stops, and nothing is corrupted', async (t) => {
    if (!available) return t.skip('MySQL unavailable');
    const clock = new ManualClock();
    const a = await startHost('host-a', clock);
    const namespace = await a.namespaces.ensure({ accountId: 'test-account', name: 'fencing', retentionMs: 86_400_000 });
    const start = (host: Host, workflowId: string) =>
      host.engine.startWorkflowExecution({ namespaceId: namespace.id, request: { workflowId, workflowType: { name: 'W' }, taskQueue: { name: 'q' }, requestId: `req-${workflowId}` } });
    const first = await start(a, 'wf-fence');
    // Host B starts: it acquires every shard, fencing A out.
    const b = await startHost('host-b', clock);
    try {
      await assert.rejects(
        a.engine.terminateWorkflowExecution({ namespaceId: namespace.id, request: { workflowExecution: { workflowId: 'wf-fence' }, reason: 'stale host' } }),
        (err: Error & { code?: string }) => err.code === 'UNAVAILABLE' && /ownership moved/.test(err.message),
      );
      assert.equal(a.engine.shardFor(namespace.id, 'wf-fence').owned, false, 'the old owner stopped writing to the shard');
      await assert.rejects(start(a, 'wf-fence-2'), (err: Error & { code?: string }) => err.code === 'UNAVAILABLE');

      // The new owner writes; the history it shares with the old owner is intact and contiguous.
      await b.engine.terminateWorkflowExecution({ namespaceId: namespace.id, request: { workflowExecution: { workflowId: 'wf-fence' }, reason: 'by the owner' } });
      const history = await b.engine.getWorkflowExecutionHistory({ namespaceId: namespace.id, request: { execution: { workflowId: 'wf-fence', runId: first.runId as string } } }, { deadline: 0 });
      const events = history.history?.events ?? [];
      events.forEach((e, i) => assert.equal(toNumber(e.eventId), i + 1));
      assert.deepEqual(
        events.map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]),
        ['EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 'EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED'],
      );
      assert.equal(events[2]?.workflowExecutionTerminatedEventAttributes?.reason, 'by the owner', 'only the owner’s termination was written');
    } finally {
      await a.engine.stop();
      await b.engine.stop();
      await a.persistence.close();
      await b.persistence.close();
    }
  });
});
