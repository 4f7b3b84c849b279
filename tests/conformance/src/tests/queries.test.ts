// Queries: answered by the live worker while running, by replay once closed, rejected by type or by
// reject condition, and a clear error (not a hang) when no worker polls the task queue.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { Client, QueryNotRegisteredError, QueryRejectedError, ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { assertContiguousHistory, conformanceFile, fetchEvents, rejectionOf, uniqueName } from '../harness';
import { accountWorkflow, balanceQuery, closeSignal, depositUpdate, failingWorkflow } from '../workflows';

const file = conformanceFile({ name: 'queries' });

const WorkflowExecutionStatus = temporal.api.enums.v1.WorkflowExecutionStatus;

file.test('a running workflow is queried live; an unknown query type is QueryNotRegisteredError', async (_t, env) => {
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('account') });
  assert.equal(await handle.query(balanceQuery), 0);
  await handle.executeUpdate(depositUpdate, { args: [25] });
  assert.equal(await handle.query(balanceQuery), 25, 'the query sees the state after the update');
  const before = (await fetchEvents(handle)).length;
  const unknown = await rejectionOf(handle.query('noSuchQuery'), 'an unknown query');
  assert.ok(unknown instanceof QueryNotRegisteredError, `expected QueryNotRegisteredError, got ${String(unknown)}`);
  assert.match(unknown.message, /noSuchQuery/);
  assert.equal((await fetchEvents(handle)).length, before, 'queries write nothing to history');
  await handle.signal(closeSignal);
  assert.equal(await handle.result(), 25);
  await assertContiguousHistory(handle);
});

file.test('a closed workflow is queried by replay, unless the reject condition says otherwise', async (_t, env) => {
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('account') });
  await handle.executeUpdate(depositUpdate, { args: [7] });
  await handle.signal(closeSignal);
  assert.equal(await handle.result(), 7);
  assert.equal(await handle.query(balanceQuery), 7, 'the worker replays the closed run to answer');

  const notOpen = new Client({ connection: env.connection, workflow: { queryRejectCondition: 'NOT_OPEN' } });
  const rejected = await rejectionOf(notOpen.workflow.getHandle(handle.workflowId).query(balanceQuery), 'a NOT_OPEN query of a closed run');
  assert.ok(rejected instanceof QueryRejectedError, `expected QueryRejectedError, got ${String(rejected)}`);
  assert.equal(rejected.status, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);

  // NOT_COMPLETED_CLEANLY answers a completed run and rejects a failed one.
  const cleanly = new Client({ connection: env.connection, workflow: { queryRejectCondition: 'NOT_COMPLETED_CLEANLY' } });
  assert.equal(await cleanly.workflow.getHandle(handle.workflowId).query(balanceQuery), 7);
  const failed = await env.client.workflow.start(failingWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('failed'), args: ['boom', 'Boom'] });
  await assert.rejects(failed.result());
  const rejectedFailed = await rejectionOf(cleanly.workflow.getHandle(failed.workflowId).query(balanceQuery), 'a NOT_COMPLETED_CLEANLY query of a failed run');
  assert.ok(rejectedFailed instanceof QueryRejectedError, `expected QueryRejectedError, got ${String(rejectedFailed)}`);
  assert.equal(rejectedFailed.status, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED);

  const missing = await rejectionOf(env.client.workflow.getHandle(uniqueName('nope')).query(balanceQuery), 'a query of an unknown workflow');
  assert.ok(missing instanceof WorkflowNotFoundError, `expected WorkflowNotFoundError, got ${String(missing)}`);
});

file.test('a query nobody can answer fails with a clear error before the deadline instead of hanging', async (_t, env) => {
  const workflowId = uniqueName('no-worker');
  const taskQueue = uniqueName('queue-without-workers');
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue, workflowId });
  // The server keeps half a second of the client's deadline to answer in, so the error is its own
  // (DEADLINE_EXCEEDED with a message), not the client's bare "Deadline exceeded".
  const err = await rejectionOf(
    env.connection.withDeadline(Date.now() + 5000, () => handle.query(balanceQuery)),
    'a query with no worker',
  );
  // The SDK wraps unmapped gRPC errors in a ServiceError; the cause is the server's answer.
  assert.ok(err instanceof ServiceError, `expected ServiceError, got ${String(err)}`);
  const cause = err.cause as { code?: number; details?: string } | undefined;
  assert.equal(cause?.code, status.DEADLINE_EXCEEDED, `cause: ${String(err.cause)}`);
  assert.match(String(cause?.details), /no worker answered the query/);
  assert.ok(String(cause?.details).includes(taskQueue), `the message names the task queue: ${cause?.details}`);
  await handle.terminate('no worker will ever run it');
});
