import Database from 'better-sqlite3';
import { FairQueue, InvalidArgumentError, TimeSlice } from '@hourglass/common';

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
 *
 * Operations wait per tenant (the namespace id a store call names; '' for the shard's own
 * background work) and take turns round robin, in order within a tenant: a tenant with a hundred
 * operations queued (a signal storm, a fan-out's activity tasks) makes another's next operation
 * wait for one of them, not for all of them. Operations of different tenants have no order between
 * them (nothing awaits across tenants without awaiting the first operation's answer).
 *
 * With `durability` (wal-sync.ts), an operation that changed rows is answered only once the log is
 * synced. The sync runs off the event loop; writes go on meanwhile (each answered after a sync that
 * began after it), but an operation that may read waits until every commit before it is synced, so
 * nothing reads or acknowledges a commit before it is on disk. A failed sync fails its operations
 * and every later one. When the log has grown enough, the lane runs a checkpoint of its own
 * (`queueCheckpoint`).
 */
export class SqliteLane {
  private readonly waiting = new FairQueue<LaneEntry>();
  private busy = false;
  /** Callers of `idle`, answered when nothing is running or waiting. */
  private idleWaiters: (() => void)[] = [];
  /** Set when a sync failed: what the store holds is unknown, so every operation is refused. */
  private failure: Error | undefined;
  /** A sync is under way (durability only). */
  private syncing = false;
  /** Operations that ended after the current sync began: answered after the next one. */
  private unsynced: { entries: LaneEntry[]; outcomes: Outcome[] }[] = [];
  /** The next operation may read, so it waits until every commit before it is synced. */
  private waitsForSync = false;
  /** A checkpoint of the log waits in the lane or runs (durability only). */
  private checkpointQueued = false;

  constructor(private readonly durability?: LaneDurability) {}

  run<T>(op: () => T | Promise<T>, tenant = ''): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.enqueue(tenant, { op, write: undefined, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /**
   * Runs `steps` as one transaction (as runTransaction does). Short transactions that wait in the
   * lane together are committed as ONE SQLite transaction (group commit): each runs in a savepoint
   * of its own, so a throw undoes only its own steps and rejects only its caller, and every caller is
   * answered after the one COMMIT, so nothing is acknowledged before it is written.
   */
  transaction(db: Database.Database, steps: readonly (() => void)[] | WeightedSteps, tenant = ''): Promise<void> {
    const { list, weight } = weighed(steps);
    return new Promise<void>((resolve, reject) => {
      this.enqueue(tenant, { op: () => runTransaction(db, list, weight), write: { db, steps: list, weight }, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /**
   * Runs `body` (its statements, no awaits) as one short transaction and answers its result, grouped
   * with its neighbours in the lane as `transaction` is: background writes (task deletes, usage
   * folds, index upserts, matching's task rows) share the COMMIT of the history writes around them
   * instead of paying one each. A throw rolls back only `body`'s own writes and rejects only its caller.
   */
  write<T>(db: Database.Database, body: () => T, tenant = ''): Promise<T> {
    let result: T | undefined;
    const steps = [
      () => {
        result = body();
      },
    ];
    return new Promise<T>((resolve, reject) => {
      this.enqueue(tenant, {
        op: () => {
          shortTransaction(db)(steps);
          return result;
        },
        write: { db, steps, weight: 1, result: () => result },
        resolve: resolve as (value: unknown) => void,
        reject,
      });
    });
  }

  /** Resolves once every operation queued so far, of every tenant, has ended (and nothing else waits). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return !this.busy && this.waiting.size === 0 && !this.syncing && this.unsynced.length === 0;
  }

  private enqueue(tenant: string, entry: LaneEntry): void {
    this.waiting.push(tenant, entry);
    if (!this.busy) this.next();
  }

  private next(): void {
    const entry = this.waiting.peek();
    if (!entry) {
      this.busy = false;
      this.settleIdle();
      return;
    }
    this.busy = true;
    if (this.failure) {
      this.waiting.shift();
      this.answer([entry], [{ ok: false, value: this.failure }]);
      return;
    }
    // A write may run while earlier commits are being synced: its answer waits for a later sync,
    // which covers them too. Anything else may read, and must not see a commit before it is synced.
    if (!entry.write && (this.syncing || this.unsynced.length > 0)) {
      this.waitsForSync = true;
      return;
    }
    this.waiting.shift();
    const group = this.takeGroup(entry);
    if (group) {
      this.runGroup(group);
      return;
    }
    let result: unknown;
    try {
      result = entry.op();
    } catch (err) {
      this.finish([entry], [{ ok: false, value: err }]);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.finish([entry], [{ ok: true, value }]),
        (err: unknown) => this.finish([entry], [{ ok: false, value: err }]),
      );
    } else {
      this.finish([entry], [{ ok: true, value: result }]);
    }
  }

  /**
   * `first` and the short transactions that come after it in the lane's order (round robin over
   * tenants), on its connection: a group of two or more; undefined when none can join it.
   */
  private takeGroup(first: LaneEntry): LaneEntry[] | undefined {
    const write = first.write;
    if (!write || write.weight > SQLITE_SYNC_STEPS) return undefined;
    const group = [first];
    let steps = write.weight;
    while (group.length < SQLITE_GROUP_MAX_TRANSACTIONS) {
      const candidate = this.waiting.peek()?.write;
      if (!candidate || candidate.db !== write.db || steps + candidate.weight > SQLITE_SYNC_STEPS) break;
      steps += candidate.weight;
      group.push(this.waiting.shift() as LaneEntry);
    }
    return group.length < 2 ? undefined : group;
  }

  private runGroup(group: LaneEntry[]): void {
    const outcomes: Outcome[] = group.map(() => ({ ok: true, value: undefined }));
    try {
      groupTransaction((group[0]?.write as LaneWrite).db)(group, outcomes);
    } catch (err) {
      // The COMMIT itself, or a failure that ended the whole transaction: nothing of the group is written.
      this.finish(group, group.map(() => ({ ok: false, value: err })));
      return;
    }
    this.finish(group, outcomes);
  }

  /**
   * Once what the operation wrote is durable, its callers are answered. With durability, an
   * operation that changed rows (or ran while a sync was under way) waits for the next sync, and
   * the lane goes on meanwhile; one sync at a time, each covering every commit before it began.
   */
  private finish(entries: LaneEntry[], outcomes: Outcome[]): void {
    if (!this.durability?.pending()) {
      this.answer(entries, outcomes);
      return;
    }
    this.unsynced.push({ entries, outcomes });
    if (!this.syncing) this.startSync(this.durability);
    setImmediate(() => this.next());
  }

  private startSync(durability: LaneDurability): void {
    const batch = this.unsynced;
    this.unsynced = [];
    this.syncing = true;
    durability.sync((err) => {
      this.syncing = false;
      if (err) this.failure = err;
      for (const { entries, outcomes } of batch) this.resolveAll(entries, err ? entries.map(() => ({ ok: false, value: err })) : outcomes);
      if (this.unsynced.length > 0) {
        if (this.failure) {
          const failed = this.unsynced;
          this.unsynced = [];
          for (const { entries } of failed) this.resolveAll(entries, entries.map(() => ({ ok: false, value: this.failure })));
        } else {
          this.startSync(durability);
        }
      }
      if (!this.failure && !this.checkpointQueued && durability.checkpointDue()) this.queueCheckpoint(durability);
      if (this.waitsForSync && !this.syncing && this.unsynced.length === 0) {
        this.waitsForSync = false;
        this.next();
      }
      this.settleIdle();
    });
  }

  /**
   * The checkpoint is an operation of the lane's own (the shard's background turn): like any
   * operation that is not a write, it starts only once every commit before it is synced, and
   * nothing else runs on the connection until the database file holds the log's pages durably,
   * so no write can reuse the log before that. A failed checkpoint fails every later operation,
   * as a failed sync does.
   */
  private queueCheckpoint(durability: LaneDurability): void {
    this.checkpointQueued = true;
    this.run(
      () =>
        new Promise<void>((resolve, reject) => {
          durability.checkpoint((err) => {
            this.checkpointQueued = false;
            if (err) {
              this.failure = err;
              reject(err);
            } else {
              resolve();
            }
          });
        }),
    ).catch(() => undefined); // the failure is the lane's from now on; nobody awaits the checkpoint itself
  }

  private settleIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private resolveAll(entries: LaneEntry[], outcomes: Outcome[]): void {
    entries.forEach((entry, i) => {
      const outcome = outcomes[i] as Outcome;
      if (outcome.ok) entry.resolve(entry.write?.result ? entry.write.result() : outcome.value);
      else entry.reject(outcome.value);
    });
  }

  /** The event loop takes a turn, then the callers continue and the next operation starts. */
  private answer(entries: LaneEntry[], outcomes: Outcome[]): void {
    setImmediate(() => {
      this.resolveAll(entries, outcomes);
      this.next();
    });
  }
}

/** Makes what the lane's operations committed durable before their callers hear of it (wal-sync.ts). */
export interface LaneDurability {
  /** True when rows changed since the last sync began. */
  pending(): boolean;
  /** Syncs everything committed so far; `done` runs once it is on disk, or with why it is not. */
  sync(done: (err: Error | null) => void): void;
  /** True when the log has grown enough since the last checkpoint for the lane to run one. */
  checkpointDue(): boolean;
  /**
   * Copies the log into the database file and makes the file durable; `done` once it is (or with
   * why not). The lane calls it with every commit synced and runs nothing else until `done`.
   */
  checkpoint(done: (err: Error | null) => void): void;
}

interface LaneWrite {
  db: Database.Database;
  steps: readonly (() => void)[];
  /** Rows the steps write (at least one per step): what the run-in-one-go and grouping limits count. */
  weight: number;
  /** What the caller is answered once its steps are committed (`write`); undefined for `transaction`. */
  result?: () => unknown;
}

interface LaneEntry {
  op: () => unknown;
  /** Set for a transaction that may be grouped with its neighbours. */
  write: LaneWrite | undefined;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface Outcome {
  ok: boolean;
  value: unknown;
}

/** Most transactions one group commit takes (its steps are also capped at SQLITE_SYNC_STEPS). */
export const SQLITE_GROUP_MAX_TRANSACTIONS = 64;

/** One group-commit function per connection: an IMMEDIATE transaction with a savepoint per member. */
const groupTransactions = new WeakMap<Database.Database, (group: LaneEntry[], outcomes: Outcome[]) => void>();

function groupTransaction(db: Database.Database): (group: LaneEntry[], outcomes: Outcome[]) => void {
  let run = groupTransactions.get(db);
  if (!run) {
    // Called inside a transaction, a better-sqlite3 transaction function is a savepoint: a throw
    // rolls back to it and rethrows.
    const member = db.transaction((steps: readonly (() => void)[]) => {
      for (const step of steps) step();
    });
    run = db.transaction((group: LaneEntry[], outcomes: Outcome[]) => {
      group.forEach((entry, i) => {
        try {
          member((entry.write as LaneWrite).steps);
        } catch (err) {
          // Some errors (disk full, I/O) end the whole transaction: then the group fails as one.
          if (!db.inTransaction) throw err;
          outcomes[i] = { ok: false, value: err };
        }
      });
    }).immediate;
    groupTransactions.set(db, run);
  }
  return run;
}

/** Longest stretch of statements a large transaction runs before giving the event loop a turn. */
export const SQLITE_SLICE_MS = 8;

/** A transaction writing at most this many rows runs in one go (small enough to never matter). */
export const SQLITE_SYNC_STEPS = 200;

/**
 * Runs `steps` (statements or checks) as one IMMEDIATE transaction. A long one (`weight`, its rows,
 * over SQLITE_SYNC_STEPS) gives the event loop a turn every SQLITE_SLICE_MS while it holds the lane;
 * a throw at any step rolls back everything before it. Must run inside `SqliteLane.run`.
 */
export async function runTransaction(db: Database.Database, steps: readonly (() => void)[], weight = steps.length): Promise<void> {
  if (weight <= SQLITE_SYNC_STEPS) {
    shortTransaction(db)(steps);
    return;
  }
  db.exec('BEGIN IMMEDIATE');
  try {
    const slice = new TimeSlice(SQLITE_SLICE_MS);
    for (const step of steps) {
      step();
      if (slice.due()) await slice.yield();
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

/**
 * The steps of a transaction and the rows they write: a step that inserts many rows (RowInserter)
 * counts as many, so a large commit still gives the event loop turns however its rows are packed.
 */
export class WeightedSteps {
  readonly list: (() => void)[] = [];
  weight = 0;

  push(step: () => void, rows = 1): void {
    this.list.push(step);
    this.weight += Math.max(1, rows);
  }
}

function weighed(steps: readonly (() => void)[] | WeightedSteps): { list: readonly (() => void)[]; weight: number } {
  return steps instanceof WeightedSteps ? { list: steps.list, weight: steps.weight } : { list: steps, weight: steps.length };
}

/** Rows one multi-row INSERT carries: 6,000 rows insert about 2.7× faster 16 at a time than one by one. */
export const ROWS_PER_INSERT = 16;

/** `items` in runs of at most `size`, in order. */
export function chunks<T>(items: readonly T[], size = ROWS_PER_INSERT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A multi-row INSERT for 1..ROWS_PER_INSERT rows of `columns` values each: `head` up to VALUES,
 * `tail` after them (an ON CONFLICT clause). One prepared statement per row count, made on first use.
 */
export class RowInserter {
  private readonly bySize = new Map<number, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly head: string,
    private readonly columns: number,
    private readonly tail = '',
  ) {}

  /** `values`: the rows' values one row after another, `rows * columns` of them. */
  run(rows: number, values: readonly unknown[]): Database.RunResult {
    if (rows < 1 || rows > ROWS_PER_INSERT || values.length !== rows * this.columns) {
      throw new InvalidArgumentError(`a multi-row insert takes 1..${ROWS_PER_INSERT} rows of ${this.columns} values, got ${values.length} values for ${rows} rows`);
    }
    let statement = this.bySize.get(rows);
    if (!statement) {
      const row = `(${new Array<string>(this.columns).fill('?').join(', ')})`;
      statement = this.db.prepare(`${this.head} VALUES ${new Array<string>(rows).fill(row).join(', ')}${this.tail}`);
      this.bySize.set(rows, statement);
    }
    return statement.run(values);
  }

  /**
   * Adds steps to `steps` that insert `rows`, ROWS_PER_INSERT per statement, each row's values as
   * `valuesOf` gives them; a duplicate key becomes `onDuplicate(chunk)` when given.
   */
  pushSteps<R>(steps: WeightedSteps, rows: readonly R[], valuesOf: (row: R) => readonly unknown[], onDuplicate?: (chunk: readonly R[]) => Error): void {
    for (const chunk of chunks(rows)) {
      steps.push(() => {
        const values: unknown[] = [];
        for (const row of chunk) values.push(...valuesOf(row));
        try {
          this.run(chunk.length, values);
        } catch (err) {
          if (onDuplicate && isDuplicateKey(err)) throw onDuplicate(chunk);
          throw err;
        }
      }, chunk.length);
    }
  }
}
