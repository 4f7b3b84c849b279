import type { ExecutionKey, ExecutionRecord } from '@hourglass/persistence';

export function executionCacheKey(key: ExecutionKey): string {
  return `${key.namespaceId}\u0000${key.workflowId}\u0000${key.runId}`;
}

/** Last committed record per run (LRU). Holds serialised state so every mutation starts from a fresh copy. */
export class ExecutionCache {
  private readonly entries = new Map<string, ExecutionRecord>();

  constructor(private readonly capacity: number) {}

  get(key: ExecutionKey): ExecutionRecord | undefined {
    const k = executionCacheKey(key);
    const record = this.entries.get(k);
    if (record) {
      this.entries.delete(k);
      this.entries.set(k, record);
    }
    return record;
  }

  put(record: ExecutionRecord): void {
    const k = executionCacheKey(record);
    this.entries.delete(k);
    this.entries.set(k, record);
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
