/**
 * The partition tree of a task queue (Temporal's tqid): partition 0 is the root; partition k > 0
 * forwards what it cannot serve to its parent ⌈k / degree⌉ − 1, where the degree is
 * `matching.forwarderMaxChildrenPerNode`. With the defaults (4 partitions, degree 20) every
 * partition is a child of the root.
 *
 * And the interface forwarding goes through, so that partitions may later live on different
 * matching hosts: a forwarded call names its target partition and the partition it comes from.
 */
import type { CallOptions } from '@hourglass/contracts';
import type { TaskQueueKey } from '@hourglass/persistence';
import type { ActivityTaskResponse, MatchTask, PollTaskQueueRequest, WorkflowTaskResponse } from './types';

/** The parent of a non-root partition; undefined for the root. */
export function parentPartition(partition: number, degree: number): number | undefined {
  if (partition <= 0) return undefined;
  if (!Number.isSafeInteger(degree) || degree < 1) throw new RangeError(`partition tree degree must be a whole number of at least 1, got ${degree}`);
  return Math.ceil(partition / degree) - 1;
}

/** Whether `ancestor` is on the way from `partition` to the root (a partition is not its own ancestor). */
export function isAncestor(ancestor: number, partition: number, degree: number): boolean {
  for (let p = parentPartition(partition, degree); p !== undefined; p = parentPartition(p, degree)) {
    if (p === ancestor) return true;
  }
  return false;
}

export type PollResponse = WorkflowTaskResponse | ActivityTaskResponse;

/**
 * How one partition reaches another (its parent). Today every partition is in this process
 * (`InProcessPartitionRouter` calls the engine); a remote router would send the call to the host
 * that owns the target (rendezvous hashing over `taskQueuePartitionName`), which runs the same
 * engine method with the same arguments.
 */
export interface PartitionRouter {
  /**
   * Offers a task to a poller waiting on `target` (or, through its own forwarding, above it).
   * Sync match only: the target never stores a forwarded task. True once a poller started it (or
   * history found it stale); false when no poller took it, so the sender keeps it.
   */
  forwardTask(target: TaskQueueKey, task: MatchTask, forwardedFrom: number): Promise<boolean>;
  /** A poll that found nothing on `forwardedFrom`, continued on `target`: waits there as any poll. */
  forwardPoll(target: TaskQueueKey, request: PollTaskQueueRequest, call: CallOptions, forwardedFrom: number): Promise<PollResponse | null>;
}

/** What the in-process router calls: the engine's partition-addressed entry points. */
export interface PartitionEndpoint {
  offerToPartition(target: TaskQueueKey, task: MatchTask, forwardedFrom: number): Promise<boolean>;
  pollPartition(target: TaskQueueKey, request: PollTaskQueueRequest, call: CallOptions, forwardedFrom?: number): Promise<PollResponse | null>;
}

/** Every partition lives in this process: forwarding is a function call. */
export class InProcessPartitionRouter implements PartitionRouter {
  constructor(private readonly engine: PartitionEndpoint) {}

  forwardTask(target: TaskQueueKey, task: MatchTask, forwardedFrom: number): Promise<boolean> {
    return this.engine.offerToPartition(target, task, forwardedFrom);
  }

  forwardPoll(target: TaskQueueKey, request: PollTaskQueueRequest, call: CallOptions, forwardedFrom: number): Promise<PollResponse | null> {
    return this.engine.pollPartition(target, request, call, forwardedFrom);
  }
}
