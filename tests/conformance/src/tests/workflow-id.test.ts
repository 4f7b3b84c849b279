// Workflow id uniqueness: a running id cannot be started twice; reuse policies after close.
import assert from 'node:assert/strict';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import {
  EventType,
  assertContiguousHistory,
  conformanceFile,
  eventsOfType,
  rejectionOf,
  uniqueName,
} from '../harness';
import { echoWorkflow, waitForFinish } from '../workflows';

const file = conformanceFile({ name: 'workflow-id' });

file.test('starting a workflow id that is running fails with WorkflowExecutionAlreadyStartedError', async (_t, env) => {
  const workflowId = uniqueName('running-id');
  const first = await env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId });

  const err = await rejectionOf(
    env.client.workflow.start(waitForFinish, { taskQueue: env.taskQueue, workflowId }),
    'the second start',
  );
  assert.ok(
    err instanceof WorkflowExecutionAlreadyStartedError,
    `expected WorkflowExecutionAlreadyStartedError, got ${String(err)}`,
  );
  assert.equal(err.workflowId, workflowId);
  assert.equal(err.workflowType, 'waitForFinish');

  // The first run is untouched and still the current one.
  const description = await env.client.workflow.getHandle(workflowId).describe();
  assert.equal(description.runId, first.firstExecutionRunId);
  assert.equal(description.status.name, 'RUNNING');

  await first.terminate('conformance cleanup');
  const events = await assertContiguousHistory(first);
  assert.equal(
    eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED).length,
    1,
    'the rejected start added nothing to the running execution',
  );
});

file.test('REJECT_DUPLICATE refuses to reuse the id of a closed workflow', async (_t, env) => {
  const workflowId = uniqueName('reject-duplicate');
  const first = await env.client.workflow.start(echoWorkflow, {
    taskQueue: env.taskQueue,
    workflowId,
    args: ['first'],
  });
  assert.equal(await first.result(), 'first');
  await assertContiguousHistory(first);

  const err = await rejectionOf(
    env.client.workflow.start(echoWorkflow, {
      taskQueue: env.taskQueue,
      workflowId,
      args: ['second'],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    }),
    'the REJECT_DUPLICATE start',
  );
  assert.ok(
    err instanceof WorkflowExecutionAlreadyStartedError,
    `expected WorkflowExecutionAlreadyStartedError, got ${String(err)}`,
  );
  assert.equal(err.workflowId, workflowId);

  const description = await env.client.workflow.getHandle(workflowId).describe();
  assert.equal(description.runId, first.firstExecutionRunId, 'no new run was created');
  assert.equal(description.status.name, 'COMPLETED');
});

file.test('ALLOW_DUPLICATE starts a new run for the id of a closed workflow', async (_t, env) => {
  const workflowId = uniqueName('allow-duplicate');
  const first = await env.client.workflow.start(echoWorkflow, {
    taskQueue: env.taskQueue,
    workflowId,
    args: ['first'],
  });
  assert.equal(await first.result(), 'first');

  const second = await env.client.workflow.start(echoWorkflow, {
    taskQueue: env.taskQueue,
    workflowId,
    args: ['second'],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
  assert.notEqual(second.firstExecutionRunId, first.firstExecutionRunId, 'a new run id');
  assert.equal(await second.result(), 'second');

  // Both runs are closed with their own histories; the id now points at the new run.
  const firstRun = env.client.workflow.getHandle(workflowId, first.firstExecutionRunId);
  const secondRun = env.client.workflow.getHandle(workflowId, second.firstExecutionRunId);
  assert.equal(await firstRun.result(), 'first');
  await assertContiguousHistory(firstRun);
  await assertContiguousHistory(secondRun);
  assert.equal((await firstRun.describe()).status.name, 'COMPLETED');
  const latest = await env.client.workflow.getHandle(workflowId).describe();
  assert.equal(latest.runId, second.firstExecutionRunId);
  assert.equal(latest.status.name, 'COMPLETED');
});
