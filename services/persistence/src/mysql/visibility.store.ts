import { InvalidArgumentError } from '@hourglass/common';
import type { VisibilityDeletion, VisibilityRecord } from '@hourglass/visibility';
import type { VisibilitySqlQuery, VisibilityStore } from '../types';
import { VISIBILITY_COLUMNS, visibilityParams, visibilityRecordOfRow } from '../visibility-rows';
import type { MysqlDatabase, SqlParam } from './sql';

const ROWS_PER_STATEMENT = 100;

/**
 * Assignments run left to right and each sees the columns already assigned, so every column is
 * guarded by the stored version and record_version (last in VISIBILITY_COLUMNS) changes last.
 */
const UPDATE_NEWER = VISIBILITY_COLUMNS.filter((c) => c !== 'namespace_id' && c !== 'run_id')
  .map((c) => `${c} = IF(VALUES(record_version) > record_version, VALUES(${c}), ${c})`)
  .join(', ');

function upsertSql(rows: number): string {
  const tuple = `(${VISIBILITY_COLUMNS.map(() => '?').join(', ')})`;
  return `INSERT INTO visibility_executions (${VISIBILITY_COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}
ON DUPLICATE KEY UPDATE ${UPDATE_NEWER}`;
}

/** The SQL visibility index in the cluster database. */
export class MysqlVisibilityStore implements VisibilityStore {
  readonly dialect = 'mysql';

  constructor(private readonly db: MysqlDatabase) {}

  async upsert(records: readonly VisibilityRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
      const chunk = records.slice(i, i + ROWS_PER_STATEMENT);
      await this.db.run(upsertSql(chunk.length), chunk.flatMap(visibilityParams));
    }
  }

  async delete(deletions: readonly VisibilityDeletion[]): Promise<void> {
    for (const d of deletions) {
      await this.db.run('DELETE FROM visibility_executions WHERE namespace_id = ? AND run_id = ? AND record_version <= ?', [d.namespaceId, d.runId, d.version]);
    }
  }

  async get(namespaceId: string, runId: string): Promise<VisibilityRecord | undefined> {
    const rows = await this.db.rows<Record<string, unknown>>(
      `SELECT ${VISIBILITY_COLUMNS.join(', ')} FROM visibility_executions WHERE namespace_id = ? AND run_id = ?`,
      [namespaceId, runId],
    );
    return rows[0] ? visibilityRecordOfRow(rows[0]) : undefined;
  }

  async list(query: VisibilitySqlQuery): Promise<VisibilityRecord[]> {
    return (await this.db.rows<Record<string, unknown>>(query.sql, sqlParams(query.params))).map(visibilityRecordOfRow);
  }

  async count(query: VisibilitySqlQuery): Promise<Record<string, unknown>[]> {
    const rows = await this.db.rows<Record<string, unknown>>(query.sql, sqlParams(query.params));
    return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])));
  }
}

function sqlParams(params: readonly unknown[]): SqlParam[] {
  return params.map((p, i) => {
    if (p === null || typeof p === 'string' || typeof p === 'number' || Buffer.isBuffer(p)) return p;
    if (typeof p === 'boolean') return p ? 1 : 0;
    throw new InvalidArgumentError(`visibility query parameter ${i + 1} is a ${typeof p}, which MySQL cannot bind`);
  });
}

/** Counts come back as strings (BIGINT) and group values as Buffers (binary collation). */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'string' && /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  return value;
}
