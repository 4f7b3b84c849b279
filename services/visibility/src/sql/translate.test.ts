import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { compileQuery } from '../query/checker';
import { VISIBILITY_SQLITE_DDL } from './schema';
import { CATALOG, FIXTURE_QUERIES, INSERT_SQL, NAMESPACE, fixtureRows, insertParams } from './testing/fixture';
import { checkAllFixtureQueries, checkList, type RunSql } from './testing/suite';
import { pageCursorOf, toSqlCount, toSqlList } from './translate';

describe('SQL translation executed on SQLite against the TypeScript oracle', () => {
  const rows = fixtureRows();
  let db: Database.Database;
  let run: RunSql;

  before(() => {
    db = new Database(':memory:');
    for (const statement of VISIBILITY_SQLITE_DDL) db.exec(statement);
    const insert = db.prepare(INSERT_SQL);
    db.transaction(() => {
      for (const row of rows) insert.run(...insertParams(row));
    })();
    run = (sql, params) => Promise.resolve(db.prepare(sql).all(...params) as Record<string, unknown>[]);
  });
  after(() => db.close());

  it('holds a few hundred rows in two namespaces', () => {
    const counts = db.prepare('SELECT namespace_id, COUNT(*) AS n FROM visibility_executions GROUP BY namespace_id ORDER BY namespace_id').all();
    assert.deepEqual(counts, [
      { namespace_id: 'ns-a', n: 300 },
      { namespace_id: 'ns-b', n: 60 },
    ]);
  });

  it(`returns what the oracle says for all ${FIXTURE_QUERIES.length} fixture queries, page by page, with counts`, async () => {
    const { nonEmpty, queries } = await checkAllFixtureQueries(run, 'sqlite', rows);
    // The fixture is only a check if most queries select something (and not everything).
    assert.ok(nonEmpty >= queries - 12, `only ${nonEmpty} of ${queries} queries match any row`);
  });

  it('pages of 1 walk the whole default order', async () => {
    assert.equal(await checkList(run, 'sqlite', rows, "ExecutionStatus = 'Running' OR CustomerId = 'acme'", 1), rows.filter((r) => r.namespace_id === NAMESPACE && (r.status === 1 || r.search_attributes?.CustomerId === 'acme')).length);
  });

  it('never binds a value into the SQL text', () => {
    const q = compileQuery("WorkflowId = 'needle-1' AND CustomerId IN ('needle-2') AND Notes = 'needle3' AND Tags = 'needle-4' AND WorkflowType STARTS_WITH 'needle-5'", CATALOG);
    for (const dialect of ['sqlite', 'mysql'] as const) {
      const list = toSqlList(q, dialect, { namespaceId: 'needle-ns', pageSize: 10, after: { values: [null, 5, 'needle-run'] } });
      const count = toSqlCount(q, dialect, { namespaceId: 'needle-ns' });
      for (const statement of [list, count]) assert.doesNotMatch(statement.sql, /needle/);
      assert.equal(list.params[0], 'needle-ns');
      assert.match(list.sql, /^SELECT .* WHERE namespace_id = \? AND \(/);
    }
  });

  it('refuses a cursor that does not belong to the query', () => {
    const q = compileQuery('ORDER BY StartTime', CATALOG);
    assert.throws(() => toSqlList(q, 'sqlite', { namespaceId: NAMESPACE, pageSize: 5, after: { values: ['x'] } }), /invalid next page token/);
    assert.throws(() => toSqlList(q, 'sqlite', { namespaceId: NAMESPACE, pageSize: 5, after: { values: ['not a time', 'run'] } }), /StartTime is not of type Datetime/);
    assert.throws(() => toSqlList(q, 'sqlite', { namespaceId: NAMESPACE, pageSize: 0 }), /page size 0/);
  });

  it('builds a cursor from a row with search attributes as JSON text or parsed', () => {
    const q = compileQuery('ORDER BY Amount DESC, Urgent', CATALOG);
    assert.deepEqual(pageCursorOf({ run_id: 'r', search_attributes: '{"Amount": 2.5, "Urgent": true}' }, q), { values: [2.5, true, 'r'] });
    assert.deepEqual(pageCursorOf({ run_id: 'r', search_attributes: { Amount: 2.5 } }, q), { values: [2.5, null, 'r'] });
    assert.deepEqual(pageCursorOf({ run_id: 'r', search_attributes: null }, q), { values: [null, null, 'r'] });
  });
});
