/**
 * Batch operations (StartBatchOperation): terminate, cancel, signal or delete every execution a
 * visibility query matches, at most 50 per second, one running operation per namespace. The job
 * and its progress (counts, the keyset cursor of the next page by RunId) are persisted after every
 * page, so a job survives a restart, SIGKILL included: the server resumes it from its last page at
 * start. Every action is idempotent (a terminate of a closed run is a no-op, a signal carries a
 * request id per job and run), so a page done twice changes nothing more.
 */
import {
  FailedPreconditionError,
  HourglassError,
  InvalidArgumentError,
  NotFoundError,
  quote,
  sleep,
  type Clock,
  type Logger,
  temporal,
} from '@hourglass/common';
import { ConditionFailedError, type BatchOperationRecord, type BatchOperationStore, type NamespaceRecord } from '@hourglass/persistence';
import { compileQuery, type CheckedQuery, type PageCursor, type VisibilitySearchBackend } from '@hourglass/visibility';
import type { HistoryEngine } from '../history-engine';
import type { NamespaceRegistry } from '../namespace-registry';
import { namespaceCatalog } from '../workflow/visibility';

export type BatchKind = 'terminate' | 'cancel' | 'signal' | 'delete';

/** Temporal's BatchOperationType numbers of the kinds (the classic ones the SDKs and CLI read). */
export const BATCH_OPERATION_TYPES: Readonly<Record<BatchKind, number>> = { terminate: 1, cancel: 2, signal: 3, delete: 4 };

/** Temporal Cloud's rate, and the most a job may ask for. */
export const MAX_BATCH_OPERATIONS_PER_SECOND = 50;

export interface BatchJobData {
  kind: BatchKind;
  query: string;
  reason: string;
  identity: string;
  rps: number;
  signal?: { name: string; input: string | null; header: string | null };
  total: number;
  done: number;
  failed: number;
  cursor: PageCursor | null;
  closeTime: number | null;
  /** Why the job failed, when it did. */
  error?: string;
}

export interface StartBatchArgs {
  namespace: NamespaceRecord;
  jobId: string;
  query: string;
  reason: string;
  identity: string;
  kind: BatchKind;
  rps: number;
  signal?: BatchJobData['signal'];
}

export interface BatchRunnerDeps {
  store: BatchOperationStore;
  search: VisibilitySearchBackend;
  history: HistoryEngine;
  namespaces: NamespaceRegistry;
  clock: Clock;
  logger: Logger;
}

/** Attempts per execution when it fails for a transient reason. */
const MAX_ATTEMPTS = 8;

const RUN_ID_ORDER = [{ attribute: { name: 'RunId', type: 'Keyword' as const, kind: 'system' as const }, direction: 'ASC' as const }];

export function parseBatchData(record: BatchOperationRecord): BatchJobData {
  return JSON.parse(record.data) as BatchJobData;
}

export class BatchRunner {
  private readonly active = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: BatchRunnerDeps) {}

  /** Resumes every job left running (by a stop or a crash). */
  async start(): Promise<void> {
    this.stopped = false;
    for (const record of await this.deps.store.listRunningBatchOperations(10_000)) this.run(record);
  }

  /** Lets running pages finish; jobs stay `running` in the store and resume at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.active.values()]);
  }

  /** The query compiled for the job: the caller's filter, paged by RunId (stable while the runs it acts on change). */
  compile(namespace: NamespaceRecord, query: string): CheckedQuery {
    const q = compileQuery(query, namespaceCatalog(namespace));
    if (q.groupBy.length > 0) throw new InvalidArgumentError('a batch operation query cannot GROUP BY');
    return { ...q, orderBy: RUN_ID_ORDER };
  }

  async startJob(args: StartBatchArgs): Promise<void> {
    if (!args.jobId) throw new InvalidArgumentError('jobId must not be empty');
    if (!args.reason) throw new InvalidArgumentError('reason must not be empty');
    if (!args.query.trim()) throw new InvalidArgumentError('visibilityQuery must not be empty: a batch operation acts on the executions a query matches');
    const q = this.compile(args.namespace, args.query);
    const total = (await this.deps.search.count({ ...q, orderBy: [] }, { namespaceId: args.namespace.id })).count;
    const data: BatchJobData = {
      kind: args.kind,
      query: args.query,
      reason: args.reason,
      identity: args.identity,
      rps: Math.max(1, Math.min(args.rps || MAX_BATCH_OPERATIONS_PER_SECOND, MAX_BATCH_OPERATIONS_PER_SECOND)),
      ...(args.signal ? { signal: args.signal } : {}),
      total,
      done: 0,
      failed: 0,
      cursor: null,
      closeTime: null,
    };
    const record: BatchOperationRecord = { namespaceId: args.namespace.id, jobId: args.jobId, state: 'running', version: 1, startTime: this.deps.clock.now(), data: JSON.stringify(data) };
    await this.deps.store.createBatchOperation(record);
    this.run(record);
  }

  async describeJob(namespaceId: string, jobId: string): Promise<BatchOperationRecord> {
    const record = await this.deps.store.getBatchOperation(namespaceId, jobId);
    if (!record) throw new NotFoundError(`batch operation ${quote(jobId)} not found`);
    return record;
  }

  listJobs(namespaceId: string, pageSize: number, nextPageToken?: string): Promise<{ items: BatchOperationRecord[]; nextPageToken?: string }> {
    return this.deps.store.listBatchOperations(namespaceId, { pageSize, ...(nextPageToken ? { nextPageToken } : {}) });
  }

  async stopJob(namespaceId: string, jobId: string, reason: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = await this.deps.store.getBatchOperation(namespaceId, jobId);
      if (!record) throw new NotFoundError(`batch operation ${quote(jobId)} not found`);
      if (record.state !== 'running') throw new FailedPreconditionError(`batch operation ${quote(jobId)} is not running (it is ${record.state})`);
      const data = { ...parseBatchData(record), closeTime: this.deps.clock.now(), error: `stopped: ${reason}` };
      try {
        await this.deps.store.updateBatchOperation({ ...record, state: 'stopped', version: record.version + 1, data: JSON.stringify(data) });
        return;
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
      }
    }
    throw new FailedPreconditionError(`batch operation ${quote(jobId)} is busy; try again`);
  }

  private run(record: BatchOperationRecord): void {
    const key = `${record.namespaceId}\u0000${record.jobId}`;
    if (this.active.has(key)) return;
    const work = this.loop(record)
      .catch((err: unknown) => this.deps.logger.error({ err, namespaceId: record.namespaceId, jobId: record.jobId }, 'batch operation paused by an error; it resumes at the next start'))
      .finally(() => this.active.delete(key));
    this.active.set(key, work);
  }

  private async loop(initial: BatchOperationRecord): Promise<void> {
    let record = initial;
    const namespace = await this.deps.namespaces.getById(record.namespaceId);
    let data = parseBatchData(record);
    let q: CheckedQuery;
    try {
      q = this.compile(namespace, data.query);
    } catch (err) {
      // The namespace's attributes changed since the job started: it cannot go on.
      await this.save(record, 'failed', { ...data, closeTime: this.deps.clock.now(), error: (err as Error).message });
      return;
    }
    while (!this.stopped) {
      const pageStart = Date.now();
      const page = await this.deps.search.list(q, { namespaceId: namespace.id, pageSize: data.rps, ...(data.cursor ? { after: data.cursor } : {}) });
      let done = 0;
      let failed = 0;
      for (const execution of page.records) {
        if ((await this.applyWithRetries(namespace, data, record.jobId, execution.workflowId, execution.runId)) === 'done') done += 1;
        else failed += 1;
      }
      const next: BatchJobData = { ...data, done: data.done + done, failed: data.failed + failed, cursor: page.next ?? null, total: Math.max(data.total, data.done + done + data.failed + failed) };
      const finished = !page.next;
      const saved = await this.save(record, finished ? 'completed' : 'running', finished ? { ...next, closeTime: this.deps.clock.now() } : next);
      if (!saved) return; // stopped (or changed) meanwhile
      record = saved;
      data = parseBatchData(record);
      if (finished) return;
      // The rate: one page of `rps` executions per second.
      const wait = 1000 - (Date.now() - pageStart);
      if (wait > 0) await sleep(wait);
    }
  }

  /** Writes the next version; undefined when the stored one moved on (StopBatchOperation). */
  private async save(record: BatchOperationRecord, state: BatchOperationRecord['state'], data: BatchJobData): Promise<BatchOperationRecord | undefined> {
    const next = { ...record, state, version: record.version + 1, data: JSON.stringify(data) };
    try {
      await this.deps.store.updateBatchOperation(next);
      return next;
    } catch (err) {
      if (err instanceof ConditionFailedError) return undefined;
      throw err;
    }
  }

  /**
   * One execution: transient failures (a lost race, a deadlock, a shard moving) are retried; a run
   * already closed or gone counts as done; what still fails (bad input) counts as failed.
   */
  private async applyWithRetries(namespace: NamespaceRecord, data: BatchJobData, jobId: string, workflowId: string, runId: string): Promise<'done' | 'failed'> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.apply(namespace, data, jobId, workflowId, runId);
        return 'done';
      } catch (err) {
        if (err instanceof NotFoundError) return 'done';
        const transient = err instanceof HourglassError && err.kind === 'operational';
        if (!transient || attempt >= MAX_ATTEMPTS) {
          this.deps.logger.warn({ err, jobId, workflowId, runId }, 'batch operation could not act on an execution');
          return 'failed';
        }
        await sleep(100 * attempt);
      }
    }
  }

  private async apply(namespace: NamespaceRecord, data: BatchJobData, jobId: string, workflowId: string, runId: string): Promise<void> {
    const { history } = this.deps;
    const execution = { workflowId, runId };
    const identity = data.identity || 'batch-operation';
    switch (data.kind) {
      case 'terminate':
        await history.terminateWorkflowExecution({ namespaceId: namespace.id, request: { namespace: namespace.name, workflowExecution: execution, reason: data.reason, identity } });
        return;
      case 'cancel':
        await history.requestCancelWorkflowExecution({
          namespaceId: namespace.id,
          request: { namespace: namespace.name, workflowExecution: execution, reason: data.reason, identity, requestId: `batch-${jobId}-${runId}` },
        });
        return;
      case 'signal': {
        const signal = data.signal;
        if (!signal) throw new InvalidArgumentError('signal batch without a signal');
        const request: temporal.api.workflowservice.v1.ISignalWorkflowExecutionRequest = {
          namespace: namespace.name,
          workflowExecution: execution,
          signalName: signal.name,
          identity,
          requestId: `batch-${jobId}-${runId}`,
          ...(signal.input ? { input: decodePayloads(signal.input) } : {}),
          ...(signal.header ? { header: decodeHeader(signal.header) } : {}),
        };
        await history.signalWorkflowExecution({ namespaceId: namespace.id, request });
        return;
      }
      case 'delete':
        await history.deleteWorkflowExecution({ namespaceId: namespace.id, request: { namespace: namespace.name, workflowExecution: execution } });
        return;
    }
  }
}

function decodePayloads(base64: string): temporal.api.common.v1.IPayloads {
  return temporal.api.common.v1.Payloads.decode(Buffer.from(base64, 'base64'));
}

function decodeHeader(base64: string): temporal.api.common.v1.IHeader {
  return temporal.api.common.v1.Header.decode(Buffer.from(base64, 'base64'));
}

export function encodePayloads(payloads: temporal.api.common.v1.IPayloads | null | undefined): string | null {
  return payloads ? Buffer.from(temporal.api.common.v1.Payloads.encode(payloads).finish()).toString('base64') : null;
}

export function encodeHeader(header: temporal.api.common.v1.IHeader | null | undefined): string | null {
  return header ? Buffer.from(temporal.api.common.v1.Header.encode(header).finish()).toString('base64') : null;
}
