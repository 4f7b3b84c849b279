// The feature set survives a server SIGKILL: an entity workflow taking signals (and continuing as
// new), children in flight and an update are all exact after a restart on the same store.
import assert from 'node:assert/strict';
import { assertContiguousHistory, conformanceFile, eventually, uniqueName } from '../harness';
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
