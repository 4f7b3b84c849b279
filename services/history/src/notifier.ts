/** Wakes history long polls (GetWorkflowExecutionHistory wait_new_event) when a run changes. */
import type { ExecutionKey } from '@hourglass/persistence';
import { executionCacheKey } from './shard/execution-cache';

export interface ExecutionChange {
  nextEventId: number;
  closed: boolean;
}

/** undefined: woken without a change (the run's shard left this host): the waiter re-reads and learns why. */
type Listener = (change: ExecutionChange | undefined) => void;

export class ExecutionNotifier {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly keys = new Map<string, ExecutionKey>();

  notify(key: ExecutionKey, change: ExecutionChange): void {
    const set = this.listeners.get(executionCacheKey(key));
    if (set) for (const listener of [...set]) listener(change);
  }

  /** Ends the waits on every run `matches` picks, as if they timed out (their shard was released or lost). */
  wakeWhere(matches: (key: ExecutionKey) => boolean): void {
    for (const [k, set] of [...this.listeners]) {
      const key = this.keys.get(k);
      if (key && matches(key)) for (const listener of [...set]) listener(undefined);
    }
  }

  /**
   * Resolves with the first change satisfying `accept`, or undefined after `timeoutMs` or on abort.
   * Subscribe BEFORE re-reading state, then re-check, to close the race with a concurrent commit.
   */
  subscribe(key: ExecutionKey, accept: (change: ExecutionChange) => boolean, timeoutMs: number, signal?: AbortSignal): { promise: Promise<ExecutionChange | undefined>; cancel(): void } {
    const k = executionCacheKey(key);
    let set = this.listeners.get(k);
    if (!set) {
      set = new Set();
      this.listeners.set(k, set);
      this.keys.set(k, key);
    }
    let finish!: (value: ExecutionChange | undefined) => void;
    const promise = new Promise<ExecutionChange | undefined>((resolve) => {
      finish = resolve;
    });
    const listener: Listener = (change) => {
      if (change === undefined) done(undefined);
      else if (accept(change)) done(change);
    };
    const timer = setTimeout(() => done(undefined), Math.max(0, timeoutMs));
    const onAbort = (): void => done(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    const registered = set;
    registered.add(listener);
    const done = (value: ExecutionChange | undefined): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      registered.delete(listener);
      if (registered.size === 0 && this.listeners.get(k) === registered) {
        this.listeners.delete(k);
        this.keys.delete(k);
      }
      finish(value);
    };
    return { promise, cancel: () => done(undefined) };
  }
}
