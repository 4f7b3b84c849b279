/** Wakes history long polls (GetWorkflowExecutionHistory wait_new_event) when a run changes. */
import type { ExecutionKey } from '@hourglass/persistence';
import { executionCacheKey } from './shard/execution-cache';

export interface ExecutionChange {
  nextEventId: number;
  closed: boolean;
}

type Listener = (change: ExecutionChange) => void;

export class ExecutionNotifier {
  private readonly listeners = new Map<string, Set<Listener>>();

  notify(key: ExecutionKey, change: ExecutionChange): void {
    const set = this.listeners.get(executionCacheKey(key));
    if (set) for (const listener of [...set]) listener(change);
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
    }
    let finish!: (value: ExecutionChange | undefined) => void;
    const promise = new Promise<ExecutionChange | undefined>((resolve) => {
      finish = resolve;
    });
    const listener: Listener = (change) => {
      if (accept(change)) done(change);
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
      if (registered.size === 0 && this.listeners.get(k) === registered) this.listeners.delete(k);
      finish(value);
    };
    return { promise, cancel: () => done(undefined) };
  }
}
