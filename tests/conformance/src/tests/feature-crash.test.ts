// The feature set survives a server SIGKILL: an entity workflow taking signals (and continuing as
// new), children in flight and an update are all exact after a restart on the same store.
import assert from 'node:assert/strict';
import { assertContiguousHistory, conformanceFile, eventually, fetchRunChain, signalArgs, uniqueName } from '../harness';
import { accountWorkflow, addItemSignal, cartStateQuery, cartWorkflow, closeSignal, depositUpdate, fanOutWorkflow } from '../workflows';

const file = conformanceFile({ name: 'feature-crash' });

file.test('signals, continue-as-new, children and updates survive SIGKILL + restart', async (_t, env) => {
  const cartId = uniqueName('crash-cart');
  const cart = await env.client.workflow.start(cartWorkflow, { taskQueue: env.taskQueue, workflowId: cartId, args: [60, 25] });
  const account = await env.client.workflow.start(accountWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('crash-account') });
  const latestCart = env.client.workflow.getHandle(cartId);
  let sum = 0;
  const signal = async (v: number): Promise<void> => {
    sum += v;
    await latestCart.signal(addItemSignal, v);
  };
  for (let v = 1; v <= 30; v++) await signal(v);
  assert.equal(await account.executeUpdate(depositUpdate, { args: [7] }), 7);
  const fanOut = await env.client.workflow.start(fanOutWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('crash-fan-out'), args: [20] });

  // Kill at an arbitrary point while signals, children and tasks are in flight.
  await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 200)));
  await env.server.kill();
  await env.server.restart();

  // Signals acknowledged before the kill were persisted; keep sending after the restart.
  await eventually(async () => (await latestCart.query(cartStateQuery)).items >= 30, { timeoutMs: 30_000 });
  for (let v = 31; v <= 60; v++) await signal(v);
  const final = await cart.result();
  assert.equal(final.items, 60, 'no signal lost, none counted twice');
  assert.equal(final.sum, sum);
  assert.ok(final.runs >= 2);
  await assertContiguousHistory(latestCart);

  assert.equal(await fanOut.result(), 2 * ((20 * 21) / 2), 'every child finished and reported once');
  await assertContiguousHistory(fanOut);

  assert.equal(await account.executeUpdate(depositUpdate, { args: [3] }), 10, 'the update accepted before the kill was kept');
  await account.signal(closeSignal);
  assert.equal(await account.result(), 10);
  await assertContiguousHistory(account);
}, { timeoutMs: 120_000 });

file.test('a cart killed mid-signals (SIGKILL with signals in flight) still counts every signal exactly once', async (_t, env) => {
  const workflowId = uniqueName('crash-entity');
  const handle = await env.client.workflow.start(cartWorkflow, { taskQueue: env.taskQueue, workflowId, args: [100, 50] });
  const latest = env.client.workflow.getHandle(workflowId);
  const burst = (from: number): Promise<unknown> =>
    Promise.all(Array.from({ length: 10 }, (_, i) => latest.signal(addItemSignal, from + i)));
  for (let b = 0; b < 3; b++) await burst(b * 10 + 1);

  // Kill while signals 31..40 are on the wire: some are committed, some not, some committed without
  // their answer reaching the client. The client retries the unanswered ones (same request id) once
  // the server is back; the run must apply each exactly once. The burst stays inside the first run
  // (it continues as new at 50): like Temporal, Hourglass remembers request ids per run, so a retry
  // whose first attempt landed in a run that has since continued as new is a new signal to the next run.
  const inFlight = burst(31);
  await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 30)));
  await env.server.kill();
  await env.server.restart();
  await inFlight;

  const signalsPerRun = async (): Promise<number[][]> => {
    const chain = await fetchRunChain(env.client, workflowId, handle.firstExecutionRunId);
    return chain.map((run) => signalArgs(run.events, 'addItem').map((args) => args[0] as number));
  };
  const describeRuns = async (): Promise<string> =>
    (await signalsPerRun()).map((values, i) => `run ${i + 1}: [${values.join(',')}]`).join('; ');
  const afterRestart = await eventually(
    async () => {
      const state = await latest.query(cartStateQuery);
      if (state.items < 40) throw new Error(`the cart holds ${state.items} items; signals in history: ${await describeRuns()}`);
      return state;
    },
    { timeoutMs: 30_000, description: '40 signals counted after the restart' },
  );
  assert.deepEqual(afterRestart, { items: 40, sum: (40 * 41) / 2, runs: 1 }, `signals in history: ${await describeRuns()}`);
  // 41..70 race the continue-as-new at 50; once it happened, the rest goes to the new run.
  for (let b = 4; b < 7; b++) await burst(b * 10 + 1);
  await eventually(async () => (await latest.describe()).runId !== handle.firstExecutionRunId, { timeoutMs: 15_000, description: 'the first run continued as new' });
  for (let b = 7; b < 10; b++) await burst(b * 10 + 1);
  const final = await handle.result();
  assert.equal(final.items, 100, 'no signal lost, none counted twice');
  assert.equal(final.sum, (100 * 101) / 2);
  const chain = await fetchRunChain(env.client, workflowId, handle.firstExecutionRunId, { requireClosed: true });
  assert.ok(chain.length >= 2, `continued as new (${chain.length} runs)`);
  assert.equal(final.runs, chain.length, 'the state carried the run count through the chain');
  const delivered = (await signalsPerRun()).flat().sort((a, b) => a - b);
  assert.deepEqual(delivered, Array.from({ length: 100 }, (_, i) => i + 1), `each signal is in history exactly once (${await describeRuns()})`);
}, { timeoutMs: 90_000 });
