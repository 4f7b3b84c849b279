/**
 * Runs the order saga against Hourglass: a worker for the `order-saga-example` task queue and three
 * orders — one approved and shipped, one cancelled by a signal, one whose card is declined — then
 * checks that the compensations left stock and payments as they should be.
 *
 *   HOURGLASS_ADDRESS=127.0.0.1:7233 node sdk/examples/order-saga/dist/run.js
 */
import { randomUUID } from 'node:crypto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { connect, isApplicationFailure, rootCause } from '@hourglass/sdk';
import { createActivities, DECLINED_CARD, FakeServices } from './activities';
import { approveSignal, cancelSignal, orderSaga, statusQuery, type Order, type OrderState } from './workflows';

const TASK_QUEUE = 'order-saga-example';

/** Polls the `status` query until the order reaches `state`. */
async function waitForState(handle: WorkflowHandle<typeof orderSaga>, state: OrderState, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await handle.query(statusQuery);
    if (status.state === state) return;
    if (Date.now() > deadline) throw new Error(`order ${handle.workflowId} is ${status.state}, not ${state}, after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function newOrder(card: string): Order {
  return {
    orderId: `order-${randomUUID().slice(0, 8)}`,
    lines: [
      { sku: 'espresso-machine', quantity: 1 },
      { sku: 'beans-1kg', quantity: 2 },
    ],
    amountCents: 64_900,
    card,
    address: '1 Infinite Loop, Cupertino',
  };
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
  console.log(`  ✓ ${what}`);
}

async function main(): Promise<void> {
  // ERROR, not WARN: the declined card below is expected, and the worker logs every failed activity at WARN.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const hg = await connect(); // HOURGLASS_*, else TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_PROFILE, else 127.0.0.1:7233
  console.log(`connected to Hourglass at ${hg.address}, namespace ${hg.namespace}`);
  const services = new FakeServices();
  const worker = await Worker.create({
    connection: hg.nativeConnection,
    namespace: hg.namespace,
    taskQueue: TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities: createActivities(services, (line) => console.log(`    ${line}`)),
  });
  try {
    await worker.runUntil(async () => {
      console.log('\n1) an order that is approved: reserved → approved → charged → shipped');
      const approved = newOrder('4242-4242-4242-4242');
      const h1 = await hg.client.workflow.start(orderSaga, { taskQueue: TASK_QUEUE, workflowId: approved.orderId, args: [approved] });
      await waitForState(h1, 'awaiting-approval');
      console.log(`  status: ${JSON.stringify(await h1.query(statusQuery))}`);
      await h1.signal(approveSignal, 'alice');
      const r1 = await h1.result();
      console.log(`  result: ${JSON.stringify(r1)}`);
      check(r1.state === 'completed' && r1.trackingId !== undefined, 'the approved order completed with a tracking id');

      console.log('\n2) an order cancelled while awaiting approval: the reservation is released');
      const cancelled = newOrder('4242-4242-4242-4242');
      const h2 = await hg.client.workflow.start(orderSaga, { taskQueue: TASK_QUEUE, workflowId: cancelled.orderId, args: [cancelled] });
      await waitForState(h2, 'awaiting-approval');
      await h2.signal(cancelSignal, 'customer changed their mind');
      const r2 = await h2.result();
      console.log(`  result: ${JSON.stringify(r2)}`);
      check(r2.state === 'cancelled' && r2.reason === 'customer changed their mind', 'the cancelled order says why');

      console.log('\n3) an approved order whose card is declined: the workflow fails, the reservation is released');
      const declined = newOrder(DECLINED_CARD);
      const h3 = await hg.client.workflow.start(orderSaga, { taskQueue: TASK_QUEUE, workflowId: declined.orderId, args: [declined] });
      await waitForState(h3, 'awaiting-approval');
      await h3.signal(approveSignal, 'bob');
      try {
        await h3.result();
        check(false, 'the declined order failed');
      } catch (err) {
        console.log(`  failed: ${(rootCause(err) as Error).message}`);
        check(isApplicationFailure(err, 'CardDeclined'), 'the failure is an ApplicationFailure of type CardDeclined');
      }
      const s3 = await h3.query(statusQuery); // queries work on closed workflows too
      console.log(`  status: ${JSON.stringify(s3)}`);
      check(s3.state === 'failed' && s3.done.join() === 'reserved', 'only the reservation had been made, and it was undone');
    });
  } finally {
    await hg.close();
  }

  console.log('\nwhat the services hold now:');
  check(services.stock.get('espresso-machine') === 4 && services.stock.get('beans-1kg') === 48, 'stock is down by exactly the shipped order');
  check(services.reservations.size === 1 && services.payments.size === 1, 'one reservation and one payment remain: the shipped order’s');
  console.log('\norder saga example: all good');
}

main().catch((err: unknown) => {
  console.error(`order saga example failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exitCode = 1;
});
