import type Database from 'better-sqlite3';
import type { VisibilityDeletion, VisibilityRecord } from '@hourglass/visibility';
import type { VisibilitySqlQuery, VisibilityStore } from '../types';
import { VISIBILITY_COLUMNS, visibilityParams, visibilityRecordOfRow } from '../visibility-rows';
import type { SqliteLane } from './sql';

const UPSERT = `INSERT INTO visibility_executions (${VISIBILITY_COLUMNS.join(', ')})
VALUES (${VISIBILITY_COLUMNS.map(() => '?').join(', ')})
ON CONFLICT (namespace_id, run_id) DO UPDATE SET
${VISIBILITY_COLUMNS.filter((c) => c !== 'namespace_id' && c !== 'run_id')
  .map((c) => `  ${c} = excluded.${c}`)
  .join(',\n')}
WHERE excluded.record_version > visibility_executions.record_version`;

const STATEMENT_CACHE_SIZE = 256;

/** The SQL visibility index on the embedded store. */
export class SqliteVisibilityStore implements VisibilityStore {
  readonly dialect = 'sqlite';
  private readonly upsertOne: Database.Statement<unknown[]>;
  private readonly deleteOne: Database.Statement<[string, string, number]>;
  private readonly getOne: Database.Statement<[string, string], Record<string, unknown>>;
  private readonly upsertTx: (records: readonly VisibilityRecord[]) => void;
  private readonly deleteTx: (deletions: readonly VisibilityDeletion[]) => void;
  private readonly statements = new Map<string, Database.Statement<unknown[]>>();

  constructor(private readonly db: Database.Database, private readonly lane: SqliteLane) {
    this.upsertOne = db.prepare(UPSERT);
    this.deleteOne = db.prepare('DELETE FROM visibility_executions WHERE namespace_id = ? AND run_id = ? AND record_version <= ?');
    this.getOne = db.prepare(`SELECT ${VISIBILITY_COLUMNS.join(', ')} FROM visibility_executions WHERE namespace_id = ? AND run_id = ?`);
    this.upsertTx = db.transaction((records: readonly VisibilityRecord[]) => {
      for (const record of records) this.upsertOne.run(...visibilityParams(record));
    });
    this.deleteTx = db.transaction((deletions: readonly VisibilityDeletion[]) => {
      for (const d of deletions) this.deleteOne.run(d.namespaceId, d.runId, d.version);
    });
  }

  upsert(records: readonly VisibilityRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.lane.write(this.db, () => this.upsertTx(records), records[0]?.namespaceId);
  }

  delete(deletions: readonly VisibilityDeletion[]): Promise<void> {
    if (deletions.length === 0) return Promise.resolve();
    return this.lane.write(this.db, () => this.deleteTx(deletions), deletions[0]?.namespaceId);
  }

  get(namespaceId: string, runId: string): Promise<VisibilityRecord | undefined> {
    return this.lane.run(() => {
      const row = this.getOne.get(namespaceId, runId);
      return row ? visibilityRecordOfRow(row) : undefined;
    }, namespaceId);
  }

  list(query: VisibilitySqlQuery): Promise<VisibilityRecord[]> {
    return this.lane.run(() => (this.statement(query.sql).all(...sqliteParams(query.params)) as Record<string, unknown>[]).map(visibilityRecordOfRow));
  }

  count(query: VisibilitySqlQuery): Promise<Record<string, unknown>[]> {
    return this.lane.run(() => this.statement(query.sql).all(...sqliteParams(query.params)) as Record<string, unknown>[]);
  }

  /** Translated queries repeat (a UI polling one filter, pages of one list): their statements are kept, the least recently used dropped. */
  private statement(sql: string): Database.Statement<unknown[]> {
    let statement = this.statements.get(sql);
    if (statement) {
      this.statements.delete(sql);
    } else {
      statement = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value as string);
    }
    this.statements.set(sql, statement);
    return statement;
  }
}

/** better-sqlite3 binds no booleans: SQLite's true and false are 1 and 0. */
function sqliteParams(params: readonly unknown[]): unknown[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}
