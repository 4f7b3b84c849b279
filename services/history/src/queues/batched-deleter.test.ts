import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '@hourglass/common';
import { BatchedDeleter } from './batched-deleter';

describe('BatchedDeleter', () => {
  it('deletes what was added within its delay in one call, and runs each done callback only after that delete ended', async () => {
    const calls: number[][] = [];
    let release: () => void = () => undefined;
    const deleter = new BatchedDeleter<number>(
      (keys) => {
        calls.push(keys);
        return new Promise<void>((resolve) => (release = resolve));
      },
      silentLogger(),
      'test tasks',
    );
    const done: number[] = [];
    for (const key of [1, 2, 3]) deleter.add(key, () => done.push(key));
    const flushed = deleter.flush();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, [[1, 2, 3]]);
    assert.deepEqual(done, [], 'a done callback ran before its delete ended');
    release();
    await flushed;
    assert.deepEqual(done, [1, 2, 3]);
  });

  it('a failed delete is logged, not thrown, and still ends its batch', async () => {
    const deleter = new BatchedDeleter<number>(() => Promise.reject(new Error('disk gone')), silentLogger(), 'test tasks');
    let ran = false;
    deleter.add(1, () => (ran = true));
    await deleter.flush();
    assert.equal(ran, true);
  });
});
