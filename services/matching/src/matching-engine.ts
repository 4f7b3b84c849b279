/**
 * Matching: task queues keyed by (namespace, name, type, kind). A task that arrives while a poller
 * waits is handed over directly (sync match) and the add returns only after history recorded the
 * start; otherwise it is persisted as backlog. Polls wait up to the long-poll interval (and the
 * caller's deadline minus a margin) and then answer null, which the frontend sends as an empty
 * (all-default) response.
 */
import { randomUUID } from 'node:crypto';
import { MatchingSettings, StickyWorkerUnavailableError, isHourglassError, quote, type Clock, type Logger, type ServerMetrics, type Settings } from '@hourglass/common';
import type { TaskQueueKey, TaskQueueStore, TaskQueueType } from '@hourglass/persistence';

import { TaskQueue, type Offer } from './task-queue';
import { WorkerRegistry, type WorkerHeartbeat } from './worker-registry';
import type { CallOptions, MatchingService, TaskQueueDescription, WorkerFilter } from '@hourglass/contracts';
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
  private readonly queues = new Map<string, TaskQueue>();
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
    for (const queue of this.queues.values()) {
      const tasks = queue.describe().backlogTasks;
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

  async addWorkflowTask(request: AddWorkflowTaskRequest): Promise<void> {
    const queue = this.queue(request.namespaceId, request.taskQueueName, 'workflow', request.kind);
    await queue.ensureLoaded();
    if (request.kind === 'sticky') this.assertStickyWorkerAvailable(queue);
    await this.add(queue, { workflowId: request.workflowId, runId: request.runId, scheduledEventId: request.scheduledEventId, attempt: 0, createdAt: this.clock.now() });
  }

  async addActivityTask(request: AddActivityTaskRequest): Promise<void> {
    const queue = this.queue(request.namespaceId, request.taskQueueName, 'activity', 'normal');
    await queue.ensureLoaded();
    await this.add(queue, {
      workflowId: request.workflowId,
      runId: request.runId,
      scheduledEventId: request.scheduledEventId,
      attempt: request.attempt,
      createdAt: this.clock.now(),
    });
  }

  /** Long-polls a workflow task queue; null means "no task" (the caller sends an empty response). */
  async pollWorkflowTaskQueue(request: PollTaskQueueRequest, call: CallOptions): Promise<WorkflowTaskResponse | null> {
    const queue = this.queue(request.namespaceId, request.taskQueueName, 'workflow', request.kind);
    return this.poll(queue, request, call, (offer, pollRequestId) =>
      offer.query
        ? this.taskStarter().buildQueryTask({ namespaceId: request.namespaceId, pollKind: request.kind, ...offer.query })
        : this.taskStarter().recordWorkflowTaskStarted({ namespaceId: request.namespaceId, task: offer.task, pollKind: request.kind, identity: request.identity, pollRequestId }),
    );
  }

  async pollActivityTaskQueue(request: PollTaskQueueRequest, call: CallOptions): Promise<ActivityTaskResponse | null> {
    const queue = this.queue(request.namespaceId, request.taskQueueName, 'activity', 'normal');
    return this.poll(queue, request, call, (offer, pollRequestId) =>
      this.taskStarter().recordActivityTaskStarted({ namespaceId: request.namespaceId, task: offer.task, identity: request.identity, pollRequestId }),
    );
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
    const callerSignal = call.signal;
    if (callerSignal?.aborted) return undefined;
    const answerWithinMs = call.deadline > 0 ? call.deadline - this.settings.get(MatchingSettings.deadlineMargin) - Date.now() : Infinity;
    if (answerWithinMs <= 0) return undefined;
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

  /**
   * Hands a (legacy) query task to a poller of the workflow task queue. Resolves true once a
   * poller took it; false when no poller came within `timeoutMs`, the caller cancelled, or the
   * sticky queue closed.
   */
  async dispatchQueryTask(request: DispatchQueryTaskRequest, call?: CallOptions): Promise<boolean> {
    const queue = this.queue(request.namespaceId, request.taskQueueName, 'workflow', request.kind);
    if (request.kind === 'sticky') this.assertStickyWorkerAvailable(queue);
    return queue.offerQuery(request.task, request.timeoutMs, call?.signal);
  }

  /**
   * A worker announced its shutdown: its sticky queue is gone. Pending polls on it end, and its
   * backlog moves back to the normal queue through history.
   */
  async shutdownStickyQueue({ namespaceId, stickyQueueName }: { namespaceId: string; stickyQueueName: string }): Promise<void> {
    // Closed even if this host has not served it yet (say since a restart), so its worker's late polls end at once.
    const queue = this.queue(namespaceId, stickyQueueName, 'workflow', 'sticky');
    queue.close(this.clock.now());
    await queue.ensureLoaded();
    await this.moveBacklogToNormalQueue(queue);
  }

  /**
   * Hands a queue's backlog back to history to be routed anew (worker versioning: the current
   * version changed). A task history could not take stays in the backlog, for this queue's pollers.
   */
  async redirectBacklog({ namespaceId, taskQueueName, type }: { namespaceId: string; taskQueueName: string; type: TaskQueueType }): Promise<number> {
    const queue = this.queue(namespaceId, taskQueueName, type, 'normal');
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
   * What this host holds for a queue: live polls, its backlog (count and oldest task), query tasks
   * waiting for a poller, and the identities that polled it within the last five minutes.
   */
  async describeTaskQueue(key: { namespaceId: string; taskQueueName: string; type: TaskQueueType; kind: 'normal' | 'sticky' }): Promise<TaskQueueDescription> {
    const queue = this.queues.get(this.keyString({ namespaceId: key.namespaceId, name: key.taskQueueName, type: key.type, kind: key.kind, partition: 0 }));
    // A queue not in memory has no backlog: every queue with stored tasks is loaded at start and kept while it has any.
    return queue ? queue.describe(this.clock.now() - POLLER_HISTORY_TTL_MS) : { waitingPollers: 0, backlogTasks: 0, pendingQueries: 0, oldestBacklogTime: undefined, pollers: [] };
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

  private async add(queue: TaskQueue, task: MatchTask): Promise<void> {
    if (await queue.offerToPoller(task)) {
      this.metricsOf(queue)?.sync.inc();
      return;
    }
    await queue.addToBacklog(task);
    this.metricsOf(queue)?.backlog.inc();
  }

  private async poll<R>(queue: TaskQueue, request: PollTaskQueueRequest, call: CallOptions, start: (offer: Offer, pollRequestId: string) => Promise<R>): Promise<R | null> {
    await queue.ensureLoaded();
    // A sticky queue whose worker announced its shutdown never comes back (its name is unique to that worker).
    if (queue.closed) return null;
    const window = this.openPollWindow(request, call);
    if (!window) return null;
    queue.lastPollTime = this.clock.now();
    queue.namespaceName = request.namespaceName;
    queue.recordPoller(request.identity, this.clock.now());
    try {
      while (!window.signal.aborted) {
        const offer = queue.takeOffer() ?? (await queue.waitForTask(window.signal));
        if (!offer) return null;
        const response = await this.tryStart(queue, offer, window.signal, (id) => start(offer, id));
        if (response !== undefined) return response;
      }
      return null;
    } finally {
      window.close();
      // A poll cancelled by its caller says nothing about the worker still being there.
      if (!call.signal?.aborted) {
        queue.lastPollTime = this.clock.now();
        queue.recordPoller(request.identity, this.clock.now());
      }
    }
  }

  /** Starts an offered task in history; settles the offer; returns the response, or undefined if the task was stale. */
  private async tryStart<R>(queue: TaskQueue, offer: Offer, signal: AbortSignal, start: (pollRequestId: string) => Promise<R>): Promise<R | undefined> {
    if (signal.aborted) {
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

  private queue(namespaceId: string, name: string, type: TaskQueueType, kind: 'normal' | 'sticky'): TaskQueue {
    const key: TaskQueueKey = { namespaceId, name, type, kind, partition: 0 };
    const k = this.keyString(key);
    let queue = this.queues.get(k);
    if (!queue) {
      queue = new TaskQueue(key, this.store, this.clock, this.settings.get(MatchingSettings.backlogPageSize));
      this.queues.set(k, queue);
    }
    return queue;
  }

  private keyString(key: TaskQueueKey): string {
    return [key.namespaceId, key.name, key.type, key.kind, key.partition].join('\u0000');
  }

  /** Loads every stored backlog at start so tasks left by a previous process are served. */
  async start(): Promise<void> {
    for (const key of await this.store.listQueuesWithTasks()) {
      await this.queue(key.namespaceId, key.name, key.type, key.kind).ensureLoaded();
    }
    this.sweeper = setInterval(() => this.sweepUnusedQueues(), UNUSED_QUEUE_TTL_MS / 5);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  private sweepUnusedQueues(): void {
    const now = this.clock.now();
    for (const [key, queue] of this.queues) {
      if (queue.isUnused(now, UNUSED_QUEUE_TTL_MS)) this.queues.delete(key);
    }
  }
}
