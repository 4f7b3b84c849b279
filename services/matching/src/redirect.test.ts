import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotFoundError, UnavailableError } from '@hourglass/common';
import { matchingFixture, pollRequest, queueKey, storedBacklog, storedBacklogAll, workflowTask, NAMESPACE_ID, TASK_QUEUE } from './testing/fixture';

test('redirect: a queue hands the backlog of every partition back to history; stale tasks are dropped, failed ones stay for its pollers', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  for (const id of [1, 2, 3]) await f.engine.addWorkflowTask(workflowTask(id));
  assert.deepEqual(await storedBacklog(f, queueKey()), ['wf-1'], 'adds spread over the partitions');
  assert.deepEqual(await storedBacklogAll(f), ['wf-1', 'wf-2', 'wf-3']);
  f.starter.failNext('redispatchTask', new NotFoundError('workflow task not found'));
  f.starter.failNext('redispatchTask', new UnavailableError('history is busy'));

  const moved = await f.engine.redirectBacklog({ namespaceId: NAMESPACE_ID, taskQueueName: TASK_QUEUE, type: 'workflow' });
  assert.equal(moved, 1);
  assert.deepEqual(
    f.starter.callsOf('redispatchTask').map((c) => (c.request as { task: { workflowId: string } }).task.workflowId),
    ['wf-1', 'wf-2', 'wf-3'],
  );
  // wf-1 was stale (dropped), wf-3 went back to history; wf-2 failed and stays, served to the next poller.
  assert.deepEqual(await storedBacklogAll(f), ['wf-2']);
  assert.deepEqual(await storedBacklog(f, queueKey({ partition: 1 })), ['wf-2'], 'in its partition');
  const polled = await f.engine.pollWorkflowTaskQueue(pollRequest(), { deadline: 0 });
  assert.equal(polled?.workflowExecution?.workflowId, 'wf-2');
});
