import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { int64, type HistoryEvent } from '@hourglass/common';
import { EventTail } from './event-tail';

function events(from: number, to: number): HistoryEvent[] {
  return Array.from({ length: to - from }, (_, i) => ({ eventId: int64(from + i) }));
}

const ids = (list: readonly HistoryEvent[] | undefined): number[] => (list ?? []).map((e) => Number(e.eventId));
const roomy = { maxEvents: 100, maxBytes: 1_000_000 };

describe('EventTail', () => {
  it('serves a range it holds entirely, and nothing it holds only in part', () => {
    const tail = new EventTail(1);
    tail.append(events(1, 4), [10, 10, 10], roomy);
    tail.append(events(4, 6), [10, 10], roomy);
    assert.deepEqual(ids(tail.read(1, 6, 100)?.events), [1, 2, 3, 4, 5]);
    assert.deepEqual(ids(tail.read(3, 5, 100)?.events), [3, 4]);
    assert.equal(tail.read(4, 7, 100), undefined, 'past the last committed event');
    const loaded = new EventTail(6);
    assert.equal(loaded.read(5, 6, 100), undefined, 'a tail starts empty when its run was loaded from the store');
  });

  it('keeps at most its bounds, dropping the oldest events first', () => {
    const tail = new EventTail(1);
    tail.append(events(1, 11), Array(10).fill(10), { maxEvents: 4, maxBytes: 1_000 });
    assert.equal(tail.read(6, 11, 100), undefined);
    assert.deepEqual(ids(tail.read(7, 11, 100)?.events), [7, 8, 9, 10]);
    tail.append(events(11, 13), [600, 600], { maxEvents: 4, maxBytes: 1_000 });
    assert.deepEqual(ids(tail.read(12, 13, 100)?.events), [12], 'the byte bound keeps only what fits');
    tail.append(events(13, 14), [5_000], { maxEvents: 4, maxBytes: 1_000 });
    assert.equal(tail.read(13, 14, 100), undefined, 'an event larger than the bound is never kept');
  });

  it('starts over when a commit does not continue it', () => {
    const tail = new EventTail(1);
    tail.append(events(1, 3), [1, 1], roomy);
    tail.append(events(7, 9), [1, 1], roomy);
    assert.equal(tail.read(1, 3, 100), undefined);
    assert.deepEqual(ids(tail.read(7, 9, 100)?.events), [7, 8]);
  });

  it('pages by count and by bytes past the first event, and says when the range is complete', () => {
    const tail = new EventTail(1);
    tail.append(events(1, 6), [40, 40, 40, 40, 40], roomy);
    const byCount = tail.read(1, 6, 2);
    assert.deepEqual(ids(byCount?.events), [1, 2]);
    assert.equal(byCount?.complete, false);
    const byBytes = tail.read(1, 6, 100, 100);
    assert.deepEqual(ids(byBytes?.events), [1, 2]);
    const whole = tail.read(1, 6, 100);
    assert.equal(whole?.complete, true);
    assert.deepEqual(ids(tail.read(2, 3, 100, 1)?.events), [2], 'a page always has at least one event');
  });
});
