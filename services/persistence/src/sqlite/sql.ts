import Database from 'better-sqlite3';
import { InvalidArgumentError } from '@hourglass/common';

/** True for a PRIMARY KEY or UNIQUE violation: a row with that key is already there. */
export function isDuplicateKey(err: unknown): boolean {
  return (
    err instanceof Database.SqliteError &&
    (err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err.code === 'SQLITE_CONSTRAINT_UNIQUE')
  );
}

/** SQLite reads a negative LIMIT as "no limit"; a caller bug must not turn into a full scan. */
export function checkLimit(limit: number, what = 'limit'): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`${what} must be a positive integer, got ${limit}`);
  }
}

/** better-sqlite3 returns BLOBs as Buffers; hand out plain Uint8Array views (no copy). */
export function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * The one way onto a SQLite connection. better-sqlite3 runs every statement synchronously on the
 * event loop, so without care a chain of store calls (each a resolved promise) never gives other
 * callers a turn, and one large commit holds the loop for its whole length. The lane runs one
 * operation at a time (a large commit may yield the loop between its statements and still be the
 * only thing on the connection, so nothing reads its uncommitted rows or nests a transaction in
 * it), and lets the event loop take a turn before the caller continues — after every operation:
 * yielding only every 2 ms instead let a noisy tenant's chains of operations push a quiet tenant's
 * p99 from under 1 s to 11 s in `make bench ARGS="--mode neighbours"`.
 */
export class SqliteLane {
  private readonly waiting: LaneEntry[] = [];
  private busy = false;

  run<T>(op: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ op, resolve: resolve as (value: unknown) => void, reject });
      if (!this.busy) this.next();
    });
  }

  private next(): void {
    const entry = this.waiting.shift();
    if (!entry) {
      this.busy = false;
      return;
    }
    this.busy = true;
    let result: unknown;
    try {
      result = entry.op();
    } catch (err) {
      this.finish(entry, false, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.finish(entry, true, value),
        (err: unknown) => this.finish(entry, false, err),
      );
    } else {
      this.finish(entry, true, result);
    }
  }

  /** The event loop takes a turn, then the caller continues and the next operation starts. */
  private finish(entry: LaneEntry, ok: boolean, value: unknown): void {
    setImmediate(() => {
      if (ok) entry.resolve(value);
      else entry.reject(value);
      this.next();
    });
  }
}

interface LaneEntry {
  op: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Longest stretch of statements a large transaction runs before giving the event loop a turn. */
export const SQLITE_SLICE_MS = 8;

/** A transaction at most this many statements long runs in one go (small enough to never matter). */
export const SQLITE_SYNC_STEPS = 200;

/**
 * Runs `steps` (single statements or checks) as one IMMEDIATE transaction. A long one gives the
 * event loop a turn every SQLITE_SLICE_MS while it holds the lane; a throw at any step rolls back
 * everything before it. Must run inside `SqliteLane.run`.
 */
export async function runTransaction(db: Database.Database, steps: readonly (() => void)[]): Promise<void> {
  if (steps.length <= SQLITE_SYNC_STEPS) {
    shortTransaction(db)(steps);
    return;
  }
  db.exec('BEGIN IMMEDIATE');
  try {
    let sliceStart = performance.now();
    for (const step of steps) {
      step();
      if (performance.now() - sliceStart > SQLITE_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/** One transaction function per connection (better-sqlite3 builds a wrapper per `transaction()` call). */
const shortTransactions = new WeakMap<Database.Database, (steps: readonly (() => void)[]) => void>();

function shortTransaction(db: Database.Database): (steps: readonly (() => void)[]) => void {
  let run = shortTransactions.get(db);
  if (!run) {
    run = db.transaction((steps: readonly (() => void)[]) => {
      for (const step of steps) step();
    }).immediate;
    shortTransactions.set(db, run);
  }
  return run;
}
