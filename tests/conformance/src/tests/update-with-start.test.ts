// Update-with-start (ExecuteMultiOperation) with the official client's WithStartWorkflowOperation:
// on a new id the run starts and its first workflow task carries the update; on a running id the
// conflict policy decides (USE_EXISTING updates that run, FAIL refuses with the update aborted,
// TERMINATE_EXISTING starts a new run that gets the update); bad requests answer
// INVALID_ARGUMENT in the failing operation's position and change nothing.
import assert from 'node:assert/strict';
import { status, type Metadata } from '@grpc/grpc-js';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowUpdateStage } from '@temporalio/client';
import { google, temporal } from '@temporalio/proto';
import { EventType, conformanceFile, eventsOfType, rejectionOf, uniqueName } from '../harness';
import { accountWorkflow, balanceQuery, closeSignal, depositUpdate } from '../workflows';

const file = conformanceFile({ name: 'update-with-start' });

type Conflict = 'USE_EXISTING' | 'FAIL' | 'TERMINATE_EXISTING';

function startOp(taskQueue: string, workflowId: string, conflict: Conflict): WithStartWorkflowOperation<typeof accountWorkflow> {
  return new WithStartWorkflowOperation(accountWorkflow, { taskQueue, workflowId, workflowIdConflictPolicy: conflict });
}

/** The per-operation statuses of a MultiOperationExecutionFailure in a gRPC error's details. */
function operationStatuses(err: unknown): temporal.api.errordetails.v1.MultiOperationExecutionFailure.IOperationStatus[] {
  const metadata = (err as { metadata?: Metadata }).metadata;
  const bin = metadata?.get('grpc-status-details-bin')[0];
  assert.ok(bin instanceof Buffer, `no status details on ${String(err)}`);
  const st = google.rpc.Status.decode(bin);
  const detail = st.details?.[0];
  assert.equal(detail?.type_url, 'type.googleapis.com/temporal.api.errordetails.v1.MultiOperationExecutionFailure');
  return temporal.api.errordetails.v1.MultiOperationExecutionFailure.decode(detail.value as Uint8Array).statuses ?? [];
}

file.test('a new id: the run starts and its first workflow task carries the update', async (_t, env) => {
  const workflowId = uniqueName('uws-new');
  const op = startOp(env.taskQueue, workflowId, 'USE_EXISTING');
  assert.equal(await env.client.workflow.executeUpdateWithStart(depositUpdate, { args: [10], startWorkflowOperation: op }), 10);
  const handle = await op.workflowHandle();
  assert.ok((await handle.describe()).runId, 'the start operation gives the run');
  const events = (await handle.fetchHistory()).events ?? [];
  const accepted = eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
  assert.equal(accepted.length, 1);
  // Started, WFT scheduled, started, completed, then the update's Accepted: the first task had it.
  assert.equal(Number(accepted[0]?.eventId), 5, 'the update was delivered with the first workflow task');
  await handle.signal(closeSignal);
  assert.equal(await handle.result(), 10);
});

file.test('a running id with USE_EXISTING: the update goes to that run, no new run', async (_t, env) => {
  const workflowId = uniqueName('uws-existing');
  const first = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId });
  assert.equal(await first.executeUpdate(depositUpdate, { args: [3] }), 3);
  const op = startOp(env.taskQueue, workflowId, 'USE_EXISTING');
  assert.equal(await env.client.workflow.executeUpdateWithStart(depositUpdate, { args: [4], startWorkflowOperation: op }), 7);
  assert.equal((await (await op.workflowHandle()).describe()).runId, first.firstExecutionRunId, 'the running run was used');
  // startUpdateWithStart: returns once the update is accepted; its result comes later.
  const op2 = startOp(env.taskQueue, workflowId, 'USE_EXISTING');
  const updateHandle = await env.client.workflow.startUpdateWithStart(depositUpdate, { args: [5], startWorkflowOperation: op2, waitForStage: WorkflowUpdateStage.ACCEPTED });
  assert.equal(updateHandle.workflowRunId, first.firstExecutionRunId);
  assert.equal(await updateHandle.result(), 12);
  assert.equal(await first.query(balanceQuery), 12);
  const events = (await first.fetchHistory()).events ?? [];
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED).length, 1);
  await first.signal(closeSignal);
  assert.equal(await first.result(), 12);
});

file.test('a running id with FAIL: WorkflowExecutionAlreadyStartedError, the update aborted, nothing changed', async (_t, env) => {
  const workflowId = uniqueName('uws-fail');
  const first = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId });
  assert.equal(await first.executeUpdate(depositUpdate, { args: [1] }), 1);
  const op = startOp(env.taskQueue, workflowId, 'FAIL');
  const err = await rejectionOf(env.client.workflow.executeUpdateWithStart(depositUpdate, { args: [100], startWorkflowOperation: op }), 'update-with-start under FAIL');
  assert.ok(err instanceof WorkflowExecutionAlreadyStartedError, `expected WorkflowExecutionAlreadyStartedError, got ${String(err)}`);
  assert.ok((await rejectionOf(op.workflowHandle(), 'the start operation')) instanceof WorkflowExecutionAlreadyStartedError);
  assert.equal(await first.query(balanceQuery), 1, 'the update was not applied');

  // The raw answer: ALREADY_EXISTS, with the start's status and the update aborted.
  const raw = await rejectionOf(
    env.connection.workflowService.executeMultiOperation({
      namespace: 'default',
      operations: [
        { startWorkflow: { namespace: 'default', workflowId, workflowType: { name: 'accountWorkflow' }, taskQueue: { name: env.taskQueue }, requestId: uniqueName('req'), workflowIdConflictPolicy: temporal.api.enums.v1.WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL } },
        { updateWorkflow: { namespace: 'default', workflowExecution: { workflowId }, request: { meta: { updateId: uniqueName('u') }, input: { name: 'deposit' } } } },
      ],
    }),
    'raw update-with-start under FAIL',
  );
  assert.equal((raw as { code?: number }).code, status.ALREADY_EXISTS);
  const statuses = operationStatuses(raw);
  assert.deepEqual(statuses.map((s) => s.code), [status.ALREADY_EXISTS, status.ABORTED]);
  assert.equal(statuses[0]?.details?.[0]?.type_url, 'type.googleapis.com/temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure');
  await first.signal(closeSignal);
  assert.equal(await first.result(), 1);
});

file.test('a running id with TERMINATE_EXISTING: the old run is terminated, a new run gets the update', async (_t, env) => {
  const workflowId = uniqueName('uws-terminate');
  const first = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId });
  assert.equal(await first.executeUpdate(depositUpdate, { args: [50] }), 50);
  const op = startOp(env.taskQueue, workflowId, 'TERMINATE_EXISTING');
  assert.equal(await env.client.workflow.executeUpdateWithStart(depositUpdate, { args: [2], startWorkflowOperation: op }), 2, 'the new run starts from zero');
  const second = await op.workflowHandle();
  assert.notEqual((await second.describe()).runId, first.firstExecutionRunId);
  assert.equal((await env.client.workflow.getHandle(workflowId, first.firstExecutionRunId).describe()).status.name, 'TERMINATED');
  await second.signal(closeSignal);
  assert.equal(await second.result(), 2);
});

file.test('bad requests: INVALID_ARGUMENT in the failing operation\'s position, nothing started', async (_t, env) => {
  const workflowId = uniqueName('uws-bad');
  const start = { namespace: 'default', workflowId, workflowType: { name: 'accountWorkflow' }, taskQueue: { name: env.taskQueue }, workflowIdConflictPolicy: temporal.api.enums.v1.WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING };
  const update = { namespace: 'default', workflowExecution: { workflowId }, request: { meta: { updateId: 'u' }, input: { name: 'deposit' } } };
  const call = (operations: temporal.api.workflowservice.v1.ExecuteMultiOperationRequest.IOperation[]) =>
    rejectionOf(env.connection.workflowService.executeMultiOperation({ namespace: 'default', operations }), 'a bad update-with-start');

  const otherId = await call([{ startWorkflow: start }, { updateWorkflow: { ...update, workflowExecution: { workflowId: 'someone-else' } } }]);
  assert.equal((otherId as { code?: number }).code, status.INVALID_ARGUMENT);
  assert.match(String((otherId as Error).message), /is not the started workflow's id/);
  assert.deepEqual(operationStatuses(otherId).map((s) => s.code), [status.ABORTED, status.INVALID_ARGUMENT]);

  const noPolicy = await call([{ startWorkflow: { ...start, workflowIdConflictPolicy: 0 } }, { updateWorkflow: update }]);
  assert.deepEqual(operationStatuses(noPolicy).map((s) => s.code), [status.INVALID_ARGUMENT, status.ABORTED]);
  assert.match(String((noPolicy as Error).message), /workflowIdConflictPolicy must be set/);

  const onlyStart = await call([{ startWorkflow: start }]);
  assert.equal((onlyStart as { code?: number }).code, status.INVALID_ARGUMENT);
  assert.match(String((onlyStart as Error).message), /exactly a startWorkflow then an updateWorkflow/);

  const described = await rejectionOf(env.client.workflow.getHandle(workflowId).describe(), 'describe of a workflow never started');
  assert.equal((described as Error).name, 'WorkflowNotFoundError');
});
