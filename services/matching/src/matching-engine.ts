/**
 * Matching: task queues keyed by (namespace, name, type, kind). A task that arrives while a poller
 * waits is handed over directly (sync match) and the add returns only after history recorded the
 * start; otherwise it is persisted as backlog. Polls wait up to the long-poll interval (and the
 * caller's deadline minus a margin) and then answer null, which the frontend sends as an empty
 * (all-default) response.
 *
 * A normal queue is split into partitions (partitions.ts): adds and polls spread over them. A
 * partition that cannot serve an add (no poller waiting) or a poll (no task) forwards it to its
 * parent, so every idle poller of the queue ends up waiting on the root and a task added to any
 * partition finds it; a task no poller took stays in its partition's backlog, which moves up to its
 * parent whenever a poller waits there.
 */
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, InvariantViolationError, MatchingSettings, PartitionNotOwnedError, StickyWorkerUnavailableError, isHourglassError, quote, type Clock, type Logger, type ServerMetrics, type Settings } from '@hourglass/common';
import type { TaskQueueKey, TaskQueueStore, TaskQueueType } from '@hourglass/persistence';

import { TaskQueue, type Offer } from './task-queue';
import { PartitionedQueue } from './partitioned-queue';
import { InProcessPartitionRouter, isAncestor, parentPartition, type PartitionRouter, type PollResponse } from './partitions';
import { WorkerRegistry, type WorkerHeartbeat } from './worker-registry';
import type { CallOptions, MatchingService, OfferForwardedTaskRequest, TaskQueueDescription, WorkerFilter } from '@hourglass/contracts';
import { matchesWorker } from './worker-filter';
import type {
  ActivityTaskResponse,
  AddActivityTaskRequest,
  AddWorkflowTaskRequest,
  DispatchQueryTaskRequest,
  MatchTask,
  PollTaskQueueRequest,
  TaskStarter,
  WorkflowTaskResponse,
} from './types';

/** A start that history refused because the task no longer applies: drop it. */
function isStaleTask(err: unknown): boolean {
  return isHourglassError(err) && (err.code === 'NOT_FOUND' || err.code === 'FAILED_PRECONDITION');
}

/** Queues untouched this long are dropped from memory (sticky queues of departed workers pile up otherwise). */
const UNUSED_QUEUE_TTL_MS = 5 * 60_000;

/** Pollers not seen for this long leave DescribeTaskQueue's list (Temporal keeps five minutes too). */
const POLLER_HISTORY_TTL_MS = 5 * 60_000;

/** Longest delay setTimeout accepts; a caller deadline further away than that never comes first. */
const MAX_TIMEOUT_MS = 2_147_483_647;

export class MatchingEngine implements MatchingService {
  /** Task queues by (namespace id, name, type, kind), each with the partitions this host holds. */
  private readonly queues = new Map<string, PartitionedQueue>();
  /** Namespace names as polls gave them (adds carry only the id), for namespace-scoped settings. */
  private readonly namespaceNames = new Map<string, string>();
  private router: PartitionRouter = new InProcessPartitionRouter(this);
  /** Whether this host owns a partition (cluster mode: membership places partitions on hosts); always in one process. */
  private owns: (key: TaskQueueKey) => boolean = () => true;
  /** The address of a partition's owner, as this host's view of membership has it (for the caller's retry). */
  private ownerOf: (key: TaskQueueKey) => string | undefined = () => undefined;
  /** Cluster mode: offers stranded backlog to parents on other hosts again and again (see placePartitions). */
  private strandedRetry: NodeJS.Timeout | undefined;
  /** Cluster mode: reads the stored backlog of owned partitions again now and then (see placePartitions). */
  private rescan: NodeJS.Timeout | undefined;
  /** Partitions another host owns now were busy when ownership changed: let go of them on a later retry round. */
  private releasePending = false;
  private starter: TaskStarter | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly workers = new WorkerRegistry();

  constructor(
    private readonly store: TaskQueueStore,
    private readonly clock: Clock,
    private readonly settings: Settings,
    private readonly logger: Logger,
    private readonly metrics?: ServerMetrics,
  ) {
    metrics?.setBacklogSource(() => this.backlogByNamespace());
  }

  /** Stored tasks per (namespace, task type), for the backlog gauge (read at scrape time). */
  private *backlogByNamespace(): Iterable<{ namespace: string; taskType: string; tasks: number }> {
    const sums = new Map<string, { namespace: string; taskType: string; tasks: number }>();
    for (const family of this.queues.values()) for (const queue of family.partitions) {
      if (!queue) continue;
      const tasks = queue.backlogSize;
      if (tasks === 0) continue;
      const namespace = queue.namespaceName ?? '';
      const key = `${namespace}\u0000${queue.key.type}`;
      const sum = sums.get(key) ?? { namespace, taskType: queue.key.type, tasks: 0 };
      sum.tasks += tasks;
      sums.set(key, sum);
    }
    yield* sums.values();
  }

  /** The metric children of a (namespace, task type), made once. */
  private readonly matchMetrics = new Map<string, { sync: { inc(): void }; backlog: { inc(): void }; scheduleToStart: { observe(seconds: number): void } }>();

  private metricsOf(queue: TaskQueue) {
    const metrics = this.metrics;
    if (!metrics) return undefined;
    const namespace = queue.namespaceName ?? '';
    const key = `${namespace}\u0000${queue.key.type}`;
    let found = this.matchMetrics.get(key);
    if (!found) {
      found = {
        sync: metrics.tasksAdded.labels(namespace, queue.key.type, 'sync'),
        backlog: metrics.tasksAdded.labels(namespace, queue.key.type, 'backlog'),
        scheduleToStart: metrics.scheduleToStart.labels(namespace, queue.key.type),
      };
      this.matchMetrics.set(key, found);
    }
    return found;
  }

  /** History and matching reference each other; the composition root connects them. */
  setTaskStarter(starter: TaskStarter): void {
    this.starter = starter;
  }

  /** How partitions reach their parents; in-process unless partitions live on other hosts. */
  setPartitionRouter(router: PartitionRouter): void {
    this.router = router;
  }

  /**
   * Cluster mode: the partitions of a queue live on the matching hosts membership places them on.
   * `router` reaches a partition's owner (this engine when it is this host); `owns` says which
   * partitions are this host's: their stored backlog is loaded at start and on `ownershipChanged`,
   * the others' backlog is let go of. A partition with backlog and no poller of its own offers its
   * oldest task to its parent every `matching.strandedBacklogRetryInterval`: a poller waiting on the
   * parent's host cannot see it (in one process, the parent's poller pulls it up at once).
   *
   * Only the owner stores backlog and holds polls: an add this host would store in a partition it
   * does not own, and a poll naming one, fail with UnavailableError, and the routed caller tries
   * the owner. While two hosts' views of
   * membership differ both may take themselves for a partition's owner; what the other wrote
   * meanwhile is found by the rescan of stored backlog every `matching.ownedBacklogRescanInterval`.
   */
  placePartitions(placement: { router: PartitionRouter; owns: (key: TaskQueueKey) => boolean; ownerOf?: (key: TaskQueueKey) => string | undefined }): void {
    this.router = placement.router;
    this.owns = placement.owns;
    if (placement.ownerOf) this.ownerOf = placement.ownerOf;
    if (this.strandedRetry) clearInterval(this.strandedRetry);
    this.strandedRetry = setInterval(() => this.retryStrandedBacklog(), this.settings.get(MatchingSettings.strandedBacklogRetryInterval));
    this.strandedRetry.unref();
    if (this.rescan) clearInterval(this.rescan);
    this.rescan = setInterval(() => {
      this.rescanOwnedBacklogs().catch((err: unknown) => this.logger.warn({ err }, 'could not read the stored backlog of the partitions this host owns'));
    }, this.settings.get(MatchingSettings.ownedBacklogRescanInterval));
    this.rescan.unref();
  }

  /** Loads the stored backlog of owned partitions not in memory, and reads what was stored since into those that are. */
  private async rescanOwnedBacklogs(): Promise<void> {
    for (const key of await this.store.listQueuesWithTasks()) {
      if (!this.owns(key)) continue;
      await this.partition(this.family(key.namespaceId, key.name, key.type, key.kind), key.partition).refresh();
    }
  }

  /**
   * Membership moved partitions: polls waiting on partitions this host no longer owns end empty
   * (the workers' next polls reach the new owner), their backlog is let go of (unless a query or a
   * move is under way there: the next change, or the next retry round, does it; the new owner's
   * lease fences this host's writes meanwhile), and stored backlog of partitions it now owns is
   * loaded (a partition nobody adds to or polls would otherwise strand it).
   */
  async ownershipChanged(): Promise<void> {
    this.releaseUnowned();
    await this.rescanOwnedBacklogs();
  }

  private releaseUnowned(): void {
    this.releasePending = false;
    for (const [key, family] of this.queues) {
      const partitions = family.partitions;
      for (let i = 0; i < partitions.length; i++) {
        const queue = partitions[i];
        if (!queue || this.owns(queue.key)) continue;
        // Polls waiting here would wait for tasks that now go to the new owner: they end empty,
        // and the workers' next polls are routed there.
        queue.releasePolls();
        if (queue.isIdle()) partitions[i] = undefined;
        else this.releasePending = true;
      }
      while (partitions.length > 0 && partitions[partitions.length - 1] === undefined) partitions.pop();
      if (partitions.length === 0) this.queues.delete(key);
    }
  }

  private async loadOwnedBacklogs(): Promise<void> {
    for (const key of await this.store.listQueuesWithTasks()) {
      if (!this.owns(key)) continue;
      await this.partition(this.family(key.namespaceId, key.name, key.type, key.kind), key.partition).ensureLoaded();
    }
  }

  /** A round of the stranded-backlog retry (cluster mode): every non-root partition with backlog and no poller of its own offers it up. */
  private retryStrandedBacklog(): void {
    if (this.releasePending) this.releaseUnowned();
    for (const family of this.queues.values()) {
      if (family.kind === 'sticky') continue;
      for (const queue of family.partitions) {
        if (queue && queue.key.partition > 0 && queue.backlogSize > 0 && !queue.hasLiveWaiter() && this.owns(queue.key)) this.drainUp(family, queue);
      }
    }
  }

  /** A partition a caller named: a whole number; sticky queues have only partition 0. */
  private namedPartition(family: PartitionedQueue, partition: number): number {
    if (!Number.isSafeInteger(partition) || partition < 0) throw new InvalidArgumentError(`task queue partition must be a whole number of at least 0, got ${partition}`);
    return family.kind === 'sticky' ? 0 : partition;
  }

  async addWorkflowTask(request: AddWorkflowTaskRequest): Promise<void> {
    const family = this.family(request.namespaceId, request.taskQueueName, 'workflow', request.kind);
    const queue = this.partition(family, request.partition === undefined ? family.nextAddPartition(this.partitionCount(family)) : this.namedPartition(family, request.partition));
    await queue.ensureLoaded();
    if (request.kind === 'sticky') this.assertStickyWorkerAvailable(queue);
    await this.add(family, queue, { workflowId: request.workflowId, runId: request.runId, scheduledEventId: request.scheduledEventId, attempt: 0, createdAt: this.clock.now() });
  }

  async addActivityTask(request: AddActivityTaskRequest): Promise<void> {
    const family = this.family(request.namespaceId, request.taskQueueName, 'activity', 'normal');
    const queue = this.partition(family, request.partition === undefined ? family.nextAddPartition(this.partitionCount(family)) : this.namedPartition(family, request.partition));
    await queue.ensureLoaded();
    await this.add(family, queue, {
      workflowId: request.workflowId,
      runId: request.runId,
      scheduledEventId: request.scheduledEventId,
      attempt: request.attempt,
      createdAt: this.clock.now(),
    });
  }

  /** Long-polls a workflow task queue; null means "no task" (the caller sends an empty response). */
  async pollWorkflowTaskQueue(request: PollTaskQueueRequest, call: CallOptions): Promise<WorkflowTaskResponse | null> {
    return this.pollSomePartition('workflow', request, call) as Promise<WorkflowTaskResponse | null>;
  }

  async pollActivityTaskQueue(request: PollTaskQueueRequest, call: CallOptions): Promise<ActivityTaskResponse | null> {
    return this.pollSomePartition('activity', request, call) as Promise<ActivityTaskResponse | null>;
  }

  /** A poll from a worker: given the partition with the fewest polls under way. */
  private async pollSomePartition(type: TaskQueueType, request: PollTaskQueueRequest, call: CallOptions): Promise<PollResponse | null> {
    const kind = type === 'workflow' ? request.kind : 'normal';
    if (request.namespaceName && this.namespaceNames.get(request.namespaceId) !== request.namespaceName) this.namespaceNames.set(request.namespaceId, request.namespaceName);
    const family = this.family(request.namespaceId, request.taskQueueName, type, kind);
    if (family.scope.namespace !== request.namespaceName && request.namespaceName) family.scope.namespace = request.namespaceName;
    // A routed caller picked the partition (or a child partition on another host forwarded this poll).
    if (request.partition !== undefined) {
      const partition = this.namedPartition(family, request.partition);
      // A poll must wait where the tasks of its partition go: at the owner. The routed caller's
      // view of membership is behind (or ours): it tries the owner instead.
      const key: TaskQueueKey = { namespaceId: request.namespaceId, name: request.taskQueueName, type, kind, partition };
      if (!this.owns(key)) throw this.notOwned(key);
      return this.poll(family, this.partition(family, partition), request, call, request.forwardedFrom);
    }
    const partition = family.nextPollPartition(this.partitionCount(family));
    family.pollStarted(partition);
    try {
      return await this.poll(family, this.partition(family, partition), request, call, undefined);
    } finally {
      family.pollEnded(partition);
    }
  }

  /**
   * A poll of one partition: `forwardedFrom` is set when a child partition found nothing for it and
   * forwarded it here (the partition router's entry point; tests poll a partition through it too).
   */
  pollPartition(target: TaskQueueKey, request: PollTaskQueueRequest, call: CallOptions, forwardedFrom?: number): Promise<PollResponse | null> {
    const family = this.family(target.namespaceId, target.name, target.type, target.kind);
    return this.poll(family, this.partition(family, target.partition), request, call, forwardedFrom);
  }

  /**
   * A task forwarded by a child partition that no poller there took: sync match only, here or
   * further up; never stored here (the child keeps it). True once a poller took it.
   */
  async offerToPartition(target: TaskQueueKey, task: MatchTask, forwardedFrom: number): Promise<boolean> {
    const family = this.family(target.namespaceId, target.name, target.type, target.kind);
    const queue = this.partition(family, target.partition);
    if (forwardedFrom === target.partition) throw new InvariantViolationError(`partition ${forwardedFrom} of task queue ${quote(target.name)} forwarded a task to itself`);
    if (queue.hasLiveWaiter() && (await queue.offerToPoller(task))) return true;
    const parent = this.parentKey(family, queue);
    return parent !== undefined && (await this.forwardTask(parent, task, queue, queue.key.partition));
  }

  /** offerToPartition as a MatchingService call: what a child partition on another host sends. */
  offerForwardedTask(request: OfferForwardedTaskRequest): Promise<boolean> {
    const target: TaskQueueKey = { namespaceId: request.namespaceId, name: request.taskQueueName, type: request.type, kind: request.kind, partition: request.partition };
    return this.offerToPartition(target, request.task, request.forwardedFrom);
  }

  /**
   * An add addressed to one partition (what an add of a worker's queue does once it picked one):
   * sync match here or above, else the partition's backlog.
   */
  async addToPartition(target: TaskQueueKey, task: MatchTask): Promise<void> {
    const family = this.family(target.namespaceId, target.name, target.type, target.kind);
    const queue = this.partition(family, target.partition);
    await queue.ensureLoaded();
    await this.add(family, queue, task);
  }

  /**
   * Hourglass has no Nexus: no Nexus task ever arrives, so a Nexus poll is held as an empty one is
   * (the long-poll interval, or the caller's deadline minus the margin) and answers null. A worker
   * that registers a Nexus service keeps polling quietly instead of failing on an error.
   */
  async pollNexusTaskQueue(request: PollTaskQueueRequest, call: CallOptions): Promise<null> {
    const window = this.openPollWindow(request, call);
    if (!window) return null;
    try {
      if (!window.signal.aborted) await new Promise((resolve) => window.signal.addEventListener('abort', resolve, { once: true }));
    } finally {
      window.close();
    }
    return null;
  }

  /**
   * How long a poll may wait: until its caller cancels, the long-poll interval ends (on the engine's
   * clock) or the caller's deadline nears (a wall-clock time whatever clock the engine runs on, so
   * timed on the wall clock). Undefined when an answer now would already reach the caller too late:
   * a task started for it would be stranded until its timeout. `close` releases the timers.
   */
  private openPollWindow(request: PollTaskQueueRequest, call: CallOptions): { signal: AbortSignal; close(): void } | undefined {
    const answerWithinMs = this.answerWithinMs(call);
    if (answerWithinMs === undefined) return undefined;
    const callerSignal = call.signal;
    const longPollMs = this.settings.get(MatchingSettings.longPollExpirationInterval, { namespace: request.namespaceName, taskQueue: request.taskQueueName });
    const ended = new AbortController();
    const end = (): void => ended.abort();
    const cancelExpiry = this.clock.wakeAt(this.clock.now() + longPollMs, end);
    const deadlineTimer = answerWithinMs < MAX_TIMEOUT_MS ? setTimeout(end, answerWithinMs) : undefined;
    callerSignal?.addEventListener('abort', end, { once: true });
    return {
      signal: ended.signal,
      close: () => {
        cancelExpiry();
        if (deadlineTimer) clearTimeout(deadlineTimer);
        callerSignal?.removeEventListener('abort', end);
      },
    };
  }

  /** How long a poll may still wait before answering; undefined when its caller cancelled or its deadline is within the margin. */
  private answerWithinMs(call: CallOptions): number | undefined {
    if (call.signal?.aborted) return undefined;
    const answerWithinMs = call.deadline > 0 ? call.deadline - this.settings.get(MatchingSettings.deadlineMargin) - Date.now() : Infinity;
    return answerWithinMs > 0 ? answerWithinMs : undefined;
  }

  /**
   * Hands a (legacy) query task to a poller of the workflow task queue. Resolves true once a
   * poller took it; false when no poller came within `timeoutMs`, the caller cancelled, or the
   * sticky queue closed. It waits on the root partition, where every idle poller of the queue waits.
   */
  async dispatchQueryTask(request: DispatchQueryTaskRequest, call?: CallOptions): Promise<boolean> {
    const queue = this.partition(this.family(request.namespaceId, request.taskQueueName, 'workflow', request.kind), 0);
    if (request.kind === 'sticky') this.assertStickyWorkerAvailable(queue);
    return queue.offerQuery(request.task, request.timeoutMs, call?.signal);
  }

  /**
   * A worker announced its shutdown: its sticky queue is gone. Pending polls on it end, and its
   * backlog moves back to the normal queue through history.
   */
  async shutdownStickyQueue({ namespaceId, stickyQueueName }: { namespaceId: string; stickyQueueName: string }): Promise<void> {
    // Closed even if this host has not served it yet (say since a restart), so its worker's late polls end at once.
    const queue = this.partition(this.family(namespaceId, stickyQueueName, 'workflow', 'sticky'), 0);
    queue.close(this.clock.now());
    await queue.ensureLoaded();
    await this.moveBacklogToNormalQueue(queue);
  }

  /**
   * Hands a queue's backlog back to history to be routed anew (worker versioning: the current
   * version changed). A task history could not take stays in the backlog, for this queue's pollers.
   */
  async redirectBacklog({ namespaceId, taskQueueName, type, partition }: { namespaceId: string; taskQueueName: string; type: TaskQueueType; partition?: number }): Promise<number> {
    const family = this.family(namespaceId, taskQueueName, type, 'normal');
    // A routed caller asks every partition's owner for its partition.
    if (partition !== undefined) return this.redirectPartitionBacklog(this.partition(family, this.namedPartition(family, partition)));
    this.partition(family, 0);
    let moved = 0;
    // Every partition with stored tasks is in memory (loaded at start, kept while it has backlog).
    for (const queue of [...family.partitions]) if (queue) moved += await this.redirectPartitionBacklog(queue);
    return moved;
  }

  private async redirectPartitionBacklog(queue: TaskQueue): Promise<number> {
    const { namespaceId, name: taskQueueName, type } = queue.key;
    await queue.ensureLoaded();
    let moved = 0;
    const kept: ReturnType<TaskQueue['drainBacklog']> = [];
    for (const entry of queue.drainBacklog()) {
      try {
        await this.taskStarter().redispatchTask({ namespaceId, type, task: entry.task });
        moved += 1;
      } catch (err) {
        if (!isStaleTask(err)) {
          this.logger.warn({ err, taskQueue: taskQueueName }, 'could not route a backlog task anew; it stays for this queue\'s pollers');
          kept.push(entry);
          continue;
        }
      }
      await this.deleteDone(queue, { backlogTaskId: entry.taskId });
    }
    queue.restoreBacklog(kept);
    return moved;
  }

  /** Moves a closed sticky queue's backlog to the normal queue through history. */
  private async moveBacklogToNormalQueue(queue: TaskQueue): Promise<void> {
    for (const entry of queue.drainBacklog()) {
      try {
        await this.taskStarter().rescheduleStickyWorkflowTask({ namespaceId: queue.key.namespaceId, task: entry.task });
      } catch (err) {
        if (!isStaleTask(err)) {
          this.logger.warn({ err, stickyQueueName: queue.key.name }, 'could not move a sticky task to the normal queue; its schedule-to-start timeout will');
        }
      }
      await this.deleteDone(queue, { backlogTaskId: entry.taskId });
    }
  }

  /**
   * What this host holds for a queue, summed over its partitions: live polls, its backlog (count and
   * oldest task), query tasks waiting for a poller, and the identities that polled it within the
   * last five minutes (each once).
   */
  async describeTaskQueue(key: { namespaceId: string; taskQueueName: string; type: TaskQueueType; kind: 'normal' | 'sticky'; partition?: number }): Promise<TaskQueueDescription> {
    if (key.partition !== undefined) {
      // One partition, for a routed caller that asks every partition's owner: loaded on this first call if this host has not served it yet.
      const family = this.family(key.namespaceId, key.taskQueueName, key.type, key.kind);
      const queue = this.partition(family, this.namedPartition(family, key.partition));
      await queue.ensureLoaded();
      return queue.describe(this.clock.now() - POLLER_HISTORY_TTL_MS);
    }
    const family = this.queues.get(this.familyKey(key.namespaceId, key.taskQueueName, key.type, key.kind));
    // A partition not in memory has no backlog: every partition with stored tasks is loaded at start and kept while it has any.
    return family?.describe(this.clock.now() - POLLER_HISTORY_TTL_MS) ?? { waitingPollers: 0, backlogTasks: 0, pendingQueries: 0, oldestBacklogTime: undefined, pollers: [] };
  }

  async recordWorkerHeartbeat(request: { namespaceId: string; heartbeats: WorkerHeartbeat[] }): Promise<void> {
    for (const heartbeat of request.heartbeats) this.workers.record(request.namespaceId, heartbeat, this.clock.now());
  }

  async listWorkers(request: { namespaceId: string; pageSize: number; nextPageToken?: string; filter?: WorkerFilter }): Promise<{ workers: WorkerHeartbeat[]; nextPageToken?: string }> {
    const { filter } = request;
    return this.workers.list(request.namespaceId, this.clock.now(), request.pageSize, request.nextPageToken, filter ? (hb) => matchesWorker(filter, hb) : undefined);
  }

  async countWorkers(request: { namespaceId: string; filter?: WorkerFilter }): Promise<number> {
    const { filter } = request;
    return this.workers.count(request.namespaceId, this.clock.now(), filter ? (hb) => matchesWorker(filter, hb) : undefined);
  }

  async describeWorker(request: { namespaceId: string; workerInstanceKey: string }): Promise<WorkerHeartbeat | undefined> {
    return this.workers.get(request.namespaceId, request.workerInstanceKey, this.clock.now());
  }

  /** Sync match on this partition or, forwarded, above it; else this partition's backlog. */
  private async add(family: PartitionedQueue, queue: TaskQueue, task: MatchTask): Promise<void> {
    // The waiter check first: most adds to a partition with no poller of its own are forwarded, and an offer costs promises.
    if (queue.hasLiveWaiter() && (await queue.offerToPoller(task))) {
      this.metricsOf(queue)?.sync.inc();
      return;
    }
    const parent = this.parentKey(family, queue);
    if (parent !== undefined && (await this.forwardTask(parent, task, queue, queue.key.partition))) {
      this.metricsOf(queue)?.sync.inc();
      return;
    }
    // Cluster mode: only the partition's owner stores its backlog (the caller's view of membership is behind, or ours).
    if (!this.owns(queue.key)) throw this.notOwned(queue.key);
    await queue.addToBacklog(task);
    this.metricsOf(queue)?.backlog.inc();
  }

  private notOwned(key: TaskQueueKey): PartitionNotOwnedError {
    return new PartitionNotOwnedError(`this matching host does not own partition ${key.partition} of task queue ${quote(key.name)}`, this.ownerOf(key));
  }

  /** Offers a task to a poller of `parent` through the router; false when none took it (or the router failed: the task stays here). */
  private async forwardTask(parent: TaskQueueKey, task: MatchTask, queue: TaskQueue, forwardedFrom: number): Promise<boolean> {
    try {
      return await this.router.forwardTask(parent, task, forwardedFrom);
    } catch (err) {
      this.logger.warn({ err, taskQueue: queue.key.name, partition: queue.key.partition }, 'could not forward a task to the parent partition; it stays in this one');
      return false;
    }
  }

  private startFor(type: TaskQueueType, request: PollTaskQueueRequest): (offer: Offer, pollRequestId: string) => Promise<PollResponse> {
    if (type === 'activity') {
      return (offer, pollRequestId) => this.taskStarter().recordActivityTaskStarted({ namespaceId: request.namespaceId, task: offer.task, identity: request.identity, pollRequestId });
    }
    return (offer, pollRequestId) =>
      offer.query
        ? this.taskStarter().buildQueryTask({ namespaceId: request.namespaceId, pollKind: request.kind, ...offer.query })
        : this.taskStarter().recordWorkflowTaskStarted({ namespaceId: request.namespaceId, task: offer.task, pollKind: request.kind, identity: request.identity, pollRequestId });
  }

  private async poll(family: PartitionedQueue, queue: TaskQueue, request: PollTaskQueueRequest, call: CallOptions, forwardedFrom: number | undefined): Promise<PollResponse | null> {
    await queue.ensureLoaded();
    // A sticky queue whose worker announced its shutdown never comes back (its name is unique to that worker).
    if (queue.closed) return null;
    if (this.answerWithinMs(call) === undefined) return null;
    queue.lastPollTime = this.clock.now();
    queue.namespaceName = request.namespaceName;
    // Pollers are remembered where the poll came in, not again where it was forwarded.
    if (forwardedFrom === undefined) queue.recordPoller(request.identity, this.clock.now());
    const parent = this.parentKey(family, queue);
    let start: ((offer: Offer, pollRequestId: string) => Promise<PollResponse>) | undefined;
    let window: { signal: AbortSignal; close(): void } | undefined;
    try {
      for (;;) {
        let offer = queue.takeOffer();
        if (!offer) {
          // Nothing here: wait where every idle poller of the queue waits, the root.
          if (parent !== undefined) return await this.router.forwardPoll(parent, request, call, queue.key.partition);
          window ??= this.openPollWindow(request, call);
          if (!window) return null;
          const waiting = queue.waitForTask(window.signal);
          if (family.partitions.length > 1) this.drainChildrenInto(family, queue);
          offer = await waiting;
          if (!offer) return null;
        }
        const taken = offer;
        const startTask = (start ??= this.startFor(queue.key.type, request));
        const response = await this.tryStart(queue, taken, window?.signal ?? call.signal, (id) => startTask(taken, id));
        if (response !== undefined) return response;
        // The task was stale: look again while the poll may still wait.
        if (window ? window.signal.aborted : this.answerWithinMs(call) === undefined) return null;
      }
    } finally {
      window?.close();
      // A poll cancelled by its caller says nothing about the worker still being there.
      if (!call.signal?.aborted) {
        queue.lastPollTime = this.clock.now();
        if (forwardedFrom === undefined) queue.recordPoller(request.identity, this.clock.now());
      }
    }
  }

  /**
   * A poller waits on `queue` with nothing to take: the backlog of partitions below it moves up to
   * it (each stranded partition forwards its oldest task, which this poller takes).
   */
  private drainChildrenInto(family: PartitionedQueue, queue: TaskQueue): void {
    const degree = this.degree(family);
    const target = queue.key.partition;
    for (const child of family.partitions) {
      if (child && child !== queue && child.backlogSize > 0 && isAncestor(target, child.key.partition, degree)) this.drainUp(family, child);
    }
  }

  /**
   * Moves a partition's backlog up to a poller waiting on its parent (or above), oldest first, one
   * task at a time, while no poller waits here and one takes them there. One move per partition at
   * a time; started when a poller waits above, or when backlog is left here with no poller.
   */
  private drainUp(family: PartitionedQueue, queue: TaskQueue): void {
    if (queue.draining || queue.backlogSize === 0) return;
    const parent = this.parentKey(family, queue);
    if (parent === undefined) return;
    queue.draining = true;
    this.moveBacklogUp(queue, parent)
      .catch((err: unknown) => this.logger.warn({ err, taskQueue: queue.key.name, partition: queue.key.partition }, 'could not move backlog to the parent partition'))
      .finally(() => (queue.draining = false));
  }

  private async moveBacklogUp(queue: TaskQueue, parent: TaskQueueKey): Promise<void> {
    while (!queue.hasLiveWaiter()) {
      const entry = queue.takeBacklogHead();
      if (!entry) return;
      if (!(await this.forwardTask(parent, entry.task, queue, queue.key.partition))) {
        queue.returnBacklogHead(entry);
        return;
      }
      await this.deleteDone(queue, { backlogTaskId: entry.taskId });
    }
  }

  /** Starts an offered task in history; settles the offer; returns the response, or undefined if the task was stale. */
  private async tryStart<R>(queue: TaskQueue, offer: Offer, signal: AbortSignal | undefined, start: (pollRequestId: string) => Promise<R>): Promise<R | undefined> {
    if (signal?.aborted) {
      this.giveBack(queue, offer);
      return undefined;
    }
    let response: R;
    try {
      response = await start(randomUUID());
    } catch (err) {
      if (!isStaleTask(err)) {
        this.giveBack(queue, offer);
        throw err;
      }
      offer.settle('dropped');
      await this.deleteDone(queue, offer);
      return undefined;
    }
    offer.settle('started');
    // Query tasks carry no creation time (they are not tasks of the run's history).
    if (!offer.query && offer.task.createdAt > 0) this.metricsOf(queue)?.scheduleToStart.observe(Math.max(0, this.clock.now() - offer.task.createdAt) / 1000);
    await this.deleteDone(queue, offer);
    return response;
  }

  /** Puts an offer this poll could not start back for the next poller. */
  private giveBack(queue: TaskQueue, offer: Offer): void {
    offer.settle('returned');
    // The queue closed while this poller held the task: no poller will come for it here.
    if (queue.closed) {
      this.moveBacklogToNormalQueue(queue).catch((err: unknown) => this.logger.warn({ err, stickyQueueName: queue.key.name }, 'could not move a closed sticky queue\'s backlog'));
    }
  }

  /**
   * Deletes the backlog row of a task that was started, dropped or moved away. A failure must not
   * cost the poller a task history already started (nor stop a sticky queue's move): the row stays,
   * and history finds it stale when a later process loads it.
   */
  private async deleteDone(queue: TaskQueue, offer: Pick<Offer, 'backlogTaskId'>): Promise<void> {
    if (offer.backlogTaskId === undefined) return;
    try {
      await queue.deleteFromBacklog(offer.backlogTaskId);
    } catch (err) {
      this.logger.warn({ err, taskQueue: queue.key.name, taskId: offer.backlogTaskId }, 'could not delete a finished backlog task; it is dropped as stale when reloaded');
    }
  }

  /** A sticky queue takes tasks while its worker polls, or polled within the window, and has not shut down. */
  private assertStickyWorkerAvailable(queue: TaskQueue): void {
    if (queue.closed) throw queue.closedError();
    const name = quote(queue.key.name);
    if (queue.hasLivePoller()) return;
    // Only polls carry the namespace name; a queue never polled has had no poller at all.
    if (queue.lastPollTime === undefined || queue.namespaceName === undefined) {
      throw new StickyWorkerUnavailableError(`sticky queue ${name} has no poller`);
    }
    const windowMs = this.settings.get(MatchingSettings.stickyPollerUnavailableWindow, { namespace: queue.namespaceName });
    const idleMs = this.clock.now() - queue.lastPollTime;
    if (idleMs > windowMs) throw new StickyWorkerUnavailableError(`sticky queue ${name} has had no poller for ${idleMs} ms (more than ${windowMs} ms)`);
  }

  private taskStarter(): TaskStarter {
    if (!this.starter) throw new Error('matching engine used before setTaskStarter');
    return this.starter;
  }

  private familyKey(namespaceId: string, name: string, type: TaskQueueType, kind: 'normal' | 'sticky'): string {
    return `${namespaceId}\u0000${name}\u0000${type}\u0000${kind}`;
  }

  private family(namespaceId: string, name: string, type: TaskQueueType, kind: 'normal' | 'sticky'): PartitionedQueue {
    const k = this.familyKey(namespaceId, name, type, kind);
    let family = this.queues.get(k);
    if (!family) {
      family = new PartitionedQueue(namespaceId, name, type, kind, this.namespaceNames.get(namespaceId));
      this.queues.set(k, family);
    }
    return family;
  }

  private partition(family: PartitionedQueue, partition: number): TaskQueue {
    let queue = family.partitions[partition];
    if (!queue) {
      const key: TaskQueueKey = { namespaceId: family.namespaceId, name: family.name, type: family.type, kind: family.kind, partition };
      const created = new TaskQueue(key, this.store, this.clock, this.settings.get(MatchingSettings.backlogPageSize));
      created.namespaceName = family.scope.namespace;
      if (partition > 0) created.onStrandedBacklog = () => this.drainUp(family, created);
      family.partitions[partition] = created;
      // Cluster mode: a call routed here by a view of membership other than ours; let go of it once idle.
      if (!this.owns(key)) this.releasePending = true;
      queue = created;
    }
    return queue;
  }

  /** Partitions adds and polls spread over: one for sticky queues. */
  private partitionCount(family: PartitionedQueue): number {
    return family.kind === 'sticky' ? 1 : this.settings.get(MatchingSettings.numTaskQueuePartitions, family.scope);
  }

  private degree(family: PartitionedQueue): number {
    return this.settings.get(MatchingSettings.forwarderMaxChildrenPerNode, family.scope);
  }

  /** Where a partition forwards what it cannot serve; undefined for a root (or sticky) queue. */
  private parentKey(family: PartitionedQueue, queue: TaskQueue): TaskQueueKey | undefined {
    if (queue.key.partition === 0 || family.kind === 'sticky') return undefined;
    const degree = this.degree(family);
    if (queue.parentKey === undefined || queue.parentDegree !== degree) {
      queue.parentKey = { ...queue.key, partition: parentPartition(queue.key.partition, degree) ?? 0 };
      queue.parentDegree = degree;
    }
    return queue.parentKey;
  }

  /** Loads every stored backlog (of the partitions this host owns) at start so tasks left by a previous process are served. */
  async start(): Promise<void> {
    await this.loadOwnedBacklogs();
    this.sweeper = setInterval(() => this.sweepUnusedQueues(), UNUSED_QUEUE_TTL_MS / 5);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.strandedRetry) clearInterval(this.strandedRetry);
    if (this.rescan) clearInterval(this.rescan);
  }

  private sweepUnusedQueues(): void {
    const now = this.clock.now();
    for (const [key, family] of this.queues) {
      const partitions = family.partitions;
      for (let i = 0; i < partitions.length; i++) {
        if (partitions[i]?.isUnused(now, UNUSED_QUEUE_TTL_MS)) partitions[i] = undefined;
      }
      while (partitions.length > 0 && partitions[partitions.length - 1] === undefined) partitions.pop();
      if (partitions.length === 0) this.queues.delete(key);
    }
  }
}
