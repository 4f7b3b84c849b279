import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cancellableCall, matchingFixture, pollersWaiting, pollRequest, storedBacklog, workflowTask } from './testing/fixture';

test('long poll: a poll answers null when its caller aborts, and is never given a task afterwards', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  const call = cancellableCall();
  const poll = f.engine.pollWorkflowTaskQueue(pollRequest(), call);
  await pollersWaiting(f, 1);
  call.cancel();
  assert.equal(await poll, null);

  await f.engine.addWorkflowTask(workflowTask(3));
  assert.equal(f.starter.calls.length, 0);
  assert.deepEqual(await storedBacklog(f), ['wf-3'], 'the task waits in the backlog');
});

test('long poll: a poll aborted before it reached the queue answers null and leaves the backlog alone', async (t) => {
  const f = await matchingFixture();
  t.after(() => f.close());
  await f.engine.addWorkflowTask(workflowTask(3));
  const call = cancellableCall();
  call.cancel();
  assert.equal(await f.engine.pollWorkflowTaskQueue(pollRequest(), call), null);
  assert.equal(f.starter.calls.length, 0);
  assert.deepEqual(await storedBacklog(f), ['wf-3']);
});
