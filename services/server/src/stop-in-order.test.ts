import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '@hourglass/common';
import { stopInOrder, undoStarted } from './stop-in-order';

const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('stopInOrder runs each step after the one before has finished, once however often it is called', async () => {
  const done: string[] = [];
  const stop = stopInOrder([
    async () => {
      await later(20);
      done.push('frontend');
    },
    () => void done.push('matching'),
    () => undefined,
    async () => {
      await later(1);
      done.push('store');
    },
  ]);
  const first = stop();
  assert.equal(stop(), first);
  await first;
  await stop();
  assert.deepEqual(done, ['frontend', 'matching', 'store']);
});

test('stopInOrder ends at a step that fails, with its error', async () => {
  const done: string[] = [];
  const stop = stopInOrder([() => void done.push('a'), () => Promise.reject(new Error('history would not stop')), () => void done.push('c')]);
  await assert.rejects(stop(), /history would not stop/);
  assert.deepEqual(done, ['a']);
});

test('undoStarted stops the last started first and goes on past a step that fails', async () => {
  const done: string[] = [];
  const started = [() => void done.push('store'), () => Promise.reject(new Error('no')), () => void done.push('frontend')];
  await undoStarted(started, silentLogger());
  assert.deepEqual(done, ['frontend', 'store']);
  assert.equal(started.length, 3);
});
