/**
 * One history shard as owned by this host: its fencing token (range_id), task id allocation,
 * the execution cache, the per-workflow lock, and THE one write path for executions
 * (`updateExecution` / `commitRuns`): mutable state + events + transfer/timer tasks in one
 * conditional transaction.
 */
import { KeyedMutex, UnavailableError, type Clock, type HistoryEvent, type Logger } from '@hourglass/common';
import {
  ConditionFailedError,
  ShardOwnershipLostError,
  type CurrentExecutionRecord,
  type ExecutionKey,
  type ExecutionRecord,
  type ExecutionStore,
  type ShardCommit,
  type TimerTaskRow,
  type TransferTaskRow,
} from '@hourglass/persistence';
import type { HistoryConfig } from '../config';
import { decodeEvent } from '../workflow/events';
import { deserializeMutableState, serializeMutableState, type MutableStateData } from '../workflow/mutable-state';
import { MutationContext } from '../workflow/mutation';
import { ExecutionCache } from './execution-cache';

/** Task ids: rangeId in the high bits, a per-range sequence below, so a new owner never reuses an id. */
const TASK_ID_RANGE_BITS = 2 ** 32;
const MAX_CONDITION_RETRIES = 3;

export interface ShardListeners {
  onTransferTasks(shardId: number, rows: TransferTaskRow[]): void;
  onTimerTasks(shardId: number, rows: TimerTaskRow[]): void;
  onExecutionChanged(key: ExecutionKey, state: { nextEventId: number; closed: boolean }, ms: MutableStateData): void;
  /** Another host took the shard over: this host must stop its work on it. */
  onOwnershipLost(shardId: number): void;
}

export interface LoadedExecution {
  record: ExecutionRecord;
  ms: MutableStateData;
}

/** A run written by commitRuns: an existing one (with the record it was loaded from) or a new one. */
export interface RunWrite {
  ctx: MutationContext;
  /** Present for an update of an existing run; absent for a new run. */
  loadedFrom?: ExecutionRecord;
}

export class ShardContext {
  private rangeId = 0;
  private taskSequence = 0;
  private closed = false;
  private readonly cache: ExecutionCache;
  private readonly locks = new KeyedMutex();

  constructor(
    readonly shardId: number,
    private readonly store: ExecutionStore,
    readonly clock: Clock,
    private readonly config: HistoryConfig,
    private readonly logger: Logger,
    private readonly listeners: ShardListeners,
  ) {
    this.cache = new ExecutionCache(config.executionCacheSize);
  }

  async acquire(): Promise<void> {
    const shard = await this.store.acquireShard(this.shardId, this.config.hostIdentity);
    this.rangeId = shard.rangeId;
    this.taskSequence = 0;
    this.cache.clear();
    this.logger.debug({ shardId: this.shardId, rangeId: this.rangeId }, 'shard acquired');
  }

  get currentRangeId(): number {
    return this.rangeId;
  }

  stop(): void {
    this.closed = true;
  }

  /** False once another host took the shard over (or the shard was stopped). */
  get owned(): boolean {
    return !this.closed;
  }

  /** Serialises everything that touches one workflow id (all its runs and its current pointer). */
  withWorkflowLock<T>(namespaceId: string, workflowId: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(`${namespaceId}\u0000${workflowId}`, fn);
  }

  async getCurrentExecution(namespaceId: string, workflowId: string): Promise<CurrentExecutionRecord | undefined> {
    return this.store.getCurrentExecution(this.shardId, namespaceId, workflowId);
  }

  /** A fresh copy of the run's mutable state (safe to mutate), or undefined. */
  async loadExecution(key: ExecutionKey): Promise<LoadedExecution | undefined> {
    let record = this.cache.get(key);
    if (!record) {
      record = await this.store.getExecution(this.shardId, key);
      if (!record) return undefined;
      this.cache.put(record);
    }
    return { record, ms: deserializeMutableState(record.state) };
  }

  /**
   * THE way to change an existing run: lock, load, run `fn` on a MutationContext, commit
   * everything it produced conditionally. `fn` returning undefined from a missing run is the
   * caller's business: it receives `undefined` as ctx when the run does not exist.
   * On a lost race the closure runs again from a fresh read.
   */
  async updateExecution<T>(key: ExecutionKey, fn: (ctx: MutationContext | undefined) => T | Promise<T>): Promise<T> {
    return this.withWorkflowLock(key.namespaceId, key.workflowId, () => this.updateExecutionLocked(key, fn));
  }

  /** updateExecution for callers that already hold the workflow lock. */
  async updateExecutionLocked<T>(key: ExecutionKey, fn: (ctx: MutationContext | undefined) => T | Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.loadExecution(key);
      if (!loaded) return fn(undefined);
      const ctx = new MutationContext(loaded.ms, this.clock.now());
      const result = await fn(ctx);
      if (!ctx.hasChanges()) return result;
      try {
        if (ctx.successor) {
          await this.commitRuns([{ ctx, loadedFrom: loaded.record }, { ctx: ctx.successor }], key.runId);
        } else {
          await this.commitRuns([{ ctx, loadedFrom: loaded.record }]);
        }
        return result;
      } catch (err) {
        if (err instanceof ConditionFailedError && attempt < MAX_CONDITION_RETRIES) {
          this.cache.invalidate(key);
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * Commits up to one existing-run update and one new run (e.g. terminate-and-start, continue-as-new)
   * in one transaction, moving the workflow's current pointer as their statuses say.
   * `expectedCurrentRunId` is required when a new run is created.
   */
  async commitRuns(writes: RunWrite[], expectedCurrentRunId?: string | null): Promise<void> {
    if (this.closed) throw new UnavailableError(`shard ${this.shardId} is not owned by this host`);
    const update = writes.find((w) => w.loadedFrom);
    const create = writes.find((w) => !w.loadedFrom);
    const commit: ShardCommit = { shardId: this.shardId, rangeId: this.rangeId, transferTasks: [], timerTasks: [] };
    const committed: ExecutionRecord[] = [];
    for (const write of writes) {
      const info = write.ctx.ms.executionInfo;
      info.stateTransitionCount += 1;
      const key: ExecutionKey = { namespaceId: info.namespaceId, workflowId: info.workflowId, runId: info.runId };
      const body = {
        key,
        state: serializeMutableState(write.ctx.ms),
        nextEventId: write.ctx.ms.nextEventId,
        events: write.ctx.events.map((e, i) => ({ eventId: Number(e.eventId), data: write.ctx.encodedEvents[i] as Uint8Array })),
      };
      if (write.loadedFrom) commit.update = { ...body, expectedDbVersion: write.loadedFrom.dbVersion };
      else commit.create = body;
      committed.push({ ...key, state: body.state, nextEventId: body.nextEventId, dbVersion: write.loadedFrom ? write.loadedFrom.dbVersion + 1 : 1 });
      for (const task of write.ctx.transferTasks) {
        commit.transferTasks.push({ taskId: this.nextTaskId(), ...key, type: task.type, data: JSON.stringify(task) });
      }
      for (const { fireAt, task } of write.ctx.timerTasks) {
        commit.timerTasks.push({ taskId: this.nextTaskId(), fireAt, ...key, type: task.type, data: JSON.stringify(task) });
      }
    }
    // The current pointer follows the newest run: the created one, or the updated one when its status changed.
    const pointerRun = create ?? (update && update.ctx.ms.executionInfo.status !== update.ctx.initialStatus ? update : undefined);
    if (pointerRun) {
      const info = pointerRun.ctx.ms.executionInfo;
      commit.current = {
        namespaceId: info.namespaceId,
        workflowId: info.workflowId,
        expectedRunId: create ? (expectedCurrentRunId ?? null) : info.runId,
        record: {
          namespaceId: info.namespaceId,
          workflowId: info.workflowId,
          runId: info.runId,
          createRequestId: info.startRequestId,
          running: info.closeTime === 0,
          status: info.status,
          startTime: info.startTime,
        },
      };
    }
    try {
      await this.store.commit(commit);
    } catch (err) {
      for (const w of writes) this.cache.invalidate(keyOf(w.ctx));
      if (err instanceof ShardOwnershipLostError) {
        this.logger.error({ err, shardId: this.shardId }, 'shard ownership lost; this host stops writing to it');
        this.closed = true;
        this.cache.clear();
        this.listeners.onOwnershipLost(this.shardId);
        throw new UnavailableError(`shard ${this.shardId} ownership moved to another host; retry`, undefined, { cause: err });
      }
      throw err;
    }
    writes.forEach((write, i) => {
      const record = committed[i] as ExecutionRecord;
      this.cache.put(record);
      this.listeners.onExecutionChanged(record, { nextEventId: record.nextEventId, closed: write.ctx.ms.executionInfo.closeTime !== 0 }, write.ctx.ms);
    });
    if (commit.transferTasks.length > 0) this.listeners.onTransferTasks(this.shardId, commit.transferTasks);
    if (commit.timerTasks.length > 0) this.listeners.onTimerTasks(this.shardId, commit.timerTasks);
  }

  /** Events [fromEventId, toEventId) of a run, decoded. */
  async readHistory(key: ExecutionKey, fromEventId: number, toEventId: number, limit: number): Promise<HistoryEvent[]> {
    const rows = await this.store.readHistory(this.shardId, key, fromEventId, toEventId, limit);
    return rows.map((r) => decodeEvent(r.data));
  }

  async deleteExecution(key: ExecutionKey): Promise<void> {
    await this.store.deleteExecution(this.shardId, key);
    this.cache.invalidate(key);
  }

  private nextTaskId(): number {
    this.taskSequence += 1;
    return this.rangeId * TASK_ID_RANGE_BITS + this.taskSequence;
  }
}

function keyOf(ctx: MutationContext): ExecutionKey {
  const info = ctx.ms.executionInfo;
  return { namespaceId: info.namespaceId, workflowId: info.workflowId, runId: info.runId };
}
