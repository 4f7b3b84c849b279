import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ROWS_PER_INSERT, RowInserter, SQLITE_SLICE_MS, SqliteLane, WeightedSteps, chunks, runTransaction, type LaneDurability } from './sql';

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

  it("tenants take turns: a quiet tenant waits for one of a noisy tenant's queued operations, not for all of them", async () => {
    const lane = new SqliteLane();
    const seen: string[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) all.push(lane.run(() => void seen.push(`noisy ${i}`), 'noisy'));
    all.push(lane.run(() => void seen.push('quiet'), 'quiet'));
    all.push(lane.run(() => void seen.push('background'), ''));
    await Promise.all(all);
    // The first noisy operation was already running; then each tenant in turn, in order within each.
    assert.deepEqual(seen.slice(0, 5), ['noisy 0', 'noisy 1', 'quiet', 'background', 'noisy 2']);
    assert.deepEqual(
      seen.filter((s) => s.startsWith('noisy')),
      Array.from({ length: 50 }, (_, i) => `noisy ${i}`),
    );
  });

  it('group commit takes short transactions in the same turns, and idle() waits for every tenant', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (tenant TEXT, n INTEGER)');
    const insert = db.prepare('INSERT INTO t (tenant, n) VALUES (?, ?)');
    const lane = new SqliteLane();
    const order: string[] = [];
    // A running operation holds the lane while the others queue up behind it.
    const blocker = lane.run(() => new Promise<void>((resolve) => setTimeout(resolve, 10)), 'a');
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) writes.push(lane.write(db, () => order.push(`a${i}`) && insert.run('a', i), 'a'));
    writes.push(lane.write(db, () => order.push('b0') && insert.run('b', 0), 'b'));
    let idle = false;
    const idled = lane.idle().then(() => (idle = true));
    await blocker;
    assert.equal(idle, false, 'idle() answered while writes were still queued');
    await Promise.all([...writes, idled]);
    assert.deepEqual(order, ['a0', 'b0', 'a1', 'a2']);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 4);
    assert.equal(idle, true);
    await lane.idle();
    db.close();
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

describe('SqliteLane group commit', () => {
  function table(): Database.Database {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    return db;
  }
  const count = (db: Database.Database): number => (db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;

  it('commits transactions that wait together as one, each caller answered after that commit', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lane-'));
    const db = new Database(path.join(dir, 'db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    const reader = new Database(path.join(dir, 'db'), { readonly: true });
    const lane = new SqliteLane();
    const insert = db.prepare('INSERT INTO t (id) VALUES (?)');
    const committed = (): number => (reader.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;
    // A first operation holds the lane while ten transactions queue up behind it.
    const holder = lane.run(async () => new Promise((resolve) => setTimeout(resolve, 5)));
    let seenByOthersDuringLast = -1;
    const writes = Array.from({ length: 10 }, (_, i) =>
      lane.transaction(db, [
        () => void insert.run(i),
        () => {
          if (i === 9) seenByOthersDuringLast = committed();
        },
      ]),
    );
    let seenByOthersWhenFirstAnswered = -1;
    void writes[0]?.then(() => (seenByOthersWhenFirstAnswered = committed()));
    await Promise.all([holder, ...writes]);
    assert.equal(seenByOthersDuringLast, 0, 'the first nine were committed one by one before the tenth ran');
    assert.equal(seenByOthersWhenFirstAnswered, 10, 'a caller was answered before its group committed');
    reader.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a member that throws undoes only its own steps and rejects only its caller', async () => {
    const db = table();
    const lane = new SqliteLane();
    const insert = db.prepare('INSERT INTO t (id) VALUES (?)');
    const holder = lane.run(async () => new Promise((resolve) => setTimeout(resolve, 5)));
    const first = lane.transaction(db, [() => void insert.run(1), () => void insert.run(2)]);
    const failing = lane.transaction(db, [
      () => void insert.run(3),
      () => {
        throw new Error('condition failed');
      },
    ]);
    const last = lane.transaction(db, [() => void insert.run(4)]);
    await holder;
    await first;
    await assert.rejects(failing, /condition failed/);
    await last;
    assert.deepEqual(
      db.prepare('SELECT id FROM t ORDER BY id').pluck().all(),
      [1, 2, 4],
    );
    db.close();
  });

  it('write() joins the group commit, answers its body\'s value, and a throw in it (a nested transaction function) rolls back only its own writes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lane-'));
    const db = new Database(path.join(dir, 'db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    const reader = new Database(path.join(dir, 'db'), { readonly: true });
    const committed = (): number => (reader.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;
    const lane = new SqliteLane();
    const insert = db.prepare('INSERT INTO t (id) VALUES (?)');
    // What the stores pass: their own transaction functions, which become savepoints inside the group.
    const insertMany = db.transaction((ids: number[]) => {
      for (const id of ids) insert.run(id);
      return ids.length;
    }).immediate;
    const holder = lane.run(async () => new Promise((resolve) => setTimeout(resolve, 5)));
    let seenByOthersInsideGroup = -1;
    const history = lane.transaction(db, [() => void insert.run(1)]);
    const background = lane.write(db, () => insertMany([2, 3]));
    const failing = lane.write(db, () => insertMany([4, 1])); // 1 is taken: the whole body is undone
    const last = lane.write(db, () => {
      seenByOthersInsideGroup = committed();
      return insertMany([5]);
    });
    await holder;
    await history;
    assert.equal(await background, 2);
    await assert.rejects(failing, /UNIQUE|PRIMARY KEY/);
    assert.equal(await last, 1);
    assert.equal(seenByOthersInsideGroup, 0, 'the writes were committed one by one, not as one group');
    assert.deepEqual(db.prepare('SELECT id FROM t ORDER BY id').pluck().all(), [1, 2, 3, 5]);
    // Alone in the lane, write() is a transaction of its own.
    assert.equal(await lane.write(db, () => insertMany([6, 7])), 2);
    await assert.rejects(lane.write(db, () => insertMany([8, 6])), /UNIQUE|PRIMARY KEY/);
    assert.equal(count(db), 6);
    reader.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a failure that ends the whole transaction fails every member, and nothing of the group is written', async () => {
    const db = table();
    const lane = new SqliteLane();
    const insert = db.prepare('INSERT INTO t (id) VALUES (?)');
    const holder = lane.run(async () => new Promise((resolve) => setTimeout(resolve, 5)));
    const before = lane.transaction(db, [() => void insert.run(1)]);
    const fatal = lane.transaction(db, [
      () => {
        // What SQLite does on a disk-full or I/O error: the transaction is gone.
        db.exec('ROLLBACK');
        throw new Error('disk I/O error');
      },
    ]);
    const after = lane.transaction(db, [() => void insert.run(2)]);
    await holder;
    const results = await Promise.allSettled([before, fatal, after]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    assert.equal(count(db), 0);
    assert.equal(db.inTransaction, false);
    // The lane goes on.
    await lane.transaction(db, [() => void insert.run(5)]);
    assert.equal(count(db), 1);
    db.close();
  });
});

describe('SqliteLane durability', () => {
  /** A sync the test completes by hand; changes are counted by the database as WalSync counts them. */
  class HeldSync implements LaneDurability {
    private synced = 0;
    readonly held: ((err: Error | null) => void)[] = [];
    /** Set by a test: a checkpoint is due after the next sync. */
    due = false;
    /** Checkpoints asked for, completed by hand. */
    readonly checkpoints: ((err: Error | null) => void)[] = [];
    constructor(private readonly db: Database.Database) {}
    pending(): boolean {
      return this.changes() !== this.synced;
    }
    sync(done: (err: Error | null) => void): void {
      const target = this.changes();
      this.held.push((err) => {
        if (!err) this.synced = target;
        done(err);
      });
    }
    checkpointDue(): boolean {
      return this.due;
    }
    checkpoint(done: (err: Error | null) => void): void {
      assert.equal(this.pending(), false, 'a checkpoint began before every commit was synced');
      this.due = false;
      this.checkpoints.push(done);
    }
    private changes(): number {
      return this.db.prepare('SELECT total_changes()').pluck().get() as number;
    }
  }

  const table = (): Database.Database => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    return db;
  };
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

  it('answers a write only after its sync, runs no read meanwhile, and shares one sync among the writes that waited', async () => {
    const db = table();
    const sync = new HeldSync(db);
    const lane = new SqliteLane(sync);
    const insert = db.prepare('INSERT INTO t (id) VALUES (?)');
    let answered = false;
    const first = lane.transaction(db, [() => void insert.run(1)]).then(() => (answered = true));
    await settle();
    assert.equal(sync.held.length, 1, 'the commit asked for a sync');
    assert.equal(answered, false, 'a write was answered before its sync');
    // Operations queued meanwhile wait: a read must not see the unsynced commit's rows first.
    let readRan = false;
    const read = lane.run(() => (readRan = true));
    const second = lane.transaction(db, [() => void insert.run(2)]);
    const third = lane.transaction(db, [() => void insert.run(3)]);
    await settle();
    assert.equal(readRan, false, 'an operation ran while the previous commit was being synced');
    sync.held.shift()?.(null);
    await first;
    assert.equal(answered, true);
    await read;
    // The two writes that waited are one group commit and one sync.
    await settle();
    assert.equal(sync.held.length, 1);
    sync.held.shift()?.(null);
    await Promise.all([second, third]);
    // A read changes nothing: no sync.
    await lane.run(() => db.prepare('SELECT count(*) FROM t').pluck().get());
    assert.equal(sync.held.length, 0);
    db.close();
  });

  it('writes go on while a sync is under way, each answered only after a sync that began after its commit', async () => {
    const db = table();
    const sync = new HeldSync(db);
    const lane = new SqliteLane(sync);
    const insert = db.prepare('INSERT INTO t (id) VALUES (?)');
    const answered: number[] = [];
    const first = lane.transaction(db, [() => void insert.run(1)]).then(() => answered.push(1));
    await settle();
    const second = lane.transaction(db, [() => void insert.run(2)]).then(() => answered.push(2));
    await settle();
    // The second commit ran while the first sync was under way; one sync at a time.
    assert.equal((db.prepare('SELECT count(*) FROM t').pluck().get() as number), 2);
    assert.equal(sync.held.length, 1);
    assert.deepEqual(answered, []);
    sync.held.shift()?.(null);
    await first;
    await settle();
    // The first sync began before the second commit, so it does not answer it: the next sync does.
    assert.deepEqual(answered, [1]);
    assert.equal(sync.held.length, 1);
    let idle = false;
    const idleDone = lane.idle().then(() => (idle = true));
    await settle();
    assert.equal(idle, false, 'idle() answered while a commit was still unsynced');
    sync.held.shift()?.(null);
    await second;
    await idleDone;
    assert.deepEqual(answered, [1, 2]);
    db.close();
  });

  /** A lane whose first write (row 1) was synced with a checkpoint due: the lane has asked for it. */
  async function checkpointAsked(): Promise<{ db: Database.Database; sync: HeldSync; lane: SqliteLane; insert: Database.Statement }> {
    const db = table();
    const sync = new HeldSync(db);
    const lane = new SqliteLane(sync);
    const insert = db.prepare('INSERT INTO t (id) VALUES (?)');
    const first = lane.transaction(db, [() => void insert.run(1)]);
    await settle();
    sync.due = true;
    sync.held.shift()?.(null);
    await first;
    await settle();
    assert.equal(sync.checkpoints.length, 1, 'the lane ran a checkpoint once it was due');
    return { db, sync, lane, insert };
  }

  it('runs a checkpoint once one is due, after every commit is synced, and nothing else until it is done', async () => {
    const { db, sync, lane, insert } = await checkpointAsked();
    // Neither a write (it could reuse the log) nor a read runs until the file is synced.
    const second = lane.transaction(db, [() => void insert.run(2)]);
    let readRan = false;
    const read = lane.run(() => (readRan = true));
    await settle();
    assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 1, 'a write ran during the checkpoint');
    assert.equal(readRan, false);
    sync.checkpoints.shift()?.(null);
    await settle();
    sync.held.shift()?.(null);
    await Promise.all([second, read]);
    assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 2);
    assert.equal(sync.checkpoints.length, 0, 'one checkpoint per time it is due');
    db.close();
  });

  it('a failed checkpoint fails every later operation', async () => {
    const { db, sync, lane } = await checkpointAsked();
    sync.checkpoints.shift()?.(new Error('EIO on the database file'));
    await assert.rejects(lane.run(() => 1), /EIO on the database file/);
    db.close();
  });

  it('a failed sync fails its callers and every later operation', async () => {
    const db = table();
    const sync = new HeldSync(db);
    const lane = new SqliteLane(sync);
    const write = lane.transaction(db, [() => void db.prepare('INSERT INTO t (id) VALUES (1)').run()]);
    await settle();
    sync.held.shift()?.(new Error('EIO'));
    await assert.rejects(write, /EIO/);
    await assert.rejects(lane.run(() => 1), /EIO/);
    db.close();
  });
});

describe('multi-row inserts', () => {
  it('RowInserter writes 1..ROWS_PER_INSERT rows per statement and refuses a mismatched count', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE r (a INTEGER PRIMARY KEY, b TEXT)');
    const insert = new RowInserter(db, 'INSERT INTO r (a, b)', 2, ' ON CONFLICT (a) DO UPDATE SET b = excluded.b');
    const rows = Array.from({ length: 40 }, (_, i) => [i, `v${i}`] as const);
    for (const chunk of chunks(rows)) insert.run(chunk.length, chunk.flat());
    assert.deepEqual(chunks(rows).map((c) => c.length), [ROWS_PER_INSERT, ROWS_PER_INSERT, 40 - 2 * ROWS_PER_INSERT]);
    assert.equal(db.prepare('SELECT count(*) FROM r').pluck().get(), 40);
    // The tail applies to every row of the statement.
    insert.run(2, [3, 'again', 39, 'last']);
    assert.deepEqual(db.prepare('SELECT b FROM r WHERE a IN (3, 39) ORDER BY a').pluck().all(), ['again', 'last']);
    assert.throws(() => insert.run(2, [1, 'x']), /1\.\.16 rows of 2 values, got 2 values for 2 rows/);
    assert.throws(() => insert.run(ROWS_PER_INSERT + 1, []), /got 0 values/);
    db.close();
  });

  it("a transaction's weight is its rows: few steps that write many rows still give the event loop turns", async () => {
    const db = new Database(':memory:');
    const lane = new SqliteLane();
    const steps = new WeightedSteps();
    let stepsDone = 0;
    // Three steps of 100 rows each (300 > SQLITE_SYNC_STEPS), each holding the thread past a slice.
    for (let i = 0; i < 3; i++) {
      steps.push(() => {
        busy(SQLITE_SLICE_MS + 2);
        stepsDone += 1;
      }, 100);
    }
    let timerSawSteps = -1;
    setTimeout(() => (timerSawSteps = stepsDone), 0);
    await lane.transaction(db, steps);
    assert.equal(stepsDone, 3);
    assert.ok(timerSawSteps >= 0 && timerSawSteps < 3, `the event loop got no turn inside the transaction (timer saw ${timerSawSteps} steps done)`);
    db.close();
  });
});
