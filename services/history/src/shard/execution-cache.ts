import type { ExecutionKey } from '@hourglass/persistence';
import type { MutableState } from '../workflow/mutable-state';
import type { EventTail } from './event-tail';

export function executionCacheKey(key: ExecutionKey): string {
  return `${key.namespaceId}\u0000${key.workflowId}\u0000${key.runId}`;
}

/** A run's live mutable state, the db version it was committed as, and its latest committed events. */
export interface CachedExecution {
  ms: MutableState;
  dbVersion: number;
  tail: EventTail;
}

/** Runs whose mutable state is kept in memory (LRU). Entries are live: the shard drops one whose change failed. */
export class ExecutionCache {
  private readonly entries = new Map<string, CachedExecution>();

  constructor(private readonly capacity: number) {}

  get(key: ExecutionKey): CachedExecution | undefined {
    const k = executionCacheKey(key);
    const entry = this.entries.get(k);
    if (entry) {
      this.entries.delete(k);
      this.entries.set(k, entry);
    }
    return entry;
  }

  put(key: ExecutionKey, entry: CachedExecution): void {
    const k = executionCacheKey(key);
    this.entries.delete(k);
    this.entries.set(k, entry);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  invalidate(key: ExecutionKey): void {
    this.entries.delete(executionCacheKey(key));
  }

  clear(): void {
    this.entries.clear();
  }
}
