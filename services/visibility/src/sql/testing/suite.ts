/**
 * The SQL translation checked for real: each fixture query runs against a database holding the
 * fixture rows, page by page (keyset cursors), and must return exactly what the oracle says, in
 * the oracle's order; counts (plain and by status) likewise.
 */
import assert from 'node:assert/strict';
import { compileQuery } from '../../query/checker';
import { pageCursorOf, toSqlCount, toSqlList, type PageCursor, type SqlDialect } from '../translate';
import { CATALOG, FIXTURE_QUERIES, NAMESPACE, OTHER_NAMESPACE, expectedCounts, expectedRunIds, type FixtureRow } from './fixture';

export type RunSql = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

/** Lists every page of `text` (page size `pageSize`) and compares with the oracle. */
export async function checkList(run: RunSql, dialect: SqlDialect, rows: readonly FixtureRow[], text: string, pageSize: number, namespaceId = NAMESPACE): Promise<number> {
  const q = compileQuery(text, CATALOG);
  const expected = expectedRunIds(rows, q, namespaceId);
  const seen: string[] = [];
  let after: PageCursor | undefined;
  for (let page = 0; page < 1000; page++) {
    const statement = toSqlList(q, dialect, { namespaceId, pageSize, ...(after ? { after } : {}) });
    const result = await run(statement.sql, statement.params);
    assert.ok(result.length <= pageSize, `a page of ${result.length} rows exceeds ${pageSize}`);
    for (const row of result) {
      assert.equal(row.namespace_id, namespaceId, `${text}: a row of another namespace`);
      seen.push(String(row.run_id));
    }
    if (result.length < pageSize) break;
    // Through JSON, as a next page token travels.
    after = JSON.parse(JSON.stringify(pageCursorOf(result[result.length - 1]!, q))) as PageCursor;
  }
  assert.deepEqual(seen, expected, `${text} (${dialect}, pages of ${pageSize})`);
  return expected.length;
}

export async function checkCount(run: RunSql, dialect: SqlDialect, rows: readonly FixtureRow[], text: string, namespaceId = NAMESPACE): Promise<void> {
  const q = compileQuery(text, CATALOG);
  const expected = expectedCounts(rows, q, namespaceId);
  const statement = toSqlCount(q, dialect, { namespaceId });
  const result = await run(statement.sql, statement.params);
  if (q.groupBy.length === 0) {
    assert.equal(result.length, 1);
    assert.equal(Number(result[0]!.count), expected.total, `count of ${text}`);
    return;
  }
  const got = result.map((row) => [Number(row.group_value), Number(row.count)]);
  const want = [...expected.byStatus.entries()].sort((a, b) => a[0] - b[0]);
  assert.deepEqual(got, want, `count of ${text} by status`);
}

/** Every fixture query: pages of 7 and one page of everything, the count; and the other namespace sees only its own. */
export async function checkAllFixtureQueries(run: RunSql, dialect: SqlDialect, rows: readonly FixtureRow[]): Promise<{ nonEmpty: number; queries: number }> {
  let nonEmpty = 0;
  for (const text of FIXTURE_QUERIES) {
    const n = await checkList(run, dialect, rows, text, 7);
    await checkList(run, dialect, rows, text, 1000);
    await checkCount(run, dialect, rows, text);
    await checkList(run, dialect, rows, text, 1000, OTHER_NAMESPACE);
    if (n > 0) nonEmpty++;
  }
  return { nonEmpty, queries: FIXTURE_QUERIES.length };
}
