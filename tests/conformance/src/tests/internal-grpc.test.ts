// The internal gRPC transport end to end: a server whose frontend, history and matching call each
// other only through @hourglass/rpc's clients on a loopback server (start-dev --internal-transport
// grpc-loopback) runs activities, timers, signals, queries, updates, children and cancellation as in
// one process, and domain errors cross the boundary with their Temporal details intact.
// (HOURGLASS_TEST_INTERNAL_TRANSPORT=grpc-loopback runs any other file of the suite the same way.)
import assert from 'node:assert/strict';
import { CancelledFailure, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { EventType, assertContiguousHistory, conformanceFile, eventsOfType, eventually, rejectionOf, uniqueName } from '../harness';
import { accountWorkflow, activityThenTimer, balanceQuery, cancellableWorkflow, childIdConflict, closeSignal, depositUpdate, fanOutWorkflow, greetAndAdd, longSleepChild, waitForFinish } from '../workflows';

const file = conformanceFile({ name: 'internal-grpc', server: { internalTransport: 'grpc-loopback', extraArgs: ['--log-level', 'info'] } });

file.test('the server wires its roles through the loopback internal gRPC server', async (_t, env) => {
  assert.match(env.server.recentOutput(), /over internal gRPC \(loopback\)/);
});

file.test('activities, a durable timer, describe and list', async (_t, env) => {
  const handle = await env.client.workflow.start(greetAndAdd, { taskQueue: env.taskQueue, workflowId: uniqueName('greet'), args: ['Ada', 2, 3] });
  assert.equal(await handle.result(), 'Hello, Ada! 2+3=5 left/right');
  const timed = await env.client.workflow.start(activityThenTimer, { taskQueue: env.taskQueue, workflowId: uniqueName('timer'), args: ['x', 300] });
  await timed.result();
  const events = await assertContiguousHistory(timed);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_TIMER_FIRED).length, 1);
  const description = await handle.describe();
  assert.equal(description.status.name, 'COMPLETED');
  assert.ok(description.historyLength > 0);
  await eventually(async () => {
    for await (const w of env.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) return w.status.name === 'COMPLETED';
    return false;
  });
});

file.test('signals, queries and updates (a rejected update too)', async (_t, env) => {
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('account') });
  assert.equal(await handle.executeUpdate(depositUpdate, { args: [10] }), 10);
  const rejected = await rejectionOf(handle.executeUpdate(depositUpdate, { args: [-5] }), 'a negative deposit');
  assert.ok(rejected instanceof WorkflowUpdateFailedError, `got ${String(rejected)}`);
  assert.equal(await handle.query(balanceQuery), 10);
  assert.equal(await handle.executeUpdate(depositUpdate, { args: [5] }), 15);
  await handle.signal(closeSignal);
  // The worker caches the run, so its workflow tasks after the first went to its sticky queue.
  assert.equal(await handle.result(), 15);
});

file.test('child workflows, and a child id conflict seen by the parent', async (_t, env) => {
  const parent = await env.client.workflow.start(fanOutWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('fan-out'), args: [5] });
  assert.equal(await parent.result(), 2 * (1 + 2 + 3 + 4 + 5));
  const childId = uniqueName('taken');
  const squatter = await env.client.workflow.start(longSleepChild, { taskQueue: env.taskQueue, workflowId: childId });
  const conflict = await env.client.workflow.start(childIdConflict, { taskQueue: env.taskQueue, workflowId: uniqueName('conflict'), args: [childId] });
  assert.equal(await conflict.result(), `conflict: ${childId}`);
  await squatter.terminate('done');
});

file.test('cancellation reaches a heartbeating activity and the cleanup runs', async (_t, env) => {
  const workflowId = uniqueName('cancellable');
  const handle = await env.client.workflow.start(cancellableWorkflow, { taskQueue: env.taskQueue, workflowId });
  await eventually(() => env.recorder.forWorkflow(workflowId).some((i) => i.activityType === 'waitForCancellation'), { timeoutMs: 10_000 });
  await handle.cancel();
  const err = await rejectionOf(handle.result(), 'the cancelled workflow');
  assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, `got ${String(err)}`);
  assert.deepEqual(env.recorder.stepsOf(workflowId), ['activity:saw-cancellation:CancelledFailure', 'undo:cleanup']);
});

file.test('domain errors keep their status and Temporal details across the internal boundary', async (_t, env) => {
  const workflowId = uniqueName('twice');
  const first = await env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId });
  const again = await rejectionOf(env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId }), 'a second start');
  assert.ok(again instanceof WorkflowExecutionAlreadyStartedError, `got ${String(again)}`);
  const missing = await rejectionOf(env.client.workflow.getHandle(uniqueName('nobody')).signal(closeSignal), 'a signal to nobody');
  assert.ok(missing instanceof WorkflowNotFoundError, `got ${String(missing)}`);
  await first.terminate('done');
  const queue = await env.client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: env.taskQueue } });
  assert.ok((queue.pollers ?? []).length > 0, 'matching answers DescribeTaskQueue over the internal transport');
});
