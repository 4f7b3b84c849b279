// Bad input to the feature RPCs: the gRPC codes Temporal uses, clear messages, nothing changed.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { QueryNotRegisteredError, WorkflowNotFoundError } from '@temporalio/client';
import { assertContiguousHistory, conformanceFile, rejectionOf, uniqueName } from '../harness';
import { accountWorkflow, balanceQuery, closeSignal, depositUpdate, waitForFinish } from '../workflows';

const file = conformanceFile({ name: 'feature-bad-input' });

function grpcCode(err: unknown): number | undefined {
  const e = err as { code?: number; cause?: { code?: number } };
  return e.code ?? e.cause?.code;
}

file.test('signals to closed or unknown workflows are NOT_FOUND', async (_t, env) => {
  const done = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('closed') });
  await done.signal(closeSignal);
  await done.result();
  const before = (await assertContiguousHistory(done)).length;
  const closed = await rejectionOf(
    env.client.workflowService.signalWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: done.workflowId }, signalName: 'close', requestId: uniqueName('r') }),
    'a signal to a closed workflow',
  );
  assert.equal(grpcCode(closed), status.NOT_FOUND);
  assert.match((closed as Error).message, /already completed/);
  assert.equal((await assertContiguousHistory(done)).length, before, 'nothing was appended');

  const unknown = await rejectionOf(env.client.workflow.getHandle(uniqueName('ghost')).signal(closeSignal), 'a signal to an unknown workflow');
  assert.ok(unknown instanceof WorkflowNotFoundError, `got ${String(unknown)}`);
  assert.match((unknown as Error).message, /not found/);
});

file.test('an empty signal name and a missing update id are INVALID_ARGUMENT', async (_t, env) => {
  const handle = await env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId: uniqueName('target') });
  const noName = await rejectionOf(
    env.client.workflowService.signalWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: handle.workflowId }, signalName: '' }),
    'a signal without a name',
  );
  assert.equal(grpcCode(noName), status.INVALID_ARGUMENT);
  assert.match((noName as Error).message, /signalName is not set/);
  const noUpdateId = await rejectionOf(
    env.client.workflowService.updateWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: handle.workflowId },
      request: { meta: { updateId: '' }, input: { name: 'deposit' } },
    }),
    'an update without an id',
  );
  assert.equal(grpcCode(noUpdateId), status.INVALID_ARGUMENT);
  assert.match((noUpdateId as Error).message, /updateId is not set/);
  await handle.terminate('cleanup');
});

file.test('queries of unknown types and updates to completed workflows get the errors the SDK maps', async (_t, env) => {
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('account') });
  const unknownQuery = await rejectionOf(handle.query('whatIsThis'), 'an unknown query type');
  assert.ok(unknownQuery instanceof QueryNotRegisteredError, `got ${String(unknownQuery)}`);
  assert.equal(await handle.query(balanceQuery), 0);
  await handle.signal(closeSignal);
  await handle.result();
  const late = await rejectionOf(handle.executeUpdate(depositUpdate, { args: [1] }), 'an update to a completed workflow');
  assert.ok(late instanceof WorkflowNotFoundError, `got ${String(late)}`);
  const raw = await rejectionOf(
    env.client.workflowService.updateWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: handle.workflowId },
      request: { meta: { updateId: uniqueName('u') }, input: { name: 'deposit' } },
    }),
    'a raw update to a completed workflow',
  );
  assert.equal(grpcCode(raw), status.NOT_FOUND);
});
