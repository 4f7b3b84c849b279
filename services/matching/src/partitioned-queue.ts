/**
 * A task queue (namespace, name, type, kind) and the partitions of it this host holds. Sticky
 * queues have one partition; normal queues (versioned ones too) `matching.numTaskQueuePartitions`.
 */
import type { SettingsScope } from '@hourglass/common';
import { baseTaskQueueName, mergeTaskQueueDescriptions, type TaskQueueDescription } from '@hourglass/contracts';
import type { TaskQueueType } from '@hourglass/persistence';
import type { TaskQueue } from './task-queue';

export class PartitionedQueue {
  /** By partition id; holes are partitions this host does not hold (never used, or swept). */
  readonly partitions: (TaskQueue | undefined)[] = [];
  /** Polls under way that were given each partition (public polls, not forwarded ones). */
  private readonly pollsInFlight: number[] = [];
  private addCursor = 0;
  private pollCursor = 0;
  /** Where settings are read: the namespace (once a poll named it) and the user's queue name (a versioned queue's base name). */
  readonly scope: SettingsScope;

  constructor(
    readonly namespaceId: string,
    readonly name: string,
    readonly type: TaskQueueType,
    readonly kind: 'normal' | 'sticky',
    namespaceName: string | undefined,
  ) {
    this.scope = { namespace: namespaceName, taskQueue: baseTaskQueueName(name) };
  }

  /** The partition the next add goes to: round robin. */
  nextAddPartition(count: number): number {
    if (count <= 1) return 0;
    const p = this.addCursor % count;
    this.addCursor = p + 1;
    return p;
  }

  /** The partition a new poll goes to: the one with the fewest polls under way, ties taken in turn (Temporal's frontend balances polls so). */
  nextPollPartition(count: number): number {
    if (count <= 1) return 0;
    const start = this.pollCursor % count;
    let best = start;
    let fewest = this.pollsInFlight[start] ?? 0;
    for (let i = 1; i < count && fewest > 0; i++) {
      const p = (start + i) % count;
      const n = this.pollsInFlight[p] ?? 0;
      if (n < fewest) {
        best = p;
        fewest = n;
      }
    }
    this.pollCursor = best + 1;
    return best;
  }

  pollStarted(partition: number): void {
    this.pollsInFlight[partition] = (this.pollsInFlight[partition] ?? 0) + 1;
  }

  pollEnded(partition: number): void {
    this.pollsInFlight[partition] = (this.pollsInFlight[partition] ?? 1) - 1;
  }

  /** The queue as a whole (as far as this host holds it): see mergeTaskQueueDescriptions. */
  describe(since: number): TaskQueueDescription | undefined {
    return mergeTaskQueueDescriptions(this.describeEach(since));
  }

  private *describeEach(since: number): Iterable<TaskQueueDescription> {
    for (const partition of this.partitions) if (partition) yield partition.describe(since);
  }
}
