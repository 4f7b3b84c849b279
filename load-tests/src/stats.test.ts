import assert from 'node:assert/strict';
import { test } from 'node:test';
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
