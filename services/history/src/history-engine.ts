/**
 * The history service: owns the shards, their queue processors and the API handlers. In-process
 * for now; its methods are the future internal gRPC surface.
 */
import {
  DEFAULT_SETTINGS,
  HistorySettings,
  InvariantViolationError,
  MembershipSettings,
  shardIdFor,
  type Clock,
  type Failure,
  type HostRecord,
  type Logger,
  type Membership,
  type Payloads,
  type ServerMetrics,
  type Settings,
} from '@hourglass/common';
import type {
  ActivityTarget,
  BuildQueryTaskRequest,
  CrossExecutionService,
  CallOptions,
  DeploymentVersionRef,
  HistoryService,
  MatchTask,
  MatchingService,
  NamespacedRequest,
  RecordActivityTaskStartedRequest,
  RecordWorkflowTaskStartedRequest,
  WorkflowTaskToken,
  Ws,
} from '@hourglass/contracts';
import type { HistoryTaskKey, HistoryTaskRow, NamespaceRecord, Persistence } from '@hourglass/persistence';
import { deleteWorkflowExecution } from './api/delete-workflow/delete-workflow.handler';
import { applyParentClosePolicy, deliverExternalCancel, deliverExternalSignal, recordChildExecutionClosed, startChildExecution } from './api/cross-execution/cross-execution.handler';
import { describeWorkflowExecution } from './api/describe-workflow-execution/describe-workflow-execution.handler';
import { NamespaceDeletion } from './namespace-deletion';
import { getWorkflowExecutionHistory, getWorkflowExecutionHistoryReverse } from './api/get-workflow-execution-history/get-workflow-execution-history.handler';
import { recordActivityTaskHeartbeat } from './api/record-activity-task-heartbeat/record-activity-task-heartbeat.handler';
import { recordActivityTaskStarted } from './api/record-activity-task-started/record-activity-task-started.handler';
import { recordWorkflowTaskStarted, rescheduleStickyWorkflowTask } from './api/record-workflow-task-started/record-workflow-task-started.handler';
import { updateNamedRun } from './api/shared';
import { respondActivityTaskCanceled, respondActivityTaskCompleted, respondActivityTaskFailed } from './api/respond-activity-task/respond-activity-task.handler';
import { respondWorkflowTaskCompleted } from './api/respond-workflow-task-completed/respond-workflow-task-completed.handler';
import { respondWorkflowTaskFailed } from './api/respond-workflow-task-failed/respond-workflow-task-failed.handler';
import { buildQueryTask, queryWorkflow, respondQueryTaskCompleted } from './api/query-workflow/query-workflow.handler';
import { pollWorkflowExecutionUpdate, updateWorkflowExecution } from './api/update-workflow/update-workflow.handler';
import { resetWorkflowExecution } from './api/reset-workflow/reset-workflow.handler';
import { requestCancelWorkflowExecution } from './api/request-cancel-workflow/request-cancel-workflow.handler';
import { signalWorkflowExecution } from './api/signal-workflow/signal-workflow.handler';
import { executeMultiOperation, signalWithStartWorkflowExecution, startScheduledWorkflow, startWorkflowExecution } from './api/start-workflow/start-workflow.handler';
import { terminateWorkflowExecution } from './api/terminate-workflow/terminate-workflow.handler';
import type { HistoryConfig } from './config';
import type { EngineContext } from './engine-context';
import type { NamespaceRegistry } from './namespace-registry';
import { ExecutionNotifier } from './notifier';
import { WorkTracker } from './work-tracker';
import { QueryRegistry } from './query-registry';
import { BatchedDeleter } from './queues/batched-deleter';
import { ImmediateQueueProcessor, type QueueProcessor, type TaskExecutor } from './queues/immediate-queue-processor';
import { ScheduledQueueProcessor } from './queues/scheduled-queue-processor';
import { TaskCategories, type TaskCategory } from './queues/task-categories';
import { createTimerTaskExecutor } from './queues/timer-queue-executor';
import { createTransferTaskExecutor } from './queues/transfer-queue-executor';
import { createVisibilityTaskExecutor, DISCARDING_PUBLISHER } from './queues/visibility-queue-executor';
import type { VisibilityPublisher } from '@hourglass/visibility';
import { ShardContext, type ShardListeners } from './shard/shard-context';
import { RebuildVerifier } from './workflow/rebuild-verifier';
import { BillableActionCounter } from './usage/billable-action-counter';
import { createUsageTaskExecutor } from './usage/usage-task';
import { Scheduler } from './schedules/scheduler';
import { WorkerDeployments } from './worker-deployments/worker-deployments';
import { redispatchTask } from './api/redispatch-task/redispatch-task.handler';
import { updateWorkflowExecutionOptions } from './api/update-workflow-execution-options/update-workflow-execution-options.handler';
import { StandaloneActivities, isStandaloneActivityWorkflowId, type StandaloneActivityTarget } from './activities/standalone-activity';
import { ShardOwnership } from './membership/shard-ownership';
import { createBatchTaskExecutor, describeBatchOperation, startBatchOperation, stopBatchOperation, type BatchTargetSource } from './batch/batch-job';


export interface HistoryEngineDeps {
  persistence: Persistence;
  namespaces: NamespaceRegistry;
  matching: MatchingService;
  clock: Clock;
  config: HistoryConfig;
  logger: Logger;
  /** Tunables and limits (defaults when absent). */
  settings?: Settings;
  /** Keep track of which runs have work in progress (time-skipping test servers). */
  trackWork?: boolean;
  /** Where visibility tasks publish records (the visibility bus). Absent: records are dropped (engines in unit tests). */
  visibility?: VisibilityPublisher;
  /** Where batch operations find their targets by query and count open jobs (the visibility search). Absent: batch operations are unavailable. */
  batchTargets?: BatchTargetSource;
  /** Task categories besides the standard ones (tests; future categories register the same way). */
  extraTaskCategories?: readonly TaskCategoryRegistration[];
  /**
   * Several history hosts: own the shards rendezvous hashing assigns to this host among the live
   * history hosts of this membership (role 'history'; its host id is the shards' owner name), and
   * follow it as hosts come and go (see membership/shard-ownership.ts). The caller starts the
   * membership before the engine and leaves it after stopping the engine. Absent: this process owns
   * every shard (start-dev).
   */
  membership?: Membership;
  /** Another host took a shard over (own-every-shard mode only): the owner of this process decides what to do (start-dev exits). */
  onShardOwnershipLost?: (shardId: number) => void;
  /** With `history.verifyRebuild` on: a run's state diverged from its history (a bug). Default: log fatally and throw. */
  onStateDivergence?: (message: string) => void;
  /** Shard ownership changes and store latency (none by default). */
  metrics?: ServerMetrics;
  /** Where work reaches other executions (child starts, signals to other workflows, schedules' and batch jobs' targets): a client routing to each shard's owner in a cluster; default this engine. */
  peers?: HistoryService;
}

/** A task category and the executor of its tasks: all a new category needs. */
export interface TaskCategoryRegistration {
  category: TaskCategory;
  executor(env: EngineContext): TaskExecutor;
  /** The executor deletes its task itself, in its own transaction (usage): the processor does not delete it again. */
  executorDeletesTask?: boolean;
}

function standardRegistrations(visibility: VisibilityPublisher): TaskCategoryRegistration[] {
  return [
    { category: TaskCategories.transfer, executor: createTransferTaskExecutor },
    { category: TaskCategories.timer, executor: createTimerTaskExecutor },
    { category: TaskCategories.visibility, executor: createVisibilityTaskExecutor(visibility) },
  ];
}

/** A change of which shards this host serves (dynamic ownership): acquired, released cleanly, or lost to another host. */
export interface ShardOwnershipEvent {
  shardId: number;
  event: 'acquired' | 'released' | 'lost';
}

/** How long a shard's hand-over waits for its queue tasks (and shutdown for a membership round) before going on. */
const PROCESSOR_STOP_BOUND_MS = 5_000;

/** Waits for `work`, at most `ms`: true when it finished (or failed) in time. */
async function boundedWait(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Longest wait between retries of a failing task, per category. */
const MAX_TASK_RETRY_DELAY_MS = 10_000;

export class HistoryEngine implements HistoryService {
  private readonly shards: ShardContext[] = [];
  private readonly namespaceDeletion: NamespaceDeletion;
  /** Per shard: category id → its processor, while the shard is owned (new ones at every acquisition). */
  private readonly processors: (Map<number, QueueProcessor> | undefined)[] = [];
  private readonly createProcessors: (shardId: number) => Map<number, QueueProcessor>;
  /** Dynamic ownership (several history hosts); undefined: every shard is this host's. */
  private readonly ownership: ShardOwnership | undefined;
  private readonly ownershipListeners = new Set<(event: ShardOwnershipEvent) => void>();
  private readonly onShardOwnershipLost: ((shardId: number) => void) | undefined;
  private readonly env: EngineContext;
  /** Runs with work in progress (for time skipping in test environments); undefined unless asked for. */
  readonly workTracker: WorkTracker | undefined;
  /** hourglass_billable_actions_total: billable actions folded into the hourly counters since this process started. */
  readonly billableActions = new BillableActionCounter();
  private readonly scheduler: Scheduler;
  private readonly activities: StandaloneActivities;
  private readonly batchTargets: BatchTargetSource | undefined;

  constructor(deps: HistoryEngineDeps) {
    const notifier = new ExecutionNotifier();
    const settings = deps.settings ?? DEFAULT_SETTINGS;
    this.workTracker = deps.trackWork ? new WorkTracker() : undefined;
    this.env = {
      config: deps.config,
      clock: deps.clock,
      logger: deps.logger,
      namespaces: deps.namespaces,
      matching: deps.matching,
      settings,
      notifier,
      queries: new QueryRegistry(),
      deployments: new WorkerDeployments({ clock: deps.clock, logger: deps.logger, matching: deps.matching, shardFor: (namespaceId, workflowId) => this.shardFor(namespaceId, workflowId) }),
      shardFor: (namespaceId, workflowId) => this.shardFor(namespaceId, workflowId),
      peers: deps.peers ?? this,
    };
    const verifier = settings.get(HistorySettings.verifyRebuild)
      ? new RebuildVerifier(
          deps.onStateDivergence ??
            ((message) => {
              deps.logger.fatal(message);
              throw new InvariantViolationError(message);
            }),
        )
      : undefined;
    const usage: TaskCategoryRegistration = {
      category: TaskCategories.usage,
      executor: (env) => createUsageTaskExecutor(env, (namespaceId, increments) => this.billableActions.add(namespaceId, increments)),
      executorDeletesTask: true,
    };
    this.scheduler = new Scheduler({ env: this.env, namespace: (id) => this.namespace(id) });
    const publisher = deps.visibility ?? DISCARDING_PUBLISHER;
    const schedules: TaskCategoryRegistration = {
      category: TaskCategories.schedule,
      executor: () => (row) => this.scheduler.execute(row, (changes) => publisher.publish(changes)),
    };
    this.activities = new StandaloneActivities({ env: this.env, namespace: (id) => this.namespace(id) });
    const activities: TaskCategoryRegistration = {
      category: TaskCategories.activity,
      executor: () => (row) => this.activities.execute(row, (changes) => publisher.publish(changes)),
    };
    const batch: TaskCategoryRegistration = { category: TaskCategories.batch, executor: (env) => createBatchTaskExecutor(env, deps.batchTargets) };
    this.batchTargets = deps.batchTargets;
    const registrations = [...standardRegistrations(deps.visibility ?? DISCARDING_PUBLISHER), usage, schedules, batch, activities, ...(deps.extraTaskCategories ?? [])];
    const ids = new Set<number>();
    for (const { category } of registrations) {
      if (ids.has(category.id)) throw new InvariantViolationError(`task category id ${category.id} (${category.name}) is registered twice`);
      ids.add(category.id);
    }
    const executors = registrations.map((r) => ({ category: r.category, execute: r.executor(this.env), deletes: r.executorDeletesTask ?? false }));
    const store = deps.persistence.executions;
    const options = {
      concurrency: settings.get(HistorySettings.transferConcurrency),
      maxRetryDelayMs: MAX_TASK_RETRY_DELAY_MS,
      lookaheadMs: settings.get(HistorySettings.timerLookahead),
    };
    this.createProcessors = (shardId) => {
      const processors = new Map<number, QueueProcessor>();
      // One deleter for every category of the shard: their acknowledgements share a batch.
      const deleter = new BatchedDeleter<HistoryTaskKey>((keys) => store.deleteTasks(shardId, keys), deps.logger, `shard ${shardId} tasks`);
      for (const { category, execute, deletes } of executors) {
        processors.set(
          category.id,
          category.kind === 'immediate'
            ? new ImmediateQueueProcessor(shardId, category, store, execute, { ...options, executorDeletesTask: deletes, deleter }, deps.logger)
            : new ScheduledQueueProcessor(shardId, category, store, deps.clock, execute, { ...options, deleter }, deps.logger),
        );
      }
      return processors;
    };
    const membership = deps.membership;
    if (membership && membership.self.role !== 'history') {
      throw new InvariantViolationError(`the history engine needs a membership of role history, got ${membership.self.role}`);
    }
    this.onShardOwnershipLost = deps.onShardOwnershipLost;
    const hostIdentity = membership ? membership.self.hostId : deps.config.hostIdentity;
    const ownerOf = membership ? (shardId: number) => this.ownerOfShard(shardId) : undefined;
    for (let shardId = 0; shardId < deps.config.numHistoryShards; shardId++) {
      this.processors.push(undefined);
      const listeners: ShardListeners = {
        onTasks: (id, rows: HistoryTaskRow[]) => {
          const byCategory = this.processors[id];
          for (const row of rows) byCategory?.get(row.categoryId)?.enqueue([row]);
        },
        onOwnershipLost: (id) => this.shardLost(id),
        onTasksPointless: (id, keys) => {
          const byCategory = this.processors[id];
          for (const key of keys) byCategory?.get(key.categoryId)?.drop?.([key]);
        },
        onUsageCommitted: (increments) => {
          for (const increment of increments) this.billableActions.add(increment.namespaceId, [increment]);
        },
        onExecutionChanged: (key, change, ms) => {
          this.workTracker?.record(key, ms, deps.clock.now());
          notifier.notify(key, change);
        },
        ...(verifier ? { onEventsCommitted: (key, events, ms) => verifier.afterCommit(key, events, ms) } : {}),
      };
      this.shards.push(
        new ShardContext(
          shardId,
          {
            store,
            clock: deps.clock,
            logger: deps.logger,
            settings,
            namespaces: deps.namespaces,
            hostIdentity,
            listeners,
            ...(deps.metrics ? { metrics: deps.metrics } : {}),
            ...(ownerOf ? { ownerOf, initiallyOwned: false } : {}),
          },
          settings.get(HistorySettings.executionCacheSize),
          settings.get(HistorySettings.executionCacheBytes),
        ),
      );
    }
    this.namespaceDeletion = new NamespaceDeletion({ store, namespaces: deps.namespaces, shards: () => this.shards.filter((shard) => shard.owned), logger: deps.logger });
    this.ownership = membership
      ? new ShardOwnership({
          membership,
          store,
          numShards: deps.config.numHistoryShards,
          clock: deps.clock,
          logger: deps.logger,
          handoffTimeoutMs: settings.get(MembershipSettings.shardHandoffTimeout),
          owns: (shardId) => this.shards[shardId]?.owned ?? false,
          acquire: (shardId) => this.acquireShard(shardId),
          release: (shardId) => this.releaseShard(shardId),
        })
      : undefined;
  }

  /**
   * Own every shard: acquires each (fencing out any previous owner) and starts their queue
   * processors. With a membership: the shards assigned to this host, from now on as hosts come and go.
   */
  async start(): Promise<void> {
    if (this.ownership) {
      this.namespaceDeletion.start();
      await this.ownership.start();
      return;
    }
    for (const shard of this.shards) {
      // Processors exist before the shard accepts writes, so no committed task misses them.
      this.processors[shard.shardId] = this.createProcessors(shard.shardId);
      await shard.acquire();
    }
    await Promise.all(this.processors.flatMap((byCategory) => [...(byCategory?.values() ?? [])].map((p) => p.start())));
    this.namespaceDeletion.start();
  }

  /** The shards this host serves now. */
  ownedShards(): number[] {
    return this.shards.filter((shard) => shard.owned).map((shard) => shard.shardId);
  }

  /**
   * The live history host that owns a shard by this host's current membership view (it may still
   * be acquiring it). Undefined in own-every-shard mode (everything is here) or when no history host is live.
   */
  ownerOfShard(shardId: number): HostRecord | undefined {
    return this.ownership?.ownerOf(shardId);
  }

  /** Called whenever this host acquires, releases or loses a shard. Returns the unsubscribe function. */
  onOwnershipChange(listener: (event: ShardOwnershipEvent) => void): () => void {
    this.ownershipListeners.add(listener);
    return () => this.ownershipListeners.delete(listener);
  }

  private emitOwnership(event: ShardOwnershipEvent): void {
    for (const listener of this.ownershipListeners) {
      try {
        listener(event);
      } catch (err) {
        this.env.logger.error({ err, ...event }, 'a shard ownership listener threw');
      }
    }
  }

  /** Takes a shard (bumping its range id: every write of a previous owner fails from now on) and starts its processors. */
  private async acquireShard(shardId: number): Promise<void> {
    const shard = this.shards[shardId] as ShardContext;
    const processors = this.createProcessors(shardId);
    this.processors[shardId] = processors;
    try {
      await shard.acquire();
    } catch (err) {
      this.processors[shardId] = undefined;
      throw err;
    }
    await Promise.all([...processors.values()].map((p) => p.start()));
    this.env.logger.info({ shardId, rangeId: shard.currentRangeId }, 'shard acquired');
    this.namespaceDeletion.shardAcquired(shardId);
    this.emitOwnership({ shardId, event: 'acquired' });
  }

  /** Hands a shard over: refuses new work on it, stops its processors, waits for what runs, records the release. */
  private async releaseShard(shardId: number): Promise<void> {
    const shard = this.shards[shardId] as ShardContext;
    if (!shard.owned) return;
    shard.close();
    const processors = this.processors[shardId];
    this.processors[shardId] = undefined;
    // A task stuck in a call (another host that does not answer) must not hold the hand-over: past
    // the bound the release goes on, and the range_id it bumps fences whatever that task writes later.
    const stopped = await boundedWait(Promise.all([...(processors?.values() ?? [])].map((p) => p.stop())), PROCESSOR_STOP_BOUND_MS);
    if (!stopped) this.env.logger.warn({ shardId, boundMs: PROCESSOR_STOP_BOUND_MS }, 'shard release: a queue task still runs; releasing without waiting for it (its writes will be refused)');
    await shard.release();
    this.wakeWaiters(shardId);
    this.env.logger.info({ shardId }, 'shard released');
    this.emitOwnership({ shardId, event: 'released' });
  }

  /** Long polls on the shard's runs end now: their re-read fails with ShardNotOwnedError and the caller goes to the new owner. */
  private wakeWaiters(shardId: number): void {
    this.env.notifier.wakeWhere((key) => shardIdFor(key.namespaceId, key.workflowId, this.shards.length) === shardId);
  }

  /** Another host took the shard over (a write was fenced out). */
  private shardLost(shardId: number): void {
    const processors = this.processors[shardId];
    this.processors[shardId] = undefined;
    // The listener is synchronous; stop() never rejects and only waits for running tasks to end.
    for (const processor of processors?.values() ?? []) void processor.stop();
    this.wakeWaiters(shardId);
    if (!this.ownership) {
      this.onShardOwnershipLost?.(shardId);
      return;
    }
    this.emitOwnership({ shardId, event: 'lost' });
  }

  /** A namespace was marked deleted: delete its executions now (a durable job: see namespace-deletion.ts). */
  onNamespaceDeleted(): Promise<void> {
    return this.namespaceDeletion.kick();
  }

  /** Stops every processor; with a membership, also releases the owned shards so the other hosts take them at once. */
  async stop(): Promise<void> {
    await this.namespaceDeletion.stop();
    if (this.ownership) {
      // A membership round in progress (an acquisition waiting on the store) is not waited for past the bound.
      if (!(await boundedWait(this.ownership.stop(), PROCESSOR_STOP_BOUND_MS))) this.env.logger.warn('stopping: a shard ownership round still runs; releasing the owned shards without it');
      await Promise.all(this.ownedShards().map((shardId) => this.releaseShard(shardId).catch((err: unknown) => this.env.logger.warn({ err, shardId }, 'shard release at shutdown failed'))));
    }
    await Promise.all(this.processors.flatMap((byCategory) => [...(byCategory?.values() ?? [])].map((p) => p.stop())));
    for (const shard of this.shards) shard.stop();
  }

  // The target side of transfer tasks that reach another execution (CrossExecutionService).
  startChildExecution(request: Parameters<CrossExecutionService['startChildExecution']>[0]): ReturnType<CrossExecutionService['startChildExecution']> {
    return startChildExecution(this.env, request);
  }

  recordChildExecutionClosed(request: Parameters<CrossExecutionService['recordChildExecutionClosed']>[0]): Promise<void> {
    return recordChildExecutionClosed(this.env, request);
  }

  applyParentClosePolicy(request: Parameters<CrossExecutionService['applyParentClosePolicy']>[0]): Promise<void> {
    return applyParentClosePolicy(this.env, request);
  }

  deliverExternalSignal(request: Parameters<CrossExecutionService['deliverExternalSignal']>[0]): Promise<boolean> {
    return deliverExternalSignal(this.env, request);
  }

  deliverExternalCancel(request: Parameters<CrossExecutionService['deliverExternalCancel']>[0]): Promise<boolean> {
    return deliverExternalCancel(this.env, request);
  }

  async startScheduledWorkflow(request: Parameters<CrossExecutionService['startScheduledWorkflow']>[0]): Promise<Ws<'StartWorkflowExecutionResponse'>> {
    return startScheduledWorkflow(this.env, await this.env.namespaces.getById(request.namespaceId), request.request, request.systemSearchAttributes);
  }

  async currentExecution(request: { namespaceId: string; workflowId: string }): Promise<{ runId: string; running: boolean; status: number } | null> {
    const current = await this.shardFor(request.namespaceId, request.workflowId).getCurrentExecution(request.namespaceId, request.workflowId);
    return current ? { runId: current.runId, running: current.running, status: current.status } : null;
  }

  shardFor(namespaceId: string, workflowId: string): ShardContext {
    return this.shards[shardIdFor(namespaceId, workflowId, this.shards.length)] as ShardContext;
  }

  private namespace(id: string): Promise<NamespaceRecord> {
    return this.env.namespaces.getById(id);
  }

  async startWorkflowExecution(r: NamespacedRequest<Ws<'StartWorkflowExecutionRequest'>>): Promise<Ws<'StartWorkflowExecutionResponse'>> {
    return startWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async signalWithStartWorkflowExecution(r: NamespacedRequest<Ws<'SignalWithStartWorkflowExecutionRequest'>>): Promise<Ws<'SignalWithStartWorkflowExecutionResponse'>> {
    const res = await signalWithStartWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
    return { runId: res.runId ?? '', started: res.started ?? false };
  }

  async signalWorkflowExecution(r: NamespacedRequest<Ws<'SignalWorkflowExecutionRequest'>>): Promise<void> {
    await signalWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async requestCancelWorkflowExecution(r: NamespacedRequest<Ws<'RequestCancelWorkflowExecutionRequest'>>): Promise<void> {
    await requestCancelWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async terminateWorkflowExecution(r: NamespacedRequest<Ws<'TerminateWorkflowExecutionRequest'>>): Promise<void> {
    await terminateWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async resetWorkflowExecution(r: NamespacedRequest<Ws<'ResetWorkflowExecutionRequest'>>): Promise<Ws<'ResetWorkflowExecutionResponse'>> {
    return resetWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async deleteWorkflowExecution(r: NamespacedRequest<Ws<'DeleteWorkflowExecutionRequest'>>): Promise<void> {
    await deleteWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async startBatchOperation(r: NamespacedRequest<Ws<'StartBatchOperationRequest'>>): Promise<void> {
    await startBatchOperation(this.env, await this.namespace(r.namespaceId), r.request, this.batchTargets);
  }

  async describeBatchOperation(r: NamespacedRequest<Ws<'DescribeBatchOperationRequest'>>): Promise<Ws<'DescribeBatchOperationResponse'>> {
    return describeBatchOperation(this.env, await this.namespace(r.namespaceId), r.request.jobId ?? '');
  }

  async stopBatchOperation(r: NamespacedRequest<Ws<'StopBatchOperationRequest'>>): Promise<void> {
    await stopBatchOperation(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async describeWorkflowExecution(r: NamespacedRequest<Ws<'DescribeWorkflowExecutionRequest'>>): Promise<Ws<'DescribeWorkflowExecutionResponse'>> {
    return describeWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async getWorkflowExecutionHistoryReverse(r: NamespacedRequest<Ws<'GetWorkflowExecutionHistoryReverseRequest'>>): Promise<Ws<'GetWorkflowExecutionHistoryReverseResponse'>> {
    return getWorkflowExecutionHistoryReverse(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async getWorkflowExecutionHistory(r: NamespacedRequest<Ws<'GetWorkflowExecutionHistoryRequest'>>, call: CallOptions = NO_DEADLINE): Promise<Ws<'GetWorkflowExecutionHistoryResponse'>> {
    return getWorkflowExecutionHistory(this.env, await this.namespace(r.namespaceId), r.request, call);
  }

  async queryWorkflow(r: NamespacedRequest<Ws<'QueryWorkflowRequest'>>, call: CallOptions = NO_DEADLINE): Promise<Ws<'QueryWorkflowResponse'>> {
    return queryWorkflow(this.env, await this.namespace(r.namespaceId), r.request, call);
  }

  async executeMultiOperation(r: NamespacedRequest<Ws<'ExecuteMultiOperationRequest'>>, call: CallOptions = NO_DEADLINE): Promise<Ws<'ExecuteMultiOperationResponse'>> {
    return executeMultiOperation(this.env, await this.namespace(r.namespaceId), r.request, call);
  }

  async updateWorkflowExecution(r: NamespacedRequest<Ws<'UpdateWorkflowExecutionRequest'>>, call: CallOptions = NO_DEADLINE): Promise<Ws<'UpdateWorkflowExecutionResponse'>> {
    return updateWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request, call);
  }

  async pollWorkflowExecutionUpdate(r: NamespacedRequest<Ws<'PollWorkflowExecutionUpdateRequest'>>, call: CallOptions = NO_DEADLINE): Promise<Ws<'PollWorkflowExecutionUpdateResponse'>> {
    return pollWorkflowExecutionUpdate(this.env, await this.namespace(r.namespaceId), r.request, call);
  }

  async resetStickyTaskQueue(r: { namespaceId: string; workflowId: string; runId: string }): Promise<void> {
    await updateNamedRun(this.env, r.namespaceId, r.workflowId, r.runId, (ctx) => {
      if (ctx) ctx.ms.sticky = null;
    });
  }

  async respondWorkflowTaskCompleted(r: { namespaceId: string; token: WorkflowTaskToken; request: Ws<'RespondWorkflowTaskCompletedRequest'> }): Promise<Ws<'RespondWorkflowTaskCompletedResponse'>> {
    return respondWorkflowTaskCompleted(this.env, await this.namespace(r.namespaceId), r.token, r.request);
  }

  async respondWorkflowTaskFailed(r: { namespaceId: string; token: WorkflowTaskToken; request: Ws<'RespondWorkflowTaskFailedRequest'> }): Promise<void> {
    await respondWorkflowTaskFailed(this.env, r.token, r.request);
  }

  respondActivityTaskCompleted(r: { target: ActivityTarget; result?: Payloads | null; identity: string }): Promise<void> {
    const standalone = standaloneToken(r.target);
    if (standalone) return this.activities.respondCompleted(standalone, r);
    return respondActivityTaskCompleted(this.env, r.target, r);
  }

  respondActivityTaskFailed(r: { target: ActivityTarget; failure: Failure; identity: string; lastHeartbeatDetails?: Payloads | null }): Promise<void> {
    const standalone = standaloneToken(r.target);
    if (standalone) return this.activities.respondFailed(standalone, r);
    return respondActivityTaskFailed(this.env, r.target, r);
  }

  respondActivityTaskCanceled(r: { target: ActivityTarget; details?: Payloads | null; identity: string }): Promise<void> {
    const standalone = standaloneToken(r.target);
    if (standalone) return this.activities.respondCanceled(standalone, r);
    return respondActivityTaskCanceled(this.env, r.target, r);
  }

  recordActivityTaskHeartbeat(r: { target: ActivityTarget; details?: Payloads | null; identity: string }): Promise<Ws<'RecordActivityTaskHeartbeatResponse'>> {
    const standalone = standaloneToken(r.target);
    if (standalone) return this.activities.recordHeartbeat(standalone, r);
    return recordActivityTaskHeartbeat(this.env, r.target, r);
  }

  startActivityExecution(r: NamespacedRequest<Ws<'StartActivityExecutionRequest'>>): Promise<Ws<'StartActivityExecutionResponse'>> {
    return this.activities.start(r.namespaceId, r.request);
  }

  describeActivityExecution(r: NamespacedRequest<Ws<'DescribeActivityExecutionRequest'>>, call: CallOptions = NO_DEADLINE): Promise<Ws<'DescribeActivityExecutionResponse'>> {
    return this.activities.describe(r.namespaceId, r.request, call);
  }

  pollActivityExecution(r: NamespacedRequest<Ws<'PollActivityExecutionRequest'>>, call: CallOptions = NO_DEADLINE): Promise<Ws<'PollActivityExecutionResponse'>> {
    return this.activities.poll(r.namespaceId, r.request, call);
  }

  requestCancelActivityExecution(r: NamespacedRequest<Ws<'RequestCancelActivityExecutionRequest'>>): Promise<void> {
    return this.activities.requestCancel(r.namespaceId, r.request);
  }

  terminateActivityExecution(r: NamespacedRequest<Ws<'TerminateActivityExecutionRequest'>>): Promise<void> {
    return this.activities.terminate(r.namespaceId, r.request);
  }

  deleteActivityExecution(r: NamespacedRequest<Ws<'DeleteActivityExecutionRequest'>>): Promise<void> {
    return this.activities.delete(r.namespaceId, r.request);
  }

  async respondQueryTaskCompleted(r: { namespaceId: string; workflowId: string; queryId: string; request: Ws<'RespondQueryTaskCompletedRequest'> }): Promise<void> {
    respondQueryTaskCompleted(this.env, r.queryId, r.request);
  }

  redispatchTask(r: { namespaceId: string; type: 'workflow' | 'activity'; task: Pick<MatchTask, 'workflowId' | 'runId' | 'scheduledEventId' | 'attempt'> }): Promise<void> {
    return redispatchTask(this.env, r);
  }

  registerWorkerDeploymentVersion(r: { namespaceId: string; version: DeploymentVersionRef; taskQueue: { name: string; type: 'workflow' | 'activity' }; identity: string }): Promise<void> {
    return this.env.deployments.register(r.namespaceId, r.version, r.taskQueue, r.identity);
  }

  async updateWorkflowExecutionOptions(r: NamespacedRequest<Ws<'UpdateWorkflowExecutionOptionsRequest'>>): Promise<Ws<'UpdateWorkflowExecutionOptionsResponse'>> {
    return updateWorkflowExecutionOptions(this.env, await this.namespace(r.namespaceId), r.request);
  }

  taskQueueVersions(r: { namespaceId: string; taskQueue: { name: string; type: 'workflow' | 'activity' } }): Promise<DeploymentVersionRef[]> {
    return this.env.deployments.taskQueueVersions(r.namespaceId, r.taskQueue);
  }

  describeWorkerDeployment(r: NamespacedRequest<Ws<'DescribeWorkerDeploymentRequest'>>): Promise<Ws<'DescribeWorkerDeploymentResponse'>> {
    return this.env.deployments.describeDeployment(r.namespaceId, r.request);
  }

  listWorkerDeployments(r: NamespacedRequest<Ws<'ListWorkerDeploymentsRequest'>>): Promise<Ws<'ListWorkerDeploymentsResponse'>> {
    return this.env.deployments.listDeployments(r.namespaceId, r.request);
  }

  describeWorkerDeploymentVersion(r: NamespacedRequest<Ws<'DescribeWorkerDeploymentVersionRequest'>>): Promise<Ws<'DescribeWorkerDeploymentVersionResponse'>> {
    return this.env.deployments.describeVersion(r.namespaceId, r.request);
  }

  setWorkerDeploymentCurrentVersion(r: NamespacedRequest<Ws<'SetWorkerDeploymentCurrentVersionRequest'>>): Promise<Ws<'SetWorkerDeploymentCurrentVersionResponse'>> {
    return this.env.deployments.setCurrentVersion(r.namespaceId, r.request);
  }

  setWorkerDeploymentRampingVersion(r: NamespacedRequest<Ws<'SetWorkerDeploymentRampingVersionRequest'>>): Promise<Ws<'SetWorkerDeploymentRampingVersionResponse'>> {
    return this.env.deployments.setRampingVersion(r.namespaceId, r.request);
  }

  deleteWorkerDeploymentVersion(r: NamespacedRequest<Ws<'DeleteWorkerDeploymentVersionRequest'>>): Promise<void> {
    return this.env.deployments.deleteVersion(r.namespaceId, r.request);
  }

  deleteWorkerDeployment(r: NamespacedRequest<Ws<'DeleteWorkerDeploymentRequest'>>): Promise<void> {
    return this.env.deployments.deleteDeployment(r.namespaceId, r.request);
  }

  createSchedule(r: NamespacedRequest<Ws<'CreateScheduleRequest'>>): Promise<Ws<'CreateScheduleResponse'>> {
    return this.scheduler.createSchedule(r.namespaceId, r.request);
  }

  describeSchedule(r: NamespacedRequest<Ws<'DescribeScheduleRequest'>>): Promise<Ws<'DescribeScheduleResponse'>> {
    return this.scheduler.describeSchedule(r.namespaceId, r.request);
  }

  updateSchedule(r: NamespacedRequest<Ws<'UpdateScheduleRequest'>>): Promise<void> {
    return this.scheduler.updateSchedule(r.namespaceId, r.request);
  }

  patchSchedule(r: NamespacedRequest<Ws<'PatchScheduleRequest'>>): Promise<void> {
    return this.scheduler.patchSchedule(r.namespaceId, r.request);
  }

  deleteSchedule(r: NamespacedRequest<Ws<'DeleteScheduleRequest'>>): Promise<void> {
    return this.scheduler.deleteSchedule(r.namespaceId, r.request);
  }

  listScheduleMatchingTimes(r: NamespacedRequest<Ws<'ListScheduleMatchingTimesRequest'>>): Promise<Ws<'ListScheduleMatchingTimesResponse'>> {
    return this.scheduler.listScheduleMatchingTimes(r.namespaceId, r.request);
  }

  recordWorkflowTaskStarted(r: RecordWorkflowTaskStartedRequest): Promise<Ws<'PollWorkflowTaskQueueResponse'>> {
    return recordWorkflowTaskStarted(this.env, r);
  }

  recordActivityTaskStarted(r: RecordActivityTaskStartedRequest): Promise<Ws<'PollActivityTaskQueueResponse'>> {
    if (isStandaloneActivityWorkflowId(r.task.workflowId)) return this.activities.recordStarted(r);
    return recordActivityTaskStarted(this.env, r);
  }

  rescheduleStickyWorkflowTask(r: { namespaceId: string; task: { workflowId: string; runId: string; scheduledEventId: number } }): Promise<void> {
    return rescheduleStickyWorkflowTask(this.env, r);
  }

  buildQueryTask(r: BuildQueryTaskRequest): Promise<Ws<'PollWorkflowTaskQueueResponse'>> {
    return buildQueryTask(this.env, r);
  }
}

const NO_DEADLINE: CallOptions = { deadline: 0 };

/**
 * A target naming a standalone activity: a token of its entity's workflow id, or an id without a
 * workflow id (as Temporal's ById requests address one); undefined for a workflow's activity.
 */
function standaloneToken(target: ActivityTarget): StandaloneActivityTarget | undefined {
  if (target.by === 'token') return isStandaloneActivityWorkflowId(target.token.workflowId) ? target : undefined;
  return target.workflowId === '' ? { by: 'id', namespaceId: target.namespaceId, activityId: target.activityId, runId: target.runId } : undefined;
}
