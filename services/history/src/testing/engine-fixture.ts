/**
 * Test support for history unit tests: a real engine on an in-memory SQLite store, a manual clock
 * and a matching stand-in that records what history pushes to it.
 */
import { ManualClock, SettingsRegistry, silentLogger, temporal, type HistoryEvent } from '@hourglass/common';
import { openSqlitePersistence, type NamespaceRecord, type Persistence } from '@hourglass/persistence';
import { DEFAULT_HISTORY_CONFIG } from '../config';
import type { AddActivityTaskRequest, AddWorkflowTaskRequest, MatchingService } from '@hourglass/contracts';
import { HistoryEngine } from '../history-engine';
import { NamespaceRegistry } from '../namespace-registry';

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
  /** No worker polls in unit tests. */
  async pollWorkflowTaskQueue(): Promise<null> {
    return null;
  }
  async pollActivityTaskQueue(): Promise<null> {
    return null;
  }
  async shutdownStickyQueue(): Promise<void> {}
}

export interface TestEngine {
  engine: HistoryEngine;
  clock: ManualClock;
  matching: RecordingMatching;
  namespace: NamespaceRecord;
  persistence: Persistence;
  close(): Promise<void>;
}

export async function createTestEngine(): Promise<TestEngine> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const persistence = openSqlitePersistence({ path: ':memory:', clock });
  const namespaces = new NamespaceRegistry(persistence.namespaces, clock);
  const matching = new RecordingMatching();
  const engine = new HistoryEngine({
    persistence,
    namespaces,
    matching,
    clock,
    config: { ...DEFAULT_HISTORY_CONFIG, numHistoryShards: 2 },
    logger: silentLogger(),
    // Every unit test also proves that each run's state is what its history rebuilds to.
    settings: new SettingsRegistry({ 'history.verifyRebuild': [{ value: true }] }),
    onStateDivergence: (message) => {
      throw new Error(message);
    },
  });
  await engine.start();
  const namespace = await namespaces.register({ name: 'unit', retentionMs: 86_400_000 });
  return {
    engine,
    clock,
    matching,
    namespace,
    persistence,
    close: async () => {
      await engine.stop();
      await persistence.close();
    },
  };
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

const E = temporal.api.enums.v1.EventType;

/** Event type names without the EVENT_TYPE_ prefix, e.g. WORKFLOW_TASK_SCHEDULED. */
export function typeNames(events: HistoryEvent[]): string[] {
  return events.map((e) => (E[e.eventType ?? 0] ?? '?').replace('EVENT_TYPE_', ''));
}
