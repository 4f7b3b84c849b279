import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SystemClock, type Clock } from '@hourglass/common';
import { StoreInUseError, type StoreOwner } from '../errors';
import { checkNumHistoryShards } from '../store-checks';
import type { Persistence } from '../types';
import { SqliteLane } from './sql';
import { SqliteClusterStore, recordOrCheckClusterMetadata } from './cluster.store';
import { SqliteExecutionStore } from './execution.store';
import { SqliteIdentityStore } from './identity.store';
import { SqliteMembershipStore } from './membership.store';
import { SqlitePortalStore } from './portal.store';
import { migrate } from './migrations';
import { SqliteNamespaceStore } from './namespace.store';
import { SqliteTaskQueueStore } from './task-queue.store';
import { SqliteVisibilityStore } from './visibility.store';
import { WalSync } from './wal-sync';

export interface SqlitePersistenceOptions {
  /** Database file, or ':memory:' for a store that lives as long as the returned object. */
  path: string;
  /**
   * History shards of the store. A new store records this (default 4); an existing one refuses a
   * different number (StoreMismatchError). Leave it unset to use the recorded one.
   */
  numHistoryShards?: number;
  /** Stamps shard acquisitions and the creation of the store; defaults to the system clock. */
  clock?: Clock;
  /** How often the query planner's statistics are refreshed (PLANNER_STATISTICS_INTERVAL_MS by default). */
  plannerStatisticsIntervalMs?: number;
  /**
   * full (default): every commit's log is synced before its caller is answered, so an acknowledged
   * write survives a power loss; normal: only a crash of the process (wal-sync.ts).
   */
  synchronous?: SqliteSynchronous;
  /** With `full`: rows changed between checkpoints of the log (CHECKPOINT_AFTER_CHANGES by default). */
  checkpointAfterChanges?: number;
  /**
   * False: a commit's usage goes as usage tasks, folded in batches, as on MySQL (for tests of that
   * path). By default it is added to the counters inside the commit (ExecutionStore.foldsUsageInCommit).
   */
  foldsUsageInCommit?: boolean;
}

export type SqliteSynchronous = 'full' | 'normal';

/**
 * SQLite picks indexes from statistics (sqlite_stat1) that only ANALYZE writes. Without them it
 * takes `status = ?` for a selective index and sorts every matching run: a filtered list page over
 * 100,000 executions took 25 ms that way instead of under 1 ms through the index that serves its
 * order. `PRAGMA optimize` refreshes the statistics of the tables that changed enough since, each
 * sampled at most ANALYSIS_LIMIT rows per index (milliseconds, whatever the table's size): at open
 * and then every interval, as SQLite recommends for long-lived connections.
 */
export const PLANNER_STATISTICS_INTERVAL_MS = 10 * 60_000;
const ANALYSIS_LIMIT = 400;
/** 0x02: analyse where it helps; 0x10000: every table, not only those this connection queried since the last run. */
const OPTIMIZE = 'optimize = 0x10002';

const MEMORY = ':memory:';

/**
 * Opens (creating and migrating when needed) the embedded store, as the only process using the
 * file: a second process opening the same file is refused (StoreInUseError) until the first one
 * closes it or dies.
 *
 * @example
 * const persistence = openSqlitePersistence({ path: './data/hourglass.db' });
 * const { numHistoryShards } = await persistence.cluster.getClusterMetadata(); // 4 for a new file
 * const shard = await persistence.executions.acquireShard(1, 'host-a');
 * await persistence.close();
 */
export function openSqlitePersistence(options: SqlitePersistenceOptions): Persistence {
  checkNumHistoryShards(options.numHistoryShards);
  const clock = options.clock ?? new SystemClock();
  const isFile = options.path !== MEMORY;
  if (isFile) mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
  // timeout 0: a file another process holds is refused at once rather than after a busy wait.
  const db = new Database(options.path, { timeout: 0 });
  let owner: OwnerFile | undefined;
  try {
    if (isFile) owner = lockFile(db, options.path);
    const synchronous = options.synchronous ?? 'full';
    configure(db);
    migrate(db);
    recordOrCheckClusterMetadata(db, options.numHistoryShards, clock.now());
    db.pragma(OPTIMIZE);
    // full: the lane syncs the log before it answers (wal-sync.ts); a store in memory has no log.
    const walSync = isFile && synchronous === 'full' ? new WalSync(db, options.path, options.checkpointAfterChanges) : undefined;
    return new SqlitePersistence(db, clock, owner, walSync, options.plannerStatisticsIntervalMs ?? PLANNER_STATISTICS_INTERVAL_MS, {
      foldsUsageInCommit: options.foldsUsageInCommit ?? true,
    });
  } catch (err) {
    owner?.remove();
    db.close();
    throw err;
  }
}

/**
 * Takes the file for this process alone, before anything reads or writes a shard.
 *
 * Mechanism: SQLite's own `locking_mode = EXCLUSIVE` in WAL mode. The connection takes an
 * exclusive POSIX lock on the database file at its first read and keeps it until it closes; the
 * OS drops the lock when the process dies, SIGKILL included, so there is never a stale lock to
 * clean by hand. Unlike an advisory lock on a sidecar file, it also keeps out every other SQLite
 * client (an older build, the sqlite3 shell), and needs no native dependency beyond SQLite. The
 * price: nothing can read the file while a server holds it. Nothing in Hourglass needs to (no
 * read-only inspection path exists); stop the server to inspect the file. Exclusive WAL also
 * keeps the WAL index in process memory instead of a -shm file.
 *
 * The lock itself carries no information, so the holder writes who it is to `<file>-owner`
 * (read by a refused opener for its message; stale after a SIGKILL, overwritten by the next holder).
 */
function lockFile(db: Database.Database, file: string): OwnerFile {
  db.pragma('locking_mode = EXCLUSIVE');
  try {
    // The first access of the file: takes the lock (and switches a new file to WAL, which must
    // happen in exclusive mode for the WAL index to live in memory).
    db.pragma('journal_mode = WAL');
  } catch (err) {
    if (err instanceof Database.SqliteError && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED')) {
      throw new StoreInUseError(path.resolve(file), readOwner(ownerPath(file)));
    }
    throw err;
  }
  const owner = new OwnerFile(ownerPath(file));
  owner.write({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
  return owner;
}

function configure(db: Database.Database): void {
  // NORMAL in WAL mode: consistent after any crash and the log synced at checkpoints, not at
  // commits. Option `synchronous: 'full'` adds a sync of the log after every commit, before any
  // caller is answered, off the event loop, and takes the checkpoints over (WalSync); 'normal'
  // leaves it at that, so the last commits may be lost with the machine (never with the process alone).
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Statement journals (a multi-row or upserting statement inside a transaction keeps one, to undo
  // just that statement) and sorts stay in memory: on disk they were a temporary file with ~200
  // writes per workflow. They only ever hold one transaction's worth.
  db.pragma('temp_store = MEMORY');
  db.pragma(`analysis_limit = ${ANALYSIS_LIMIT}`);
}

function ownerPath(file: string): string {
  return `${path.resolve(file)}-owner`;
}

/** Missing or unreadable owner information is not an error: the lock alone decides. */
function readOwner(file: string): StoreOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoreOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.since === 'string') {
      return { pid: parsed.pid, host: parsed.host, since: parsed.since };
    }
  } catch {
    // absent or half-written by a holder that died
  }
  return undefined;
}

class OwnerFile {
  constructor(private readonly file: string) {}

  /** Write-then-rename, so a refused opener never reads half a record. */
  write(owner: StoreOwner): void {
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(owner)}\n`);
    renameSync(temp, this.file);
  }

  /** Only while the lock is still held: afterwards the file may already be the next holder's. */
  remove(): void {
    rmSync(this.file, { force: true });
  }
}

class SqlitePersistence implements Persistence {
  readonly backend = 'sqlite';
  readonly cluster: SqliteClusterStore;
  readonly namespaces: SqliteNamespaceStore;
  readonly identity: SqliteIdentityStore;
  readonly portal: SqlitePortalStore;
  readonly executions: SqliteExecutionStore;
  readonly taskQueues: SqliteTaskQueueStore;
  readonly visibility: SqliteVisibilityStore;
  readonly membership: SqliteMembershipStore;

  /** Every store goes through the one lane of the one connection. */
  private readonly lane: SqliteLane;

  private readonly statisticsTimer: NodeJS.Timeout;

  constructor(
    private readonly db: Database.Database,
    clock: Clock,
    private readonly owner: OwnerFile | undefined,
    /** Set when acknowledged commits are synced (synchronous 'full' on a file). */
    readonly walSync: WalSync | undefined,
    statisticsIntervalMs: number,
    executionOptions: { foldsUsageInCommit: boolean },
  ) {
    this.lane = new SqliteLane(walSync);
    this.cluster = new SqliteClusterStore(db, this.lane);
    this.namespaces = new SqliteNamespaceStore(db, this.lane);
    this.identity = new SqliteIdentityStore(db, this.lane, this.namespaces);
    this.portal = new SqlitePortalStore(db, this.lane);
    this.executions = new SqliteExecutionStore(db, this.lane, clock, executionOptions);
    this.taskQueues = new SqliteTaskQueueStore(db, this.lane);
    this.visibility = new SqliteVisibilityStore(db, this.lane);
    this.membership = new SqliteMembershipStore(db, this.lane, clock);
    // Maintenance of the connection, not of any workflow: nothing is lost when a refresh is skipped.
    this.statisticsTimer = setInterval(() => {
      this.refreshPlannerStatistics().catch(() => undefined);
    }, statisticsIntervalMs).unref();
  }

  /** Refreshes the query planner's statistics of the tables that changed enough since the last refresh. */
  async refreshPlannerStatistics(): Promise<void> {
    await this.lane.run(() => {
      if (this.db.open) this.db.pragma(OPTIMIZE);
    });
  }

  /** Idempotent, so shutdown paths need not track whether they already closed; waits for what is on the connection. */
  async close(): Promise<void> {
    clearInterval(this.statisticsTimer);
    await this.lane.idle();
    if (!this.db.open) return;
    this.owner?.remove();
    this.walSync?.beforeClose();
    this.db.close();
    this.walSync?.close();
  }
}
