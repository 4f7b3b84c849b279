/**
 * One history shard as owned by this host: its fencing token (range_id), task id allocation, the
 * mutable-state cache, the per-workflow lock, and THE one way to change executions:
 * `updateWorkflow` — lock the workflow id, load what the change needs, run it, enforce the limits,
 * commit events + execution rows + item rows + tasks of every category in one conditional
 * transaction, retry from a fresh read when a condition failed. Creating a run, terminating one
 * and starting its successor, continuing as new and retention's deletion all go through it.
 *
 * Mutable state is cached live: a change mutates the cached object and writes only the rows it
 * touched. A change that throws or fails to commit drops the object from the cache (the next
 * access reloads it from the store), so a half-applied change is never seen. Reads go through
 * `readExecution` under the same lock, so they never see a change in progress either.
 */
import {
  InvalidArgumentError,
  InvariantViolationError,
  KeyedMutex,
  ShardNotOwnedError,
  type Clock,
  type HistoryEvent,
  type Logger,
  type ServerMetrics,
  type Settings,
  HistorySettings,
  childSpan,
} from '@hourglass/common';
import { performance } from 'node:perf_hooks';
import {
  ConditionFailedError,
  ShardOwnershipLostError,
  type CurrentExecutionRecord,
  type ExecutionRecord,
  type ExecutionKey,
  type ExecutionStore,
  type HistoryTaskKey,
  type HistoryTaskRow,
  type ShardCommit,
  type UsageFold,
  type UsageIncrement,
} from '@hourglass/persistence';
import { TaskCategories } from '../queues/task-categories';
import { usageTaskOf, type UsageTask } from '../usage/usage-task';
import { accrueStorage, nextAccrualAt, storageBytesOf } from '../usage/storage-accrual';
import type { BillableAction } from '@hourglass/usage';
import type { NamespaceRegistry } from '../namespace-registry';
import { rememberCommittedTask, type TimerTask, type TransferTask, type VisibilityTask } from '../tasks';
import { visibleStateChanged } from '../workflow/visibility';
import { decodeEvent } from '../workflow/events';
import { isRunning, type MutableState } from '../workflow/mutable-state';
import { loadMutableState } from '../workflow/mutable-state-schema';
import { MutationContext } from '../workflow/mutation';
import { enforceBufferLimit, enforceHistoryLimits, HistoryLimitExceededError } from '../workflow/limits';
import { terminateWorkflow } from '../workflow/close';
import { scheduleWorkflowTaskIfNeeded } from '../workflow/workflow-task';
import { EventTail, type EventTailLimits } from './event-tail';
import { ExecutionCache, type CachedExecution } from './execution-cache';

/** Task ids: rangeId in the high bits, a per-range sequence below, so a new owner never reuses an id. */
const TASK_ID_RANGE_BITS = 2 ** 32;
const MAX_CONDITION_RETRIES = 3;
/** Usage tasks folded in one transaction at most. */
const MAX_USAGE_FOLD_BATCH = 500;
/**
 * How long a usage task waits for others to share its fold: at a few workflows a second each of a
 * workflow's ~5 usage tasks was a write transaction of its own. Usage is read by the hour.
 */
const USAGE_FOLD_DELAY_MS = 100;
/** Events per store read when a caller wants a long range. */
export const HISTORY_READ_PAGE = 1000;

export interface ShardListeners {
  onTasks(shardId: number, rows: HistoryTaskRow[]): void;
  onExecutionChanged(key: ExecutionKey, state: { nextEventId: number; closed: boolean }, ms: MutableState): void;
  /** Events a commit appended (for the rebuild verifier), with the state they produced. */
  onEventsCommitted?(key: ExecutionKey, events: readonly HistoryEvent[], ms: MutableState): void;
  /** Another host took the shard over: this host stops its work on it (and may not serve it again). */
  onOwnershipLost(shardId: number): void;
  /** Usage a commit added to the hourly counters itself (a store that folds usage in the commit). */
  onUsageCommitted?(increments: readonly UsageIncrement[]): void;
  /** Tasks a commit made pointless (timeout timers of a workflow task or activity that ended): their processors drop them. */
  onTasksPointless?(shardId: number, keys: readonly HistoryTaskKey[]): void;
}

/** Longest a release waits for the operations in flight on the shard before handing it over anyway (fencing covers stragglers). */
const RELEASE_DRAIN_MS = 5_000;

/** What updateEntity's closure decides: the new state ('delete': remove the entity; undefined: write nothing), tasks of the same commit, and what to return. */
export interface EntityChange<T> {
  write: string | 'delete' | undefined;
  tasks?: { category: { id: number }; fireAt: number; type: string; data: string }[];
  /** Billable actions of the change, committed with it as a usage task. */
  usage?: ReadonlyMap<BillableAction, number>;
  result: T;
}

export interface ShardDeps {
  store: ExecutionStore;
  clock: Clock;
  logger: Logger;
  settings: Settings;
  namespaces: NamespaceRegistry;
  hostIdentity: string;
  listeners: ShardListeners;
  /** Shard ownership changes and store latency (none by default). */
  metrics?: ServerMetrics;
  /** The host that owns the shard as far as this one knows (dynamic ownership), for the error that sends a caller there. */
  ownerOf?: (shardId: number) => { hostId: string; address: string } | undefined;
  /** False: the shard starts not owned, until acquire() (dynamic ownership). Default true (start-dev owns every shard). */
  initiallyOwned?: boolean;
}

/**
 * What a change sees of one workflow id: its current pointer and its runs. Runs are loaded on
 * demand and committed together at the end.
 */
export interface WorkflowTransaction {
  readonly now: number;
  /** The workflow id's current-run pointer as stored. */
  current(): Promise<CurrentExecutionRecord | undefined>;
  /** A run to change, or undefined when it does not exist. */
  run(runId: string): Promise<MutationContext | undefined>;
  /** A new run of this workflow id (the current pointer moves to it). At most one per change. */
  startRun(ctx: MutationContext): void;
  /** Retention: removes a closed run with everything it has. Nothing else may change in the same call. */
  deleteRun(ctx: MutationContext): void;
}

interface TxState {
  runs: Map<string, { ctx: MutationContext; dbVersion: number }>;
  created: MutationContext | undefined;
  deleted: MutationContext | undefined;
  current: CurrentExecutionRecord | undefined | null;
}

export class ShardContext {
  private rangeId = 0;
  private taskSequence = 0;
  /** No commit may happen (not owned, lost, released). */
  private closed: boolean;
  /** New operations are refused (closed, or a release is draining those in flight, which may still commit). */
  private draining = false;
  /** Operations running on the shard (a release waits for them). */
  private inflight = 0;
  private readonly drained: (() => void)[] = [];
  private readonly cache: ExecutionCache;
  /** Usage tasks waiting for the next fold (see foldUsage), and whether one is running. */
  private readonly usageFolds: { fold: UsageFold; resolve: (folded: boolean) => void; reject: (err: unknown) => void }[] = [];
  private folding = false;
  private foldTimer: NodeJS.Timeout | undefined;
  private readonly locks = new KeyedMutex();
  private readonly store: ExecutionStore;
  readonly clock: Clock;
  private readonly logger: Logger;

  private readonly storeCommitLatency: { observe(seconds: number): void } | undefined;

  constructor(readonly shardId: number, private readonly deps: ShardDeps, cacheSize: number, cacheBytes = Number.POSITIVE_INFINITY) {
    this.storeCommitLatency = deps.metrics?.storeLatency.labels('commit');
    this.store = deps.store;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.cache = new ExecutionCache(cacheSize, cacheBytes);
    this.closed = deps.initiallyOwned === false;
  }

  async acquire(): Promise<void> {
    const shard = await this.store.acquireShard(this.shardId, this.deps.hostIdentity);
    this.rangeId = shard.rangeId;
    this.taskSequence = 0;
    this.cache.clear();
    this.closed = false;
    this.draining = false;
    this.deps.metrics?.shardOwnershipChanges.inc({ event: 'acquired' });
    this.deps.metrics?.shardsOwned.inc();
    this.logger.debug({ shardId: this.shardId, rangeId: this.rangeId }, 'shard acquired');
  }

  get currentRangeId(): number {
    return this.rangeId;
  }

  stop(): void {
    this.closed = true;
  }

  /** Refuses new operations at once (ShardNotOwnedError); those in flight may still commit until release(). */
  close(): void {
    this.draining = true;
  }

  /**
   * A clean hand-over (dynamic ownership): refuses new operations, waits (a bounded time) for those
   * in flight, forgets the cached state and records the release in the store (which fences this
   * host out), so the next owner takes the shard at once. False when another host had already
   * taken it (nothing to release).
   */
  async release(): Promise<boolean> {
    const wasOwned = !this.closed;
    this.draining = true;
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RELEASE_DRAIN_MS);
        timer.unref();
        this.drained.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.closed = true;
    this.cache.clear();
    if (wasOwned) {
      this.deps.metrics?.shardOwnershipChanges.inc({ event: 'released' });
      this.deps.metrics?.shardsOwned.dec();
    }
    const released = await this.store.releaseShard(this.shardId, this.deps.hostIdentity, this.rangeId);
    this.logger.debug({ shardId: this.shardId, rangeId: this.rangeId, released }, 'shard released');
    return released;
  }

  /** The error for an operation on a shard this host does not serve, naming the owner when known. */
  notOwnedError(message?: string, cause?: unknown): ShardNotOwnedError {
    return new ShardNotOwnedError(this.shardId, this.deps.ownerOf?.(this.shardId), message, cause === undefined ? undefined : { cause });
  }

  /** Runs an operation of this shard: refused when the shard is not owned, counted while it runs. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed || this.draining) throw this.notOwnedError();
    this.inflight += 1;
    try {
      return await fn();
    } finally {
      this.inflight -= 1;
      if (this.inflight === 0) this.drained.splice(0).forEach((wake) => wake());
    }
  }

  /** False once another host took the shard over (or the shard was stopped). */
  get owned(): boolean {
    return !this.closed && !this.draining;
  }

  async getCurrentExecution(namespaceId: string, workflowId: string): Promise<CurrentExecutionRecord | undefined> {
    return this.guard(() => this.store.getCurrentExecution(this.shardId, namespaceId, workflowId));
  }

  /**
   * A look at a run's committed state under its workflow's lock. `read` is synchronous and must
   * not keep the state it is given (it is live and changes after the lock is released).
   */
  async readExecution<T>(key: ExecutionKey, read: (ms: MutableState) => T): Promise<T | undefined> {
    return this.guard(() =>
      this.locks.run(lockKey(key.namespaceId, key.workflowId), async () => {
        const cached = await this.load(key);
        return cached ? read(cached.ms) : undefined;
      }),
    );
  }

  /**
   * THE way to change executions of one workflow id. `fn` loads the runs it changes through the
   * transaction and mutates them; everything is committed in one transaction when it returns. A
   * lost race (condition failed) runs `fn` again from a fresh read.
   */
  async updateWorkflow<T>(namespaceId: string, workflowId: string, fn: (tx: WorkflowTransaction) => T | Promise<T>): Promise<T> {
    return this.guard(() => this.updateWorkflowOwned(namespaceId, workflowId, fn));
  }

  private async updateWorkflowOwned<T>(namespaceId: string, workflowId: string, fn: (tx: WorkflowTransaction) => T | Promise<T>): Promise<T> {
    return this.locks.run(lockKey(namespaceId, workflowId), async () => {
      try {
        return await this.runTransaction(namespaceId, workflowId, fn);
      } catch (err) {
        if (!(err instanceof HistoryLimitExceededError)) throw err;
        // The change would have pushed the history past its limit: it is dropped and the run terminated, as Temporal does.
        await this.runTransaction(namespaceId, workflowId, async (tx) => {
          const ctx = await tx.run(err.key.runId);
          if (!ctx || !isRunning(ctx.ms)) return;
          const namespace = await this.deps.namespaces.getById(namespaceId);
          terminateWorkflow(ctx, { reason: err.reason, identity: 'history-service', retentionMs: namespace.retentionMs });
        }, { limits: false });
        throw new InvalidArgumentError(err.reason);
      }
    });
  }

  /** updateWorkflow for one run; `fn` gets undefined when the run does not exist. */
  updateExecution<T>(key: ExecutionKey, fn: (ctx: MutationContext | undefined) => T | Promise<T>): Promise<T> {
    return this.updateWorkflow(key.namespaceId, key.workflowId, async (tx) => fn(await tx.run(key.runId)));
  }

  /** Events [fromEventId, toEventId) of a run, decoded, at most `limit`. */
  async readHistory(key: ExecutionKey, fromEventId: number, toEventId: number, limit: number): Promise<HistoryEvent[]> {
    if (this.closed || this.draining) throw this.notOwnedError();
    const cached = this.cache.get(key)?.tail.read(fromEventId, toEventId, limit);
    if (cached) return cached.events;
    const rows = await this.store.readHistory(this.shardId, key, fromEventId, toEventId, limit);
    return rows.map((r) => decodeEvent(r.data));
  }

  /**
   * One page of [fromEventId, toEventId): at most `maxEvents` events and, past the first, at most
   * `maxBytes` of encoded events (a page always has at least one). `nextEventId` is where the next
   * page starts (toEventId when this page reached the end).
   */
  async readHistoryPage(key: ExecutionKey, fromEventId: number, toEventId: number, maxEvents: number, maxBytes: number): Promise<{ events: HistoryEvent[]; nextEventId: number }> {
    if (this.closed || this.draining) throw this.notOwnedError();
    const cached = this.cache.get(key)?.tail.read(fromEventId, toEventId, maxEvents, maxBytes);
    if (cached) {
      const last = cached.events.at(-1);
      return { events: cached.events, nextEventId: cached.complete ? toEventId : last ? Number(last.eventId) + 1 : fromEventId };
    }
    const rows = fromEventId < toEventId ? await this.store.readHistory(this.shardId, key, fromEventId, toEventId, maxEvents) : [];
    const events: HistoryEvent[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (events.length > 0 && bytes + row.data.length > maxBytes) break;
      bytes += row.data.length;
      events.push(decodeEvent(row.data));
    }
    const last = events.at(-1);
    const nextEventId = last ? Number(last.eventId) + 1 : fromEventId;
    return { events, nextEventId: rows.length < maxEvents && events.length === rows.length ? toEventId : nextEventId };
  }

  /** Every event in [fromEventId, toEventId), read page by page, yielding to other work between pages. */
  async readHistoryRange(key: ExecutionKey, fromEventId: number, toEventId: number): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    for (let from = fromEventId; from < toEventId; ) {
      const page = await this.readHistory(key, from, toEventId, HISTORY_READ_PAGE);
      for (const event of page) events.push(event);
      if (page.length < HISTORY_READ_PAGE) break;
      from += page.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return events;
  }

  // --- internals -----------------------------------------------------------------------------------

  private async load(key: ExecutionKey): Promise<CachedExecution | undefined> {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const record = await this.store.getExecution(this.shardId, key);
    if (!record) return undefined;
    const ms = loadMutableState(record);
    const entry = { ms, dbVersion: record.dbVersion, tail: new EventTail(ms.nextEventId) };
    this.cache.put(key, entry);
    return entry;
  }

  private async runTransaction<T>(
    namespaceId: string,
    workflowId: string,
    fn: (tx: WorkflowTransaction) => T | Promise<T>,
    options: { limits: boolean } = { limits: true },
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw this.notOwnedError();
      const now = this.clock.now();
      const state: TxState = { runs: new Map(), created: undefined, deleted: undefined, current: null };
      const tx: WorkflowTransaction = {
        now,
        current: async () => {
          if (state.current === null) state.current = await this.store.getCurrentExecution(this.shardId, namespaceId, workflowId);
          return state.current;
        },
        run: async (runId) => {
          const open = state.runs.get(runId);
          if (open) return open.ctx;
          const loaded = await this.load({ namespaceId, workflowId, runId });
          if (!loaded) return undefined;
          const ctx = new MutationContext(loaded.ms, now);
          state.runs.set(runId, { ctx, dbVersion: loaded.dbVersion });
          return ctx;
        },
        startRun: (ctx) => {
          if (state.created) throw new InvariantViolationError('one change may start at most one run');
          state.created = ctx;
        },
        deleteRun: (ctx) => {
          state.deleted = ctx;
        },
      };
      try {
        const result = await fn(tx);
        await this.commitTransaction(namespaceId, state, options);
        return result;
      } catch (err) {
        // Whatever the change did to cached state is not committed: forget it.
        for (const runId of state.runs.keys()) this.cache.invalidate({ namespaceId, workflowId, runId });
        if (err instanceof ConditionFailedError && attempt < MAX_CONDITION_RETRIES) continue;
        throw err;
      }
    }
  }

  private async commitTransaction(namespaceId: string, state: TxState, options: { limits: boolean }): Promise<void> {
    const updated = [...state.runs.values()];
    // A run continuing as new (or retried, or cron) brings its successor along.
    for (const { ctx } of updated) {
      if (ctx.successor) {
        if (state.created) throw new InvariantViolationError('one change may start at most one run');
        state.created = ctx.successor;
      }
    }
    if (state.deleted) {
      if (state.created || updated.some(({ ctx }) => ctx !== state.deleted && ctx.hasChanges())) {
        throw new InvariantViolationError('a run deletion must be the only change of its transaction');
      }
      const entry = updated.find(({ ctx }) => ctx === state.deleted);
      if (!entry) throw new InvariantViolationError('deleteRun needs a run loaded through the same transaction');
      // The run's visibility record goes with it: a task in the same commit (the run's other tasks stay, and find no run when they come up).
      const deletion: VisibilityTask = { type: 'delete-execution', committedAt: this.clock.now(), version: entry.ctx.ms.executionInfo.stateTransitionCount + 1 };
      const row: HistoryTaskRow = { categoryId: TaskCategories.visibility.id, taskId: this.nextTaskId(), fireAt: 0, ...entry.ctx.ms.key, type: deletion.type, data: JSON.stringify(deletion) };
      rememberCommittedTask(row, deletion);
      // Its retained storage accrues up to the deletion, in the same commit; nothing accrues after.
      const storage: UsageTask['increments'] = [];
      accrueStorage(entry.ctx, entry.ctx.now, 0, storage);
      const commit: ShardCommit = { shardId: this.shardId, rangeId: this.rangeId, deletion: { key: entry.ctx.ms.key, expectedDbVersion: entry.dbVersion }, tasks: [row] };
      this.attachUsage(entry.ctx.ms.key, usageTaskOf(new Map(), entry.ctx.now, storage), commit);
      await this.commit(commit, []);
      this.cache.invalidate(entry.ctx.ms.key);
      this.deps.listeners.onTasks(this.shardId, commit.tasks);
      return;
    }
    const changed = updated.filter(({ ctx }) => ctx.hasChanges());
    const all = [...changed.map((u) => u.ctx), ...(state.created ? [state.created] : [])];
    if (all.length === 0) return;
    const scope = { settings: this.deps.settings, namespace: (await this.deps.namespaces.getById(namespaceId)).name, logger: this.logger };
    for (const ctx of all) {
      enforceBufferLimit(ctx, scope);
      if (ctx.wantsWorkflowTask) scheduleWorkflowTaskIfNeeded(ctx);
      if (options.limits) enforceHistoryLimits(ctx, scope);
      // A run the limits just closed has no task to hand out.
      if (ctx.inlineWorkflowTask?.started && !isRunning(ctx.ms)) ctx.inlineWorkflowTask.started = undefined;
    }
    if (changed.length > 1) throw new InvariantViolationError('one change may update at most one existing run');
    // Storage metering: every written run accrues what it held since its last accrual; a new run arms its periodic accrual.
    const storage: UsageTask['increments'] = [];
    const accrualMs = this.deps.settings.get(HistorySettings.storageAccrualInterval);
    for (const ctx of all) {
      if (ctx === state.created && accrualMs > 0 && ctx.ms.executionInfo.storageAccruedAt === undefined) {
        ctx.addTimerTask(nextAccrualAt(ctx.now, accrualMs), { type: 'storage-accrual' });
      }
      accrueStorage(ctx, ctx.now, storageBytesOf(ctx, ctx.ms.storedStateBytes), storage);
    }
    const update = changed[0];
    const commit: ShardCommit = { shardId: this.shardId, rangeId: this.rangeId, tasks: [] };
    const writes: { ctx: MutationContext; dbVersion: number }[] = [];
    if (update) {
      const body = this.rowsOf(update.ctx, commit, false);
      commit.update = { ...body, expectedDbVersion: update.dbVersion, deleteItems: body.deleteItems };
      writes.push({ ctx: update.ctx, dbVersion: update.dbVersion + 1 });
    }
    if (state.created) {
      const { deleteItems: _none, ...body } = this.rowsOf(state.created, commit, true);
      commit.create = body;
      writes.push({ ctx: state.created, dbVersion: 1 });
    }
    this.addUsageTask(all, storage, commit);
    // The current pointer follows the newest run: the created one, or the updated one when its status changed.
    const pointerCtx = state.created ?? (update && update.ctx.ms.executionInfo.status !== update.ctx.initialStatus ? update.ctx : undefined);
    if (pointerCtx) {
      const info = pointerCtx.ms.executionInfo;
      const expectedRunId = state.created ? ((await this.expectedCurrentRunId(state)) ?? null) : info.runId;
      commit.current = {
        namespaceId: info.namespaceId,
        workflowId: info.workflowId,
        expectedRunId,
        record: {
          namespaceId: info.namespaceId,
          workflowId: info.workflowId,
          runId: info.runId,
          createRequestId: info.startRequestId,
          running: isRunning(pointerCtx.ms),
          status: info.status,
          startTime: info.startTime,
        },
      };
    }
    await this.commit(commit, writes.map((w) => w.ctx));
    for (const { ctx } of writes) {
      const pointless = ctx.staleTimeoutTasks();
      if (pointless.length > 0) this.deps.listeners.onTasksPointless?.(this.shardId, pointless);
    }
    const tailLimits = this.tailLimits();
    for (const { ctx, dbVersion } of writes) {
      ctx.ms.settle();
      const tail = ctx === state.created ? new EventTail(1) : (this.cache.get(ctx.ms.key)?.tail ?? new EventTail(ctx.ms.nextEventId));
      tail.append(ctx.events, ctx.encodedEvents.map((e) => e.length), tailLimits);
      this.cache.put(ctx.ms.key, { ms: ctx.ms, dbVersion, tail });
      this.deps.listeners.onEventsCommitted?.(ctx.ms.key, ctx.events, ctx.ms);
      this.deps.listeners.onExecutionChanged(ctx.ms.key, { nextEventId: ctx.ms.nextEventId, closed: !isRunning(ctx.ms) }, ctx.ms);
    }
    if (commit.tasks.length > 0) this.deps.listeners.onTasks(this.shardId, commit.tasks);
  }

  /** The billable actions of every run the change wrote, as one usage task of the same commit. */
  private addUsageTask(ctxs: readonly MutationContext[], storage: UsageTask['increments'], commit: ShardCommit): void {
    const first = ctxs[0];
    if (!first) return;
    const usage = new Map<BillableAction, number>();
    for (const ctx of ctxs) for (const [action, n] of ctx.usage) usage.set(action, (usage.get(action) ?? 0) + n);
    this.attachUsage(first.ms.key, usageTaskOf(usage, first.now, storage), commit);
  }

  /**
   * A change's usage in its commit: added to the counters by the commit itself where the store
   * does that (SQLite), else as a usage task folded later. A usage task belongs to no run (run id
   * ''): deleting a run never deletes usage not yet folded.
   */
  private attachUsage(key: ExecutionKey, task: UsageTask | undefined, commit: ShardCommit): void {
    if (!task) return;
    const { namespaceId, workflowId } = key;
    if (this.store.foldsUsageInCommit) {
      commit.usage = task.increments.map((i) => ({ namespaceId, hourStart: i.hourStart, recordType: i.recordType, amount: i.amount }));
      return;
    }
    const row: HistoryTaskRow = { categoryId: TaskCategories.usage.id, taskId: this.nextTaskId(), fireAt: 0, namespaceId, workflowId, runId: '', type: task.type, data: JSON.stringify(task) };
    rememberCommittedTask(row, task);
    commit.tasks.push(row);
  }

  /**
   * Usage that no history change carries (a query answered): a commit of one usage task, fenced
   * like every commit. Resolves once it is durable.
   */
  async commitUsage(key: ExecutionKey, usage: ReadonlyMap<BillableAction, number>): Promise<void> {
    const task = usageTaskOf(usage, this.clock.now());
    if (!task) return;
    await this.guard(async () => {
      const commit: ShardCommit = { shardId: this.shardId, rangeId: this.rangeId, tasks: [] };
      this.attachUsage(key, task, commit);
      await this.commit(commit, []);
      if (commit.tasks.length > 0) this.deps.listeners.onTasks(this.shardId, commit.tasks);
    });
  }

  /**
   * Folds a usage task into the hourly counters and deletes it, in one transaction fenced by this
   * host's range id. A task waits up to USAGE_FOLD_DELAY_MS for others, and tasks that arrive while
   * a fold is running go together in the next one (one transaction for many tasks). Resolves with
   * whether this task's usage was added.
   */
  foldUsage(row: HistoryTaskRow, increments: readonly UsageIncrement[]): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.usageFolds.push({ fold: { task: { categoryId: row.categoryId, fireAt: row.fireAt, taskId: row.taskId }, increments }, resolve, reject });
      // At most `transferConcurrency` usage tasks of a shard run at once: half of them fold at once,
      // so a busy shard never waits on the delay.
      const foldNow = Math.max(1, Math.floor(this.deps.settings.get(HistorySettings.transferConcurrency) / 2));
      if (this.usageFolds.length >= foldNow) void this.foldPending();
      else if (!this.folding) {
        this.foldTimer ??= setTimeout(() => void this.foldPending(), USAGE_FOLD_DELAY_MS);
      }
    });
  }

  private async foldPending(): Promise<void> {
    if (this.foldTimer) clearTimeout(this.foldTimer);
    this.foldTimer = undefined;
    if (this.folding) return;
    this.folding = true;
    try {
      while (this.usageFolds.length > 0) {
        const waiting = this.usageFolds.splice(0, MAX_USAGE_FOLD_BATCH);
        try {
          if (this.closed) throw this.notOwnedError();
          const folded = await this.store.foldUsageTasks(this.shardId, this.rangeId, waiting.map((w) => w.fold));
          waiting.forEach((w, i) => w.resolve(folded[i] ?? false));
        } catch (err) {
          let failure = err;
          if (err instanceof ShardOwnershipLostError) {
            try {
              this.ownershipLost(err);
            } catch (lost) {
              failure = lost;
            }
          }
          for (const w of waiting) w.reject(failure);
        }
      }
    } finally {
      this.folding = false;
    }
  }

  /**
   * Entities that are not workflow runs (schedules) live in the shard's execution rows under a
   * workflow id of their own, with no current-run pointer and no history, so no workflow API finds
   * them. `fn` runs under the id's lock with the stored record (undefined: none) and returns the new
   * state (or 'delete'), plus the tasks of the same commit; the write is conditional on the record's
   * version and fenced by the shard's range id like every commit. Its tasks belong to no run (run id
   * ''), so the deletion of the entity never deletes a task committed with it.
   */
  async updateEntity<T>(
    key: ExecutionKey,
    fn: (record: ExecutionRecord | undefined) => Promise<EntityChange<T>> | EntityChange<T>,
  ): Promise<T> {
    return this.guard(() => this.updateEntityOwned(key, fn));
  }

  private async updateEntityOwned<T>(key: ExecutionKey, fn: (record: ExecutionRecord | undefined) => Promise<EntityChange<T>> | EntityChange<T>): Promise<T> {
    return this.locks.run(lockKey(key.namespaceId, key.workflowId), async () => {
      const record = await this.store.getExecution(this.shardId, key);
      const change = await fn(record);
      if (change.write === undefined) return change.result;
      const rows: HistoryTaskRow[] = (change.tasks ?? []).map((t) => ({ categoryId: t.category.id, taskId: this.nextTaskId(), fireAt: t.fireAt, namespaceId: key.namespaceId, workflowId: key.workflowId, runId: '', type: t.type, data: t.data }));
      const commit: ShardCommit = { shardId: this.shardId, rangeId: this.rangeId, tasks: rows };
      if (change.usage) this.attachUsage(key, usageTaskOf(change.usage, this.clock.now()), commit);
      if (change.write === 'delete') {
        if (!record) return change.result;
        commit.deletion = { key, expectedDbVersion: record.dbVersion };
      } else if (record) {
        commit.update = { key, state: change.write, nextEventId: 1, events: [], upsertItems: [], deleteItems: [], expectedDbVersion: record.dbVersion };
      } else {
        commit.create = { key, state: change.write, nextEventId: 1, events: [], upsertItems: [] };
      }
      await this.commit(commit, []);
      if (rows.length > 0) this.deps.listeners.onTasks(this.shardId, rows);
      return change.result;
    });
  }

  /** The stored record of an entity (see updateEntity), read without its lock. */
  readEntity(key: ExecutionKey): Promise<ExecutionRecord | undefined> {
    return this.guard(() => this.store.getExecution(this.shardId, key));
  }

  /**
   * The committed record of an entity as the store holds it, whoever owns the shard (no cache, no
   * ownership check): for lookups from other shards that accept a moment's staleness, such as
   * routing by a namespace's worker deployment registry.
   */
  readCommittedEntity(key: ExecutionKey): Promise<ExecutionRecord | undefined> {
    return this.store.getExecution(this.shardId, key);
  }

  /** A created run replaces what the pointer pointed at when the change read it (or nothing). */
  private async expectedCurrentRunId(state: TxState): Promise<string | undefined> {
    if (state.current === null) {
      const info = (state.created as MutationContext).ms.executionInfo;
      state.current = await this.store.getCurrentExecution(this.shardId, info.namespaceId, info.workflowId);
    }
    return state.current?.runId;
  }

  private rowsOf(ctx: MutationContext, commit: ShardCommit, created: boolean) {
    const ms = ctx.ms;
    ms.executionInfo.stateTransitionCount += 1;
    const key = ms.key;
    if (created || visibleStateChanged(ctx.initialVisible, ms)) {
      const task: VisibilityTask = { type: 'upsert-execution', committedAt: ctx.now };
      ctx.addTask(TaskCategories.visibility, 0, task);
    }
    // Ids first: a task's key may go into the state (onKey) that is written below.
    for (const { category, fireAt, task, onKey } of ctx.tasks) {
      const row: HistoryTaskRow = { categoryId: category.id, taskId: this.nextTaskId(), fireAt, ...key, type: task.type, data: JSON.stringify(task) };
      rememberCommittedTask(row, task as TransferTask | TimerTask | VisibilityTask);
      commit.tasks.push(row);
      onKey?.({ categoryId: row.categoryId, fireAt: row.fireAt, taskId: row.taskId });
    }
    const { state, upsertItems, deleteItems } = ms.pendingWrite();
    return {
      key,
      state,
      nextEventId: ms.nextEventId,
      events: ctx.events.map((e, i) => ({ eventId: Number(e.eventId), data: ctx.encodedEvents[i] as Uint8Array })),
      upsertItems,
      deleteItems,
    };
  }

  private async commit(commit: ShardCommit, writing: MutationContext[]): Promise<void> {
    if (this.closed) throw this.notOwnedError();
    const started = performance.now();
    try {
      // A child span of the RPC being served when it is traced; no span otherwise.
      await childSpan('store.commit', { 'hourglass.shard': this.shardId }, () => this.store.commit(commit));
      if (commit.usage) this.deps.listeners.onUsageCommitted?.(commit.usage);
      this.storeCommitLatency?.observe((performance.now() - started) / 1000);
    } catch (err) {
      for (const ctx of writing) this.cache.invalidate(ctx.ms.key);
      if (err instanceof ShardOwnershipLostError) this.ownershipLost(err);
      throw err;
    }
  }

  private ownershipLost(err: ShardOwnershipLostError): never {
    if (!this.closed) {
      this.deps.metrics?.shardOwnershipChanges.inc({ event: 'lost' });
      this.deps.metrics?.shardsOwned.dec();
      this.logger.error({ err, shardId: this.shardId }, `shard ${this.shardId} was taken over by another host: this host stops serving it`);
      this.closed = true;
      this.cache.clear();
      this.deps.listeners.onOwnershipLost(this.shardId);
    }
    throw this.notOwnedError(`shard ${this.shardId} ownership moved to another host; retry`, err);
  }

  private tailLimits(): EventTailLimits {
    return { maxEvents: this.deps.settings.get(HistorySettings.cachedTailEvents), maxBytes: this.deps.settings.get(HistorySettings.cachedTailBytes) };
  }

  private nextTaskId(): number {
    this.taskSequence += 1;
    return this.rangeId * TASK_ID_RANGE_BITS + this.taskSequence;
  }
}

function lockKey(namespaceId: string, workflowId: string): string {
  return `${namespaceId}\u0000${workflowId}`;
}
