// Signals and queries: an entity workflow that continues-as-new, an approval with a timeout, and
// queries answered by a live worker, by replay of a closed run, or rejected.
import assert from 'node:assert/strict';
import { QueryNotRegisteredError, QueryRejectedError, WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { EventType, assertContiguousHistory, conformanceFile, eventually, eventsOfType, fetchEvents, rejectionOf, uniqueName } from '../harness';
import { accountWorkflow, addItemSignal, approvalWorkflow, approveSignal, balanceQuery, cartStateQuery, cartWorkflow, closeSignal, depositUpdate } from '../workflows';

const file = conformanceFile({ name: 'signals' });

file.test('an entity workflow takes 100 signals across continue-as-new runs without losing one', async (_t, env) => {
  const workflowId = uniqueName('cart');
  const handle = await env.client.workflow.start(cartWorkflow, { taskQueue: env.taskQueue, workflowId, args: [100, 50] });
  const firstRunId = handle.firstExecutionRunId;
  const latest = env.client.workflow.getHandle(workflowId);
  let expectedSum = 0;
  const sendBurst = async (from: number): Promise<void> => {
    const values = Array.from({ length: 10 }, (_, i) => from + i);
    expectedSum += values.reduce((a, b) => a + b, 0);
    await Promise.all(values.map((v) => latest.signal(addItemSignal, v)));
  };
  for (let burst = 0; burst < 5; burst++) await sendBurst(burst * 10 + 1);
  assert.equal((await latest.query(cartStateQuery)).items, 50, 'the query sees every signal sent so far');
  // The 50th signal makes the run continue as new; wait for the new run before sending more.
  await eventually(async () => (await latest.describe()).runId !== firstRunId, { timeoutMs: 15_000 });
  for (let burst = 5; burst < 10; burst++) await sendBurst(burst * 10 + 1);
  const result = await handle.result();
  assert.equal(result.items, 100);
  assert.equal(result.sum, expectedSum, 'every signal counted exactly once');
  assert.ok(result.runs >= 2, `continued as new at least once (runs: ${result.runs})`);
  const first = await assertContiguousHistory(env.client.workflow.getHandle(workflowId, firstRunId));
  assert.equal(eventsOfType(first, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW).length, 1, 'the first run continued as new');
  const last = await assertContiguousHistory(latest);
  assert.equal(eventsOfType(last, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED).length, 1);
  assert.deepEqual(await latest.query(cartStateQuery), result, 'a closed run is queried by replay');
});

file.test('an approval workflow completes on the signal, or on its timer when none comes', async (_t, env) => {
  const approved = await env.client.workflow.start(approvalWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('approve'), args: [5000] });
  await approved.signal(approveSignal, 'ops-lead');
  assert.equal(await approved.result(), 'approved by ops-lead');

  const t0 = Date.now();
  const timedOut = await env.client.workflow.start(approvalWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('approve'), args: [1500] });
  assert.equal(await timedOut.result(), 'timed out');
  assert.ok(Date.now() - t0 >= 1400, 'waited for its timer');
  const events = await assertContiguousHistory(timedOut);
  assert.equal(eventsOfType(events, EventType.EVENT_TYPE_TIMER_FIRED).length, 1);
  await assertContiguousHistory(approved);
});

file.test('queries: live answer, unknown type, closed workflow with a reject condition', async (_t, env) => {
  const handle = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('account') });
  assert.equal(await handle.query(balanceQuery), 0);
  await handle.executeUpdate(depositUpdate, { args: [25] });
  assert.equal(await handle.query(balanceQuery), 25);
  const unknown = await rejectionOf(handle.query('noSuchQuery'), 'an unknown query');
  assert.ok(unknown instanceof QueryNotRegisteredError, `expected QueryNotRegisteredError, got ${String(unknown)}`);
  assert.match((unknown as Error).message, /noSuchQuery/);
  await handle.signal(closeSignal);
  assert.equal(await handle.result(), 25);
  assert.equal(await handle.query(balanceQuery), 25, 'closed workflows answer by replay');
  const rejected = await env.client.workflowService.queryWorkflow({
    namespace: 'default',
    execution: { workflowId: handle.workflowId },
    query: { queryType: 'balance' },
    queryRejectCondition: temporal.api.enums.v1.QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN,
  });
  assert.equal(rejected.queryRejected?.status, temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED, 'NOT_OPEN rejects a closed run');
  const rejectedByClient = await rejectionOf(
    (async () => {
      const { Client } = await import('@temporalio/client');
      const strict = new Client({ connection: env.connection, workflow: { queryRejectCondition: 'NOT_OPEN' } });
      return strict.workflow.getHandle(handle.workflowId).query(balanceQuery);
    })(),
    'a client with queryRejectCondition NOT_OPEN',
  );
  assert.ok(rejectedByClient instanceof QueryRejectedError, `expected QueryRejectedError, got ${String(rejectedByClient)}`);
  await assertContiguousHistory(handle);
});

file.test('a query nobody can answer fails with a clear error instead of hanging', async (_t, env) => {
  const workflowId = uniqueName('no-worker');
  await env.client.workflow.start(accountWorkflow, { taskQueue: uniqueName('queue-without-workers'), workflowId });
  const t0 = Date.now();
  const err = await rejectionOf(
    env.connection.withDeadline(Date.now() + 5000, () => env.client.workflow.getHandle(workflowId).query(balanceQuery)),
    'a query with no worker',
  );
  assert.ok(Date.now() - t0 < 20_000);
  const text = `${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`;
  assert.match(text, /no worker answered the query|DEADLINE_EXCEEDED|deadline/i);
  await env.client.workflow.getHandle(workflowId).terminate('done');
  const missing = await rejectionOf(env.client.workflow.getHandle(uniqueName('nope')).query(balanceQuery), 'query of an unknown workflow');
  assert.ok(missing instanceof WorkflowNotFoundError, `expected WorkflowNotFoundError, got ${String(missing)}`);
  assert.ok((await fetchEvents(env.client.workflow.getHandle(workflowId))).length > 0);
});
