// A memo key and a search attribute that a workflow unset stay unset in a run reset to a point
// after the unset: the reset rebuilds state with the same apply function as the forward path
// (which once diverged, bringing unset keys back as empty values).
import assert from 'node:assert/strict';
import { EventType, NAMESPACE, conformanceFile, eventually, eventsOfType, fetchEvents, uniqueName } from '../harness';
import { doneSignal, propertiesSetThenUnset } from '../workflows';

const file = conformanceFile({ name: 'reset-properties' });

file.test('memo keys and search attributes unset by a workflow stay unset after a reset', async (_t, env) => {
  const workflowId = uniqueName('properties');
  const handle = await env.client.workflow.start(propertiesSetThenUnset, { taskQueue: env.taskQueue, workflowId });
  // Three workflow tasks: set, unset, then waiting for the signal.
  const completed = await eventually(
    async () => {
      const tasks = eventsOfType(await fetchEvents(handle), EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
      return tasks.length >= 3 ? tasks : undefined;
    },
    { description: 'the third workflow task completed', timeoutMs: 20_000 },
  );
  const keys = async (runId: string) => {
    const { workflowExecutionInfo: info } = await env.connection.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId, runId } });
    return { memo: Object.keys(info?.memo?.fields ?? {}).sort(), searchAttributes: Object.keys(info?.searchAttributes?.indexedFields ?? {}).sort() };
  };
  const before = await keys(handle.firstExecutionRunId);
  assert.deepEqual(before, { memo: ['keep'], searchAttributes: ['CustomKeywordField'] }, 'the forward path unset them');

  const { runId: newRunId } = await env.client.workflowService.resetWorkflowExecution({
    namespace: NAMESPACE,
    workflowExecution: { workflowId, runId: handle.firstExecutionRunId },
    reason: 'check properties',
    workflowTaskFinishEventId: completed[2]?.eventId,
    requestId: uniqueName('reset-request'),
  });
  assert.ok(newRunId);
  assert.deepEqual(await keys(newRunId), { memo: ['keep'], searchAttributes: ['CustomKeywordField'] }, 'the reset run has them unset too');
  const resetRun = env.client.workflow.getHandle(workflowId, newRunId);
  await resetRun.signal(doneSignal);
  await resetRun.result();
  assert.deepEqual(await keys(newRunId), { memo: ['keep'], searchAttributes: ['CustomKeywordField'] }, 'and still after it completed');
});
