/**
 * Checks, after every commit, that replaying a run's history through applyEvent gives exactly the
 * state the forward path built — the guard against an event's effect being written twice and
 * drifting. Opt-in (`history.verifyRebuild`): the conformance suite runs with it on, so every
 * workflow it drives is checked at every step.
 *
 * Each verified run has a shadow state built only from its committed events (replayEvent); after a
 * commit that leaves nothing buffered, the derivable parts of both states must be equal. A run
 * first seen in the middle of its history (after a restart) is not verified.
 */
import { WorkflowTaskFailedCause, toNumber, type HistoryEvent } from '@hourglass/common';
import type { ExecutionKey } from '@hourglass/persistence';
import { executionCacheKey } from '../shard/execution-cache';
import { isRunning, type MutableState } from './mutable-state';
import { blankState, replayEvent } from './rebuild';

/** Shadows kept at most (oldest dropped first): verification is for test suites, not for scale. */
const MAX_SHADOWS = 10_000;

export class RebuildVerifier {
  private readonly shadows = new Map<string, { ms: MutableState; reset: boolean }>();

  constructor(private readonly onDivergence: (message: string) => void) {}

  afterCommit(key: ExecutionKey, events: readonly HistoryEvent[], ms: MutableState): void {
    const k = executionCacheKey(key);
    let shadow = this.shadows.get(k);
    if (!shadow) {
      if (events.length === 0 || toNumber(events[0]?.eventId) !== 1) return;
      const info = ms.executionInfo;
      shadow = {
        ms: blankState({ namespaceId: info.namespaceId, workflowId: info.workflowId, runId: info.runId, startRequestId: info.startRequestId, identity: info.identity }, 0),
        reset: false,
      };
      this.shadows.set(k, shadow);
      if (this.shadows.size > MAX_SHADOWS) this.shadows.delete(this.shadows.keys().next().value as string);
    }
    for (const event of events) {
      if (toNumber(event.eventId) !== shadow.ms.nextEventId) {
        this.onDivergence(`history of ${describe(key)} has event ${toNumber(event.eventId)} where event ${shadow.ms.nextEventId} was expected`);
        this.shadows.delete(k);
        return;
      }
      if (event.workflowTaskFailedEventAttributes?.cause === WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW) shadow.reset = true;
      replayEvent(shadow.ms, event);
    }
    // Buffered events are applied when they arrive but replayed when they get their ids: compare once they are flushed.
    if (ms.bufferedEventCount === 0) {
      const forward = derivedState(ms, shadow.reset);
      const rebuilt = derivedState(shadow.ms, shadow.reset);
      const difference = firstDifference(forward, rebuilt);
      if (difference) {
        this.onDivergence(`mutable state of ${describe(key)} diverged from its history at ${difference.path}: the change made ${difference.forward}, its history gives ${difference.rebuilt}`);
      }
    }
    if (!isRunning(ms)) this.shadows.delete(k);
  }
}

function describe(key: ExecutionKey): string {
  return `workflow ${key.workflowId} run ${key.runId} (namespace ${key.namespaceId})`;
}

/**
 * The parts of mutable state that history determines. Left out, each on purpose: who runs an
 * activity attempt and how it goes (attempt, start, heartbeats, last failure: not in history until
 * the outcome), stickiness and the queue a task was pushed to, remembered request ids, updates
 * not yet accepted, counters of admitted updates and state transitions, storage metering, a batch job's
 * request and progress (its steps' own record, batch/batch-job.ts), and — in a reset run —
 * the times and identity the reset gave it.
 */
export function derivedState(ms: MutableState, reset: boolean): Record<string, unknown> {
  const {
    stateTransitionCount: _transitions,
    startRequestId: _request,
    startTime,
    executionTime,
    runExpirationTime,
    identity,
    storageAccruedAt: _accruedAt,
    storageAccruedBytes: _accruedBytes,
    ...info
  } = ms.executionInfo;
  const sorted = <T>(entries: Iterable<[string, Readonly<T>]>): [string, Readonly<T>][] => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const wft = ms.workflowTask;
  return {
    executionInfo: { ...info, ...(reset ? {} : { startTime, executionTime, runExpirationTime, identity }) },
    nextEventId: ms.nextEventId,
    lastCompletedWorkflowTaskStartedEventId: ms.lastCompletedWorkflowTaskStartedEventId,
    workflowTask: wft && {
      scheduledEventId: wft.scheduledEventId,
      startedEventId: wft.startedEventId,
      attempt: wft.attempt,
      startToCloseTimeoutMs: wft.startToCloseTimeoutMs,
      scheduledTime: wft.scheduledTime,
      startedTime: wft.startedTime,
      requestId: wft.requestId,
      identity: wft.identity,
    },
    workflowTaskFailureStreak: ms.workflowTaskFailureStreak,
    backoffPending: ms.backoffPending,
    cancelRequested: ms.cancelRequested,
    signalCount: ms.signalCount,
    memo: ms.memo,
    searchAttributes: ms.searchAttributes,
    activities: sorted(ms.activities.entries()).map(([id, a]) => ({
      id,
      activityId: a.activityId,
      activityTypeName: a.activityTypeName,
      taskQueue: a.taskQueue,
      scheduleToCloseTimeoutMs: a.scheduleToCloseTimeoutMs,
      scheduleToStartTimeoutMs: a.scheduleToStartTimeoutMs,
      startToCloseTimeoutMs: a.startToCloseTimeoutMs,
      heartbeatTimeoutMs: a.heartbeatTimeoutMs,
      retryPolicy: a.retryPolicy,
      ...(reset ? {} : { scheduledTime: a.scheduledTime }),
      cancelRequested: a.cancelRequested,
      cancelRequestedEventId: a.cancelRequestedEventId,
    })),
    timers: sorted(ms.timers.entries()),
    children: sorted(ms.children.entries()),
    externalSignals: sorted(ms.externalSignals.entries()),
    externalCancels: sorted(ms.externalCancels.entries()),
    updates: sorted(ms.updates.entries())
      .filter(([, u]) => u.acceptedEventId > 0)
      .map(([id, u]) => ({ id, stage: u.stage, acceptedEventId: u.acceptedEventId, completedEventId: u.completedEventId })),
  };
}

/** The first field (depth first) where two derived states differ, with both values; undefined when equal. */
export function firstDifference(a: unknown, b: unknown, path = 'state'): { path: string; forward: string; rebuilt: string } | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const inner = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
      if (inner) return inner;
    }
  }
  const show = (v: unknown): string => {
    const text = JSON.stringify(v) ?? 'undefined';
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  };
  return { path, forward: show(a), rebuilt: show(b) };
}
