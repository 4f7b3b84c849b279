/** Workflows of this package's own tests, bundled once per test file. Only `@temporalio/workflow` is imported. */
import { defineQuery, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { TestActivities } from './activities';

const acts = proxyActivities<TestActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 1 } });

export interface SleepForDaysResult {
  emails: number;
  /** Workflow time (ms) at start and at the end. */
  startedAt: number;
  finishedAt: number;
}

/** The classic SleepForDays: an email, then a sleep of `days`, `times` over. */
export async function sleepForDays(times = 12, days = 30): Promise<SleepForDaysResult> {
  const startedAt = Date.now();
  let emails = 0;
  for (let i = 1; i <= times; i++) {
    await acts.sendEmail('customer@example.com', `reminder ${i} of ${times}`);
    emails++;
    await sleep(`${days} days`);
  }
  return { emails, startedAt, finishedAt: Date.now() };
}

export const sleptQuery = defineQuery<boolean>('slept');

/** Sleeps `duration` (ms); answers `slept` once done and returns the workflow time it woke at. */
export async function sleeper(durationMs: number): Promise<number> {
  let slept = false;
  setHandler(sleptQuery, () => slept);
  await sleep(durationMs);
  slept = true;
  return Date.now();
}

export interface OrderResult {
  receiptId: string;
  emailedTo: string;
}

/** Charges a card and emails the receipt: activities a test replaces with stubs. */
export async function processOrder(order: { card: string; amountCents: number; email: string }): Promise<OrderResult> {
  const { receiptId } = await acts.chargeCard(order.card, order.amountCents);
  await acts.sendReceipt(order.email, receiptId);
  return { receiptId, emailedTo: order.email };
}
