// Bad input through the raw WorkflowService: each request gets a gRPC error that says what is
// wrong, and changes nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status, type ServiceError } from '@grpc/grpc-js';
import { isGrpcServiceError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NAMESPACE, assertContiguousHistory, conformanceFile, rejectionOf, uniqueName, type ConformanceEnv } from '../harness';

type StartRequest = temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest;

const file = conformanceFile({ name: 'bad-input', worker: false });

function statusName(code: number | undefined): string {
  return code === undefined ? 'undefined' : `${status[code] ?? 'UNKNOWN'}(${code})`;
}

/** Awaits a rejection with gRPC status `code` whose details match `pattern`; returns the error. */
async function expectGrpcError(
  call: Promise<unknown>,
  code: status | readonly status[],
  pattern?: RegExp,
): Promise<ServiceError> {
  const err = await rejectionOf(call, 'the request');
  assert.ok(isGrpcServiceError(err), `expected a gRPC ServiceError, got ${String(err)}`);
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(
    codes.includes(err.code),
    `expected ${codes.map(statusName).join(' or ')}, got ${statusName(err.code)}: ${err.details}`,
  );
  if (pattern) {
    assert.match(err.details, pattern, `error details should say what is wrong (${statusName(err.code)})`);
  }
  return err;
}

function startRequest(env: ConformanceEnv, overrides: Partial<StartRequest>): StartRequest {
  return {
    namespace: NAMESPACE,
    workflowId: uniqueName('bad-input'),
    workflowType: { name: 'echoWorkflow' },
    taskQueue: { name: env.taskQueue },
    input: { payloads: [] },
    requestId: randomUUID(),
    identity: 'conformance-bad-input',
    ...overrides,
  };
}

async function assertNoExecution(env: ConformanceEnv, workflowId: string, namespace = NAMESPACE): Promise<void> {
  await expectGrpcError(
    env.connection.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId } }),
    status.NOT_FOUND,
  );
}

/**
 * Nothing was scheduled on the task queue: a poll on it (with a short deadline) finds no workflow
 * task. A rejected start must not leave a task for a worker behind.
 */
async function assertNothingDispatched(env: ConformanceEnv, taskQueue: string): Promise<void> {
  const response = await env.connection.withDeadline(Date.now() + 2500, () =>
    env.connection.workflowService.pollWorkflowTaskQueue({ namespace: NAMESPACE, taskQueue: { name: taskQueue }, identity: 'bad-input-check' }),
  );
  assert.equal(response.taskToken?.length ?? 0, 0, `no workflow task was scheduled on ${taskQueue}`);
}

file.test('control: a well-formed start succeeds and is describable', async (_t, env) => {
  const request = startRequest(env, { workflowId: uniqueName('control') });
  const response = await env.connection.workflowService.startWorkflowExecution(request);
  assert.ok(response.runId, 'a run id');
  const described = await env.connection.workflowService.describeWorkflowExecution({
    namespace: NAMESPACE,
    execution: { workflowId: request.workflowId! },
  });
  assert.equal(described.workflowExecutionInfo?.execution?.runId, response.runId);
  const handle = env.client.workflow.getHandle(request.workflowId!, response.runId);
  await handle.terminate('conformance control cleanup');
  await assertContiguousHistory(handle);
});

file.test('start with an empty workflowId is INVALID_ARGUMENT naming workflowId', async (_t, env) => {
  const taskQueue = uniqueName('tq-empty-id');
  await expectGrpcError(
    env.connection.workflowService.startWorkflowExecution(
      startRequest(env, { workflowId: '', taskQueue: { name: taskQueue } }),
    ),
    status.INVALID_ARGUMENT,
    /workflow[ _-]?id/i,
  );
  await assertNothingDispatched(env, taskQueue);
});

file.test('start in an unknown namespace is NOT_FOUND naming the namespace', async (_t, env) => {
  const namespace = uniqueName('no-such-namespace');
  const workflowId = uniqueName('unknown-ns');
  await expectGrpcError(
    env.connection.workflowService.startWorkflowExecution(startRequest(env, { namespace, workflowId })),
    status.NOT_FOUND,
    new RegExp(namespace),
  );
  // Nothing was created: not the namespace, not an execution in it or in `default`.
  await expectGrpcError(
    env.connection.workflowService.describeNamespace({ namespace }),
    status.NOT_FOUND,
    new RegExp(namespace),
  );
  await assertNoExecution(env, workflowId);
});

file.test('start with an input payload over 2 MB is INVALID_ARGUMENT naming the size', async (_t, env) => {
  const workflowId = uniqueName('oversized');
  const taskQueue = uniqueName('tq-oversized');
  const data = Buffer.alloc(Math.floor(2.5 * 1024 * 1024), 0x61);
  await expectGrpcError(
    env.connection.workflowService.startWorkflowExecution(
      startRequest(env, {
        workflowId,
        taskQueue: { name: taskQueue },
        input: { payloads: [{ metadata: { encoding: Buffer.from('binary/plain') }, data }] },
      }),
    ),
    status.INVALID_ARGUMENT,
    /size|exceed|too large|limit/i,
  );
  await assertNoExecution(env, workflowId);
  await assertNothingDispatched(env, taskQueue);
});

file.test('RespondActivityTaskCompleted with a garbage task token is INVALID_ARGUMENT or NOT_FOUND', async (_t, env) => {
  await expectGrpcError(
    env.connection.workflowService.respondActivityTaskCompleted({
      namespace: NAMESPACE,
      taskToken: Buffer.from('this is not a task token'),
      result: { payloads: [] },
      identity: 'conformance-bad-input',
    }),
    [status.INVALID_ARGUMENT, status.NOT_FOUND],
  );
  // The server is still serving.
  const info = await env.connection.workflowService.getSystemInfo({});
  assert.ok(info, 'GetSystemInfo still answers');
});

file.test('DescribeWorkflowExecution of an unknown execution is NOT_FOUND', async (_t, env) => {
  const workflowId = uniqueName('never-started');
  await expectGrpcError(
    env.connection.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId } }),
    status.NOT_FOUND,
  );
  await expectGrpcError(
    env.connection.workflowService.describeWorkflowExecution({
      namespace: NAMESPACE,
      execution: { workflowId, runId: randomUUID() },
    }),
    status.NOT_FOUND,
  );
});

file.test('TerminateWorkflowExecution of an unknown execution is NOT_FOUND and creates nothing', async (_t, env) => {
  const workflowId = uniqueName('never-started');
  await expectGrpcError(
    env.connection.workflowService.terminateWorkflowExecution({
      namespace: NAMESPACE,
      workflowExecution: { workflowId },
      reason: 'conformance',
      identity: 'conformance-bad-input',
    }),
    status.NOT_FOUND,
  );
  await expectGrpcError(
    env.connection.workflowService.terminateWorkflowExecution({
      namespace: NAMESPACE,
      workflowExecution: { workflowId, runId: randomUUID() },
      reason: 'conformance',
      identity: 'conformance-bad-input',
    }),
    status.NOT_FOUND,
  );
  await assertNoExecution(env, workflowId);
});

file.test('an RPC Hourglass does not implement yet answers UNIMPLEMENTED naming it', async (_t, env) => {
  await expectGrpcError(env.connection.workflowService.listWorkflowRules({ namespace: NAMESPACE }), status.UNIMPLEMENTED, /ListWorkflowRules/);
});
