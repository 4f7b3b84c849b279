import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ItemMap } from '../workflow/item-map';
import { ExecutionCache, type CachedExecution } from './execution-cache';

const key = (id: string) => ({ namespaceId: 'ns', workflowId: id, runId: 'r' });
/** A stand-in entry whose estimated size the test sets (the cache only stores entries). */
const entry = (bytes: number) => ({ bytes }) as unknown as CachedExecution;
const sizeOf = (e: CachedExecution) => (e as unknown as { bytes: number }).bytes;

test('execution cache: bounded by estimated bytes, least recently used out first; the newest stays even alone over the budget', () => {
  const cache = new ExecutionCache(100, 1000, sizeOf);
  cache.put(key('a'), entry(400));
  cache.put(key('b'), entry(400));
  assert.ok(cache.get(key('a')), 'a is now the most recently used');
  cache.put(key('c'), entry(400));
  assert.equal(cache.get(key('b')), undefined, 'b was the least recently used');
  assert.ok(cache.get(key('a')) && cache.get(key('c')));
  assert.equal(cache.bytes, 800);
  // An entry put again is counted at its new size (a commit grew the run).
  cache.put(key('a'), entry(900));
  assert.equal(cache.get(key('c')), undefined, 'c went to make room for the grown a');
  assert.equal(cache.bytes, 900);
  cache.put(key('huge'), entry(5000));
  assert.deepEqual([cache.size, cache.bytes], [1, 5000], 'alone over the budget, the newest is kept');
  cache.invalidate(key('huge'));
  assert.deepEqual([cache.size, cache.bytes], [0, 0]);
});

test('execution cache: the entry count still bounds it', () => {
  const cache = new ExecutionCache(2, Number.POSITIVE_INFINITY, sizeOf);
  for (const id of ['a', 'b', 'c']) cache.put(key(id), entry(1));
  assert.equal(cache.size, 2);
  assert.equal(cache.get(key('a')), undefined);
});

test('item map: its byte estimate follows loads, written changes and deletes', () => {
  const map = new ItemMap<{ payload: string }>('memo');
  map.load('x', { payload: 'a' }, 100);
  assert.equal(map.bytes, 100);
  map.set('y', { payload: 'b'.repeat(1000) });
  const { upserts } = map.changes();
  assert.equal(map.bytes, 100 + (upserts[0]?.data.length ?? 0));
  assert.ok(map.bytes > 1000);
  map.delete('y');
  assert.equal(map.bytes, 100);
  map.delete('x');
  assert.equal(map.bytes, 0);
});
