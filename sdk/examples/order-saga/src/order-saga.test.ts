/**
 * Testing the order saga offline with Hourglass's TestEnvironment: an embedded server in this
 * process, time skipping on, real activities over fake services (or stubs).
 *
 *   node --test sdk/examples/order-saga/dist
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { isApplicationFailure } from '@hourglass/sdk';
import { TestEnvironment } from '@hourglass/testing';
import { createActivities, DECLINED_CARD, FakeServices } from './activities';
import { approveSignal, orderSaga, statusQuery, type Order } from './workflows';

let env: TestEnvironment;
let workflowBundle: WorkflowBundleWithSourceMap;
let n = 0;

before(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  [env, workflowBundle] = await Promise.all([
    TestEnvironment.create(),
    bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('ERROR') }),
  ]);
});
after(() => env?.teardown());

function order(card = '4242-4242-4242-4242'): Order {
  n++;
  return { orderId: `test-order-${n}`, lines: [{ sku: 'grinder', quantity: 2 }], amountCents: 19_800, card, address: 'somewhere' };
}

test('an order nobody approves is cancelled after 7 days — in milliseconds — and its reservation released', async () => {
  const services = new FakeServices();
  const taskQueue = `orders-${n}`;
  const worker = await env.createWorker({ taskQueue, workflowBundle, activities: createActivities(services) });
  const o = order();
  const started = env.currentTime().getTime();
  const result = await worker.runUntil(env.client.workflow.execute(orderSaga, { taskQueue, workflowId: o.orderId, args: [o] }));
  assert.deepEqual(result, { orderId: o.orderId, state: 'cancelled', reason: 'not approved in time' });
  assert.ok(env.currentTime().getTime() - started >= 7 * 86_400_000, 'a week of virtual time passed');
  assert.equal(services.stock.get('grinder'), 5);
  assert.match(services.journal.at(-1) ?? '', /^inventory: released /);
});

test('an approved order is charged and shipped (time skipping held while the test signals)', async () => {
  const services = new FakeServices();
  const taskQueue = `orders-${n}`;
  const worker = await env.createWorker({ taskQueue, workflowBundle, activities: createActivities(services) });
  const o = order();
  const result = await worker.runUntil(async () => {
    env.lockTimeSkipping(); // otherwise the 7-day approval timer would be skipped to before we signal
    try {
      const handle = await env.client.workflow.start(orderSaga, { taskQueue, workflowId: o.orderId, args: [o] });
      while ((await handle.query(statusQuery)).state !== 'awaiting-approval') await new Promise((r) => setTimeout(r, 20));
      await handle.signal(approveSignal, 'carol');
      return await handle.result();
    } finally {
      env.unlockTimeSkipping();
    }
  });
  assert.equal(result.state, 'completed');
  assert.equal(services.stock.get('grinder'), 3);
  assert.equal(services.payments.size, 1);
});

test('a declined card fails the order and releases the reservation (stub activities)', async () => {
  const calls: string[] = [];
  const taskQueue = `orders-${n}`;
  const real = createActivities();
  const worker = await env.createWorker({
    taskQueue,
    workflowBundle,
    activities: {
      ...real,
      reserveInventory: async () => (calls.push('reserve'), 'stub-reservation'),
      releaseInventory: async (id: string) => void calls.push(`release ${id}`),
    },
  });
  const o = order(DECLINED_CARD);
  const err = await worker.runUntil(
    env.client.workflow.signalWithStart(orderSaga, { taskQueue, workflowId: o.orderId, args: [o], signal: approveSignal, signalArgs: ['dave'] }).then((h) => h.result().then(() => undefined, (e: unknown) => e)),
  );
  assert.ok(isApplicationFailure(err, 'CardDeclined'));
  assert.deepEqual(calls, ['reserve', 'release stub-reservation']);
});
