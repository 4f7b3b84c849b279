import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventLoopStallMonitor, formatStalls } from './loop-monitor';

function hold(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a synchronous step that holds the loop
  }
}

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('an idle loop reads no stall (the sampling interval is not counted); a held one reads the hold', async () => {
  const monitor = new EventLoopStallMonitor(10);
  await tick(200);
  const idle = monitor.stalls();
  assert.ok(idle.p50Ms < 5, `idle p50 ${idle.p50Ms} ms`);
  hold(80);
  await tick(50);
  const held = monitor.stalls();
  assert.ok(held.maxMs >= 60, `an 80 ms hold read as max ${held.maxMs} ms`);
  monitor.reset();
  await tick(100);
  assert.ok(monitor.stalls().maxMs < 60, 'reset starts a new window');
  assert.match(formatStalls(held), /^event-loop stalls over \d+ s: p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms$/);
  monitor.stop();
});
