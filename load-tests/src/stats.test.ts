import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEventLoopReport } from './server-stats';
import { percentile, summarize } from './stats';

test('percentiles use the nearest-rank method', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 50), 50);
  assert.equal(percentile(sorted, 99), 99);
  assert.equal(percentile(sorted, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('summarize sorts its samples', () => {
  const s = summarize([30, 10, 20]);
  assert.deepEqual({ count: s.count, p50: s.p50, max: s.max }, { count: 3, p50: 20, max: 30 });
});

test('the last event-loop stall report of the server output is read', () => {
  const output = [
    'Hourglass event-loop stalls over 3 s: p50 1.0 ms, p99 40.0 ms, max 90.0 ms',
    'Hourglass stopped after 30 s of serving: event-loop stalls over 20 s: p50 0.2 ms, p99 12.5 ms, max 31.5 ms',
  ].join('\n');
  assert.deepEqual(parseEventLoopReport(output), { p50Ms: 0.2, p99Ms: 12.5, maxMs: 31.5 });
  assert.equal(parseEventLoopReport('nothing here'), undefined);
});
