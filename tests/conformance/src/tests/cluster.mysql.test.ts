// `hourglass start`: the roles of a cluster as processes of their own on a fresh MariaDB cluster
// (cluster database + 4 shard databases), probed with grpc.health.v1 and driven by the official SDK.
// Runs in the MySQL pass (HOURGLASS_TEST_STORE=mysql), where the machine's MariaDB is there.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  EventType,
  checkHealth,
  connect,
  eventsOfType,
  fetchEvents,
  startCluster,
  startWorker,
  testStore,
  uniqueName,
  withTimeout,
  type Cluster,
  type Connections,
} from '../harness';
import { ActivityRecorder, createActivities } from '../activities';
import { activityThenTimer } from '../workflows';

const skip = testStore() !== 'mysql' ? 'needs MariaDB: runs in the MySQL pass (HOURGLASS_TEST_STORE=mysql)' : false;

/** Starts `count` activity-timer-activity workflows through `conn` and checks each completes once with its result. */
async function runWorkflows(conn: Connections, taskQueue: string, count: number, timerMs: number): Promise<void> {
  const handles = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      conn.client.workflow.start(activityThenTimer, { taskQueue, workflowId: uniqueName(`cluster-${i}`), args: [`v${i}`, timerMs] }),
    ),
  );
  const results = await withTimeout(Promise.all(handles.map((h) => h.result())), 30_000, `${count} workflows on ${taskQueue}`);
  assert.deepEqual(results, Array.from({ length: count }, (_, i) => `A:v${i}|B:v${i}`));
  for (const handle of handles) {
    const events = await fetchEvents(handle);
    assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED).length, 1, `${handle.workflowId} completed once`);
    assert.equal(eventsOfType(events, EventType.EVENT_TYPE_TIMER_FIRED).length, 1, `${handle.workflowId} timer fired once`);
    assert.equal(eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length, 2, `${handle.workflowId} two activities completed`);
  }
}

describe('hourglass start: every role in one process', { skip }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ hosts: [{ name: 'all', services: ['frontend', 'history', 'matching', 'indexer'] }] });
  });
  after(async () => {
    await cluster?.dispose();
  });

  it('answers health per role, runs workflows with activities and timers, and leaves cleanly on SIGTERM', async () => {
    const host = cluster.host('all');
    for (const role of ['', 'frontend', 'history', 'matching', 'indexer']) assert.equal(await checkHealth(host.internalAddress, role), 'SERVING', `internal health of ${role || 'the process'}`);
    assert.equal(await checkHealth(host.publicAddress as string, 'temporal.api.workflowservice.v1.WorkflowService'), 'SERVING', 'public health of the frontend');
    const conn = await connect(host.publicAddress as string);
    const taskQueue = uniqueName('cluster-one');
    const worker = await startWorker({ connection: conn.nativeConnection, taskQueue, activities: createActivities(new ActivityRecorder()) });
    try {
      await runWorkflows(conn, taskQueue, 5, 200);
    } finally {
      await worker.shutdown();
      await conn.connection.close();
      await conn.nativeConnection.close();
    }
    const exit = await host.signal('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, host.output());
    await assert.rejects(checkHealth(host.internalAddress), 'nothing answers on the internal port after leaving');
  });
});
