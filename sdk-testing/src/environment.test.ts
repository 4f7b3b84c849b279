import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { installQuietRuntime, uniqueName, useTestEnvironment, withTimeout } from './test-support';
import type { TestActivities } from './test-support/activities';
import { processOrder, sleepForDays, sleeper, sleptQuery } from './test-support/workflows';
import { TestEnvironment } from './environment';

const DAY_MS = 86_400_000;

/** Activities a test does not expect to be called. */
function unexpected(name: string) {
  return async (): Promise<never> => {
    throw new Error(`activity ${name} was not expected to be called`);
  };
}

describe('TestEnvironment with time skipping', () => {
  const file = useTestEnvironment();

  test('SleepForDays: 12 emails 30 days apart finish without waiting out the 360 days (wall time reported, not asserted)', async (t) => {
    const emails: string[] = [];
    const taskQueue = uniqueName('sleep-for-days');
    const worker = await file.env.createWorker({
      taskQueue,
      workflowBundle: file.workflowBundle,
      activities: {
        sendEmail: async (_to: string, body: string) => void emails.push(body),
      } satisfies Partial<TestActivities>,
    });
    const started = performance.now();
    const workflowId = uniqueName('sleep-for-days');
    const result = await worker.runUntil(file.env.client.workflow.execute(sleepForDays, { taskQueue, workflowId, args: [12, 30] }));
    const wallMs = performance.now() - started;

    assert.equal(emails.length, 12, `sendEmail ran ${emails.length} times`);
    assert.deepEqual(emails, Array.from({ length: 12 }, (_, i) => `reminder ${i + 1} of 12`));
    assert.equal(result.emails, 12);
    assert.ok(result.finishedAt - result.startedAt >= 360 * DAY_MS, `the workflow saw ${(result.finishedAt - result.startedAt) / DAY_MS} days pass`);
    t.diagnostic(`wall time ${Math.round(wallMs)} ms`);
    // Skipping is proven by the days the workflow saw pass (a real wait would outlast the test's timeout);
    // wall time depends on the machine's load, so it is reported, never asserted.

    // The closed run stays readable however far time skips (no retention deletes it).
    await file.env.sleep('400 days');
    const handle = file.env.client.workflow.getHandle<typeof sleepForDays>(workflowId);
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
    assert.deepEqual(await handle.result(), result);
  });

  test('a worker given stub activities: the workflow runs on what the stubs return', async () => {
    const calls: unknown[][] = [];
    const taskQueue = uniqueName('mocked');
    const worker = await file.env.createWorker({
      taskQueue,
      workflowBundle: file.workflowBundle,
      activities: {
        chargeCard: async (card: string, amountCents: number) => {
          calls.push(['chargeCard', card, amountCents]);
          return { receiptId: 'stub-receipt-42' };
        },
        sendReceipt: async (to: string, receiptId: string) => void calls.push(['sendReceipt', to, receiptId]),
        sendEmail: unexpected('sendEmail'),
      } satisfies Partial<TestActivities>,
    });
    const result = await worker.runUntil(
      file.env.client.workflow.execute(processOrder, { taskQueue, workflowId: uniqueName('order'), args: [{ card: '4242', amountCents: 1999, email: 'buyer@example.com' }] }),
    );
    assert.deepEqual(result, { receiptId: 'stub-receipt-42', emailedTo: 'buyer@example.com' });
    assert.deepEqual(calls, [
      ['chargeCard', '4242', 1999],
      ['sendReceipt', 'buyer@example.com', 'stub-receipt-42'],
    ]);
  });

  test('sleep() moves virtual time forward at once; currentTime() reports it', async () => {
    const before = file.env.currentTime();
    const wallStart = performance.now();
    await file.env.sleep('2 days');
    const advanced = file.env.currentTime().getTime() - before.getTime();
    assert.ok(advanced >= 2 * DAY_MS, `virtual time moved ${advanced} ms`);
    assert.ok(advanced < 2 * DAY_MS + 60_000, `virtual time moved ${advanced} ms, more than asked`);
    assert.ok(performance.now() - wallStart < 1_000, 'a virtual 2-day sleep took more than a second');
    await file.env.sleep(5 * 60_000);
    assert.ok(file.env.currentTime().getTime() - before.getTime() >= 2 * DAY_MS + 5 * 60_000);
  });

  test('with skipping locked, a workflow timer fires only when sleep() reaches it', async () => {
    const taskQueue = uniqueName('locked');
    const worker = await file.env.createWorker({ taskQueue, workflowBundle: file.workflowBundle, activities: {} });
    await worker.runUntil(async () => {
      file.env.lockTimeSkipping();
      try {
        const handle = await file.env.client.workflow.start(sleeper, { taskQueue, workflowId: uniqueName('sleeper'), args: [DAY_MS] });
        const startedAt = file.env.currentTime().getTime();
        await file.env.sleep('12 hours');
        assert.equal(await handle.query(sleptQuery), false, 'the 1-day timer fired after 12 hours');
        await file.env.sleep('13 hours');
        const wokeAt = await withTimeout(handle.result(), 5_000, 'the workflow after its timer was due');
        assert.ok(wokeAt - startedAt >= DAY_MS, `woke ${wokeAt - startedAt} ms after start`);
        assert.ok(file.env.currentTime().getTime() - startedAt >= 25 * 3_600_000);
      } finally {
        file.env.unlockTimeSkipping();
      }
    });
  });
});

describe('TestEnvironment without time skipping', () => {
  let env: TestEnvironment;

  before(async () => {
    installQuietRuntime();
    env = await TestEnvironment.create({ timeSkipping: false, namespace: 'sdk-real-time' });
  });
  after(() => env?.teardown());

  test('runs on the wall clock, in the namespace it was given', async () => {
    assert.equal(env.timeSkipping, false);
    assert.equal(env.namespace, 'sdk-real-time');
    assert.match(env.address, /^127\.0\.0\.1:\d+$/);
    assert.ok(Math.abs(env.currentTime().getTime() - Date.now()) < 1_000);
    const wallStart = performance.now();
    await env.sleep(50);
    assert.ok(performance.now() - wallStart >= 45, 'sleep(50) returned early');
    const described = await env.connection.workflowService.describeNamespace({ namespace: env.namespace });
    assert.equal(described.namespaceInfo?.name, 'sdk-real-time');
  });
});
