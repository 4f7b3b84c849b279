/**
 * The workers of each namespace as their heartbeats describe them (RecordWorkerHeartbeat, the
 * final one in ShutdownWorker), for ListWorkers and DescribeWorker. Like Temporal's worker
 * registry it lives in memory: a heartbeat is a report of the present, re-sent every interval,
 * and a worker not heard from for five minutes is forgotten. Bounded per namespace.
 */
import { InvalidArgumentError } from '@hourglass/common';
import type { WorkerHeartbeat } from '@hourglass/contracts';

export type { WorkerHeartbeat };

/** A worker silent this long is gone. */
export const WORKER_TTL_MS = 5 * 60_000;
/** Workers kept per namespace; the least recently heard goes first past this. */
const MAX_WORKERS_PER_NAMESPACE = 10_000;

interface Entry {
  heartbeat: WorkerHeartbeat;
  lastSeen: number;
}

export class WorkerRegistry {
  /** namespace id → worker instance key → entry; insertion order is recency order. */
  private readonly byNamespace = new Map<string, Map<string, Entry>>();

  record(namespaceId: string, heartbeat: WorkerHeartbeat, now: number): void {
    const key = heartbeat.workerInstanceKey;
    if (!key) throw new InvalidArgumentError('workerHeartbeat.workerInstanceKey is not set');
    let workers = this.byNamespace.get(namespaceId);
    if (!workers) {
      workers = new Map();
      this.byNamespace.set(namespaceId, workers);
    }
    workers.delete(key);
    workers.set(key, { heartbeat, lastSeen: now });
    if (workers.size > MAX_WORKERS_PER_NAMESPACE) {
      const oldest = workers.keys().next();
      if (!oldest.done) workers.delete(oldest.value);
    }
  }

  get(namespaceId: string, workerInstanceKey: string, now: number): WorkerHeartbeat | undefined {
    const entry = this.byNamespace.get(namespaceId)?.get(workerInstanceKey);
    return entry && now - entry.lastSeen <= WORKER_TTL_MS ? entry.heartbeat : undefined;
  }

  /** Live workers of the namespace (those `matches` accepts). */
  count(namespaceId: string, now: number, matches: (heartbeat: WorkerHeartbeat) => boolean = () => true): number {
    const workers = this.byNamespace.get(namespaceId);
    if (!workers) return 0;
    let n = 0;
    for (const entry of workers.values()) if (now - entry.lastSeen <= WORKER_TTL_MS && matches(entry.heartbeat)) n += 1;
    return n;
  }

  /**
   * Most recently heard first, those `matches` accepts; the page token is the instance key to
   * continue after (a worker heard from again since moves to the front and is not repeated).
   */
  list(namespaceId: string, now: number, pageSize: number, after?: string, matches: (heartbeat: WorkerHeartbeat) => boolean = () => true): { workers: WorkerHeartbeat[]; nextPageToken?: string } {
    const workers = this.byNamespace.get(namespaceId);
    if (!workers) return { workers: [] };
    for (const [key, entry] of workers) {
      // Oldest first in the map: stop at the first one still alive.
      if (now - entry.lastSeen <= WORKER_TTL_MS) break;
      workers.delete(key);
    }
    const keys = [...workers.keys()].reverse();
    let start = 0;
    if (after) {
      const i = keys.indexOf(after);
      start = i < 0 ? keys.length : i + 1;
    }
    const page: string[] = [];
    let i = start;
    for (; i < keys.length && page.length < pageSize; i += 1) {
      if (matches((workers.get(keys[i] as string) as Entry).heartbeat)) page.push(keys[i] as string);
    }
    const more = keys.slice(i).some((k) => matches((workers.get(k) as Entry).heartbeat));
    const result = page.map((k) => (workers.get(k) as Entry).heartbeat);
    return more ? { workers: result, nextPageToken: page[page.length - 1] as string } : { workers: result };
  }
}
