import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimitedLog } from './rate-limited-log';

describe('RateLimitedLog', () => {
  it('admits perWindow lines per key, then counts the rest and reports them with the next admitted line', () => {
    let now = 1_000;
    const log = new RateLimitedLog({ perWindow: 2, windowMs: 1000, now: () => now });
    assert.deepEqual(log.admit('a'), { suppressed: 0 });
    assert.deepEqual(log.admit('a'), { suppressed: 0 });
    assert.equal(log.admit('a'), undefined);
    assert.equal(log.admit('a'), undefined);
    assert.deepEqual(log.admit('b'), { suppressed: 0 }, 'another key has its own window');
    now += 1000;
    assert.deepEqual(log.admit('a'), { suppressed: 2 }, 'the next window says how many were left out');
    assert.deepEqual(log.admit('a'), { suppressed: 0 });
  });

  it('keeps at most maxKeys windows', () => {
    const log = new RateLimitedLog({ perWindow: 1, maxKeys: 2, now: () => 0 });
    log.admit('a');
    log.admit('b');
    log.admit('c');
    assert.deepEqual(log.admit('a'), { suppressed: 0 }, 'the oldest key was dropped, so it starts afresh');
  });
});
