import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quote } from './text';

test('quote: short values JSON-quoted whole; long ones cut at 100 code points with their length', () => {
  assert.equal(quote('orders'), '"orders"');
  assert.equal(quote('a"b'), '"a\\"b"');
  assert.equal(quote('x'.repeat(100)), `"${'x'.repeat(100)}"`);
  assert.equal(quote('x'.repeat(250)), `"${'x'.repeat(100)}…" (250 characters)`);
  // 😀 is two UTF-16 units: the cut never splits one.
  assert.equal(quote('😀'.repeat(150)), `"${'😀'.repeat(100)}…" (150 characters)`);
});
