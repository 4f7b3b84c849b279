/**
 * Shard ownership between two history hosts on the same MySQL databases: the host that acquired a
 * shard last is its owner; the other one's writes fail (UNAVAILABLE, ownership lost), it stops
 * writing and drops its cache, and the history it shared with the new owner stays intact.
 * Needs the machine's MariaDB (skips loudly outside CI when it is down, fails under CI=true).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, temporal, toNumber } from '@hourglass/common';
import type { Persistence } from '@hourglass/persistence';
import type { HistoryEngine } from './history-engine';
import type { NamespaceRegistry } from './namespace-registry';
import { usageFolded } from './testing/engine-fixture';
import { mysqlHistoryDatabases } from './testing/mysql-hosts';

const NUM_SHARDS = 2;

interface Host {
  engine: HistoryEngine;
  persistence: Persistence;
  namespaces: NamespaceRegistry;
}

// The file's databases: created before its tests, dropped after them.
const mysql = mysqlHistoryDatabases({ prefix: `hg_fence_${process.pid}`, numHistoryShards: NUM_SHARDS, what: 'history fencing test' });

async function startHost(name: string, clock: ManualClock): Promise<Host> {
  const persistence = await mysql.openStore(clock);
  const { engine, namespaces } = mysql.newEngine(persistence, { clock, hostIdentity: name });
  await engine.start();
  return { engine, persistence, namespaces };
}

describe('shard ownership fencing between two history hosts (MySQL)', () => {
  it('only the newest owner writes; the old one fails, stops, and nothing is corrupted', async (t) => {
    if (!mysql.available()) return t.skip('MySQL unavailable');
    const clock = new ManualClock();
    const a = await startHost('host-a', clock);
    const namespace = await a.namespaces.ensure({ accountId: 'test-account', name: 'fencing', retentionMs: 86_400_000 });
    const start = (host: Host, workflowId: string) =>
      host.engine.startWorkflowExecution({ namespaceId: namespace.id, request: { workflowId, workflowType: { name: 'W' }, taskQueue: { name: 'q' }, requestId: `req-${workflowId}` } });
    const first = await start(a, 'wf-fence');
    // The start's background writes (its usage fold waits up to 100 ms for company) are done before
    // B takes over, so A's next write after the takeover is the termination below, at the fence.
    await usageFolded(a.persistence.executions, Array.from({ length: NUM_SHARDS }, (_, shardId) => shardId));
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
