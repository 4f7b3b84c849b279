// An entity workflow: a cart that takes 100 signals (in concurrent bursts, straight through its
// continue-as-new boundaries), answers queries with its state, and carries that state from run to run.
import assert from 'node:assert/strict';
import { EventType, conformanceFile, eventually, eventsOfType, fetchRunChain, signalArgs, uniqueName } from '../harness';
import { addItemSignal, cartStateQuery, cartWorkflow } from '../workflows';

const file = conformanceFile({ name: 'entity' });

file.test('a cart takes 100 signals across continue-as-new runs without losing or repeating one', async (_t, env) => {
  const workflowId = uniqueName('cart');
  const handle = await env.client.workflow.start(cartWorkflow, { taskQueue: env.taskQueue, workflowId, args: [100, 50] });
  // Signals and queries go to the workflow id, i.e. whichever run is current.
  const latest = env.client.workflow.getHandle(workflowId);
  let expectedSum = 0;
  const sendBurst = async (from: number): Promise<void> => {
    const values = Array.from({ length: 10 }, (_, i) => from + i);
    expectedSum += values.reduce((a, b) => a + b, 0);
    await Promise.all(values.map((v) => latest.signal(addItemSignal, v)));
  };

  for (let burst = 0; burst < 3; burst++) await sendBurst(burst * 10 + 1);
  assert.deepEqual(await latest.query(cartStateQuery), { items: 30, sum: expectedSum, runs: 1 }, 'mid-run, the query sees every signal sent so far');
  // No waiting at the boundary: signals 51+ race the first run's continue-as-new (a workflow task
  // that continues as new while new signals wait must fail, and the next one sees them).
  for (let burst = 3; burst < 7; burst++) await sendBurst(burst * 10 + 1);
  // With 70 items (< 100) and >= 50 taken in this run, the first run must now continue as new.
  await eventually(async () => (await latest.describe()).runId !== handle.firstExecutionRunId, { timeoutMs: 15_000, description: 'the first run continued as new' });
  const midway = await latest.query(cartStateQuery);
  assert.deepEqual(midway, { items: 70, sum: expectedSum, runs: 2 }, 'the new run carried the state over, and no signal was lost at the boundary');
  for (let burst = 7; burst < 10; burst++) await sendBurst(burst * 10 + 1);

  const result = await handle.result();
  assert.equal(result.items, 100);
  assert.equal(result.sum, expectedSum, 'every signal counted exactly once');

  const chain = await fetchRunChain(env.client, workflowId, handle.firstExecutionRunId, { requireClosed: true });
  assert.ok(chain.length >= 2, `continued as new at least once (${chain.length} runs)`);
  assert.equal(result.runs, chain.length, 'result() followed the chain to its last run');
  assert.equal((await latest.describe()).runId, chain[chain.length - 1]!.runId, 'the last run of the chain is the current one');
  for (const run of chain.slice(0, -1)) {
    assert.equal(eventsOfType(run.events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW).length, 1, `run ${run.runId} continued as new`);
  }
  assert.equal(eventsOfType(chain[chain.length - 1]!.events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED).length, 1);
  // Each signal is in exactly one run's history: none dropped at a boundary, none written twice.
  const delivered = chain.flatMap((run) => signalArgs(run.events, 'addItem').map((args) => args[0] as number));
  assert.deepEqual([...delivered].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i + 1));

  assert.deepEqual(await latest.query(cartStateQuery), result, 'the closed last run is queried by replay');
});
