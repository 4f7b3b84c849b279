/**
 * Runs a shard's tasks of one IMMEDIATE category at least once, in task id order of arrival:
 * those committed by this process are handed over right after their commit, those left by a
 * previous process are loaded at start. A task is deleted only after its executor succeeded;
 * failures are retried with backoff. Each category has its own processor, so a failing executor
 * (a visibility outage) never holds up another category (workflow dispatch).
 */
import { FairQueue, sleep, type Logger } from '@hourglass/common';
import type { ExecutionStore, HistoryTaskKey, HistoryTaskRow } from '@hourglass/persistence';
import type { BatchedDeleter } from './batched-deleter';
import type { TaskCategory } from './task-categories';

const LOAD_PAGE_SIZE = 1000;

export type TaskExecutor = (row: HistoryTaskRow) => Promise<void>;

export interface QueueProcessorOptions {
  /** Tasks executed at once (immediate categories). */
  concurrency: number;
  /** Longest wait between retries of a failing task. */
  maxRetryDelayMs: number;
  /** The executor deletes each task itself (in the transaction that applies it): nothing to acknowledge after it. */
  executorDeletesTask?: boolean;
  /** Deletes executed tasks; shared by the shard's processors so their acknowledgements go in one batch. */
  deleter: BatchedDeleter<HistoryTaskKey>;
}

/** What the engine needs of every category's processor. */
export interface QueueProcessor {
  start(): Promise<void>;
  enqueue(rows: HistoryTaskRow[]): void;
  /**
   * Tasks a commit made pointless before they came up (scheduled categories): deleted with the
   * next batch of acknowledgements, and not run if they come up before (or after: a row read back
   * by a scan meanwhile only runs to find nothing to do, as any stale task does).
   */
  drop?(keys: readonly HistoryTaskKey[]): void;
  stop(): Promise<void>;
}

export class ImmediateQueueProcessor implements QueueProcessor {
  /** Waiting tasks, served round robin by namespace (one tenant's burst never queues another's work behind it). */
  private readonly queue = new FairQueue<HistoryTaskRow>();
  private readonly known = new Set<number>();
  private active = 0;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly shardId: number,
    private readonly category: TaskCategory,
    private readonly store: ExecutionStore,
    private readonly execute: TaskExecutor,
    private readonly options: QueueProcessorOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    let after = 0;
    for (;;) {
      const rows = await this.store.listImmediateTasks(this.shardId, this.category.id, after, LOAD_PAGE_SIZE);
      this.enqueue(rows);
      if (rows.length < LOAD_PAGE_SIZE) break;
      after = (rows[rows.length - 1] as HistoryTaskRow).taskId;
    }
  }

  enqueue(rows: HistoryTaskRow[]): void {
    for (const row of rows) {
      if (this.known.has(row.taskId)) continue;
      this.known.add(row.taskId);
      this.queue.push(row.namespaceId, row);
    }
    this.pump();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.options.deleter.flush();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.options.concurrency && this.queue.size > 0) {
      const row = this.queue.shift() as HistoryTaskRow;
      this.active += 1;
      // Tracked by `active` (stop() waits for it); run() never rejects, it retries until stopped.
      void this.run(row).finally(() => {
        this.active -= 1;
        if (this.active === 0) this.idleWaiters.splice(0).forEach((w) => w());
        this.pump();
      });
    }
  }

  private async run(row: HistoryTaskRow): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.execute(row);
        if (this.options.executorDeletesTask) this.known.delete(row.taskId);
        else this.options.deleter.add({ categoryId: row.categoryId, fireAt: row.fireAt, taskId: row.taskId }, () => this.known.delete(row.taskId));
        return;
      } catch (err) {
        const delay = Math.min(this.options.maxRetryDelayMs, 50 * 2 ** attempt);
        this.logger.warn({ err, shardId: this.shardId, taskId: row.taskId, type: row.type, attempt }, `${this.category.name} task failed; will retry`);
        await sleep(delay, this.abort.signal);
      }
    }
  }
}
