import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteLane, runTransaction } from './sql';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: an operation that holds the thread, as a statement does
  }
}

describe('SqliteLane', () => {
  it('runs one operation at a time, in the order they were queued', async () => {
    const lane = new SqliteLane();
    const seen: string[] = [];
    const slow = lane.run(async () => {
      seen.push('a start');
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push('a end');
    });
    const fast = lane.run(() => void seen.push('b'));
    await Promise.all([slow, fast]);
    assert.deepEqual(seen, ['a start', 'a end', 'b']);
  });

  it('gives the event loop a turn after every operation of a chain', async () => {
    const lane = new SqliteLane();
    let timerRanAfter = -1;
    let done = 0;
    setTimeout(() => (timerRanAfter = done), 0);
    // Each operation holds the thread for 1 ms; 50 of them would hold it 50 ms without turns.
    for (let i = 0; i < 50; i++) {
      await lane.run(() => busy(1));
      done += 1;
    }
    assert.ok(timerRanAfter >= 0, 'the timer never ran during the chain');
    // The loop gets a turn after every operation: the timer runs right after the first.
    assert.ok(timerRanAfter <= 1, `the timer ran only after ${timerRanAfter} operations`);
  });

  it('a failed operation rejects its caller and the lane goes on', async () => {
    const lane = new SqliteLane();
    await assert.rejects(
      lane.run(() => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await lane.run(() => 42), 42);
  });
});

describe('runTransaction', () => {
  function table(): Database.Database {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    return db;
  }

  it('a throw at any step rolls back every step before it, short or long', async () => {
    for (const length of [10, 1000]) {
      const db = table();
      const insert = db.prepare('INSERT INTO t (id) VALUES (?)');
      const steps = Array.from({ length }, (_, i) => () => void insert.run(i));
      steps.push(() => {
        throw new Error('late failure');
      });
      await assert.rejects(runTransaction(db, steps), /late failure/);
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 0, `${length} steps`);
      assert.equal(db.inTransaction, false);
      db.close();
    }
  });

  it('commits every step of a long transaction', async () => {
    const db = table();
    const insert = db.prepare('INSERT INTO t (id) VALUES (?)');
    await runTransaction(db, Array.from({ length: 5000 }, (_, i) => () => void insert.run(i)));
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 5000);
    db.close();
  });
});
