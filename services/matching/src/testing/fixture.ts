/**
 * What the matching unit tests share: an engine over a real in-memory SQLite task queue store, a
 * manual clock, and a fake history (TaskStarter) that records every call and can be told to hold
 * or fail the next one.
 */
import { DEFAULT_SETTINGS, ManualClock, MatchingSettings, deferred, overlaySettings, silentLogger, type SettingOverrides, type Settings } from '@hourglass/common';
import type { BuildQueryTaskRequest, CallOptions, MatchTask, QueryTask, RecordActivityTaskStartedRequest, RecordWorkflowTaskStartedRequest } from '@hourglass/contracts';
import { openSqlitePersistence, type Persistence, type TaskQueueKey, type TaskQueueLease, type TaskQueueStore, type TaskQueueTaskRow } from '@hourglass/persistence';
import { MatchingEngine } from '../matching-engine';
import type { AddWorkflowTaskRequest, PollTaskQueueRequest, TaskStarter, WorkflowTaskResponse, ActivityTaskResponse } from '../types';

export const NAMESPACE_ID = 'ns-id';
export const NAMESPACE_NAME = 'ns';
export const TASK_QUEUE = 'orders';
export const STICKY_QUEUE = 'orders-sticky-worker-1';

type StarterMethod = keyof TaskStarter;

export interface StarterCall {
  method: StarterMethod;
  request: unknown;
}

/** History as matching sees it: answers every start with a response naming the task, unless told otherwise. */
export class FakeTaskStarter implements TaskStarter {
  /** Every call, in the order matching made them. */
  readonly calls: StarterCall[] = [];
  /** The calls that succeeded ("history recorded the start"), in the order they completed. */
  readonly recorded: StarterCall[] = [];
  private readonly script = new Script<StarterMethod>();

  /** The next call of `method` fails with `err` (history's NotFoundError makes a task stale). */
  failNext(method: StarterMethod, err: Error): void {
    this.script.failNext(method, err);
  }

  /** The next call of `method` waits until `release()` (or fails on `fail(err)`). */
  holdNext(method: StarterMethod): { release(): void; fail(err: Error): void } {
    return this.script.holdNext(method);
  }

  callsOf(method: StarterMethod): StarterCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  recordWorkflowTaskStarted(request: RecordWorkflowTaskStartedRequest): Promise<WorkflowTaskResponse> {
    return this.run('recordWorkflowTaskStarted', request, () => ({
      taskToken: Buffer.from(`${request.task.workflowId}/${request.task.runId}/${request.task.scheduledEventId}`),
      workflowExecution: { workflowId: request.task.workflowId, runId: request.task.runId },
    }));
  }

  recordActivityTaskStarted(request: RecordActivityTaskStartedRequest): Promise<ActivityTaskResponse> {
    return this.run('recordActivityTaskStarted', request, () => ({
      workflowExecution: { workflowId: request.task.workflowId, runId: request.task.runId },
      activityId: String(request.task.scheduledEventId),
      attempt: request.task.attempt,
    }));
  }

  rescheduleStickyWorkflowTask(request: { namespaceId: string; task: Pick<MatchTask, 'workflowId' | 'runId' | 'scheduledEventId'> }): Promise<void> {
    return this.run('rescheduleStickyWorkflowTask', request, () => undefined);
  }

  redispatchTask(request: { namespaceId: string; type: 'workflow' | 'activity'; task: Pick<MatchTask, 'workflowId' | 'runId' | 'scheduledEventId' | 'attempt'> }): Promise<void> {
    return this.run('redispatchTask', request, () => undefined);
  }

  buildQueryTask(request: BuildQueryTaskRequest): Promise<WorkflowTaskResponse> {
    return this.run('buildQueryTask', request, () => ({
      taskToken: Buffer.from(`query/${request.queryId}`),
      workflowExecution: { workflowId: request.workflowId, runId: request.runId },
      query: request.query,
    }));
  }

  private async run<R>(method: StarterMethod, request: unknown, respond: () => R): Promise<R> {
    const call = { method, request };
    this.calls.push(call);
    await this.script.step(method);
    this.recorded.push(call);
    return respond();
  }
}

/** Per-method steps the next calls go through first: hold until released, or fail. */
class Script<M extends string> {
  private readonly plans = new Map<M, (() => Promise<void>)[]>();

  failNext(method: M, err: Error): void {
    this.plan(method, async () => {
      throw err;
    });
  }

  holdNext(method: M): { release(): void; fail(err: Error): void } {
    const gate = deferred<void>();
    this.plan(method, () => gate.promise);
    return { release: () => gate.resolve(), fail: (err) => gate.reject(err) };
  }

  async step(method: M): Promise<void> {
    await this.plans.get(method)?.shift()?.();
  }

  private plan(method: M, step: () => Promise<void>): void {
    const steps = this.plans.get(method) ?? [];
    steps.push(step);
    this.plans.set(method, steps);
  }
}

/** The real store, with calls that can be held or failed (a slow or failing database). */
export class ScriptedTaskQueueStore implements TaskQueueStore {
  private readonly script = new Script<keyof TaskQueueStore>();

  constructor(private readonly inner: TaskQueueStore) {}

  failNext(method: keyof TaskQueueStore, err: Error): void {
    this.script.failNext(method, err);
  }

  holdNext(method: keyof TaskQueueStore): { release(): void; fail(err: Error): void } {
    return this.script.holdNext(method);
  }

  async leaseTaskQueue(key: TaskQueueKey): Promise<TaskQueueLease> {
    await this.script.step('leaseTaskQueue');
    return this.inner.leaseTaskQueue(key);
  }

  async createTasks(key: TaskQueueKey, rangeId: number, tasks: TaskQueueTaskRow[]): Promise<void> {
    await this.script.step('createTasks');
    return this.inner.createTasks(key, rangeId, tasks);
  }

  async listTasks(key: TaskQueueKey, afterTaskId: number, limit: number): Promise<TaskQueueTaskRow[]> {
    await this.script.step('listTasks');
    return this.inner.listTasks(key, afterTaskId, limit);
  }

  async deleteTasks(key: TaskQueueKey, taskIds: number[]): Promise<void> {
    await this.script.step('deleteTasks');
    return this.inner.deleteTasks(key, taskIds);
  }

  async listQueuesWithTasks(): Promise<TaskQueueKey[]> {
    await this.script.step('listQueuesWithTasks');
    return this.inner.listQueuesWithTasks();
  }
}

export interface MatchingFixture {
  persistence: Persistence;
  /** What the engine uses: the SQLite store behind a script (`store.holdNext('createTasks')`). */
  store: ScriptedTaskQueueStore;
  clock: ManualClock;
  starter: FakeTaskStarter;
  engine: MatchingEngine;
  /** A new engine over the same store, as after a process restart (the old one is stopped). */
  restart(): Promise<MatchingEngine>;
  close(): Promise<void>;
}

/** `partitions` sets matching.numTaskQueuePartitions (over `settings`); otherwise the default (4). */
export async function matchingFixture(options: { settings?: Settings; partitions?: number; degree?: number } = {}): Promise<MatchingFixture> {
  const persistence = openSqlitePersistence({ path: ':memory:' });
  const clock = new ManualClock();
  const starter = new FakeTaskStarter();
  const overrides: SettingOverrides = {};
  if (options.partitions !== undefined) overrides[MatchingSettings.numTaskQueuePartitions.key] = [{ value: options.partitions }];
  if (options.degree !== undefined) overrides[MatchingSettings.forwarderMaxChildrenPerNode.key] = [{ value: options.degree }];
  const settings = overlaySettings(options.settings ?? DEFAULT_SETTINGS, overrides);
  const store = new ScriptedTaskQueueStore(persistence.taskQueues);
  const newEngine = async (): Promise<MatchingEngine> => {
    const engine = new MatchingEngine(store, clock, settings, silentLogger());
    engine.setTaskStarter(starter);
    await engine.start();
    return engine;
  };
  const fixture: MatchingFixture = {
    persistence,
    store,
    clock,
    starter,
    engine: await newEngine(),
    async restart() {
      fixture.engine.stop();
      fixture.engine = await newEngine();
      return fixture.engine;
    },
    async close() {
      fixture.engine.stop();
      await persistence.close();
    },
  };
  return fixture;
}

export function workflowTask(scheduledEventId: number, overrides: Partial<AddWorkflowTaskRequest> = {}): AddWorkflowTaskRequest {
  return { namespaceId: NAMESPACE_ID, taskQueueName: TASK_QUEUE, kind: 'normal', workflowId: `wf-${scheduledEventId}`, runId: 'run-1', scheduledEventId, ...overrides };
}

export function pollRequest(overrides: Partial<PollTaskQueueRequest> = {}): PollTaskQueueRequest {
  return { namespaceId: NAMESPACE_ID, namespaceName: NAMESPACE_NAME, taskQueueName: TASK_QUEUE, kind: 'normal', identity: 'worker-1', ...overrides };
}

export function queryTask(queryId: string): QueryTask {
  return { workflowId: 'wf-q', runId: 'run-q', queryId, query: { queryType: 'status', queryArgs: { payloads: [{ data: Buffer.from('"arg"') }] } } };
}

/** A poll the test can end: `cancel()` aborts it as its caller would. */
export function cancellableCall(deadline = 0): CallOptions & { cancel(): void } {
  const controller = new AbortController();
  return { deadline, signal: controller.signal, cancel: () => controller.abort() };
}

export function queueKey(overrides: Partial<TaskQueueKey> = {}): TaskQueueKey {
  return { namespaceId: NAMESPACE_ID, name: TASK_QUEUE, type: 'workflow', kind: 'normal', partition: 0, ...overrides };
}

/** The workflow ids of the tasks stored in the backlogs of a queue's partitions 0 to `partitions` − 1, partition by partition. */
export async function storedBacklogAll(fixture: MatchingFixture, partitions = 4, key: TaskQueueKey = queueKey()): Promise<string[]> {
  const all: string[] = [];
  for (let partition = 0; partition < partitions; partition++) all.push(...(await storedBacklog(fixture, { ...key, partition })));
  return all;
}

/** The workflow ids of the tasks stored in a queue's backlog, in order. */
export async function storedBacklog(fixture: MatchingFixture, key: TaskQueueKey = queueKey()): Promise<string[]> {
  const rows = await fixture.persistence.taskQueues.listTasks(key, 0, 1000);
  return rows.map((row) => (JSON.parse(row.data) as MatchTask).workflowId);
}

/** Waits until `fn` returns a truthy value (no fixed sleeps). */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 3000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms: ${fn.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export async function waitUntil(fn: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  await eventually(fn, timeoutMs);
}

/**
 * Whether `promise` is still pending once everything already runnable has run (the in-memory store
 * answers within a few turns of the event loop). Time does not move under a ManualClock, so a
 * promise pending here waits for the clock, a poller or a caller, not for work in progress.
 */
export async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 20 && !settled; i++) await new Promise((resolve) => setImmediate(resolve));
  return !settled;
}

/** Waits until the engine holds `count` live polls on the queue. */
export function pollersWaiting(fixture: MatchingFixture, count: number, queue: { taskQueueName?: string; type?: 'workflow' | 'activity'; kind?: 'normal' | 'sticky' } = {}): Promise<void> {
  return waitUntil(
    async () =>
      (await fixture.engine.describeTaskQueue({
        namespaceId: NAMESPACE_ID,
        taskQueueName: queue.taskQueueName ?? TASK_QUEUE,
        type: queue.type ?? 'workflow',
        kind: queue.kind ?? 'normal',
      })).waitingPollers === count,
  );
}
