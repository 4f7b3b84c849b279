/**
 * Which runs have work in progress right now: a workflow task scheduled or running, an activity
 * attempt queued or running, a child being started, a signal or cancellation being delivered.
 * Runs that only wait on timers (or on nothing) are idle. The time-skipping test environment jumps
 * the clock to the next timer when every run is idle. Kept in memory from committed state, and
 * only when asked for (it looks at every pending item of a run after each change).
 */
import type { ExecutionKey } from '@hourglass/persistence';
import { executionCacheKey } from './shard/execution-cache';
import { isActivityStarted, isChildStarted, isRunning, type MutableState } from './workflow/mutable-state';

export function hasWorkInProgress(ms: MutableState, now: number): boolean {
  if (!isRunning(ms)) return false;
  if (ms.workflowTask !== null) return true;
  for (const a of ms.activities.values()) if (isActivityStarted(a) || a.currentAttemptScheduledTime <= now) return true;
  for (const c of ms.children.values()) if (!isChildStarted(c)) return true;
  return ms.externalSignals.size > 0 || ms.externalCancels.size > 0;
}

export class WorkTracker {
  private readonly busy = new Set<string>();
  private readonly listeners = new Set<() => void>();

  record(key: ExecutionKey, ms: MutableState, now: number): void {
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
