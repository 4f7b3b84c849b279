// Cron schedules: `@every 1s` starts a new run (new run id, linked from the previous run's close
// event) on schedule, until the workflow is terminated.
import assert from 'node:assert/strict';
import { conformanceFile, eventually, fetchRunChain, uniqueName } from '../harness';
import { cronWorkflow } from '../workflows';

const file = conformanceFile({ name: 'cron' });

file.test('a cron workflow runs on schedule, each run a new run id, until terminated', async (_t, env) => {
  const workflowId = uniqueName('cron');
  const handle = await env.client.workflow.start(cronWorkflow, { taskQueue: env.taskQueue, workflowId, cronSchedule: '@every 1s' });
  // Each run records its own run id through an activity.
  const completed = (): { runId: string; startedAt: number }[] =>
    env.recorder.forWorkflow(workflowId).filter((i) => i.outcome === 'completed');
  await eventually(() => completed().length >= 3, { timeoutMs: 15_000, description: 'three cron runs' });
  const firstThree = completed().slice(0, 3);
  assert.equal(new Set(firstThree.map((r) => r.runId)).size, 3, 'every run has its own run id');
  const span = firstThree[2]!.startedAt - firstThree[0]!.startedAt;
  assert.ok(span >= 900, `runs follow the 1 s schedule, not a tight loop (3 runs within ${span} ms)`);

  const latest = env.client.workflow.getHandle(workflowId);
  await latest.terminate('enough');
  const terminated = await latest.describe();
  assert.equal(terminated.status.name, 'TERMINATED');

  // Long enough for two more scheduled runs, had the chain not stopped.
  await new Promise((r) => setTimeout(r, 2500));
  const after = await latest.describe();
  assert.equal(after.runId, terminated.runId, 'no run started after the termination');
  assert.equal(after.status.name, 'TERMINATED');

  const chain = await fetchRunChain(env.client, workflowId, handle.firstExecutionRunId, { requireClosed: true });
  const chainIds = chain.map((r) => r.runId);
  assert.equal(chainIds[chainIds.length - 1], terminated.runId, 'the chain ends with the terminated run');
  assert.ok(chain.length >= 3, `the chain links every run (${chain.length} runs)`);
  for (const { runId } of completed()) assert.ok(chainIds.includes(runId), `run ${runId} is in the chain`);
  assert.deepEqual(
    firstThree.map((r) => r.runId),
    chainIds.filter((id) => firstThree.some((r) => r.runId === id)),
    'the chain is in the order the runs happened',
  );
});
