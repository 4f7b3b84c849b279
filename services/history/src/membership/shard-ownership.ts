/**
 * Dynamic shard ownership: this host owns the history shards that rendezvous hashing assigns to it
 * among the live history hosts (services/common/src/membership), and follows the membership round
 * by round. A shard no longer assigned is released (its processors stopped, its cache dropped, the
 * release recorded so the next owner need not wait); a newly assigned one is acquired (its range id
 * bumped: every write of the previous owner fails from then on) once the previous owner released
 * it, or at once when that owner is gone, or after the hand-off timeout when it holds on.
 *
 * Only a fresh view is acted on (the registry answered this round), and a host that is not live for
 * itself (its heartbeats stopped landing, or another incarnation took its id) gives everything up.
 * A host whose rounds stop (a pause) changes nothing on its own: the others take its shards after
 * the TTL, and fencing refuses its writes when it resumes.
 */
import { historyShardKey, type Clock, type HostRecord, type Logger, type Membership, type MembershipView } from '@hourglass/common';
import type { ExecutionStore } from '@hourglass/persistence';

/** Shards acquired or released at once. */
const CONCURRENCY = 8;

export interface ShardOwnershipDeps {
  membership: Membership;
  store: ExecutionStore;
  numShards: number;
  clock: Clock;
  logger: Logger;
  /** history.shardHandoffTimeout */
  handoffTimeoutMs: number;
  owns(shardId: number): boolean;
  acquire(shardId: number): Promise<void>;
  release(shardId: number): Promise<void>;
}

export class ShardOwnership {
  /** Assigned shards whose previous (live) owner has not released them yet: since when this host waits. */
  private readonly waitingSince = new Map<number, number>();
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly deps: ShardOwnershipDeps) {}

  get hostId(): string {
    return this.deps.membership.self.hostId;
  }

  /** Follows the membership from now on; resolves once the current view has been acted on. */
  async start(): Promise<void> {
    this.stopped = false;
    this.unsubscribe = this.deps.membership.onView(() => void this.kick());
    await this.kick();
  }

  /** Stops following the membership (what is owned stays owned: the engine releases it). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.running;
  }

  /** The live history host that owns `shardId` by the current view; undefined when none is live. */
  ownerOf(shardId: number): HostRecord | undefined {
    return this.deps.membership.ownerOf(historyShardKey(shardId), 'history');
  }

  /** Acts on the current view now (and once more after a pass in progress). Never rejects. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.reconcile(this.deps.membership.view())
      .catch((err: unknown) => this.deps.logger.error({ err }, 'shard ownership: acting on the membership failed; retried at the next round'))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.kick();
        }
      });
    return this.running;
  }

  private async reconcile(view: MembershipView): Promise<void> {
    const { numShards, owns } = this.deps;
    let assigned: Set<number>;
    if (!view.selfLive) assigned = new Set();
    else if (!view.fresh) return;
    else {
      assigned = new Set();
      for (let s = 0; s < numShards; s++) if (this.deps.membership.ownerOf(historyShardKey(s), 'history')?.hostId === this.hostId) assigned.add(s);
    }
    const toRelease: number[] = [];
    const toAcquire: number[] = [];
    for (let s = 0; s < numShards; s++) {
      if (owns(s) && !assigned.has(s)) toRelease.push(s);
      else if (!owns(s) && assigned.has(s)) toAcquire.push(s);
    }
    for (const s of this.waitingSince.keys()) if (!assigned.has(s)) this.waitingSince.delete(s);
    await inParallel(toRelease, async (s) => {
      try {
        await this.deps.release(s);
      } catch (err) {
        this.deps.logger.warn({ err, shardId: s }, 'shard release failed (the next owner takes it over by fencing)');
      }
    });
    if (this.stopped || toAcquire.length === 0) return;
    const live = new Set(view.hosts('history').map((h) => h.hostId));
    await inParallel(toAcquire, async (s) => {
      try {
        if (!(await this.mayAcquire(s, live))) return;
        this.waitingSince.delete(s);
        if (!this.stopped) await this.deps.acquire(s);
      } catch (err) {
        this.deps.logger.warn({ err, shardId: s }, 'shard acquisition failed; retried at the next round');
      }
    });
  }

  /** Whether to take `shardId` now: nobody holds it, its holder released it or is gone, or the hand-off waited long enough. */
  private async mayAcquire(shardId: number, live: ReadonlySet<string>): Promise<boolean> {
    const row = await this.deps.store.getShard(shardId);
    if (!row || row.owner === '' || row.owner === this.hostId || !live.has(row.owner)) return true;
    const now = this.deps.clock.now();
    const since = this.waitingSince.get(shardId);
    if (since === undefined) {
      this.waitingSince.set(shardId, now);
      this.deps.logger.debug({ shardId, holder: row.owner }, 'shard assigned to this host: waiting for its live holder to release it');
      return false;
    }
    if (now - since < this.deps.handoffTimeoutMs) return false;
    this.deps.logger.warn({ shardId, holder: row.owner, waitedMs: now - since }, 'shard holder did not release it in time: taking it over');
    return true;
  }
}

async function inParallel<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}
