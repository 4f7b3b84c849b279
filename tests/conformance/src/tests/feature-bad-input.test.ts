// Bad input to the feature RPCs: the gRPC codes Temporal uses, clear messages, nothing changed.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { QueryNotRegisteredError, WorkflowNotFoundError } from '@temporalio/client';
import { NAMESPACE, assertContiguousHistory, conformanceFile, fetchEvents, rejectionOf, uniqueName } from '../harness';
import { accountWorkflow, balanceQuery, closeSignal, depositUpdate, waitForFinish } from '../workflows';

const file = conformanceFile({ name: 'feature-bad-input' });

function grpcCode(err: unknown): number | undefined {
  const e = err as { code?: number; cause?: { code?: number } };
  return e.code ?? e.cause?.code;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

file.test('signals to closed or unknown workflows are NOT_FOUND', async (_t, env) => {
  const done = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('closed') });
  await done.signal(closeSignal);
  await done.result();
  const before = (await assertContiguousHistory(done)).length;
  const closed = await rejectionOf(
    env.client.workflowService.signalWorkflowExecution({ namespace: NAMESPACE, workflowExecution: { workflowId: done.workflowId }, signalName: 'close', requestId: uniqueName('r') }),
    'a signal to a closed workflow',
  );
  assert.equal(grpcCode(closed), status.NOT_FOUND);
  assert.match(messageOf(closed), /already completed/);
  const closedBySdk = await rejectionOf(done.signal(closeSignal), 'an SDK signal to a closed workflow');
  assert.ok(closedBySdk instanceof WorkflowNotFoundError, `got ${String(closedBySdk)}`);
  assert.equal((await assertContiguousHistory(done)).length, before, 'nothing was appended');

  const ghostId = uniqueName('ghost');
  const unknownRaw = await rejectionOf(
    env.client.workflowService.signalWorkflowExecution({ namespace: NAMESPACE, workflowExecution: { workflowId: ghostId }, signalName: 'close', requestId: uniqueName('r') }),
    'a raw signal to an unknown workflow',
  );
  assert.equal(grpcCode(unknownRaw), status.NOT_FOUND);
  assert.ok(messageOf(unknownRaw).includes(ghostId), `the message names the workflow: ${messageOf(unknownRaw)}`);
  const unknown = await rejectionOf(env.client.workflow.getHandle(ghostId).signal(closeSignal), 'a signal to an unknown workflow');
  assert.ok(unknown instanceof WorkflowNotFoundError, `got ${String(unknown)}`);
  assert.match(unknown.message, /not found/);
});

file.test('an empty signal name and a missing update id are INVALID_ARGUMENT', async (_t, env) => {
  const handle = await env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId: uniqueName('target') });
  const noName = await rejectionOf(
    env.client.workflowService.signalWorkflowExecution({ namespace: NAMESPACE, workflowExecution: { workflowId: handle.workflowId }, signalName: '' }),
    'a signal without a name',
  );
  assert.equal(grpcCode(noName), status.INVALID_ARGUMENT);
  assert.match(messageOf(noName), /signalName is not set/);
  const noUpdateId = await rejectionOf(
    env.client.workflowService.updateWorkflowExecution({
      namespace: NAMESPACE,
      workflowExecution: { workflowId: handle.workflowId },
      request: { meta: { updateId: '' }, input: { name: 'deposit' } },
    }),
    'an update without an id',
  );
  assert.equal(grpcCode(noUpdateId), status.INVALID_ARGUMENT);
  assert.match(messageOf(noUpdateId), /updateId is not set/);
  await handle.terminate('cleanup');
});

file.test('a query of an unknown type is INVALID_ARGUMENT naming the type (QueryNotRegisteredError in the SDK)', async (_t, env) => {
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('account') });
  const unknownQuery = await rejectionOf(handle.query('whatIsThis'), 'an unknown query type');
  assert.ok(unknownQuery instanceof QueryNotRegisteredError, `got ${String(unknownQuery)}`);
  assert.match(unknownQuery.message, /whatIsThis/);
  const raw = await rejectionOf(
    env.client.workflowService.queryWorkflow({ namespace: NAMESPACE, execution: { workflowId: handle.workflowId }, query: { queryType: 'whatIsThis' } }),
    'a raw query of an unknown type',
  );
  assert.equal(grpcCode(raw), status.INVALID_ARGUMENT);
  assert.match(messageOf(raw), /whatIsThis/);
  assert.equal(await handle.query(balanceQuery), 0, 'the workflow still answers known queries');

  const ghostId = uniqueName('ghost');
  const unknownWorkflow = await rejectionOf(
    env.client.workflowService.queryWorkflow({ namespace: NAMESPACE, execution: { workflowId: ghostId }, query: { queryType: 'balance' } }),
    'a query of an unknown workflow',
  );
  assert.equal(grpcCode(unknownWorkflow), status.NOT_FOUND);
  assert.ok(messageOf(unknownWorkflow).includes(ghostId), `the message names the workflow: ${messageOf(unknownWorkflow)}`);
  await handle.signal(closeSignal);
  await handle.result();
});

file.test('updates to completed or unknown workflows are NOT_FOUND', async (_t, env) => {
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('account') });
  await handle.signal(closeSignal);
  await handle.result();
  const before = (await fetchEvents(handle)).length;
  const late = await rejectionOf(handle.executeUpdate(depositUpdate, { args: [1] }), 'an update to a completed workflow');
  assert.ok(late instanceof WorkflowNotFoundError, `got ${String(late)}`);
  const raw = await rejectionOf(
    env.client.workflowService.updateWorkflowExecution({
      namespace: NAMESPACE,
      workflowExecution: { workflowId: handle.workflowId },
      request: { meta: { updateId: uniqueName('u') }, input: { name: 'deposit' } },
    }),
    'a raw update to a completed workflow',
  );
  assert.equal(grpcCode(raw), status.NOT_FOUND);
  assert.match(messageOf(raw), /already completed/);
  assert.equal((await assertContiguousHistory(handle)).length, before, 'nothing was appended');

  const ghostId = uniqueName('ghost');
  const unknown = await rejectionOf(
    env.client.workflowService.updateWorkflowExecution({
      namespace: NAMESPACE,
      workflowExecution: { workflowId: ghostId },
      request: { meta: { updateId: uniqueName('u') }, input: { name: 'deposit' } },
    }),
    'an update to an unknown workflow',
  );
  assert.equal(grpcCode(unknown), status.NOT_FOUND);
  assert.ok(messageOf(unknown).includes(ghostId), `the message names the workflow: ${messageOf(unknown)}`);
});
