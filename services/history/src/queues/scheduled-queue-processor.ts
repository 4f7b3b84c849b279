/**
 * Fires a shard's tasks of one SCHEDULED category when due. Tasks due within the look-ahead window
 * are held in memory (a min-heap) with one clock wake-up for the earliest; later ones stay in the
 * store until a periodic scan brings them into the window. Deleted only after the executor succeeded.
 */
import { type Clock, type Logger } from '@hourglass/common';
import type { ExecutionStore, HistoryTaskKey, HistoryTaskRow } from '@hourglass/persistence';
import type { QueueProcessor, QueueProcessorOptions, TaskExecutor } from './immediate-queue-processor';
import type { TaskCategory } from './task-categories';

const SCAN_PAGE_SIZE = 5000;
const MAX_SCAN_INTERVAL_MS = 60 * 60_000;

type TimerTaskRow = HistoryTaskRow;

function before(a: TimerTaskRow, b: TimerTaskRow): boolean {
  return a.fireAt < b.fireAt || (a.fireAt === b.fireAt && a.taskId < b.taskId);
}

/** Binary min-heap ordered by (fireAt, taskId). */
class TimerHeap {
  private readonly items: TimerTaskRow[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): TimerTaskRow | undefined {
    return this.items[0];
  }

  push(row: TimerTaskRow): void {
    const items = this.items;
    items.push(row);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as TimerTaskRow, items[parent] as TimerTaskRow)) break;
      [items[i], items[parent]] = [items[parent] as TimerTaskRow, items[i] as TimerTaskRow];
      i = parent;
    }
  }

  pop(): TimerTaskRow | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && before(items[l] as TimerTaskRow, items[m] as TimerTaskRow)) m = l;
        if (r < items.length && before(items[r] as TimerTaskRow, items[m] as TimerTaskRow)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m] as TimerTaskRow, items[i] as TimerTaskRow];
        i = m;
      }
    }
    return top;
  }
}

export class ScheduledQueueProcessor implements QueueProcessor {
  private readonly heap = new TimerHeap();
  /** Tasks in memory or running: taskId → the fireAt they are stored under, and failed attempts so far. */
  private readonly known = new Map<number, { storedFireAt: number; failures: number }>();
  /** Known tasks made pointless (drop): skipped when they come up instead of run. */
  private readonly dropped = new Set<number>();
  /** Every stored timer due before this is in memory (or running). */
  private loadedUntil = 0;
  /** Horizon of the scan in progress: timers committed meanwhile must not fall between it and the read. */
  private scanningUntil = 0;
  private cancelWake: (() => void) | undefined;
  private wakeAt = Infinity;
  private scanInterval: NodeJS.Timeout | undefined;
  private stopped = false;
  private scanning: Promise<void> | undefined;
  private running = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly shardId: number,
    private readonly category: TaskCategory,
    private readonly store: ExecutionStore,
    private readonly clock: Clock,
    private readonly execute: TaskExecutor,
    private readonly options: QueueProcessorOptions & { lookaheadMs: number },
    private readonly logger: Logger,
  ) {}

  private get lookaheadMs(): number {
    return this.options.lookaheadMs;
  }

  async start(): Promise<void> {
    await this.scan();
    // Capped: setInterval treats delays beyond 2^31-1 ms as 1 ms (a time-skipping server looks 100 years ahead).
    // scan() never rejects (a failed scan is logged and the next tick tries again).
    this.scanInterval = setInterval(() => void this.scan(), Math.min(MAX_SCAN_INTERVAL_MS, Math.max(1000, this.lookaheadMs / 2)));
    this.scanInterval.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelWake?.();
    if (this.scanInterval) clearInterval(this.scanInterval);
    if (this.running > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.options.deleter.flush();
  }

  /** Tasks of this category just committed by this process. */
  enqueue(rows: TimerTaskRow[]): void {
    const window = Math.max(this.loadedUntil, this.scanningUntil);
    for (const row of rows) {
      if (row.fireAt < window) this.add(row);
    }
    this.arm();
  }

  drop(keys: readonly HistoryTaskKey[]): void {
    for (const key of keys) {
      // In memory (or running): skipped when it comes up; its entry stays until then, so a scan does not load it again.
      if (this.known.has(key.taskId)) this.dropped.add(key.taskId);
      this.options.deleter.add(key);
    }
  }

  private add(row: TimerTaskRow): void {
    if (this.known.has(row.taskId)) return;
    this.known.set(row.taskId, { storedFireAt: row.fireAt, failures: 0 });
    this.heap.push(row);
  }

  private scan(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.scanning ??= (async () => {
      try {
        const horizon = this.clock.now() + this.lookaheadMs;
        this.scanningUntil = horizon;
        const rows = await this.store.listScheduledTasks(this.shardId, this.category.id, horizon, SCAN_PAGE_SIZE);
        for (const row of rows) this.add(row);
        const last = rows[rows.length - 1];
        this.loadedUntil = rows.length === SCAN_PAGE_SIZE && last ? last.fireAt : horizon;
        this.arm();
      } catch (err) {
        this.logger.error({ err, shardId: this.shardId, category: this.category.name }, 'scheduled task scan failed');
      } finally {
        this.scanningUntil = 0;
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  private arm(): void {
    if (this.stopped) return;
    const next = this.heap.peek();
    if (!next) return;
    if (next.fireAt >= this.wakeAt) return;
    this.cancelWake?.();
    this.wakeAt = next.fireAt;
    this.cancelWake = this.clock.wakeAt(next.fireAt, () => {
      this.wakeAt = Infinity;
      this.cancelWake = undefined;
      this.fireDue();
    });
  }

  private fireDue(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    for (let next = this.heap.peek(); next && next.fireAt <= now; next = this.heap.peek()) {
      this.heap.pop();
      if (this.dropped.delete(next.taskId)) {
        this.known.delete(next.taskId);
        continue;
      }
      this.running += 1;
      // Tracked by `running` (stop() waits for it); run() never rejects, a failed task is retried.
      void this.run(next).finally(() => {
        this.running -= 1;
        if (this.running === 0) this.idleWaiters.splice(0).forEach((w) => w());
      });
    }
    // In the background: scan() never rejects, and arms the wake-up for what it loads.
    if (this.heap.size === 0 && this.loadedUntil < now + this.lookaheadMs) void this.scan();
    this.arm();
  }

  private async run(row: TimerTaskRow): Promise<void> {
    const entry = this.known.get(row.taskId) ?? { storedFireAt: row.fireAt, failures: 0 };
    try {
      await this.execute({ ...row, fireAt: entry.storedFireAt });
      // Known until its row is deleted, so a scan in between does not run it again.
      this.options.deleter.add({ categoryId: row.categoryId, fireAt: entry.storedFireAt, taskId: row.taskId }, () => {
        this.known.delete(row.taskId);
        this.dropped.delete(row.taskId);
      });
    } catch (err) {
      if (this.stopped) return;
      entry.failures += 1;
      this.logger.warn({ err, shardId: this.shardId, taskId: row.taskId, type: row.type, failures: entry.failures }, `${this.category.name} task failed; will retry`);
      // Retry in memory; the row stays stored, so a restart retries it as well.
      this.heap.push({ ...row, fireAt: this.clock.now() + Math.min(this.options.maxRetryDelayMs, 50 * 2 ** entry.failures) });
      this.arm();
    }
  }
}
