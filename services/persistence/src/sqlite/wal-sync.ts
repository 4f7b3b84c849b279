import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { UnavailableError } from '@hourglass/common';
import type { LaneDurability } from './sql';

/**
 * Makes every acknowledged commit durable against a power loss without holding the event loop.
 *
 * SQLite's `synchronous = FULL` syncs the write-ahead log inside COMMIT, on the thread that runs the
 * statement: here the event loop, so every caller of every tenant waited for the disk at every
 * commit (`make bench`: 131 against 185 workflows/s with NORMAL, +1.3 ms of server CPU per
 * workflow). Instead the connection runs with `synchronous = NORMAL` (in WAL mode: consistent after
 * any crash, and checkpoints still sync the log before copying it and the database after) and the
 * lane (sql.ts) calls `sync` after operations that changed rows and answers their callers only once
 * it is done. `fdatasync` of the log runs on libuv's thread pool while the event loop serves
 * everything else; the lane goes on with writes meanwhile (they share the next sync), and an
 * operation that may read waits until every commit before it is synced: what a caller is told or
 * can read has the guarantee of FULL. `make bench` (SQLite, 2 cores): 121–141 workflows/s with
 * FULL, 143–158 this way, 149–164 with NORMAL; at 50/s p99 52–58 ms against 134 with FULL.
 *
 * The log's file stays the same file while the connection is open (exclusive locking mode: SQLite
 * deletes it only at close; a TRUNCATE checkpoint keeps the file), so one descriptor serves for the
 * connection's life. Linux syncs a file's data through any descriptor of it.
 */
export class WalSync implements LaneDurability {
  private readonly fd: number;
  private readonly totalChanges: Database.Statement;
  /** `total_changes()` when the last completed sync began: every change up to it is on disk. */
  private synced: number;
  /** Syncs completed (for tests and metrics). */
  syncs = 0;

  /** `db` must be open on `file` in WAL mode (the log exists from the first access of the file). */
  constructor(db: Database.Database, file: string) {
    this.totalChanges = db.prepare('SELECT total_changes()').pluck();
    this.fd = openSync(`${file}-wal`, 'r');
    // The log file and its directory entry, once: NORMAL syncs the log first at a checkpoint, and
    // a directory entry that was never synced can vanish with the power.
    fsyncSync(this.fd);
    syncDirectory(path.dirname(path.resolve(file)));
    this.synced = this.changes();
  }

  pending(): boolean {
    return this.changes() !== this.synced;
  }

  sync(done: (err: Error | null) => void): void {
    const target = this.changes();
    const began = performance.now();
    fdatasync(this.fd, (err) => {
      recordSync(performance.now() - began);
      if (err) {
        done(new WalSyncFailedError(err));
        return;
      }
      this.synced = target;
      this.syncs += 1;
      done(null);
    });
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Rows changed by this connection since it opened (every INSERT, UPDATE and DELETE, rolled back or not). */
  private changes(): number {
    return this.totalChanges.get() as number;
  }
}

/** Upper bounds (ms) of the sync-time histogram's buckets. */
export const WAL_SYNC_BUCKETS_MS = [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000];

/** How long this process's log syncs took so far: cumulative counts per bucket (as Prometheus keeps them), count and sum. */
export interface WalSyncTimes {
  buckets: number[];
  count: number;
  sumMs: number;
}

const times: WalSyncTimes = { buckets: WAL_SYNC_BUCKETS_MS.map(() => 0), count: 0, sumMs: 0 };

function recordSync(ms: number): void {
  WAL_SYNC_BUCKETS_MS.forEach((bound, i) => {
    if (ms <= bound) times.buckets[i] = (times.buckets[i] ?? 0) + 1;
  });
  times.count += 1;
  times.sumMs += ms;
}

/**
 * A copy of this process's sync times so far (every SQLite store it opened; none with
 * `synchronous: 'normal'` or in memory). Each sync is what every commit under way waited for, so a
 * slow disk shows here first.
 */
export function walSyncTimes(): WalSyncTimes {
  return { buckets: [...times.buckets], count: times.count, sumMs: times.sumMs };
}

/**
 * The log could not be synced: the kernel may have dropped the written pages, so what the store
 * holds is no longer known. As PostgreSQL does after a failed fsync, the store refuses everything
 * from then on; a restart reads the file again.
 */
export class WalSyncFailedError extends UnavailableError {
  constructor(cause: NodeJS.ErrnoException) {
    super(`the SQLite store could not sync its write-ahead log (${cause.code ?? cause.message}); restart the server`);
  }
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    // Some platforms (Windows) cannot open or sync a directory; there the file system orders it.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
