// Temporal's per-run limits as the official SDK meets them (lowered for this server through its
// settings so the runs stay short): the pending-activity cap fails the workflow task with its
// cause; a history past its count limit is terminated with Temporal's reason; workflowInfo()
// reports continueAsNewSuggested from the threshold on; and Temporal's own mutex pattern uses
// that to continue as new instead of growing forever.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { TerminatedFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EventType, conformanceFile, eventually, eventsOfType, fetchEvents, uniqueName } from '../harness';
import { endlessActivities, fanOutActivities, lockRequestSignal, lockStateQuery, lockWorkflow, untilContinueAsNewSuggested } from '../workflows';

const PENDING_ACTIVITIES = 20;
const HISTORY_COUNT = 300;
const SUGGEST_AT = 60;

const file = conformanceFile({
  name: 'limits',
  server: {
    settings: {
      'limit.numPendingActivities.error': [{ value: PENDING_ACTIVITIES }],
      'limit.historyCount.error': [{ value: HISTORY_COUNT }],
      'limit.historyCount.suggestContinueAsNew': [{ value: SUGGEST_AT }],
    },
  },
});

file.test('up to the pending-activity cap runs; one more fails the workflow task with PENDING_ACTIVITIES_LIMIT_EXCEEDED', async (_t, env) => {
  assert.equal(await env.client.workflow.execute(fanOutActivities, { taskQueue: env.taskQueue, workflowId: uniqueName('fan-ok'), args: [PENDING_ACTIVITIES] }), PENDING_ACTIVITIES);
  const handle = await env.client.workflow.start(fanOutActivities, { taskQueue: env.taskQueue, workflowId: uniqueName('fan-over'), args: [PENDING_ACTIVITIES + 1] });
  const failed = await eventually(
    async () => eventsOfType(await fetchEvents(handle), EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)[0],
    { description: 'a failed workflow task', timeoutMs: 20_000 },
  );
  const attrs = failed.workflowTaskFailedEventAttributes;
  assert.equal(attrs?.cause, temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED);
  assert.match(attrs?.failure?.message ?? '', new RegExp(`already has ${PENDING_ACTIVITIES} pending activities`));
  assert.equal(eventsOfType(await fetchEvents(handle), EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length, 0, 'none of the completion was written');
  await handle.terminate('test done');
});

file.test('a history past its count limit is terminated with Temporal’s reason, and result() says so', async (_t, env) => {
  const handle = await env.client.workflow.start(endlessActivities, { taskQueue: env.taskQueue, workflowId: uniqueName('endless') });
  const err = await handle.result().then(
    () => assert.fail('an endless workflow returned'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, `a WorkflowFailedError, got ${String(err)}`);
  assert.ok(err.cause instanceof TerminatedFailure, `terminated, got ${String(err.cause)}`);
  const events = await fetchEvents(handle);
  const terminated = events.at(-1)?.workflowExecutionTerminatedEventAttributes;
  assert.equal(terminated?.reason, 'Workflow history count exceeds limit.');
  assert.equal(terminated?.identity, 'history-service');
  assert.ok(events.length <= HISTORY_COUNT + 2, `stopped at the limit (${events.length} events)`);
  assert.equal((await handle.describe()).status.name, 'TERMINATED');
});

file.test('workflowInfo().continueAsNewSuggested turns true from the threshold on', async (_t, env) => {
  const result = await env.client.workflow.execute(untilContinueAsNewSuggested, { taskQueue: env.taskQueue, workflowId: uniqueName('suggest'), args: [200] });
  assert.equal(result.suggested, true);
  assert.ok(result.historyLength >= SUGGEST_AT && result.historyLength < SUGGEST_AT + 10, `suggested at the threshold (history ${result.historyLength})`);
});

file.test('Temporal’s mutex pattern continues as new when suggested and serves every request across runs', async (_t, env) => {
  const handle = await env.client.workflow.start(lockWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('mutex') });
  const clients = Array.from({ length: 40 }, (_, i) => `client-${i}`);
  for (const clientId of clients) await handle.signal(lockRequestSignal, clientId);
  const state = await eventually(
    async () => {
      const s = await env.client.workflow.getHandle(handle.workflowId).query(lockStateQuery);
      return s.granted.length === clients.length ? s : undefined;
    },
    { description: 'every lock request granted', timeoutMs: 60_000 },
  );
  assert.deepEqual(state.granted, clients, 'granted once each, in order');
  assert.ok(state.runs > 1, `the lock continued as new (${state.runs} runs)`);
  const first = await fetchEvents(env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId));
  assert.ok(first.length < HISTORY_COUNT, `the first run stayed small (${first.length} events)`);
  assert.ok(first.at(-1)?.workflowExecutionContinuedAsNewEventAttributes, 'the first run continued as new');
  await env.client.workflow.getHandle(handle.workflowId).terminate('test done');
});
