/**
 * The ES translation's meaning checked against the same oracle as the SQL one: the fixture rows
 * become ES documents (toEsDocument), a small evaluator of the DSL subset we emit (bool filter/
 * should/must_not, term, terms, range, prefix, exists, match with the hourglass_words analyzer,
 * sort with missing first/last, search_after) runs each fixture query page by page, and the run
 * ids must equal the oracle's, in order. No Elasticsearch server runs here; this pins the
 * semantics the DSL is written for.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileQuery } from '../query/checker';
import { CATALOG, FIXTURE_QUERIES, NAMESPACE, OTHER_NAMESPACE, compareScalars, expectedCounts, expectedRunIds, fixtureRows } from '../sql/testing/fixture';
import { toEsCount, toEsQuery } from './query';
import { esIndexTemplate, toEsDocument } from './query-mapping';

type Doc = Record<string, unknown>;
type Query = Record<string, Record<string, unknown>>;

const analysis = (esIndexTemplate().settings as { analysis: { tokenizer: Record<string, { pattern: string }> } }).analysis;
const SPLIT = new RegExp(analysis.tokenizer.hourglass_words!.pattern);
const analyze = (text: string): string[] => text.split(SPLIT).filter((w) => w !== '').map((w) => w.toLowerCase());

function field(doc: Doc, path: string): unknown[] {
  let value: unknown = doc;
  for (const part of path.split('.')) value = value !== null && typeof value === 'object' ? (value as Doc)[part] : undefined;
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** ES term equality: keyword/numbers/booleans exactly; dates and longs given as numbers or decimal strings. */
const same = (a: unknown, b: unknown): boolean => a === b || (typeof a === 'number' && typeof b === 'string' && String(a) === b);

function matches(doc: Doc, query: Query): boolean {
  const [kind, body] = Object.entries(query)[0]!;
  switch (kind) {
    case 'bool': {
      const b = body as { filter?: Query[]; should?: Query[]; must_not?: Query[]; minimum_should_match?: number };
      if (b.filter && !b.filter.every((q) => matches(doc, q))) return false;
      if (b.must_not && b.must_not.some((q) => matches(doc, q))) return false;
      if (b.should && b.should.filter((q) => matches(doc, q)).length < (b.minimum_should_match ?? 0)) return false;
      return true;
    }
    case 'term': {
      const [path, value] = Object.entries(body)[0]!;
      return field(doc, path).some((v) => same(v, value));
    }
    case 'terms': {
      const [path, values] = Object.entries(body)[0]! as [string, unknown[]];
      return field(doc, path).some((v) => values.some((value) => same(v, value)));
    }
    case 'range': {
      const [path, bounds] = Object.entries(body)[0]! as [string, Record<string, unknown>];
      return field(doc, path).some(
        (v) =>
          (bounds.gt === undefined || compareScalars(v, bounds.gt) > 0) &&
          (bounds.gte === undefined || compareScalars(v, bounds.gte) >= 0) &&
          (bounds.lt === undefined || compareScalars(v, bounds.lt) < 0) &&
          (bounds.lte === undefined || compareScalars(v, bounds.lte) <= 0),
      );
    }
    case 'prefix': {
      const [path, prefix] = Object.entries(body)[0]! as [string, string];
      return field(doc, path).some((v) => typeof v === 'string' && v.startsWith(prefix));
    }
    case 'exists':
      return field(doc, body.field as string).length > 0;
    case 'match': {
      const [path, spec] = Object.entries(body)[0]! as [string, { query: string; operator: string }];
      assert.equal(spec.operator, 'and');
      const words = new Set(field(doc, path).flatMap((v) => analyze(String(v))));
      return analyze(spec.query).every((w) => words.has(w));
    }
    default:
      throw new Error(`the evaluator does not know the ${kind} query`);
  }
}

/** The sort values of a hit; a missing value is null and placed by `missing`. */
function sortValues(doc: Doc, sort: Record<string, { order: string; missing: string }>[]): unknown[] {
  return sort.map((s) => field(doc, Object.keys(s)[0]!)[0] ?? null);
}

function compareHits(a: unknown[], b: unknown[], sort: Record<string, { order: string; missing: string }>[]): number {
  for (let i = 0; i < sort.length; i++) {
    const spec = Object.values(sort[i]!)[0]!;
    const [x, y] = [a[i], b[i]];
    let c: number;
    if (x === null && y === null) c = 0;
    else if (x === null) c = spec.missing === '_first' ? -1 : 1;
    else if (y === null) c = spec.missing === '_first' ? 1 : -1;
    else c = spec.order === 'asc' ? compareScalars(x, y) : -compareScalars(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

function search(docs: Doc[], body: ReturnType<typeof toEsQuery>): { runId: string; sort: unknown[] }[] {
  const sort = body.sort as Record<string, { order: string; missing: string }>[];
  let hits = docs.filter((doc) => matches(doc, body.query as Query)).map((doc) => ({ runId: doc.RunId as string, sort: sortValues(doc, sort) }));
  hits.sort((a, b) => compareHits(a.sort, b.sort, sort));
  if (body.search_after) hits = hits.filter((hit) => compareHits(hit.sort, body.search_after!, sort) > 0);
  return hits.slice(0, body.size);
}

describe('ES translation semantics against the TypeScript oracle', () => {
  const rows = fixtureRows();
  const docs = rows.map((row) => toEsDocument(row as unknown as Record<string, unknown>, (name) => CATALOG.lookup(name)));

  it(`returns what the oracle says for all ${FIXTURE_QUERIES.length} fixture queries, page by page, with counts`, () => {
    for (const text of FIXTURE_QUERIES) {
      const q = compileQuery(text, CATALOG);
      for (const namespaceId of [NAMESPACE, OTHER_NAMESPACE]) {
        const expected = expectedRunIds(rows, q, namespaceId);
        const seen: string[] = [];
        let after: unknown[] | undefined;
        for (;;) {
          const page = search(docs, toEsQuery(q, { namespaceId, pageSize: 9, ...(after ? { after } : {}) }));
          seen.push(...page.map((hit) => hit.runId));
          if (page.length < 9) break;
          after = page[page.length - 1]!.sort;
        }
        assert.deepEqual(seen, expected, `${text} (${namespaceId})`);
      }
      const count = toEsCount(q, { namespaceId: NAMESPACE });
      const hits = docs.filter((doc) => matches(doc, count.query as Query));
      const want = expectedCounts(rows, q, NAMESPACE);
      assert.equal(hits.length, want.total, `count of ${text}`);
      if (count.aggs) {
        const buckets = new Map<string, number>();
        for (const hit of hits) buckets.set(hit.ExecutionStatus as string, (buckets.get(hit.ExecutionStatus as string) ?? 0) + 1);
        assert.equal(buckets.size, want.byStatus.size, `groups of ${text}`);
      }
    }
  });
});
