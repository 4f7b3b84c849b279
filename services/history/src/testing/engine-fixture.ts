/**
 * Test support for history unit tests: a real engine on an in-memory SQLite store, a manual clock
 * and a matching stand-in that records what history pushes to it.
 */
import assert from 'node:assert/strict';
import { CommandType, ManualClock, SettingsRegistry, msToDuration, silentLogger, temporal, toNumber, type HistoryEvent, type SettingOverrides } from '@hourglass/common';
import { decodeTaskToken, type ActivityTaskToken, type WorkflowTaskToken } from '@hourglass/contracts';
import { openSqlitePersistence, type ExecutionStore, type NamespaceRecord, type Persistence } from '@hourglass/persistence';
import { DEFAULT_HISTORY_CONFIG } from '../config';
import type { AddActivityTaskRequest, AddWorkflowTaskRequest, MatchingService, TaskQueueDescription, Ws } from '@hourglass/contracts';
import { HistoryEngine, type HistoryEngineDeps } from '../history-engine';
import { NamespaceRegistry } from '../namespace-registry';
import { TaskCategories } from '../queues/task-categories';
import { InProcessVisibilityBus, SqlSearchBackend, VisibilityIndexer, VisibilitySearch } from '@hourglass/visibility';

export interface PushedTask {
  kind: 'workflow' | 'activity';
  taskQueueName: string;
  queueKind?: 'normal' | 'sticky';
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  attempt: number;
}

export class RecordingMatching implements MatchingService {
  readonly pushed: PushedTask[] = [];
  async addWorkflowTask(r: AddWorkflowTaskRequest): Promise<void> {
    this.pushed.push({ kind: 'workflow', taskQueueName: r.taskQueueName, queueKind: r.kind, workflowId: r.workflowId, runId: r.runId, scheduledEventId: r.scheduledEventId, attempt: 0 });
  }
  async addActivityTask(r: AddActivityTaskRequest): Promise<void> {
    this.pushed.push({ kind: 'activity', taskQueueName: r.taskQueueName, workflowId: r.workflowId, runId: r.runId, scheduledEventId: r.scheduledEventId, attempt: r.attempt });
  }
  /** No worker in unit tests: nobody takes query tasks. */
  async dispatchQueryTask(): Promise<boolean> {
    return false;
  }
  /** No poller anywhere: a forwarded task is never taken. */
  async offerForwardedTask(): Promise<boolean> {
    return false;
  }
  /** No worker polls in unit tests. */
  async pollWorkflowTaskQueue(): Promise<null> {
    return null;
  }
  async pollActivityTaskQueue(): Promise<null> {
    return null;
  }
  async pollNexusTaskQueue(): Promise<null> {
    return null;
  }
  async describeTaskQueue(): Promise<TaskQueueDescription> {
    return { waitingPollers: 0, backlogTasks: 0, pendingQueries: 0, oldestBacklogTime: undefined, pollers: [] };
  }
  async recordWorkerHeartbeat(): Promise<void> {}
  async listWorkers(): Promise<{ workers: never[] }> {
    return { workers: [] };
  }
  async countWorkers(): Promise<number> {
    return 0;
  }
  async describeWorker(): Promise<undefined> {
    return undefined;
  }
  async shutdownStickyQueue(): Promise<void> {}
  /** No backlog here: tasks are recorded as pushed. */
  async redirectBacklog(): Promise<number> {
    return 0;
  }
}

type Command = temporal.api.command.v1.ICommand;

/** A real engine on an in-memory store, and the steps a worker takes, for driving it from tests. */
export class TestEngine {
  constructor(
    readonly engine: HistoryEngine,
    readonly clock: ManualClock,
    readonly matching: RecordingMatching,
    readonly namespace: NamespaceRecord,
    readonly persistence: Persistence,
    /** Applies the engine's visibility records to persistence.visibility (in-process bus). */
    readonly indexer: VisibilityIndexer,
  ) {}

  async close(): Promise<void> {
    await this.engine.stop();
    await this.persistence.close();
  }

  async start(workflowId: string, extra: Partial<temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest> = {}): Promise<string> {
    const res = await this.engine.startWorkflowExecution({
      namespaceId: this.namespace.id,
      request: {
        namespace: this.namespace.name,
        workflowId,
        workflowType: { name: 'TestWorkflow' },
        taskQueue: { name: 'tq' },
        requestId: `req-${workflowId}`,
        identity: 'unit-test',
        ...extra,
      },
    });
    return res.runId as string;
  }

  /** The run's whole history (every page), checking that event ids are contiguous from 1. */
  async history(workflowId: string, runId: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const res = await this.engine.getWorkflowExecutionHistory(
        { namespaceId: this.namespace.id, request: { namespace: this.namespace.name, execution: { workflowId, runId }, ...(nextPageToken ? { nextPageToken } : {}) } },
        { deadline: 0 },
      );
      events.push(...(res.history?.events ?? []));
      nextPageToken = res.nextPageToken && res.nextPageToken.length > 0 ? res.nextPageToken : undefined;
    } while (nextPageToken);
    events.forEach((e, i) => assert.equal(toNumber(e.eventId), i + 1, 'event ids are contiguous from 1'));
    return events;
  }

  /** Starts the run's pending workflow task as a worker's poll would. */
  async startWorkflowTask(workflowId: string, runId: string, pollKind: 'normal' | 'sticky' = 'normal'): Promise<{ res: Ws<'PollWorkflowTaskQueueResponse'>; token: WorkflowTaskToken }> {
    const d = await this.engine.describeWorkflowExecution({ namespaceId: this.namespace.id, request: { namespace: this.namespace.name, execution: { workflowId, runId } } });
    const scheduledEventId = await eventually(() =>
      this.engine.shardFor(this.namespace.id, workflowId).readExecution({ namespaceId: this.namespace.id, workflowId, runId }, (ms) => ms.workflowTask?.scheduledEventId),
    );
    assert.ok(d.pendingWorkflowTask, 'a workflow task is pending');
    const res = await this.engine.recordWorkflowTaskStarted({
      namespaceId: this.namespace.id,
      task: { workflowId, runId, scheduledEventId },
      pollKind,
      identity: 'worker-1',
      pollRequestId: `poll-${Math.random()}`,
    });
    return { res, token: decodeTaskToken(res.taskToken) as WorkflowTaskToken };
  }

  complete(token: WorkflowTaskToken, commands: Command[], extra: Partial<temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedRequest> = {}): Promise<Ws<'RespondWorkflowTaskCompletedResponse'>> {
    return this.engine.respondWorkflowTaskCompleted({
      namespaceId: this.namespace.id,
      token,
      request: { namespace: this.namespace.name, identity: 'worker-1', commands, ...extra },
    });
  }

  async startActivity(workflowId: string, runId: string, scheduledEventId: number, attempt = 1): Promise<ActivityTaskToken> {
    const res = await this.engine.recordActivityTaskStarted({
      namespaceId: this.namespace.id,
      task: { workflowId, runId, scheduledEventId, attempt },
      identity: 'worker-1',
      pollRequestId: `p-${Math.random()}`,
    });
    return decodeTaskToken(res.taskToken) as ActivityTaskToken;
  }
}

export function scheduleActivity(activityId: string, extra: Partial<temporal.api.command.v1.IScheduleActivityTaskCommandAttributes> = {}): Command {
  return {
    commandType: CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
    scheduleActivityTaskCommandAttributes: { activityId, activityType: { name: 'act' }, startToCloseTimeout: msToDuration(10_000), ...extra },
  };
}

export function startTimer(timerId: string, ms: number): Command {
  return { commandType: CommandType.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId, startToFireTimeout: msToDuration(ms) } };
}

export const completeWorkflow: Command = { commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} };

export interface TestEngineOptions {
  /** Setting overrides (the rebuild verifier is always on). */
  settings?: SettingOverrides;
  /** Task categories besides the standard ones. */
  extraTaskCategories?: HistoryEngineDeps['extraTaskCategories'];
  retentionMs?: number;
  /** The store (default: SQLite in memory); it must be empty. */
  openPersistence?: (clock: ManualClock) => Promise<Persistence>;
  /** The clock's start (default 2026-01-01T00:00Z). */
  startMs?: number;
}

export async function createTestEngine(options: TestEngineOptions = {}): Promise<TestEngine> {
  const clock = new ManualClock(options.startMs ?? Date.UTC(2026, 0, 1));
  const persistence = options.openPersistence ? await options.openPersistence(clock) : openSqlitePersistence({ path: ':memory:', clock });
  const namespaces = new NamespaceRegistry(persistence.namespaces, clock);
  const matching = new RecordingMatching();
  const bus = new InProcessVisibilityBus();
  const indexer = new VisibilityIndexer(persistence.visibility, () => clock.now());
  bus.subscribe(indexer.consume);
  await bus.start();
  const engine = new HistoryEngine({
    visibility: bus,
    // Batch operations search the same index the engine's records go to.
    batchTargets: new VisibilitySearch(new SqlSearchBackend(persistence.visibility)),
    persistence,
    namespaces,
    matching,
    clock,
    config: { ...DEFAULT_HISTORY_CONFIG, numHistoryShards: 2 },
    logger: silentLogger(),
    // Every unit test also proves that each run's state is what its history rebuilds to.
    settings: new SettingsRegistry({ ...options.settings, 'history.verifyRebuild': [{ value: true }] }),
    ...(options.extraTaskCategories ? { extraTaskCategories: options.extraTaskCategories } : {}),
    onStateDivergence: (message) => {
      throw new Error(message);
    },
  });
  await engine.start();
  const namespace = await namespaces.register({ accountId: 'test-account', name: 'unit', retentionMs: options.retentionMs ?? 86_400_000 });
  return new TestEngine(engine, clock, matching, namespace, persistence, indexer);
}

/** Polls until `fn` returns a truthy value (no fixed sleeps). */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 3000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until these shards hold no usage task left to fold (a fold waits up to 100 ms for others to join it). */
export async function usageFolded(store: ExecutionStore, shardIds: readonly number[]): Promise<void> {
  await eventually(async () => {
    for (const shardId of shardIds) {
      if ((await store.listImmediateTasks(shardId, TaskCategories.usage.id, 0, 10)).length > 0) return false;
    }
    return true;
  });
}

const E = temporal.api.enums.v1.EventType;

/** Event type names without the EVENT_TYPE_ prefix, e.g. WORKFLOW_TASK_SCHEDULED. */
export function typeNames(events: HistoryEvent[]): string[] {
  return events.map((e) => (E[e.eventType ?? 0] ?? '?').replace('EVENT_TYPE_', ''));
}
