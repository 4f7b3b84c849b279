// Workflow retry policies: a failed run is retried as a new run (attempt + 1, after the backoff),
// and `handle.result()` follows the retries to the last run.
import assert from 'node:assert/strict';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { EventType, conformanceFile, eventsOfType, fetchRunChain, rejectionOf, toNumber, uniqueName, type ChainedRun, type HistoryEvent } from '../harness';
import { flakyWorkflow } from '../workflows';

const file = conformanceFile({ name: 'workflow-retry' });

function startedAttributes(run: ChainedRun) {
  const attrs = run.events[0]?.workflowExecutionStartedEventAttributes;
  assert.ok(attrs, `run ${run.runId} starts with WorkflowExecutionStarted`);
  return attrs;
}

function eventTimeMs(event: HistoryEvent | undefined): number {
  const t = event?.eventTime;
  return toNumber(t?.seconds) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}

file.test('a workflow failing on attempts 1 and 2 succeeds on attempt 3, and result() follows the retries', async (_t, env) => {
  const handle = await env.client.workflow.start(flakyWorkflow, {
    taskQueue: env.taskQueue,
    workflowId: uniqueName('flaky'),
    args: [3],
    retry: { maximumAttempts: 3, initialInterval: '200ms' },
  });
  assert.equal(await handle.result(), 'succeeded on attempt 3');

  const chain = await fetchRunChain(env.client, handle.workflowId, handle.firstExecutionRunId, { requireClosed: true });
  assert.equal(chain.length, 3, 'one run per attempt');
  assert.deepEqual(chain.map((run) => startedAttributes(run).attempt), [1, 2, 3]);
  for (const [i, run] of chain.slice(0, 2).entries()) {
    const failed = eventsOfType(run.events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)[0];
    assert.match(String(failed?.workflowExecutionFailedEventAttributes?.failure?.message), new RegExp(`attempt ${i + 1} failed on purpose`));
    assert.equal(startedAttributes(chain[i + 1]!).continuedExecutionRunId, run.runId, 'each retry names the run it retries');
    // initialInterval 200 ms, coefficient 2: the retry's first workflow task waits 200 ms, then 400 ms.
    const firstTask = eventsOfType(chain[i + 1]!.events, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)[0];
    const backoff = eventTimeMs(firstTask) - eventTimeMs(run.events[run.events.length - 1]);
    assert.ok(backoff >= 150 * 2 ** i, `retry ${i + 1} waited for its backoff (${backoff} ms)`);
  }
  assert.equal(startedAttributes(chain[2]!).firstExecutionRunId, handle.firstExecutionRunId, 'all attempts share the first run id');
  assert.equal(eventsOfType(chain[2]!.events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED).length, 1);
  assert.equal((await env.client.workflow.getHandle(handle.workflowId).describe()).status.name, 'COMPLETED');
});

file.test('when the attempts run out, result() rejects with the last attempt\'s failure', async (_t, env) => {
  const handle = await env.client.workflow.start(flakyWorkflow, {
    taskQueue: env.taskQueue,
    workflowId: uniqueName('flaky'),
    args: [10],
    retry: { maximumAttempts: 3, initialInterval: '200ms' },
  });
  const err = await rejectionOf(handle.result(), 'a workflow that never succeeds');
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  assert.ok(err.cause instanceof ApplicationFailure, `cause: ${String(err.cause)}`);
  assert.equal(err.cause.message, 'workflow attempt 3 failed on purpose');
  const chain = await fetchRunChain(env.client, handle.workflowId, handle.firstExecutionRunId, { requireClosed: true });
  assert.equal(chain.length, 3, 'exactly maximumAttempts runs');
  const last = eventsOfType(chain[2]!.events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)[0];
  assert.ok(last, 'the last attempt failed');
  assert.ok(!last.workflowExecutionFailedEventAttributes?.newExecutionRunId, 'and names no further run');
  assert.equal((await env.client.workflow.getHandle(handle.workflowId).describe()).status.name, 'FAILED');
});
