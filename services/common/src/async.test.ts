import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeSlice } from './async';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // synchronous work
  }
}

describe('TimeSlice', () => {
  it('is due once its time has passed, and not before', () => {
    const slice = new TimeSlice(20);
    assert.equal(slice.due(), false);
    busy(25);
    assert.equal(slice.due(), true);
  });

  it('a yield lets waiting callbacks run, then starts a new slice', async () => {
    const slice = new TimeSlice(5);
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    busy(6);
    assert.equal(slice.due(), true);
    assert.equal(ran, false, 'nothing else runs during synchronous work');
    await slice.yield();
    assert.equal(ran, true, 'the waiting callback ran during the yield');
    assert.equal(slice.due(), false, 'a new slice began');
  });

  it('a loop over slow items yields in proportion to its time, not its item count', async () => {
    const slice = new TimeSlice(5);
    let turns = 0;
    let stop = false;
    const ticker = (): void => {
      turns += 1;
      if (!stop) setImmediate(ticker);
    };
    setImmediate(ticker);
    for (let i = 0; i < 10; i++) {
      if (slice.due()) await slice.yield();
      busy(3); // ten items of 3 ms: a turn about every second item
    }
    stop = true;
    assert.ok(turns >= 4, `other work got ${turns} turns during 30 ms of items`);
  });
});
