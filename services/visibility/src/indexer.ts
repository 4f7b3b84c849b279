/**
 * The indexer: applies the bus's changes to an index (SQL or Elasticsearch) with their versions,
 * so a late or duplicated change never overwrites a newer state, and measures the visibility lag
 * (commit of the change → written to the index).
 */
import type { VisibilityConsumer } from './bus';
import type { VisibilityChange, VisibilityDeletion, VisibilityIndex, VisibilityRecord } from './record';

/** Upper bounds (ms) of the lag histogram's buckets; the last bucket is everything above. */
export const LAG_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000] as const;

export interface VisibilityLagSnapshot {
  /** Changes applied since start. */
  count: number;
  /** Sum of their lags, ms. */
  sumMs: number;
  /** Lag of the last applied change, ms (the gauge). */
  lastMs: number;
  maxMs: number;
  /** counts[i]: changes with lag <= LAG_BUCKETS_MS[i] (cumulative, as Prometheus buckets); the last entry counts all. */
  buckets: number[];
}

/** Commit → searchable lag: a gauge (last) and a histogram, read by the metrics exporter through `snapshot()`. */
export class VisibilityLag {
  private count = 0;
  private sumMs = 0;
  private lastMs = 0;
  private maxMs = 0;
  private readonly perBucket = new Array<number>(LAG_BUCKETS_MS.length + 1).fill(0);

  record(lagMs: number): void {
    const lag = Math.max(0, lagMs);
    this.count += 1;
    this.sumMs += lag;
    this.lastMs = lag;
    this.maxMs = Math.max(this.maxMs, lag);
    const i = LAG_BUCKETS_MS.findIndex((bound) => lag <= bound);
    this.perBucket[i === -1 ? LAG_BUCKETS_MS.length : i] += 1;
  }

  snapshot(): VisibilityLagSnapshot {
    let running = 0;
    const buckets = this.perBucket.map((n) => (running += n));
    return { count: this.count, sumMs: this.sumMs, lastMs: this.lastMs, maxMs: this.maxMs, buckets };
  }
}

export class VisibilityIndexer {
  readonly lag = new VisibilityLag();

  constructor(private readonly index: VisibilityIndex, private readonly now: () => number = Date.now) {}

  /** The bus consumer: every change of the batch is stored before it resolves. */
  readonly consume: VisibilityConsumer = async (changes) => {
    await this.apply(changes);
  };

  async apply(changes: readonly VisibilityChange[]): Promise<void> {
    const upserts: VisibilityRecord[] = [];
    const deletions: VisibilityDeletion[] = [];
    for (const change of changes) {
      if (change.kind === 'upsert') upserts.push(change.record);
      else deletions.push(change.deletion);
    }
    // Upserts first: a batch holding a run's record and its deletion ends with the run gone
    // (the deletion's version is above every record of the run).
    if (upserts.length > 0) await this.index.upsert(upserts);
    if (deletions.length > 0) await this.index.delete(deletions);
    const now = this.now();
    for (const change of changes) this.lag.record(now - change.committedAt);
  }
}
