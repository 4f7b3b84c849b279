import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FairQueue } from './fair-queue';

describe('FairQueue', () => {
  it('serves keys round robin, in order within a key', () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 5; i++) q.push('noisy', `n${i}`);
    q.push('quiet', 'q0');
    q.push('quiet', 'q1');
    const order: string[] = [];
    for (let item = q.peek(); item !== undefined; item = q.peek()) {
      // peek names what shift then takes.
      assert.equal(q.shift(), item);
      order.push(item);
    }
    assert.deepEqual(order, ['n0', 'q0', 'n1', 'q1', 'n2', 'n3', 'n4']);
    assert.equal(q.peek(), undefined);
    assert.equal(q.size, 0);
  });

  it('a key that arrives behind a burst gets the next turn, and stays correct across many items', () => {
    const q = new FairQueue<number>();
    for (let i = 0; i < 5000; i++) q.push('noisy', i);
    for (let i = 0; i < 3000; i++) assert.equal(q.shift(), i);
    q.push('late', -1);
    assert.equal(q.shift(), 3000, 'the noisy key had the turn already');
    assert.equal(q.shift(), -1, 'then the late key');
    for (let i = 3001; i < 5000; i++) assert.equal(q.shift(), i);
    assert.equal(q.shift(), undefined);
    assert.equal(q.size, 0);
  });
});
