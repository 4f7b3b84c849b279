import type Database from 'better-sqlite3';
import type { SqliteLane } from './sql';
import { InvariantViolationError } from '@hourglass/common';
import { checkRecordedNumHistoryShards, newClusterMetadata } from '../store-checks';
import type { ClusterMetadata, ClusterStore } from '../types';

export class SqliteClusterStore implements ClusterStore {
  private readonly select: Database.Statement<[], { data: string }>;

  constructor(db: Database.Database, private readonly lane: SqliteLane) {
    this.select = db.prepare('SELECT data FROM cluster_metadata WHERE id = 1');
  }

  getClusterMetadata(): Promise<ClusterMetadata> {
    return this.lane.run(() => {
      const row = this.select.get();
      // openSqlitePersistence records it before handing the store out.
      if (!row) throw new InvariantViolationError('the store has no cluster metadata');
      return JSON.parse(row.data) as ClusterMetadata;
    });
  }
}

/**
 * Records the metadata of a new store, or checks the given shard count against the recorded one.
 * Runs while the file's exclusive lock is held, so nobody else can be doing the same.
 */
export function recordOrCheckClusterMetadata(db: Database.Database, numHistoryShards: number | undefined, now: number): ClusterMetadata {
  return db.transaction((): ClusterMetadata => {
    const row = db.prepare<[], { data: string }>('SELECT data FROM cluster_metadata WHERE id = 1').get();
    if (!row) {
      const created = newClusterMetadata(numHistoryShards, now);
      db.prepare('INSERT INTO cluster_metadata (id, data) VALUES (1, ?)').run(JSON.stringify(created));
      return created;
    }
    const recorded = JSON.parse(row.data) as ClusterMetadata;
    checkRecordedNumHistoryShards(recorded, numHistoryShards);
    return recorded;
  }).immediate();
}
