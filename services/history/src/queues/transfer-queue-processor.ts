/**
 * Runs a shard's transfer tasks at least once: those committed by this process are handed over
 * right after their commit, those left by a previous process are loaded at start. A task is
 * deleted only after its executor succeeded; failures are retried with backoff.
 */
import { sleep, type Logger } from '@hourglass/common';
import type { ExecutionStore, TransferTaskRow } from '@hourglass/persistence';
import { BatchedDeleter } from './batched-deleter';

const LOAD_PAGE_SIZE = 1000;
const MAX_RETRY_DELAY_MS = 10_000;

export type TaskExecutor<Row> = (row: Row) => Promise<void>;

export class TransferQueueProcessor {
  private readonly queue: TransferTaskRow[] = [];
  private readonly known = new Set<number>();
  private active = 0;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly deleter: BatchedDeleter<number>;

  constructor(
    private readonly shardId: number,
    private readonly store: ExecutionStore,
    private readonly execute: TaskExecutor<TransferTaskRow>,
    private readonly concurrency: number,
    private readonly logger: Logger,
  ) {
    this.deleter = new BatchedDeleter((ids) => store.deleteTransferTasks(shardId, ids), logger, 'transfer tasks');
  }

  async start(): Promise<void> {
    let after = 0;
    for (;;) {
      const rows = await this.store.listTransferTasks(this.shardId, after, LOAD_PAGE_SIZE);
      this.enqueue(rows);
      if (rows.length < LOAD_PAGE_SIZE) break;
      after = (rows[rows.length - 1] as TransferTaskRow).taskId;
    }
  }

  enqueue(rows: TransferTaskRow[]): void {
    for (const row of rows) {
      if (this.known.has(row.taskId)) continue;
      this.known.add(row.taskId);
      this.queue.push(row);
    }
    this.pump();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.deleter.flush();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency && this.queue.length > 0) {
      const row = this.queue.shift() as TransferTaskRow;
      this.active += 1;
      void this.run(row).finally(() => {
        this.active -= 1;
        if (this.active === 0) this.idleWaiters.splice(0).forEach((w) => w());
        this.pump();
      });
    }
  }

  private async run(row: TransferTaskRow): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.execute(row);
        this.deleter.add(row.taskId);
        this.known.delete(row.taskId);
        return;
      } catch (err) {
        const delay = Math.min(MAX_RETRY_DELAY_MS, 50 * 2 ** attempt);
        this.logger.warn({ err, shardId: this.shardId, taskId: row.taskId, type: row.type, attempt }, 'transfer task failed; will retry');
        await sleep(delay, this.abort.signal);
      }
    }
  }
}
