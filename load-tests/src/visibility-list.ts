/**
 * `make bench ARGS="--mode visibility-list"`: how long one page of a filtered list takes over a
 * large SQLite visibility index (issue goal: ≤ 50 ms over 100,000 executions).
 *
 * Running 100,000 workflows through the server would take half an hour, so the index is filled
 * through the store's own upsert (what the indexer calls) while the server is stopped, with records
 * shaped like real ones: ten workflow types, five task queues, a status mix, start times over 30
 * days. The server is then started on that file and every query goes over gRPC
 * (ListWorkflowExecutions, CountWorkflowExecutions), as an SDK or the CLI sends it: parse, type
 * check, translation, the SQL, the page token and the answer's encoding are all in the figure.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { makeTempDir, removeTempDir, startServer } from '@hourglass/conformance';
import { openSqlitePersistence } from '@hourglass/persistence';
import type { VisibilityRecord } from '@hourglass/visibility';
import { summarize, type LatencySummary } from './stats';

const BATCH = 1000;
const DAY_MS = 86_400_000;
const PAGE_SIZE = 100;
const REPEATS = 30;
const TYPES = 10;
const QUEUES = 5;

/** Running 30 %, Completed 50 %, Failed 10 %, Canceled 4 %, Terminated 4 %, TimedOut 2 %. */
function statusOf(i: number): number {
  // Mixed so that status does not follow the type (i % 10) or the queue (i % 5).
  const r = ((i * 7919) % 100_003) % 50;
  if (r < 15) return 1;
  if (r < 40) return 2;
  if (r < 45) return 3;
  if (r < 47) return 4;
  if (r < 49) return 5;
  return 7;
}

function recordOf(namespaceId: string, i: number, now: number): VisibilityRecord {
  const status = statusOf(i);
  // Spread over 30 days, newest last; a little jitter so ties on start time are rare.
  const startTime = now - 30 * DAY_MS + Math.floor((i * 30 * DAY_MS) / 100_000) + (i % 997);
  const closeTime = status === 1 ? null : startTime + 1000 + (i % 60_000);
  return {
    namespaceId,
    workflowId: `order-${i}`,
    runId: randomUUID(),
    workflowType: `type-${i % TYPES}`,
    status,
    startTime,
    executionTime: startTime,
    closeTime,
    executionDuration: closeTime === null ? null : (closeTime - startTime) * 1_000_000,
    taskQueue: `queue-${i % QUEUES}`,
    historyLength: 11,
    historySizeBytes: 2048,
    stateTransitionCount: 9,
    parentWorkflowId: null,
    parentRunId: null,
    rootWorkflowId: `order-${i}`,
    rootRunId: null,
    memo: null,
    searchAttributes: null,
    version: 9,
  };
}

export interface ListQueryResult {
  query: string;
  /** First page (PAGE_SIZE executions), as the caller sees it over gRPC. */
  firstPage: LatencySummary;
  /** The page after it, through the first page's token. */
  nextPage?: LatencySummary;
  matched: number;
}

export interface VisibilityListResult {
  executions: number;
  fillSeconds: number;
  pageSize: number;
  queries: ListQueryResult[];
  count: { query: string; latency: LatencySummary };
}

export async function visibilityListBench(executions: number): Promise<VisibilityListResult> {
  const dir = makeTempDir('hourglass-bench-visibility-');
  const dbPath = path.join(dir, 'bench.db');
  // A first start creates the file with its schema and the default namespace.
  const server = await startServer({ dbPath, verifyRebuild: false, tls: false });
  try {
    await server.stop();
    const fillStarted = performance.now();
    const persistence = openSqlitePersistence({ path: dbPath });
    try {
      const namespace = await persistence.namespaces.getNamespaceByName('default');
      if (!namespace) throw new Error('the server created no default namespace');
      const now = Date.now();
      for (let start = 0; start < executions; start += BATCH) {
        const records = Array.from({ length: Math.min(BATCH, executions - start) }, (_, k) => recordOf(namespace.id, start + k, now));
        await persistence.visibility.upsert(records);
      }
    } finally {
      await persistence.close();
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    console.log(`visibility-list: ${executions} executions written to the index in ${fillSeconds.toFixed(1)} s`);
    await server.restart();
    const connection = await Connection.connect({ address: server.address });
    try {
      const service = connection.workflowService;
      const fortnightAgo = new Date(Date.now() - 14 * DAY_MS).toISOString();
      const queries = [
        '',
        "WorkflowType = 'type-3'",
        "ExecutionStatus = 'Running'",
        "WorkflowType = 'type-7' AND ExecutionStatus = 'Failed'",
        `ExecutionStatus = 'Completed' AND StartTime > '${fortnightAgo}'`,
        "TaskQueue = 'queue-2' AND ExecutionStatus IN ('Failed', 'TimedOut', 'Terminated')",
        "WorkflowId STARTS_WITH 'order-9999'",
        `CloseTime > '${fortnightAgo}' AND WorkflowType != 'type-1'`,
      ];
      const results: ListQueryResult[] = [];
      for (const query of queries) {
        const first: number[] = [];
        const next: number[] = [];
        let matched = 0;
        for (let i = 0; i < REPEATS + 3; i++) {
          const t0 = performance.now();
          const page = await service.listWorkflowExecutions({ namespace: 'default', query, pageSize: PAGE_SIZE });
          const t1 = performance.now();
          matched = page.executions?.length ?? 0;
          let t2 = t1;
          let t3 = t1;
          if (page.nextPageToken && page.nextPageToken.length > 0) {
            t2 = performance.now();
            await service.listWorkflowExecutions({ namespace: 'default', query, pageSize: PAGE_SIZE, nextPageToken: page.nextPageToken });
            t3 = performance.now();
          }
          // The first three are warm-up (statement preparation, page cache).
          if (i < 3) continue;
          first.push(t1 - t0);
          if (t3 > t2) next.push(t3 - t2);
        }
        const result: ListQueryResult = { query, firstPage: summarize(first), matched, ...(next.length > 0 ? { nextPage: summarize(next) } : {}) };
        results.push(result);
        const nextText = result.nextPage ? `; next page p50 ${result.nextPage.p50.toFixed(1)} ms, p99 ${result.nextPage.p99.toFixed(1)} ms` : '';
        console.log(`  ${JSON.stringify(query)}: first page (${matched} rows) p50 ${result.firstPage.p50.toFixed(1)} ms, p99 ${result.firstPage.p99.toFixed(1)} ms${nextText}`);
      }
      const countQuery = 'GROUP BY ExecutionStatus';
      const counts: number[] = [];
      for (let i = 0; i < REPEATS + 3; i++) {
        const t0 = performance.now();
        await service.countWorkflowExecutions({ namespace: 'default', query: countQuery });
        if (i >= 3) counts.push(performance.now() - t0);
      }
      const count = { query: countQuery, latency: summarize(counts) };
      console.log(`  count ${JSON.stringify(countQuery)}: p50 ${count.latency.p50.toFixed(1)} ms, p99 ${count.latency.p99.toFixed(1)} ms`);
      return { executions, fillSeconds, pageSize: PAGE_SIZE, queries: results, count };
    } finally {
      await connection.close();
    }
  } finally {
    await server.dispose();
    removeTempDir(dir);
  }
}
