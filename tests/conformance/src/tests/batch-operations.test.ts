// Batch operations through the raw WorkflowService: a terminate over 500 executions matched by a
// query, rate limited to 50 per second, one running batch per namespace, surviving a SIGKILL of
// the server mid-way; stop, list, describe and bad requests.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { isGrpcServiceError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NAMESPACE, conformanceFile, eventually, rejectionOf, uniqueName, type ConformanceEnv } from '../harness';

const file = conformanceFile({ name: 'batch', worker: false });

const State = temporal.api.enums.v1.BatchOperationState;
const LOAD = 'batchLoad';
const COUNT = 500;

async function expectCode(call: Promise<unknown>, code: status, pattern: RegExp): Promise<void> {
  const err = await rejectionOf(call, 'the request');
  assert.ok(isGrpcServiceError(err), `expected a gRPC error, got ${String(err)}`);
  assert.equal(err.code, code, `expected ${status[code]}, got ${status[err.code]}: ${err.details}`);
  assert.match(err.details, pattern);
}

async function startMany(env: ConformanceEnv, type: string, count: number): Promise<void> {
  const queue = `${env.taskQueue}-idle`;
  for (let k = 0; k < count; k += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, count - k) }, (_, j) => env.client.workflow.start(type, { taskQueue: queue, workflowId: `${type}-${k + j}` })),
    );
  }
  await eventually(async () => (await env.client.workflow.count(`WorkflowType = '${type}' AND ExecutionStatus = 'Running'`)).count === count, {
    description: `${count} ${type} runs searchable`,
    timeoutMs: 30_000,
  });
}

const describe = (env: ConformanceEnv, jobId: string) => env.connection.workflowService.describeBatchOperation({ namespace: NAMESPACE, jobId });

file.test(
  `a terminate batch over ${COUNT} executions runs at 50 per second, one at a time per namespace, and survives a SIGKILL`,
  async (_t, env) => {
    await startMany(env, LOAD, COUNT);
    const jobId = uniqueName('terminate-all');
    await env.connection.workflowService.startBatchOperation({
      namespace: NAMESPACE,
      jobId,
      visibilityQuery: `WorkflowType = '${LOAD}' AND ExecutionStatus = 'Running'`,
      reason: 'conformance batch',
      terminationOperation: { identity: 'conformance' },
    });
    // One running batch per namespace.
    await expectCode(
      env.connection.workflowService.startBatchOperation({ namespace: NAMESPACE, jobId: uniqueName('second'), visibilityQuery: `WorkflowType = '${LOAD}'`, reason: 'r', cancellationOperation: {} }),
      status.FAILED_PRECONDITION,
      new RegExp(`one batch operation runs at a time`),
    );
    const running = await describe(env, jobId);
    assert.equal(running.state, State.BATCH_OPERATION_STATE_RUNNING);
    assert.equal(Number(running.totalOperationCount), COUNT);
    assert.equal(running.reason, 'conformance batch');
    const listed = await env.connection.workflowService.listBatchOperations({ namespace: NAMESPACE });
    assert.ok(listed.operationInfo.some((op) => op.jobId === jobId && op.state === State.BATCH_OPERATION_STATE_RUNNING));

    // SIGKILL once part of it is done; the restarted server goes on from its last page.
    await eventually(async () => Number((await describe(env, jobId)).completeOperationCount) >= 100, { description: '100 terminated', timeoutMs: 20_000 });
    const before = Number((await describe(env, jobId)).completeOperationCount);
    assert.ok(before < COUNT, `rate limited: only ${before} of ${COUNT} done after ~2 s`);
    await env.server.kill();
    await env.server.restart();
    const done = await eventually(
      async () => {
        const d = await describe(env, jobId);
        return d.state === State.BATCH_OPERATION_STATE_COMPLETED ? d : undefined;
      },
      { description: 'the batch completed after the restart', timeoutMs: 60_000 },
    );
    assert.ok(Number(done.completeOperationCount) >= COUNT, String(done.completeOperationCount));
    assert.equal(Number(done.failureOperationCount), 0);
    const took = Number(done.closeTime?.seconds) * 1000 - Number(done.startTime?.seconds) * 1000;
    assert.ok(took >= 8000, `${COUNT} at 50 per second take at least 9 s, this took ${took} ms`);
    await eventually(async () => (await env.client.workflow.count(`WorkflowType = '${LOAD}' AND ExecutionStatus = 'Terminated'`)).count === COUNT, {
      description: 'every run terminated and searchable',
    });
    assert.equal((await env.client.workflow.count(`WorkflowType = '${LOAD}' AND ExecutionStatus = 'Running'`)).count, 0);
  },
  { timeoutMs: 150_000 },
);

file.test('a signal batch can be stopped; then another may start', async (_t, env) => {
  await startMany(env, 'batchSignal', 120);
  const jobId = uniqueName('signal-some');
  await env.connection.workflowService.startBatchOperation({
    namespace: NAMESPACE,
    jobId,
    visibilityQuery: `WorkflowType = 'batchSignal'`,
    reason: 'nudge',
    maxOperationsPerSecond: 10,
    signalOperation: { signal: 'nudge', identity: 'conformance' },
  });
  await env.connection.workflowService.stopBatchOperation({ namespace: NAMESPACE, jobId, reason: 'enough' });
  const stopped = await describe(env, jobId);
  assert.equal(stopped.state, State.BATCH_OPERATION_STATE_FAILED);
  assert.ok(Number(stopped.completeOperationCount) < 120);
  await expectCode(env.connection.workflowService.stopBatchOperation({ namespace: NAMESPACE, jobId, reason: 'again' }), status.FAILED_PRECONDITION, /not running/);
  // The namespace is free again: a deletion batch over the same runs goes through.
  const deletion = uniqueName('delete-all');
  await env.connection.workflowService.startBatchOperation({ namespace: NAMESPACE, jobId: deletion, visibilityQuery: `WorkflowType = 'batchSignal'`, reason: 'clean up', deletionOperation: {} });
  await eventually(async () => (await describe(env, deletion)).state === State.BATCH_OPERATION_STATE_COMPLETED, { description: 'deletion batch done', timeoutMs: 30_000 });
  await eventually(async () => (await env.client.workflow.count(`WorkflowType = 'batchSignal'`)).count === 0, { description: 'deleted runs gone from search' });
});

file.test('bad batch requests are refused and start nothing', async (_t, env) => {
  const ws = env.connection.workflowService;
  await expectCode(ws.startBatchOperation({ namespace: NAMESPACE, jobId: 'bad-1', visibilityQuery: 'WorkflowType =', reason: 'r', terminationOperation: {} }), status.INVALID_ARGUMENT, /query/);
  await expectCode(ws.startBatchOperation({ namespace: NAMESPACE, jobId: 'bad-2', visibilityQuery: "WorkflowType = 'x'", reason: '', terminationOperation: {} }), status.INVALID_ARGUMENT, /reason/);
  await expectCode(ws.startBatchOperation({ namespace: NAMESPACE, jobId: 'bad-3', visibilityQuery: "WorkflowType = 'x'", reason: 'r' }), status.INVALID_ARGUMENT, /exactly one of/);
  await expectCode(ws.startBatchOperation({ namespace: NAMESPACE, jobId: '', visibilityQuery: "WorkflowType = 'x'", reason: 'r', terminationOperation: {} }), status.INVALID_ARGUMENT, /jobId/);
  await expectCode(ws.describeBatchOperation({ namespace: NAMESPACE, jobId: 'bad-1' }), status.NOT_FOUND, /not found/);
});
