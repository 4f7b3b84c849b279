/**
 * Acknowledges executed tasks by deleting them in batches: one statement for many tasks instead of
 * one each. A task stays stored until its batch is deleted, so a crash in between only means it
 * runs again — harmless, every executor is idempotent.
 */
import type { Logger } from '@hourglass/common';

const MAX_BATCH = 200;
const FLUSH_DELAY_MS = 20;

export class BatchedDeleter<K> {
  private pending: K[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly remove: (keys: K[]) => Promise<void>,
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  add(key: K): void {
    this.pending.push(key);
    // Fire and forget: flush() never rejects (a failed delete is logged inside it), and whoever
    // needs the deletes done awaits flush() itself.
    if (this.pending.length >= MAX_BATCH) void this.flush();
    else
      this.timer ??= setTimeout(() => {
        void this.flush();
      }, FLUSH_DELAY_MS);
  }

  /** Deletes what is pending now; resolves when every delete issued so far is done. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.flushing = this.flushing.then(() =>
        this.remove(batch).catch((err: unknown) => {
          // The rows remain and will run again (idempotently) after a restart.
          this.logger.warn({ err, count: batch.length }, `could not delete executed ${this.what}`);
        }),
      );
    }
    return this.flushing;
  }
}
