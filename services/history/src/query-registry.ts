/**
 * Queries in flight. A query is not workflow state: it lives only while its caller waits, so it is
 * kept in memory. Consistent queries wait for the run's next workflow task (attached to its
 * `queries`); legacy query tasks wait for RespondQueryTaskCompleted.
 */
import { randomUUID } from 'node:crypto';
import { deferred, type Deferred, type temporal } from '@hourglass/common';
import type { ExecutionKey } from '@hourglass/persistence';
import { executionCacheKey } from './shard/execution-cache';

export interface QueryOutcome {
  /** temporal.api.enums.v1.QueryResultType */
  resultType: number;
  answer?: temporal.api.common.v1.IPayloads | null;
  errorMessage?: string;
  failure?: temporal.api.failure.v1.IFailure | null;
}

interface BufferedQuery {
  id: string;
  query: temporal.api.query.v1.IWorkflowQuery;
  /** WorkflowTaskStarted id of the task that carries it; 0 while waiting for one. */
  sentIn: number;
  outcome: Deferred<QueryOutcome>;
}

export class QueryRegistry {
  private readonly buffered = new Map<string, Map<string, BufferedQuery>>();
  private readonly legacy = new Map<string, Deferred<QueryOutcome>>();

  /** A consistent query for the run's next workflow task. */
  buffer(key: ExecutionKey, query: temporal.api.query.v1.IWorkflowQuery): { id: string; outcome: Promise<QueryOutcome>; cancel(): void } {
    const k = executionCacheKey(key);
    let queries = this.buffered.get(k);
    if (!queries) {
      queries = new Map();
      this.buffered.set(k, queries);
    }
    const entry: BufferedQuery = { id: randomUUID(), query, sentIn: 0, outcome: deferred<QueryOutcome>() };
    queries.set(entry.id, entry);
    return { id: entry.id, outcome: entry.outcome.promise, cancel: () => this.remove(k, entry.id) };
  }

  /** Queries waiting for a task: attached to the task just started. */
  attachToTask(key: ExecutionKey, startedEventId: number): Record<string, temporal.api.query.v1.IWorkflowQuery> {
    const attached: Record<string, temporal.api.query.v1.IWorkflowQuery> = {};
    for (const entry of this.buffered.get(executionCacheKey(key))?.values() ?? []) {
      if (entry.sentIn !== 0) continue;
      entry.sentIn = startedEventId;
      attached[entry.id] = entry.query;
    }
    return attached;
  }

  /** Answers from RespondWorkflowTaskCompleted.query_results. Unanswered attached queries wait again. */
  complete(key: ExecutionKey, results: Record<string, temporal.api.query.v1.IWorkflowQueryResult>): void {
    const k = executionCacheKey(key);
    for (const [id, result] of Object.entries(results)) {
      const entry = this.buffered.get(k)?.get(id);
      if (!entry) continue;
      entry.outcome.resolve({ resultType: result.resultType ?? 0, answer: result.answer ?? null, errorMessage: result.errorMessage ?? '', failure: result.failure ?? null });
      this.remove(k, id);
    }
    this.requeue(key);
  }

  /** The task that carried queries failed or timed out: they wait for the next one. */
  requeue(key: ExecutionKey): void {
    for (const entry of this.buffered.get(executionCacheKey(key))?.values() ?? []) entry.sentIn = 0;
  }

  /** Takes the queries still waiting for a task (the run has none pending: they go as query tasks). */
  takeWaiting(key: ExecutionKey): { query: temporal.api.query.v1.IWorkflowQuery; resolve(outcome: QueryOutcome): void; reject(err: unknown): void }[] {
    const k = executionCacheKey(key);
    const waiting = [...(this.buffered.get(k)?.values() ?? [])].filter((e) => e.sentIn === 0);
    for (const entry of waiting) this.remove(k, entry.id);
    return waiting.map((e) => ({ query: e.query, resolve: e.outcome.resolve, reject: e.outcome.reject }));
  }

  hasWaiting(key: ExecutionKey): boolean {
    return [...(this.buffered.get(executionCacheKey(key))?.values() ?? [])].some((e) => e.sentIn === 0);
  }

  /** A legacy query task: resolved by RespondQueryTaskCompleted. */
  awaitQueryTask(queryId: string): { outcome: Promise<QueryOutcome>; cancel(): void } {
    const d = deferred<QueryOutcome>();
    this.legacy.set(queryId, d);
    return { outcome: d.promise, cancel: () => this.legacy.delete(queryId) };
  }

  /** Returns false when nobody waits for that query any more (timed out, or not ours). */
  completeQueryTask(queryId: string, outcome: QueryOutcome): boolean {
    const d = this.legacy.get(queryId);
    if (!d) return false;
    this.legacy.delete(queryId);
    d.resolve(outcome);
    return true;
  }

  private remove(k: string, id: string): void {
    const queries = this.buffered.get(k);
    queries?.delete(id);
    if (queries && queries.size === 0) this.buffered.delete(k);
  }
}
