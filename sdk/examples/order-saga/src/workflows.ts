/**
 * The order saga: reserve inventory → wait for approval → charge → ship. Each step that succeeds
 * records its compensation; a cancellation, an approval that never comes, or a failed step undoes
 * what was done, last step first. Workflow code: imports only `@temporalio/workflow` and the
 * workflow-safe `@hourglass/sdk/workflow`.
 */
import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import { Saga } from '@hourglass/sdk/workflow';
import type { OrderActivities, OrderLine } from './activities';

export interface Order {
  orderId: string;
  lines: OrderLine[];
  amountCents: number;
  card: string;
  address: string;
  /** How long to wait for `approve` or `cancel` before cancelling. Default 7 days. */
  approvalTimeout?: string;
}

export type OrderState = 'reserving' | 'awaiting-approval' | 'charging' | 'shipping' | 'completed' | 'compensating' | 'cancelled' | 'failed';

export interface OrderStatus {
  state: OrderState;
  /** Steps done so far, in order. */
  done: string[];
  approvedBy?: string;
  reason?: string;
}

export interface OrderResult {
  orderId: string;
  state: 'completed' | 'cancelled';
  trackingId?: string;
  reason?: string;
}

/** A person approves the order (e.g. a fraud check for large amounts). */
export const approveSignal = defineSignal<[approver: string]>('approve');
/** The customer (or support) cancels before the order is charged. */
export const cancelSignal = defineSignal<[reason: string]>('cancel');
/** Where the order is. */
export const statusQuery = defineQuery<OrderStatus>('status');

const { reserveInventory, releaseInventory, chargePayment, refundPayment, shipOrder } = proxyActivities<OrderActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5, initialInterval: '1 second' },
});

type Decision = { approved: true; by: string } | { approved: false; reason: string };

export async function orderSaga(order: Order): Promise<OrderResult> {
  const status: OrderStatus = { state: 'reserving', done: [] };
  // The first signal decides; later ones are ignored.
  const signalled: { decision?: Decision } = {};
  setHandler(statusQuery, () => status);
  setHandler(approveSignal, (by) => {
    signalled.decision ??= { approved: true, by };
  });
  setHandler(cancelSignal, (reason) => {
    signalled.decision ??= { approved: false, reason };
  });

  const saga = new Saga();
  try {
    const reservationId = await reserveInventory(order.orderId, order.lines);
    saga.addCompensation(releaseInventory, reservationId);
    status.done.push('reserved');

    status.state = 'awaiting-approval';
    await condition(() => signalled.decision !== undefined, order.approvalTimeout ?? '7 days');
    const decision: Decision = signalled.decision ?? { approved: false, reason: 'not approved in time' };
    if (!decision.approved) {
      status.state = 'compensating';
      status.reason = decision.reason;
      await saga.compensate(); // releases the inventory
      status.state = 'cancelled';
      return { orderId: order.orderId, state: 'cancelled', reason: decision.reason };
    }
    status.approvedBy = decision.by;

    status.state = 'charging';
    const paymentId = await chargePayment(order.orderId, order.card, order.amountCents);
    saga.addCompensation(refundPayment, paymentId);
    status.done.push('charged');

    status.state = 'shipping';
    const trackingId = await shipOrder(order.orderId, order.address);
    status.done.push('shipped');
    status.state = 'completed';
    return { orderId: order.orderId, state: 'completed', trackingId };
  } catch (err) {
    // A step failed for good (retries exhausted or a non-retryable failure): undo, then fail the workflow with the cause.
    status.state = 'compensating';
    status.reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    await saga.compensate();
    status.state = 'failed';
    throw err;
  }
}
