import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SystemClock, type Clock } from '@hourglass/common';
import type { Persistence } from '../types';
import { SqliteClusterStore } from './cluster.store';
import { SqliteExecutionStore } from './execution.store';
import { migrate } from './migrations';
import { SqliteNamespaceStore } from './namespace.store';
import { SqliteTaskQueueStore } from './task-queue.store';

export interface SqlitePersistenceOptions {
  /** Database file, or ':memory:' for a store that lives as long as the returned object. */
  path: string;
  /** Stamps shard acquisitions; defaults to the system clock. */
  clock?: Clock;
}

const MEMORY = ':memory:';

/**
 * Opens (creating and migrating when needed) the embedded store.
 *
 * @example
 * const persistence = openSqlitePersistence({ path: './data/hourglass.db' });
 * const shard = await persistence.executions.acquireShard(1, 'host-a');
 * await persistence.close();
 */
export function openSqlitePersistence(options: SqlitePersistenceOptions): Persistence {
  if (options.path !== MEMORY) mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
  const db = new Database(options.path);
  try {
    configure(db, options.path !== MEMORY);
    migrate(db);
    return new SqlitePersistence(db, options.clock ?? new SystemClock());
  } catch (err) {
    db.close();
    throw err;
  }
}

function configure(db: Database.Database, isFile: boolean): void {
  // WAL lets readers run beside the single writer; with synchronous=NORMAL a committed
  // transaction survives a crash of the process (not necessarily of the OS), at a fraction
  // of FULL's fsync cost. An in-memory database has no journal file to switch.
  if (isFile) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
}

class SqlitePersistence implements Persistence {
  readonly backend = 'sqlite';
  readonly cluster: SqliteClusterStore;
  readonly namespaces: SqliteNamespaceStore;
  readonly executions: SqliteExecutionStore;
  readonly taskQueues: SqliteTaskQueueStore;

  constructor(private readonly db: Database.Database, clock: Clock) {
    this.cluster = new SqliteClusterStore(db);
    this.namespaces = new SqliteNamespaceStore(db);
    this.executions = new SqliteExecutionStore(db, clock);
    this.taskQueues = new SqliteTaskQueueStore(db);
  }

  /** Idempotent, so shutdown paths need not track whether they already closed. */
  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
