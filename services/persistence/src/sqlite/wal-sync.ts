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
 * Checkpoints (copying the log's pages into the database file, after which SQLite reuses the log
 * from its start) are this class's too. Under NORMAL, SQLite checkpoints inside a COMMIT every
 * 1,000 pages of log and syncs the log and then the database file there, on the event loop: at full
 * load a dozen times a second. Here the connection runs with `synchronous = OFF` and no automatic
 * checkpoint; the lane runs `checkpoint` once CHECKPOINT_AFTER_CHANGES rows changed since the last
 * one, with every commit before it synced (so the log it copies is on disk), and lets no write in
 * until the database file is synced off the event loop (so the log is reused only once what it held
 * is durable in the file). Every commit is still answered only after its log sync, and the log's
 * header, rewritten when the log is reused, is synced with the first commit after it. At close,
 * `beforeClose` turns NORMAL back on, so SQLite's own last checkpoint syncs both files before it
 * deletes the log.
 *
 * The log's file stays the same file while the connection is open (exclusive locking mode: SQLite
 * deletes it only at close; a checkpoint keeps the file), so one descriptor serves for the
 * connection's life. Linux syncs a file's data through any descriptor of it.
 */
export class WalSync implements LaneDurability {
  private readonly fd: number;
  /** The database file, synced after each checkpoint. */
  private readonly dbFd: number;
  private readonly totalChanges: Database.Statement;
  /** `total_changes()` when the last completed sync began: every change up to it is on disk. */
  private synced: number;
  /** `total_changes()` at the last checkpoint. */
  private checkpointedAt: number;
  /** Syncs completed (for tests and metrics). */
  syncs = 0;
  /** Checkpoints completed, database file synced (for tests). */
  checkpoints = 0;

  /** `db` must be open on `file` in WAL mode (the log exists from the first access of the file). */
  constructor(
    private readonly db: Database.Database,
    file: string,
    private readonly checkpointAfterChanges = CHECKPOINT_AFTER_CHANGES,
  ) {
    db.pragma('synchronous = OFF');
    db.pragma('wal_autocheckpoint = 0');
    this.totalChanges = db.prepare('SELECT total_changes()').pluck();
    this.fd = openSync(`${file}-wal`, 'r');
    this.dbFd = openSync(file, 'r');
    // Both files and their directory entries, once: a directory entry that was never synced can
    // vanish with the power.
    fsyncSync(this.fd);
    fsyncSync(this.dbFd);
    syncDirectory(path.dirname(path.resolve(file)));
    this.synced = this.changes();
    this.checkpointedAt = this.synced;
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

  checkpointDue(): boolean {
    return this.changes() - this.checkpointedAt >= this.checkpointAfterChanges;
  }

  /**
   * A failure, of the copy or of the file's sync, is the store's end as a failed log sync is: the
   * file's pages may be lost in the kernel, and the log must not be reused over them.
   */
  checkpoint(done: (err: Error | null) => void): void {
    try {
      // PASSIVE: the one connection has no reader to wait for, so the whole log is copied.
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      done(new WalSyncFailedError(err as NodeJS.ErrnoException, 'checkpoint its write-ahead log'));
      return;
    }
    this.checkpointedAt = this.changes();
    fdatasync(this.dbFd, (err) => {
      if (err) {
        done(new WalSyncFailedError(err, 'sync its database file after a checkpoint'));
        return;
      }
      this.checkpoints += 1;
      done(null);
    });
  }

  /** Before the connection closes: SQLite's last checkpoint then syncs the log and the file itself. */
  beforeClose(): void {
    this.db.pragma('synchronous = NORMAL');
  }

  close(): void {
    closeSync(this.fd);
    closeSync(this.dbFd);
  }

  /** Rows changed by this connection since it opened (every INSERT, UPDATE and DELETE, rolled back or not). */
  private changes(): number {
    return this.totalChanges.get() as number;
  }
}

/**
 * Rows changed between checkpoints: about 2,300 pages of log at the bench's mix (SQLite's own
 * default is 1,000 pages). A larger log costs fewer copies of pages written again and again, and a
 * longer checkpoint: this one copies about a thousand distinct pages, a few milliseconds.
 */
export const CHECKPOINT_AFTER_CHANGES = 1_000;

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
  constructor(cause: NodeJS.ErrnoException, what = 'sync its write-ahead log') {
    super(`the SQLite store could not ${what} (${cause.code ?? cause.message}); restart the server`);
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
