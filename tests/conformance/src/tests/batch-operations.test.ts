// Batch operations with the official client's raw WorkflowService calls
// (client.workflowService.startBatchOperation etc.): 500 running workflows terminated by a query
// through a SIGKILL of the server and a restart, each exactly once with the job's counts exact;
// signal, cancel and delete batches over a list of executions; StopBatchOperation halting a job;
// one job per namespace at a time; ListBatchOperations; bad input refused with INVALID_ARGUMENT
// and nothing started.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Connection, isGrpcServiceError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { execFile } from 'node:child_process';
import { EventType, NAMESPACE, conformanceFile, heavyFile, connectClient, eventually, rejectionOf, serverBinPath, uniqueName, type HistoryEvent } from '../harness';

const OTHER_NAMESPACE = 'batch-other';
const DEPRECATED_NAMESPACE = 'batch-deprecated';
/** The other namespace runs batch jobs at 10 executions/s at most (a namespace-scoped setting). */
const OTHER_NAMESPACE_RATE = 10;
heavyFile('batch-operations');
const file = conformanceFile({
  name: 'batch',
  worker: false,
  server: { extraArgs: ['-n', OTHER_NAMESPACE, '-n', DEPRECATED_NAMESPACE], settings: { 'batch.maxOperationsPerSecond': [{ value: OTHER_NAMESPACE_RATE, constraints: { namespace: OTHER_NAMESPACE } }] } },
});

const State = temporal.api.enums.v1.BatchOperationState;
const OpType = temporal.api.enums.v1.BatchOperationType;
type Describe = temporal.api.workflowservice.v1.DescribeBatchOperationResponse;

/** A task queue nobody polls: the targets only need to be running. */
const IDLE_QUEUE = uniqueName('batch-idle');

async function startRaw(client: Client, workflowType: string, count: number, prefix: string, taskQueue = IDLE_QUEUE): Promise<{ workflowId: string; runId: string }[]> {
  const started: { workflowId: string; runId: string }[] = [];
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let i = 0; i < ids.length; i += 25) {
    const chunk = await Promise.all(
      ids.slice(i, i + 25).map(async (workflowId) => {
        const res = await client.workflowService.startWorkflowExecution({
          namespace: NAMESPACE,
          workflowId,
          workflowType: { name: workflowType },
          taskQueue: { name: taskQueue },
          requestId: randomUUID(),
        });
        return { workflowId, runId: res.runId };
      }),
    );
    started.push(...chunk);
  }
  return started;
}

async function historyOf(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({ namespace: NAMESPACE, execution: { workflowId }, ...(nextPageToken ? { nextPageToken } : {}) });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

const countOf = (events: HistoryEvent[], type: EventType): number => events.filter((e) => e.eventType === type).length;

function describeJob(client: Client, jobId: string): Promise<Describe> {
  return client.workflowService.describeBatchOperation({ namespace: NAMESPACE, jobId });
}

async function waitForState(client: Client, jobId: string, state: number, timeoutMs = 30_000): Promise<Describe> {
  return eventually(async () => {
    const d = await describeJob(client, jobId);
    return d.state === state ? d : undefined;
  }, { timeoutMs, intervalMs: 200, description: `batch ${jobId} in state ${State[state]}` });
}

/** Jobs the namespace lists, by id. */
async function listedJobs(client: Client): Promise<Map<string, temporal.api.batch.v1.IBatchOperationInfo>> {
  const res = await client.workflowService.listBatchOperations({ namespace: NAMESPACE, pageSize: 100 });
  return new Map(res.operationInfo.map((o) => [o.jobId ?? '', o]));
}

async function expectGrpcError(call: Promise<unknown>, code: status, pattern: RegExp): Promise<void> {
  const err = await rejectionOf(call, 'the request');
  const grpc = isGrpcServiceError(err) ? err : (err as { cause?: unknown }).cause;
  assert.ok(isGrpcServiceError(grpc), `expected a gRPC error, got ${String(err)}`);
  assert.equal(grpc.code, code, `expected ${status[code]}, got ${status[grpc.code]}: ${grpc.details}`);
  assert.match(grpc.details, pattern);
}

/** Job starts wait until no job of the namespace is listed as running (the one-job limit reads visibility). */
async function untilNoJobRuns(client: Client): Promise<void> {
  await eventually(async () => [...(await listedJobs(client)).values()].every((j) => j.state !== State.BATCH_OPERATION_STATE_RUNNING), {
    timeoutMs: 10_000,
    description: 'no batch job listed as running',
  });
}

const num = (v: unknown): number => Number(v?.toString() ?? 0);

file.test(
  'terminate 500 running workflows by a query through a SIGKILL and restart: each terminated exactly once, counts exact',
  async (t, env) => {
    const type = uniqueName('batchTarget');
    const targets = await startRaw(env.client, type, 500, uniqueName('bt'));
    const query = `WorkflowType = '${type}' AND ExecutionStatus = 'Running'`;
    await eventually(async () => num((await env.client.workflowService.countWorkflowExecutions({ namespace: NAMESPACE, query })).count) === 500, {
      timeoutMs: 30_000,
      description: 'the 500 targets indexed',
    });
    const jobId = uniqueName('job-terminate');
    await env.client.workflowService.startBatchOperation({
      namespace: NAMESPACE,
      jobId,
      visibilityQuery: query,
      reason: 'conformance: terminate by query',
      maxOperationsPerSecond: 50,
      terminationOperation: { identity: 'sre@example.com' },
    });
    const running = await describeJob(env.client, jobId);
    assert.equal(running.state, State.BATCH_OPERATION_STATE_RUNNING);
    assert.equal(running.operationType, OpType.BATCH_OPERATION_TYPE_TERMINATE_WORKFLOW);
    assert.equal(running.reason, 'conformance: terminate by query');
    assert.equal(running.identity, 'sre@example.com');
    assert.equal(running.query, query);
    assert.equal(num(running.totalOperationCount), 500, 'the total is estimated from the query at start');

    // Kill the server in the middle of the job: some steps done, many to go (50/s: ~10 s in all).
    const before = await eventually(async () => {
      const d = await describeJob(env.client, jobId);
      return num(d.completeOperationCount) >= 100 ? d : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100, description: 'the job past 100 executions' });
    assert.ok(num(before.completeOperationCount) < 500, `the job is still in the middle (${num(before.completeOperationCount)} done)`);
    const killed = await env.server.kill();
    assert.equal(killed.signal, 'SIGKILL');
    t.diagnostic(`killed with ${num(before.completeOperationCount)} of 500 counted`);
    await env.server.restart();

    const done = await waitForState(env.client, jobId, State.BATCH_OPERATION_STATE_COMPLETED, 60_000);
    assert.equal(num(done.totalOperationCount), 500);
    assert.equal(num(done.completeOperationCount), 500, 'every execution counted once');
    assert.equal(num(done.failureOperationCount), 0);
    assert.ok(done.closeTime, 'a completed job has a close time');

    for (let i = 0; i < targets.length; i += 25) {
      await Promise.all(
        targets.slice(i, i + 25).map(async ({ workflowId }) => {
          const events = await historyOf(env.client, workflowId);
          assert.equal(countOf(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED), 1, `${workflowId}: exactly one WorkflowExecutionTerminated`);
          const terminated = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
          assert.equal(terminated?.workflowExecutionTerminatedEventAttributes?.reason, 'conformance: terminate by query');
          assert.equal(terminated?.workflowExecutionTerminatedEventAttributes?.identity, 'sre@example.com');
        }),
      );
    }
    const listed = await eventually(async () => {
      const jobs = await listedJobs(env.client);
      const job = jobs.get(jobId);
      return job?.state === State.BATCH_OPERATION_STATE_COMPLETED ? job : undefined;
    }, { timeoutMs: 10_000, description: 'the job listed as completed' });
    assert.equal(listed.operationType, OpType.BATCH_OPERATION_TYPE_TERMINATE_WORKFLOW);
    // The job run is the namespace's business only through the batch API: ordinary lists do not show it.
    const plain = await env.client.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, query: `WorkflowId = '${jobId}'` });
    assert.equal(plain.executions.length, 0, 'the job run is hidden from ListWorkflowExecutions');
  },
  { timeoutMs: 180_000 },
);

file.test('a query the job itself stops matching, over several pages, affects and counts each target once', async (_t, env) => {
  const type = uniqueName('batchPages');
  const targets = await startRaw(env.client, type, 30, uniqueName('bp'));
  // No status filter: terminated targets still match, and by visibility's default order (open runs first) would come round again.
  const query = `WorkflowType = '${type}'`;
  await eventually(async () => num((await env.client.workflowService.countWorkflowExecutions({ namespace: NAMESPACE, query })).count) === 30, { description: 'the 30 targets indexed' });
  await untilNoJobRuns(env.client);
  const jobId = uniqueName('job-pages');
  await env.client.workflowService.startBatchOperation({ namespace: NAMESPACE, jobId, visibilityQuery: query, reason: 'pages', maxOperationsPerSecond: 10, terminationOperation: {} });
  const done = await waitForState(env.client, jobId, State.BATCH_OPERATION_STATE_COMPLETED);
  assert.equal(num(done.completeOperationCount), 30, 'three pages of ten, each target once');
  assert.equal(num(done.totalOperationCount), 30);
  // At 10/s the job's three steps are a second apart.
  const tookMs = Number(done.closeTime?.seconds ?? 0) * 1000 + (done.closeTime?.nanos ?? 0) / 1e6 - (Number(done.startTime?.seconds ?? 0) * 1000 + (done.startTime?.nanos ?? 0) / 1e6);
  assert.ok(tookMs >= 1900, `30 executions at 10/s took ${tookMs} ms`);
  for (const { workflowId } of targets) {
    assert.equal(countOf(await historyOf(env.client, workflowId), EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED), 1, `${workflowId}: terminated once`);
  }
});

file.test('signal, cancel and delete batches over a list of executions, each affecting each execution once', async (_t, env) => {
  const type = uniqueName('batchList');
  const targets = await startRaw(env.client, type, 6, uniqueName('bl'));
  const executions = targets.map(({ workflowId }) => ({ workflowId }));

  await untilNoJobRuns(env.client);
  const signalJob = uniqueName('job-signal');
  await env.client.workflowService.startBatchOperation({
    namespace: NAMESPACE,
    jobId: signalJob,
    executions,
    reason: 'conformance: signal',
    signalOperation: { signal: 'wake', input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"up"') }] } },
  });
  const signaled = await waitForState(env.client, signalJob, State.BATCH_OPERATION_STATE_COMPLETED);
  assert.equal(signaled.operationType, OpType.BATCH_OPERATION_TYPE_SIGNAL_WORKFLOW);
  assert.equal(num(signaled.completeOperationCount), 6);
  assert.deepEqual(signaled.executions.map((e) => e.businessId), targets.map((x) => x.workflowId), 'Describe names the listed executions');
  for (const { workflowId } of targets) {
    const events = await historyOf(env.client, workflowId);
    const signals = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    assert.equal(signals.length, 1, `${workflowId}: one signal`);
    assert.equal(signals[0]?.workflowExecutionSignaledEventAttributes?.signalName, 'wake');
    assert.equal(signals[0]?.workflowExecutionSignaledEventAttributes?.identity, 'batcher', 'the batcher is the signal sender when the operation names no identity');
  }

  await untilNoJobRuns(env.client);
  const cancelJob = uniqueName('job-cancel');
  await env.client.workflowService.startBatchOperation({ namespace: NAMESPACE, jobId: cancelJob, executions, reason: 'conformance: cancel', cancellationOperation: { identity: 'sre' } });
  const canceled = await waitForState(env.client, cancelJob, State.BATCH_OPERATION_STATE_COMPLETED);
  assert.equal(canceled.operationType, OpType.BATCH_OPERATION_TYPE_CANCEL_WORKFLOW);
  assert.equal(num(canceled.completeOperationCount), 6);
  for (const { workflowId } of targets) {
    const events = await historyOf(env.client, workflowId);
    assert.equal(countOf(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED), 1, `${workflowId}: one cancel request`);
  }

  await untilNoJobRuns(env.client);
  const deleteJob = uniqueName('job-delete');
  await env.client.workflowService.startBatchOperation({ namespace: NAMESPACE, jobId: deleteJob, executions: executions.slice(0, 3), reason: 'conformance: delete', deletionOperation: {} });
  await waitForState(env.client, deleteJob, State.BATCH_OPERATION_STATE_COMPLETED);
  for (const { workflowId } of targets.slice(0, 3)) {
    await eventually(async () => {
      const err = await env.client.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId } }).then(() => undefined, (e: unknown) => e);
      return isGrpcServiceError(err) && err.code === status.NOT_FOUND;
    }, { timeoutMs: 10_000, description: `${workflowId} deleted` });
  }
  for (const { workflowId } of targets.slice(3)) {
    const d = await env.client.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId } });
    assert.equal(d.workflowExecutionInfo?.status, temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, `${workflowId}: not in the delete list, still running`);
  }
});

file.test('StopBatchOperation halts a job; a second job at once is refused; List shows them', async (_t, env) => {
  const type = uniqueName('batchStop');
  const targets = await startRaw(env.client, type, 30, uniqueName('bs'));
  await untilNoJobRuns(env.client);
  const jobId = uniqueName('job-slow');
  await env.client.workflowService.startBatchOperation({
    namespace: NAMESPACE,
    jobId,
    executions: targets.map(({ workflowId }) => ({ workflowId })),
    reason: 'conformance: slow terminate',
    maxOperationsPerSecond: 2,
    terminationOperation: {},
  });
  await eventually(async () => (await listedJobs(env.client)).get(jobId)?.state === State.BATCH_OPERATION_STATE_RUNNING, { timeoutMs: 10_000, description: 'the job listed as running' });
  // The official client retries RESOURCE_EXHAUSTED by default: ask once, on a connection without its retry interceptor.
  const once = await Connection.connect({ address: env.server.address, interceptors: [] });
  await expectGrpcError(
    once.workflowService.startBatchOperation({ namespace: NAMESPACE, jobId: uniqueName('job-second'), executions: [{ workflowId: targets[0]!.workflowId }], reason: 'second', cancellationOperation: {} }),
    status.RESOURCE_EXHAUSTED,
    /already runs 1 batch operation.*batch\.maxConcurrent/,
  );
  await once.close();
  await eventually(async () => num((await describeJob(env.client, jobId)).completeOperationCount) >= 2, { timeoutMs: 10_000, description: 'the slow job under way' });
  await expectGrpcError(env.client.workflowService.stopBatchOperation({ namespace: NAMESPACE, jobId }), status.INVALID_ARGUMENT, /reason is not set/);
  await env.client.workflowService.stopBatchOperation({ namespace: NAMESPACE, jobId, reason: 'conformance: enough', identity: 'sre' });
  const stopped = await describeJob(env.client, jobId);
  assert.equal(stopped.state, State.BATCH_OPERATION_STATE_FAILED, 'a stopped job is FAILED, as in Temporal');
  const doneAtStop = num(stopped.completeOperationCount);
  assert.ok(doneAtStop < 30, `the job stopped early (${doneAtStop} done)`);
  // Past two more steps of the job's pace: nothing more happens.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(num((await describeJob(env.client, jobId)).completeOperationCount), doneAtStop, 'no step after the stop');
  let terminated = 0;
  for (const { workflowId } of targets) {
    const events = await historyOf(env.client, workflowId);
    terminated += countOf(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
  }
  assert.equal(terminated, doneAtStop, 'exactly the counted executions were terminated');
  await expectGrpcError(env.client.workflowService.stopBatchOperation({ namespace: NAMESPACE, jobId, reason: 'again' }), status.NOT_FOUND, /already finished/);

  // The slot is free again once the stopped job is no longer listed as running.
  await eventually(async () => (await listedJobs(env.client)).get(jobId)?.state === State.BATCH_OPERATION_STATE_FAILED, { timeoutMs: 10_000, description: 'the stopped job listed as failed' });
  const next = uniqueName('job-after-stop');
  await env.client.workflowService.startBatchOperation({ namespace: NAMESPACE, jobId: next, executions: [{ workflowId: targets[29]!.workflowId }], reason: 'after stop', terminationOperation: {} });
  await waitForState(env.client, next, State.BATCH_OPERATION_STATE_COMPLETED);
  await untilNoJobRuns(env.client);
  const jobs = await listedJobs(env.client);
  assert.ok(jobs.has(jobId) && jobs.has(next), 'ListBatchOperations shows both jobs');
  await expectGrpcError(
    env.client.workflowService.startBatchOperation({ namespace: NAMESPACE, jobId: next, executions: [{ workflowId: targets[0]!.workflowId }], reason: 'reuse', terminationOperation: {} }),
    status.ALREADY_EXISTS,
    /already exists/,
  );
});

file.test('a reset batch resets each listed workflow once, to its first workflow task', async (_t, env) => {
  const queue = uniqueName('batch-reset');
  const targets = await startRaw(env.client, uniqueName('batchReset'), 3, uniqueName('br'), queue);
  // Complete each run's first workflow task by hand (no commands): a reset point to go back to.
  for (let i = 0; i < targets.length; i++) {
    const task = await env.client.workflowService.pollWorkflowTaskQueue({ namespace: NAMESPACE, taskQueue: { name: queue }, identity: 'hand' });
    assert.ok(task.taskToken && task.taskToken.length > 0, 'a workflow task');
    await env.client.workflowService.respondWorkflowTaskCompleted({ namespace: NAMESPACE, taskToken: task.taskToken, commands: [], identity: 'hand' });
  }
  await untilNoJobRuns(env.client);
  const jobId = uniqueName('job-reset');
  await env.client.workflowService.startBatchOperation({
    namespace: NAMESPACE,
    jobId,
    executions: targets.map(({ workflowId }) => ({ workflowId })),
    reason: 'conformance: reset',
    resetOperation: { options: { firstWorkflowTask: {} }, identity: 'sre' },
  });
  const done = await waitForState(env.client, jobId, State.BATCH_OPERATION_STATE_COMPLETED);
  assert.equal(done.operationType, OpType.BATCH_OPERATION_TYPE_RESET_WORKFLOW);
  assert.equal(num(done.completeOperationCount), 3);
  assert.equal(num(done.failureOperationCount), 0);
  for (const { workflowId, runId } of targets) {
    const d = await env.client.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId } });
    assert.notEqual(d.workflowExecutionInfo?.execution?.runId, runId, `${workflowId}: a new run`);
    const events = await historyOf(env.client, workflowId);
    const failed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    assert.equal(failed.length, 1, `${workflowId}: one reset point`);
    assert.equal(failed[0]?.workflowTaskFailedEventAttributes?.cause, temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW);
    // The original run (terminated by the reset) and exactly one new run.
    const runs = await eventually(async () => {
      const listed = await env.client.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, query: `WorkflowId = '${workflowId}'` });
      return listed.executions.length >= 2 ? listed.executions : undefined;
    }, { timeoutMs: 10_000, description: `${workflowId}: both runs listed` });
    assert.equal(runs.length, 2, `${workflowId}: reset once`);
  }
});

file.test("a job touches only its own namespace's executions, by query or by list", async (_t, env) => {
  const other = await connectClient(env.server.address, OTHER_NAMESPACE);
  try {
    const workflowId = uniqueName('shared-id');
    const type = uniqueName('batchOther');
    const res = await other.client.workflowService.startWorkflowExecution({ namespace: OTHER_NAMESPACE, workflowId, workflowType: { name: type }, taskQueue: { name: IDLE_QUEUE }, requestId: randomUUID() });
    await eventually(async () => num((await other.client.workflowService.countWorkflowExecutions({ namespace: OTHER_NAMESPACE, query: `WorkflowType = '${type}'` })).count) === 1, { description: 'indexed in the other namespace' });
    await untilNoJobRuns(env.client);
    const byQuery = uniqueName('job-ns-query');
    await env.client.workflowService.startBatchOperation({ namespace: NAMESPACE, jobId: byQuery, visibilityQuery: `WorkflowType = '${type}'`, reason: 'isolation', terminationOperation: {} });
    const q = await waitForState(env.client, byQuery, State.BATCH_OPERATION_STATE_COMPLETED);
    assert.equal(num(q.completeOperationCount) + num(q.failureOperationCount), 0, "the query matches nothing in this namespace");
    await untilNoJobRuns(env.client);
    const byList = uniqueName('job-ns-list');
    await env.client.workflowService.startBatchOperation({ namespace: NAMESPACE, jobId: byList, executions: [{ workflowId, runId: res.runId }], reason: 'isolation', terminationOperation: {} });
    await waitForState(env.client, byList, State.BATCH_OPERATION_STATE_COMPLETED);
    const d = await other.client.workflowService.describeWorkflowExecution({ namespace: OTHER_NAMESPACE, execution: { workflowId } });
    assert.equal(d.workflowExecutionInfo?.status, temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, 'the other namespace\'s workflow still runs');
    const otherJobs = await other.client.workflowService.listBatchOperations({ namespace: OTHER_NAMESPACE });
    assert.equal(otherJobs.operationInfo.length, 0, 'the other namespace lists no job');
    await expectGrpcError(other.client.workflowService.describeBatchOperation({ namespace: OTHER_NAMESPACE, jobId: byList }), status.NOT_FOUND, /batch operation not found/);

    // The other namespace's setting caps a job's rate whatever it asks for: 30 executions at 10/s.
    const more = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const id = `${workflowId}-${i}`;
        await other.client.workflowService.startWorkflowExecution({ namespace: OTHER_NAMESPACE, workflowId: id, workflowType: { name: type }, taskQueue: { name: IDLE_QUEUE }, requestId: randomUUID() });
        return { workflowId: id };
      }),
    );
    const capped = uniqueName('job-capped');
    await other.client.workflowService.startBatchOperation({ namespace: OTHER_NAMESPACE, jobId: capped, executions: more, reason: 'capped', maxOperationsPerSecond: 1000, terminationOperation: {} });
    const cappedDone = await eventually(async () => {
      const d = await other.client.workflowService.describeBatchOperation({ namespace: OTHER_NAMESPACE, jobId: capped });
      return d.state === State.BATCH_OPERATION_STATE_COMPLETED ? d : undefined;
    }, { timeoutMs: 20_000, description: 'the capped job done' });
    assert.equal(num(cappedDone.completeOperationCount), 30);
    const ms = (ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number => Number(ts?.seconds ?? 0) * 1000 + (ts?.nanos ?? 0) / 1e6;
    const cappedMs = ms(cappedDone.closeTime) - ms(cappedDone.startTime);
    assert.ok(cappedMs >= 1900, `30 executions at ${OTHER_NAMESPACE_RATE}/s (asked 1000/s) took ${cappedMs} ms`);

    // A query for running batch jobs matches the job itself: a job never acts on its own run.
    await untilNoJobRuns(env.client);
    const self = uniqueName('job-self');
    await env.client.workflowService.startBatchOperation({ namespace: NAMESPACE, jobId: self, visibilityQuery: "TemporalNamespaceDivision = 'TemporalBatcher' AND ExecutionStatus = 'Running'", reason: 'self', terminationOperation: {} });
    const selfDone = await waitForState(env.client, self, State.BATCH_OPERATION_STATE_COMPLETED);
    assert.equal(num(selfDone.completeOperationCount), 0, 'the job skipped its own run');
  } finally {
    await other.connection.close();
  }
});

/** Runs `hourglass batch <args>` against this file's server (no TEMPORAL_* variables of the test's). */
function hourglassBatch(address: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_') && !k.startsWith('HOURGLASS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [serverBinPath(), 'batch', ...args, '--address', address], { env: clean, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

file.test('hourglass batch start, describe, list and stop', async (_t, env) => {
  const type = uniqueName('batchCli');
  const targets = await startRaw(env.client, type, 4, uniqueName('bc'));
  const query = `WorkflowType = '${type}'`;
  await eventually(async () => num((await env.client.workflowService.countWorkflowExecutions({ namespace: NAMESPACE, query })).count) === 4, { description: 'indexed' });
  await untilNoJobRuns(env.client);
  const address = env.server.address;
  const jobId = uniqueName('job-cli');
  const started = await hourglassBatch(address, ['start', '--operation', 'signal', '--signal-name', 'poke', '-i', '{"n":1}', '-q', query, '--reason', 'cli', '-j', jobId, '-o', 'json']);
  assert.equal(started.code, 0, started.stderr);
  assert.equal(JSON.parse(started.stdout).jobId, jobId);
  await waitForState(env.client, jobId, State.BATCH_OPERATION_STATE_COMPLETED);
  const described = await hourglassBatch(address, ['describe', '-j', jobId]);
  assert.equal(described.code, 0, described.stderr);
  assert.match(described.stdout, /^state +COMPLETED$/m);
  assert.match(described.stdout, /^type +SIGNAL_WORKFLOW$/m);
  assert.match(described.stdout, /^completed +4$/m);
  for (const { workflowId } of targets) {
    const signals = (await historyOf(env.client, workflowId)).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    assert.equal(signals.length, 1, `${workflowId}: one signal`);
    assert.equal(signals[0]?.workflowExecutionSignaledEventAttributes?.signalName, 'poke');
  }
  await untilNoJobRuns(env.client);
  const listed = await hourglassBatch(address, ['list', '-o', 'json']);
  assert.equal(listed.code, 0, listed.stderr);
  const jobs = JSON.parse(listed.stdout).jobs as { jobId: string; state: string }[];
  assert.equal(jobs.find((j) => j.jobId === jobId)?.state, 'COMPLETED');

  const slow = uniqueName('job-cli-slow');
  const slowStart = await hourglassBatch(address, ['start', '--operation', 'terminate', ...targets.flatMap((t) => ['-w', t.workflowId]), '--rps', '1', '--reason', 'cli slow', '-j', slow]);
  assert.equal(slowStart.code, 0, slowStart.stderr);
  const stopped = await hourglassBatch(address, ['terminate', '-j', slow, '--reason', 'enough']);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /stopped batch job/);
  assert.equal((await describeJob(env.client, slow)).state, State.BATCH_OPERATION_STATE_FAILED);

  const usage = await hourglassBatch(address, ['start', '--operation', 'terminate', '--reason', 'x']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /exactly one of --query and -w/);
  const refused = await hourglassBatch(address, ['describe', '-j', uniqueName('no-such-job')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /batch operation not found.*NOT_FOUND/);
});

file.test('bad input is INVALID_ARGUMENT with a clear message and starts nothing', async (_t, env) => {
  const base = { namespace: NAMESPACE, reason: 'bad input', executions: [{ workflowId: 'x' }], terminationOperation: {} };
  const jobIds: string[] = [];
  const bad = async (request: temporal.api.workflowservice.v1.IStartBatchOperationRequest, pattern: RegExp): Promise<void> => {
    const jobId = request.jobId ?? '';
    if (jobId) jobIds.push(jobId);
    await expectGrpcError(env.client.workflowService.startBatchOperation(request), status.INVALID_ARGUMENT, pattern);
  };
  await bad({ ...base, jobId: uniqueName('bad'), terminationOperation: null }, /no batch operation is set/);
  await bad({ ...base, jobId: uniqueName('bad'), visibilityQuery: "WorkflowType = 'x'" }, /visibilityQuery and executions are mutually exclusive/);
  await bad({ ...base, jobId: uniqueName('bad'), executions: [] }, /neither visibilityQuery nor executions is set/);
  await bad({ ...base, jobId: uniqueName('bad'), reason: '' }, /reason is not set/);
  await bad({ ...base, jobId: '' }, /jobId is not set/);
  await bad({ ...base, jobId: 'j'.repeat(1001) }, /jobId .*1000/);
  await bad({ ...base, jobId: uniqueName('bad'), executions: [], visibilityQuery: 'WorkflowType = ' }, /query|WorkflowType/i);
  await bad({ ...base, jobId: uniqueName('bad'), executions: [], visibilityQuery: "NoSuchAttribute = 'x'" }, /NoSuchAttribute/);
  await bad({ ...base, jobId: uniqueName('bad'), terminationOperation: null, signalOperation: {} }, /signalOperation\.signal is not set/);
  await bad({ ...base, jobId: uniqueName('bad'), terminationOperation: null, resetOperation: {} }, /resetOperation names no reset point/);
  await bad({ ...base, jobId: uniqueName('bad'), terminationOperation: null, updateWorkflowOptionsOperation: {} }, /updateWorkflowOptionsOperation is not supported/);
  // The job is a workflow run: a deprecated namespace starts none (FAILED_PRECONDITION, as a workflow start).
  await env.client.workflowService.deprecateNamespace({ namespace: DEPRECATED_NAMESPACE });
  await expectGrpcError(
    env.client.workflowService.startBatchOperation({ ...base, namespace: DEPRECATED_NAMESPACE, jobId: uniqueName('deprecated') }),
    status.FAILED_PRECONDITION,
    /deprecated/,
  );
  await expectGrpcError(env.client.workflowService.describeBatchOperation({ namespace: NAMESPACE, jobId: '' }), status.INVALID_ARGUMENT, /jobId is not set/);
  await expectGrpcError(env.client.workflowService.describeBatchOperation({ namespace: NAMESPACE, jobId: uniqueName('nope') }), status.NOT_FOUND, /batch operation not found/);
  const listed = await listedJobs(env.client);
  for (const jobId of jobIds) assert.ok(!listed.has(jobId), `${jobId.slice(0, 20)}: nothing was started`);
  for (const jobId of jobIds.filter((id) => id.length <= 1000)) {
    await expectGrpcError(describeJob(env.client, jobId), status.NOT_FOUND, /batch operation not found/);
  }
});
