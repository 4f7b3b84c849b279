// Task queues and workers as the official SDK and tools see them: DescribeTaskQueue (pollers with
// identity and last access time, backlog count and age, per type, in the legacy and the enhanced
// mode), ListTaskQueuePartitions, worker heartbeats (the official worker's, through ListWorkers and
// DescribeWorker), GetWorkflowExecutionHistoryReverse, GetClusterInfo and grpc.health.v1.
import assert from 'node:assert/strict';
import { credentials, makeClientConstructor, status, type ServiceDefinition } from '@grpc/grpc-js';
import { google, temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { service as healthService } from 'grpc-health-check';
import { conformanceFile, eventually, rejectionOf, uniqueName } from '../harness';
import { greetAndAdd } from '../workflows';

// Before the harness installs its own: heartbeats every second instead of every minute.
Runtime.install({ logger: new DefaultLogger('WARN'), workerHeartbeatInterval: '1s' });

const WORKER_IDENTITY = uniqueName('tq-worker');
const file = conformanceFile({ name: 'task-queues', workerOptions: { identity: WORKER_IDENTITY } });

const { TaskQueueType, DescribeTaskQueueMode } = temporal.api.enums.v1;
const ms = (d: google.protobuf.IDuration | null | undefined): number => Number(d?.seconds ?? 0) * 1000 + Math.floor((d?.nanos ?? 0) / 1e6);

file.test('DescribeTaskQueue shows the worker polling each type, with its identity and a recent last access time', async (_t, env) => {
  const ws = env.connection.workflowService;
  for (const taskQueueType of [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]) {
    const pollers = await eventually(async () => {
      const r = await ws.describeTaskQueue({ namespace: 'default', taskQueue: { name: env.taskQueue }, taskQueueType });
      return (r.pollers ?? []).length > 0 ? r.pollers : undefined;
    });
    const ours = pollers?.find((p) => p.identity === WORKER_IDENTITY);
    assert.ok(ours, `type ${taskQueueType}: pollers ${JSON.stringify(pollers?.map((p) => p.identity))} include ${WORKER_IDENTITY}`);
    const at = Number(ours.lastAccessTime?.seconds ?? 0) * 1000;
    assert.ok(Math.abs(Date.now() - at) < 120_000, `last access ${new Date(at).toISOString()} is recent`);
  }
  const other = await ws.describeTaskQueue({ namespace: 'default', taskQueue: { name: uniqueName('nobody-polls') } });
  assert.deepEqual(other.pollers ?? [], [], 'a queue nobody polls has no pollers');
  const partitions = await ws.listTaskQueuePartitions({ namespace: 'default', taskQueue: { name: env.taskQueue } });
  // matching.numTaskQueuePartitions (4 by default): the root is named as the queue, the others as Temporal names them.
  const names = [env.taskQueue, `/_sys/${env.taskQueue}/1`, `/_sys/${env.taskQueue}/2`, `/_sys/${env.taskQueue}/3`];
  assert.deepEqual(partitions.workflowTaskQueuePartitions?.map((p) => p.key), names);
  assert.deepEqual(partitions.activityTaskQueuePartitions?.map((p) => p.key), names);
});

file.test('DescribeTaskQueue shows the backlog of a queue without workers: count and age, legacy and enhanced', async (_t, env) => {
  const ws = env.connection.workflowService;
  const queue = uniqueName('backlog');
  for (let i = 0; i < 3; i++) await env.client.workflow.start(greetAndAdd, { taskQueue: queue, workflowId: uniqueName('waiting'), args: ['x', 1, 1] });
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const legacy = await ws.describeTaskQueue({ namespace: 'default', taskQueue: { name: queue }, includeTaskQueueStatus: true, reportStats: true });
  assert.equal(Number(legacy.taskQueueStatus?.backlogCountHint), 3);
  assert.equal(Number(legacy.stats?.approximateBacklogCount), 3);
  assert.ok(ms(legacy.stats?.approximateBacklogAge) >= 1_000, `backlog age ${ms(legacy.stats?.approximateBacklogAge)} ms`);
  assert.deepEqual(legacy.pollers ?? [], []);

  const enhanced = await ws.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: queue },
    apiMode: DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED,
    taskQueueTypes: [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
    reportStats: true,
    reportPollers: true,
  });
  const types = enhanced.versionsInfo?.['']?.typesInfo ?? {};
  assert.equal(Number(types[TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW]?.stats?.approximateBacklogCount), 3);
  assert.equal(Number(types[TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]?.stats?.approximateBacklogCount ?? 0), 0);

  // A worker drains it: the backlog goes to zero and the worker shows among the pollers.
  const identity = uniqueName('drainer');
  const worker = await env.startExtraWorker({ taskQueue: queue, identity });
  try {
    await eventually(async () => {
      const r = await ws.describeTaskQueue({ namespace: 'default', taskQueue: { name: queue }, apiMode: DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED, reportStats: true, reportPollers: true });
      const wf = r.versionsInfo?.['']?.typesInfo?.[TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW];
      return Number(wf?.stats?.approximateBacklogCount ?? 0) === 0 && (wf?.pollers ?? []).some((p) => p.identity === identity);
    });
  } finally {
    await worker.shutdown();
  }

  const nexus = await rejectionOf(ws.describeTaskQueue({ namespace: 'default', taskQueue: { name: queue }, taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_NEXUS }), 'a Nexus type');
  assert.equal((nexus as { code?: number }).code, status.INVALID_ARGUMENT);
  const noName = await rejectionOf(ws.describeTaskQueue({ namespace: 'default', taskQueue: {} }), 'no task queue');
  assert.equal((noName as { code?: number }).code, status.INVALID_ARGUMENT);
});

file.test("the official worker's heartbeats: ListWorkers and DescribeWorker show it", async (_t, env) => {
  const ws = env.connection.workflowService;
  const ours = await eventually(async () => {
    const r = await ws.listWorkers({ namespace: 'default' });
    return r.workersInfo?.find((w) => w.workerHeartbeat?.taskQueue === env.taskQueue && w.workerHeartbeat?.workerIdentity === WORKER_IDENTITY);
  }, { timeoutMs: 20_000 });
  const key = ours?.workerHeartbeat?.workerInstanceKey ?? '';
  assert.ok(key, 'the heartbeat names its worker instance');
  assert.match(ours?.workerHeartbeat?.sdkName ?? '', /temporal/);
  assert.ok(Number((await ws.countWorkers({ namespace: 'default' })).count) >= 1, 'CountWorkers counts it');
  const described = await ws.describeWorker({ namespace: 'default', workerInstanceKey: key });
  assert.equal(described.workerInfo?.workerHeartbeat?.workerIdentity, WORKER_IDENTITY);
  const missing = await rejectionOf(ws.describeWorker({ namespace: 'default', workerInstanceKey: 'no-such-worker' }), 'an unknown worker');
  assert.equal((missing as { code?: number }).code, status.NOT_FOUND);

  // Temporal's worker query language: by task queue, identity, status and heartbeat time.
  const since = new Date(Date.now() - 10 * 60_000).toISOString();
  const query = `TaskQueue = '${env.taskQueue}' AND WorkerIdentity = '${WORKER_IDENTITY}' AND WorkerStatus = 'Running' AND HeartbeatTime > '${since}'`;
  const filtered = await ws.listWorkers({ namespace: 'default', query });
  assert.deepEqual(filtered.workersInfo?.map((w) => w.workerHeartbeat?.workerInstanceKey), [key]);
  assert.equal(Number((await ws.countWorkers({ namespace: 'default', query })).count), 1);
  const none = await ws.listWorkers({ namespace: 'default', query: "TaskQueue = 'no-such-queue' OR SdkName STARTS_WITH 'cobol'" });
  assert.equal(none.workersInfo?.length ?? 0, 0);
  assert.equal(Number((await ws.countWorkers({ namespace: 'default', query: "TaskQueue IN ('no-such-queue')" })).count), 0);
  const bad = await rejectionOf(ws.listWorkers({ namespace: 'default', query: "TaskQueue > 'x'" }), 'an operator strings do not have');
  assert.equal((bad as { code?: number }).code, status.INVALID_ARGUMENT);
  assert.match((bad as Error).message, /TaskQueue compares with =, !=, IN and STARTS_WITH/);
});

file.test('GetWorkflowExecutionHistoryReverse pages the history newest first', async (_t, env) => {
  const workflowId = uniqueName('reverse');
  await env.client.workflow.execute(greetAndAdd, { taskQueue: env.taskQueue, workflowId, args: ['r', 2, 3] });
  const forward = ((await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).map((e) => Number(e.eventId));
  const reversed: number[] = [];
  let nextPageToken: Uint8Array | undefined;
  let pages = 0;
  do {
    const page = await env.connection.workflowService.getWorkflowExecutionHistoryReverse({ namespace: 'default', execution: { workflowId }, maximumPageSize: 4, ...(nextPageToken ? { nextPageToken } : {}) });
    reversed.push(...(page.history?.events ?? []).map((e) => Number(e.eventId)));
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    pages += 1;
  } while (nextPageToken && pages < 100);
  assert.deepEqual(reversed, [...forward].reverse());
  assert.equal(pages, Math.ceil(forward.length / 4));
});

file.test('GetClusterInfo describes the deployment; grpc.health.v1 answers SERVING', async (_t, env) => {
  const info = await env.connection.workflowService.getClusterInfo({});
  assert.ok(info.serverVersion);
  assert.ok((info.historyShardCount ?? 0) > 0);
  assert.match(info.clusterId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.ok(['sqlite', 'mysql'].includes(info.persistenceStore ?? ''), `persistence store ${info.persistenceStore}`);
  assert.equal((await env.connection.workflowService.getClusterInfo({})).clusterId, info.clusterId, 'the cluster id is stable');

  const HealthClient = makeClientConstructor(healthService as unknown as ServiceDefinition, 'Health');
  const health = new HealthClient(env.server.address, credentials.createInsecure()) as unknown as {
    check(req: { service: string }, cb: (err: Error | null, res: { status: string }) => void): void;
    close(): void;
  };
  const check = (service: string) => new Promise<{ status: string }>((resolve, reject) => health.check({ service }, (err, res) => (err ? reject(err) : resolve(res))));
  try {
    assert.equal((await check('')).status, 'SERVING');
    assert.equal((await check('temporal.api.workflowservice.v1.WorkflowService')).status, 'SERVING');
    const unknown = await rejectionOf(check('no.such.Service'), 'an unknown service');
    assert.equal((unknown as { code?: number }).code, status.NOT_FOUND);
  } finally {
    health.close();
  }
});
