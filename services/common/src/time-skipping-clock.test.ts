import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimeSkippingClock } from './time-skipping-clock';

const DAY = 86_400_000;

function eventually(fn: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (fn()) return resolve();
      if (Date.now() > deadline) return reject(new Error('condition not met'));
      setTimeout(tick, 2);
    };
    tick();
  });
}

test('jumps to the next wake-up when idle', async () => {
  const clock = new TimeSkippingClock();
  clock.setIdleProbe(() => true);
  const start = clock.now();
  let fired = 0;
  clock.wakeAt(start + 30 * DAY, () => fired++);
  await eventually(() => fired === 1);
  assert.ok(clock.now() >= start + 30 * DAY, 'virtual time moved 30 days');
  assert.ok(clock.skippedMs >= 30 * DAY - 1000);
});

test('does not skip while work is in progress or while locked', async () => {
  const clock = new TimeSkippingClock();
  let idle = false;
  clock.setIdleProbe(() => idle);
  let fired = 0;
  clock.wakeAt(clock.now() + DAY, () => fired++);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(fired, 0, 'busy: no skip');
  clock.lock();
  idle = true;
  clock.poke();
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(fired, 0, 'locked: no skip');
  clock.unlock();
  await eventually(() => fired === 1);
});

test('cancelled wake-ups never fire and fire order follows time', async () => {
  const clock = new TimeSkippingClock();
  clock.setIdleProbe(() => true);
  const order: string[] = [];
  const cancel = clock.wakeAt(clock.now() + 2 * DAY, () => order.push('cancelled'));
  clock.wakeAt(clock.now() + 3 * DAY, () => order.push('b'));
  clock.wakeAt(clock.now() + DAY, () => order.push('a'));
  cancel();
  await eventually(() => order.length === 2);
  assert.deepEqual(order, ['a', 'b']);
});
