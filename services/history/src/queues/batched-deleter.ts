/**
 * Acknowledges executed tasks by deleting them in batches: one statement for many tasks instead of
 * one each. A task stays stored until its batch is deleted, so a crash in between only means it
 * runs again — harmless, every executor is idempotent.
 *
 * One deleter serves every task category of a shard, and waits up to FLUSH_DELAY_MS for more: at a
 * few workflows a second each category's acknowledgements were otherwise a write transaction
 * (and a sync of the log) of their own.
 */
import type { Logger } from '@hourglass/common';

const MAX_BATCH = 200;
const FLUSH_DELAY_MS = 100;

export class BatchedDeleter<K> {
  private pending: K[] = [];
  private afterDelete: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly remove: (keys: K[]) => Promise<void>,
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  /**
   * Deletes `key` with the next batch; `done` runs once that batch's delete has ended (deleted or
   * failed and logged), so a caller can keep the task marked as known until then and a scan that
   * still finds the row does not run it again.
   */
  add(key: K, done?: () => void): void {
    this.pending.push(key);
    if (done) this.afterDelete.push(done);
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
    const done = this.afterDelete;
    this.pending = [];
    this.afterDelete = [];
    if (batch.length > 0) {
      this.flushing = this.flushing.then(async () => {
        try {
          await this.remove(batch);
        } catch (err) {
          // The rows remain and will run again (idempotently) after a restart.
          this.logger.warn({ err, count: batch.length }, `could not delete executed ${this.what}`);
        }
        for (const d of done) d();
      });
    }
    return this.flushing;
  }
}
