import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { VISIBILITY_COLUMNS, VISIBILITY_SQLITE_DDL } from './schema';

describe('visibility schema (SQLite)', () => {
  it('creates the table and its indexes, twice over (idempotent), with the listed columns', () => {
    const db = new Database(':memory:');
    for (let i = 0; i < 2; i++) for (const statement of VISIBILITY_SQLITE_DDL) db.exec(statement);
    const columns = (db.prepare('PRAGMA table_info(visibility_executions)').all() as { name: string }[]).map((c) => c.name);
    assert.deepEqual(columns, VISIBILITY_COLUMNS);
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'visibility_executions' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name).sort();
    assert.deepEqual(indexes, ['visibility_executions_close', 'visibility_executions_start', 'visibility_executions_status', 'visibility_executions_type', 'visibility_executions_workflow_id']);
    assert.throws(() => db.prepare("INSERT INTO visibility_executions (namespace_id, run_id, workflow_id, workflow_type, status, start_time, execution_time, task_queue, history_length, history_size_bytes, state_transition_count, search_attributes, record_version) VALUES ('n', 'r', 'w', 't', 1, 0, 0, 'q', 1, 1, 1, 'not json', 1)").run(), /CHECK constraint/);
    db.close();
  });
});
