/**
 * One task queue partition as this host serves it: pollers waiting on it, and its backlog
 * (persisted tasks, mirrored in memory in task id order).
 */
import { StickyWorkerUnavailableError, deferred, quote, type Clock, type Deferred } from '@hourglass/common';
import { ConditionFailedError, type TaskQueueKey, type TaskQueueStore } from '@hourglass/persistence';
import type { PollerSeen, QueryTask, TaskQueueDescription } from '@hourglass/contracts';
import { parseBacklogTask } from './backlog-schema';
import type { MatchTask } from './types';

/** How a poller that was offered a task (sync match) dealt with it. */
export type OfferOutcome = 'started' | 'dropped' | 'returned';

export interface Offer {
  task: MatchTask;
  /** The backlog row the task came from, to delete once it is started or dropped. */
  backlogTaskId?: number;
  /** Set for a legacy query task (never persisted; history builds its poll response). */
  query?: QueryTask;
  settle(outcome: OfferOutcome): void;
}

export interface BacklogEntry {
  taskId: number;
  task: MatchTask;
}

interface PendingQuery {
  query: QueryTask;
  outcome: Deferred<boolean>;
  /** Its caller has its answer (taken, timed out, cancelled, released): it must never be offered again. */
  finished: boolean;
}

interface Waiter {
  signal: AbortSignal;
  offer: Deferred<Offer | undefined>;
  /** Set synchronously when the waiter got its answer (an offer, or none): it must never get two. */
  settled: boolean;
}

function answer(waiter: Waiter, offer: Offer | undefined): void {
  if (waiter.settled) return;
  waiter.settled = true;
  waiter.offer.resolve(offer);
}

const TASK_ID_RANGE_BITS = 2 ** 32;

/** Pollers remembered per queue (by identity); the least recently seen goes first past this. */
const MAX_REMEMBERED_POLLERS = 1000;

export class TaskQueue {
  private waiters: Waiter[] = [];
  private backlog: BacklogEntry[] = [];
  private queries: PendingQuery[] = [];
  private loaded: Promise<void> | undefined;
  private refreshing: Promise<void> | undefined;
  private lastLoadedTaskId = 0;
  /** Ids of this host's backlog writes under way: their adds put them in memory, a load skips them. */
  private readonly writing = new Set<number>();
  private lease: Promise<number> | undefined;
  private sequence = 0;
  /** When a poll last started or ended here (engine clock); undefined until the first poll. */
  lastPollTime: number | undefined;
  /** The namespace's name as the last poll gave it (adds carry only its id), for namespace-scoped settings. */
  namespaceName: string | undefined;
  /** identity → when it last polled; insertion order is recency order (re-inserted on each poll). */
  private readonly pollers = new Map<string, number>();
  /** When the queue's worker announced its shutdown (sticky queues); the queue stays closed while this host keeps it in memory. */
  private closedAt: number | undefined;
  /**
   * Called when backlog is left with no poller waiting here (a non-root partition: its backlog may
   * move up to a poller waiting on its parent). Unset on roots and sticky queues.
   */
  onStrandedBacklog: (() => void) | undefined;
  /** A move of this partition's backlog to its parent is under way (one at a time). */
  draining = false;
  /** This partition's parent, cached with the tree degree it was computed for. */
  parentKey: TaskQueueKey | undefined;
  parentDegree = 0;

  constructor(
    readonly key: TaskQueueKey,
    private readonly store: TaskQueueStore,
    private readonly clock: Clock,
    private readonly pageSize: number,
  ) {}

  /** Loads the stored backlog once, before the first add or poll. */
  ensureLoaded(): Promise<void> {
    this.loaded ??= this.loadMore();
    return this.loaded;
  }

  /**
   * Reads tasks stored since the last load (cluster mode: another host wrote them while it took
   * itself for this partition's owner; its later writes carry a higher range id, so higher task
   * ids). Resolves with how many were new.
   */
  async refresh(): Promise<number> {
    await this.ensureLoaded();
    const before = this.backlog.length;
    this.refreshing ??= this.loadMore().finally(() => (this.refreshing = undefined));
    await this.refreshing;
    const added = this.backlog.length - before;
    if (added > 0) this.pumpBacklog(true);
    return Math.max(0, added);
  }

  private async loadMore(): Promise<void> {
    for (;;) {
      const rows = await this.store.listTasks(this.key, this.lastLoadedTaskId, this.pageSize);
      for (const row of rows) {
        // Written by this host meanwhile: in memory already, or put there when its write returns (addToBacklog).
        if (row.taskId <= this.lastLoadedTaskId || this.writing.has(row.taskId)) continue;
        this.backlog.push({ taskId: row.taskId, task: parseBacklogTask(row.data, `task queue ${this.key.name} (${this.key.type}, ${this.key.kind})`) });
        this.lastLoadedTaskId = row.taskId;
      }
      if (rows.length < this.pageSize) return;
    }
  }

  /** Whether a poll waits here; unlike hasLivePoller, allocates nothing (a hot-path check). */
  hasLiveWaiter(): boolean {
    for (const w of this.waiters) if (!w.settled && !w.signal.aborted) return true;
    return false;
  }

  get backlogSize(): number {
    return this.backlog.length;
  }

  /** The oldest backlog task, taken out to be moved elsewhere (`returnBacklogHead` if it could not be). */
  takeBacklogHead(): BacklogEntry | undefined {
    return this.backlog.shift();
  }

  returnBacklogHead(entry: BacklogEntry): void {
    this.backlog.unshift(entry);
    this.pumpBacklog();
  }

  hasLivePoller(): boolean {
    this.waiters = this.waiters.filter((w) => !w.settled && !w.signal.aborted);
    return this.waiters.length > 0;
  }

  /** A poll by `identity` started or ended now. */
  recordPoller(identity: string, now: number): void {
    this.pollers.delete(identity);
    this.pollers.set(identity, now);
    if (this.pollers.size > MAX_REMEMBERED_POLLERS) {
      const oldest = this.pollers.keys().next();
      if (!oldest.done) this.pollers.delete(oldest.value);
    }
  }

  /** Pollers seen since `since`, most recent first; older ones are forgotten. */
  describe(since = -Infinity): TaskQueueDescription {
    this.hasLivePoller();
    const pollers: PollerSeen[] = [];
    for (const [identity, lastAccessTime] of this.pollers) {
      if (lastAccessTime < since) this.pollers.delete(identity);
      else pollers.push({ identity, lastAccessTime });
    }
    pollers.reverse();
    return {
      waitingPollers: this.waiters.length,
      backlogTasks: this.backlog.length,
      pendingQueries: this.queries.length,
      // The backlog is in task id order (add order; a task given back returns to the head): its head is the oldest.
      oldestBacklogTime: this.backlog[0]?.task.createdAt,
      pollers,
    };
  }

  /**
   * Sync match: hands the task to a waiting poller and waits until that poller started it (or
   * dropped it as stale). Returns false when no live poller took it, so the caller persists it.
   */
  async offerToPoller(task: MatchTask): Promise<boolean> {
    for (;;) {
      const waiter = this.takeLiveWaiter();
      if (!waiter) return false;
      const outcome = deferred<OfferOutcome>();
      answer(waiter, { task, settle: outcome.resolve });
      if ((await outcome.promise) !== 'returned') return true;
    }
  }

  /** Persists a task that found no poller and makes it visible to pollers. */
  async addToBacklog(task: MatchTask): Promise<void> {
    await this.ensureLoaded();
    if (this.closed) throw this.closedError();
    const rangeId = await this.currentLease();
    const taskId = rangeId * TASK_ID_RANGE_BITS + ++this.sequence;
    this.writing.add(taskId);
    try {
      await this.store.createTasks(this.key, rangeId, [{ taskId, data: JSON.stringify(task), expiresAt: 0 }]);
    } catch (err) {
      // Our lease was taken over: lease again on the next attempt (the caller retries).
      if (err instanceof ConditionFailedError) this.lease = undefined;
      throw err;
    } finally {
      this.writing.delete(taskId);
    }
    if (this.closed) {
      // The worker shut down while the task was being written, after its backlog was moved away:
      // kept here, the task would wait for a worker that never comes. The caller falls back to the normal queue.
      await this.store.deleteTasks(this.key, [taskId]);
      throw this.closedError();
    }
    // Concurrent adds finish in any order: a later id may be in memory already, so this one is
    // pushed whatever lastLoadedTaskId says (a load skipped it while it was being written).
    this.backlog.push({ taskId, task });
    this.lastLoadedTaskId = Math.max(this.lastLoadedTaskId, taskId);
    this.pumpBacklog();
  }

  closedError(): StickyWorkerUnavailableError {
    return new StickyWorkerUnavailableError(`sticky queue ${quote(this.key.name)} is closed: its worker shut down`);
  }

  /** One lease per queue owner; concurrent adds share it (a second lease would fence the first). */
  private currentLease(): Promise<number> {
    if (!this.lease) {
      const lease = this.store.leaseTaskQueue(this.key).then((l) => l.rangeId);
      this.lease = lease;
      // A lease that failed (a transient store error) is taken again by the next add, not kept failed.
      lease.catch(() => {
        if (this.lease === lease) this.lease = undefined;
      });
    }
    return this.lease;
  }

  /** The next task for a poller: query tasks first (a caller waits on each), then the backlog in order. */
  takeOffer(): Offer | undefined {
    const pending = this.queries.shift();
    if (pending) return this.queryOffer(pending);
    const entry = this.backlog.shift();
    if (entry) return this.backlogOffer(entry);
    return undefined;
  }

  private queryOffer(pending: PendingQuery): Offer {
    return {
      task: { workflowId: '', runId: '', scheduledEventId: 0, attempt: 0, createdAt: 0 },
      query: pending.query,
      settle: (outcome) => {
        if (outcome !== 'returned') return this.finishQuery(pending, outcome === 'started');
        // Its caller may have given up while the poller was building it; on a closed queue no poller will come.
        if (pending.finished) return;
        if (this.closed) return this.finishQuery(pending, false);
        this.queries.unshift(pending);
        this.pumpBacklog();
      },
    };
  }

  private finishQuery(pending: PendingQuery, taken: boolean): void {
    if (pending.finished) return;
    pending.finished = true;
    const i = this.queries.indexOf(pending);
    if (i >= 0) this.queries.splice(i, 1);
    pending.outcome.resolve(taken);
  }

  private backlogOffer(entry: BacklogEntry): Offer {
    return {
      task: entry.task,
      backlogTaskId: entry.taskId,
      settle: (outcome) => {
        // Its start failed transiently: back at the head, for the next poller.
        if (outcome === 'returned') {
          this.backlog.unshift(entry);
          this.pumpBacklog(true);
        }
      },
    };
  }

  async deleteFromBacklog(taskId: number): Promise<void> {
    await this.store.deleteTasks(this.key, [taskId]);
  }

  /** Registers a poller; resolves with an offer, or undefined once `signal` aborts (the poll ended) without one. */
  waitForTask(signal: AbortSignal): Promise<Offer | undefined> {
    const waiter: Waiter = { signal, offer: deferred<Offer | undefined>(), settled: false };
    if (signal.aborted) return Promise.resolve(undefined);
    this.waiters.push(waiter);
    const finish = (): void => answer(waiter, undefined);
    signal.addEventListener('abort', finish, { once: true });
    this.pumpBacklog();
    return waiter.offer.promise.finally(() => {
      signal.removeEventListener('abort', finish);
      this.waiters = this.waiters.filter((w) => w !== waiter);
    });
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  /** The queue's worker is gone: every waiting poll ends with no task, every pending query is given back untaken. */
  close(now: number): void {
    this.closedAt ??= now;
    this.releaseWaiters();
  }

  /** No poll waits here, no query is pending, no move is under way: its backlog may be let go of (another host serves it). */
  isIdle(): boolean {
    return !this.hasLivePoller() && this.queries.length === 0 && !this.draining;
  }

  /** Nothing waits here and nothing is held: the queue can be dropped from memory (it reloads on demand). */
  isUnused(now: number, idleMs: number): boolean {
    if (this.waiters.length > 0 || this.queries.length > 0 || this.backlog.length > 0 || this.draining) return false;
    // A closed queue is kept a while too, so a late poll of its departed worker finds it closed.
    const lastUse = Math.max(this.lastPollTime ?? -Infinity, this.closedAt ?? -Infinity);
    return now - lastUse > idleMs;
  }

  /**
   * Ends every poll waiting here with nothing (cluster mode: another host owns this partition now,
   * and the pollers' next polls go there). Pending queries stay until their own timeouts.
   */
  releasePolls(): void {
    for (const w of this.waiters.splice(0)) answer(w, undefined);
  }

  private releaseWaiters(): void {
    for (const w of this.waiters.splice(0)) answer(w, undefined);
    for (const pending of [...this.queries]) this.finishQuery(pending, false);
  }

  drainBacklog(): BacklogEntry[] {
    return this.backlog.splice(0);
  }

  /** Puts drained entries back (in task id order, ahead of what arrived since) and offers them to waiting pollers. */
  restoreBacklog(entries: BacklogEntry[]): void {
    if (entries.length === 0) return;
    this.backlog = [...entries, ...this.backlog].sort((a, b) => a.taskId - b.taskId);
    this.pumpBacklog(true);
  }

  /**
   * Hands a query task to the next poller (waiting now or arriving within `timeoutMs`). Resolves
   * true once a poller took it, false when none did in time or `signal` aborted.
   */
  offerQuery(query: QueryTask, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    const pending: PendingQuery = { query, outcome: deferred<boolean>(), finished: false };
    this.queries.push(pending);
    const giveUp = (): void => this.finishQuery(pending, false);
    const cancelTimeout = this.clock.wakeAt(this.clock.now() + Math.max(0, timeoutMs), giveUp);
    signal?.addEventListener('abort', giveUp, { once: true });
    this.pumpBacklog();
    return pending.outcome.promise.finally(() => {
      cancelTimeout();
      signal?.removeEventListener('abort', giveUp);
    });
  }

  /**
   * Hands what is waiting (see takeOffer) to waiting pollers. Backlog left with no poller here is
   * reported when it just began (a poll may have arrived above while its first task was written:
   * tasks behind it are found by that poll) or when tasks came back (`returned`); not on every add,
   * which would offer the head up again for each task stored while nobody polls.
   */
  private pumpBacklog(returned = false): void {
    while (this.queries.length > 0 || this.backlog.length > 0) {
      const waiter = this.takeLiveWaiter();
      if (!waiter) {
        if (this.backlog.length === 1 || (returned && this.backlog.length > 0)) this.onStrandedBacklog?.();
        return;
      }
      answer(waiter, this.takeOffer());
    }
  }

  private takeLiveWaiter(): Waiter | undefined {
    while (this.waiters.length > 0) {
      const waiter = this.waiters.shift() as Waiter;
      if (!waiter.settled && !waiter.signal.aborted) return waiter;
      answer(waiter, undefined);
    }
    return undefined;
  }
}
