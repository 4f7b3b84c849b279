/**
 * Which runs have work in progress right now: a workflow task scheduled or running, an activity
 * attempt queued or running, a child being started, a signal or cancellation being delivered.
 * Runs that only wait on timers (or on nothing) are idle. The time-skipping test environment jumps
 * the clock to the next timer when every run is idle. Kept in memory from committed state.
 */
import type { ExecutionKey } from '@hourglass/persistence';
import { executionCacheKey } from './shard/execution-cache';
import { isRunning, type MutableStateData } from './workflow/mutable-state';

export function hasWorkInProgress(ms: MutableStateData, now: number): boolean {
  if (!isRunning(ms)) return false;
  if (ms.workflowTask !== null) return true;
  if (Object.values(ms.activities).some((a) => a.startedTime > 0 || a.currentAttemptScheduledTime <= now)) return true;
  if (Object.values(ms.children).some((c) => c.startedEventId === 0)) return true;
  return Object.keys(ms.externalSignals).length > 0 || Object.keys(ms.externalCancels).length > 0;
}

export class WorkTracker {
  private readonly busy = new Set<string>();
  private readonly listeners = new Set<() => void>();

  record(key: ExecutionKey, ms: MutableStateData, now: number): void {
    const k = executionCacheKey(key);
    if (hasWorkInProgress(ms, now)) {
      this.busy.add(k);
    } else if (this.busy.delete(k) && this.busy.size === 0) {
      for (const listener of this.listeners) listener();
    }
  }

  isIdle(): boolean {
    return this.busy.size === 0;
  }

  /** Called whenever the last busy run becomes idle. */
  onIdle(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
