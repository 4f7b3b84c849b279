import assert from 'node:assert/strict';
import { test } from 'node:test';
import { histogramDelta, histogramQuantile, parseEventLoopReport, parseHistogram } from './server-stats';
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

test('a histogram is read off /metrics text and its quantiles interpolated inside buckets', () => {
  const text = [
    '# TYPE hourglass_visibility_lag_seconds histogram',
    'hourglass_visibility_lag_seconds_bucket{le="0.005"} 10',
    'hourglass_visibility_lag_seconds_bucket{le="0.01"} 50',
    'hourglass_visibility_lag_seconds_bucket{le="0.1"} 100',
    'hourglass_visibility_lag_seconds_bucket{le="+Inf"} 100',
    'hourglass_visibility_lag_seconds_sum 1.5',
    'other_metric_bucket{le="0.005"} 99',
  ].join('\n');
  const after = parseHistogram(text, 'hourglass_visibility_lag_seconds');
  assert.deepEqual(after, { bounds: [0.005, 0.01, 0.1, Infinity], counts: [10, 50, 100, 100] });
  // The median (rank 50) is the top of the second bucket; p99 is 98 % into the third.
  assert.equal(histogramQuantile(after, 0.5), 0.01);
  assert.ok(Math.abs(histogramQuantile(after, 0.99) - (0.01 + 0.09 * (49 / 50))) < 1e-12);
  // Only what happened between two scrapes counts.
  const before = { bounds: after.bounds, counts: [10, 10, 10, 10] };
  const delta = histogramDelta(before, after);
  assert.deepEqual(delta.counts, [0, 40, 90, 90]);
  assert.equal(histogramQuantile(delta, 0.25), 0.005 + 0.005 * (22.5 / 40));
  assert.ok(Number.isNaN(histogramQuantile({ bounds: [1, Infinity], counts: [0, 0] }, 0.5)));
  // Labelled series: only those with the labels asked for, summed bucket by bucket.
  const labelled = [
    'rpc_bucket{method="A",namespace="x",le="0.01"} 1',
    'rpc_bucket{method="A",namespace="x",le="+Inf"} 2',
    'rpc_bucket{method="A",namespace="y",le="0.01"} 5',
    'rpc_bucket{method="A",namespace="y",le="+Inf"} 5',
    'rpc_bucket{method="B",namespace="x",le="0.01"} 3',
    'rpc_bucket{method="B",namespace="x",le="+Inf"} 4',
  ].join('\n');
  assert.deepEqual(parseHistogram(labelled, 'rpc', { namespace: 'x' }), { bounds: [0.01, Infinity], counts: [4, 6] });
  assert.deepEqual(parseHistogram(labelled, 'rpc', { namespace: 'x', method: 'B' }), { bounds: [0.01, Infinity], counts: [3, 4] });
  assert.deepEqual(parseHistogram(labelled, 'rpc', { namespace: 'z' }), { bounds: [], counts: [] });
  // Beyond the last finite bound: that bound.
  assert.equal(histogramQuantile({ bounds: [1, Infinity], counts: [1, 10] }, 0.99), 1);
});
