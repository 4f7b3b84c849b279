/**
 * The partition tree of a task queue (Temporal's tqid): partition 0 is the root; partition k > 0
 * forwards what it cannot serve to its parent ⌈k / degree⌉ − 1, where the degree is
 * `matching.forwarderMaxChildrenPerNode`. With the defaults (4 partitions, degree 20) every
 * partition is a child of the root.
 *
 * And the interface forwarding goes through, so that partitions may later live on different
 * matching hosts: a forwarded call names its target partition and the partition it comes from.
 */
import type { CallOptions, MatchingService } from '@hourglass/contracts';
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
 * How one partition reaches another (its parent). In one process every partition is here
 * (`InProcessPartitionRouter` calls the engine); in a cluster `ServicePartitionRouter` sends the
 * call through the routed matching client to the host that owns the target partition, which runs
 * the same engine method with the same arguments.
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

/**
 * Partitions on other hosts: forwarding is a MatchingService call naming the target partition,
 * sent through `matching` (in a cluster, the routed client: to the partition's owner, or this
 * process's engine when it owns it). A forwarded poll is a poll naming its partition and the child
 * it comes from, carrying the poll's deadline and cancellation; a forwarded task is an offer.
 */
export class ServicePartitionRouter implements PartitionRouter {
  /**
   * `offerTimeoutMs`: longest an offer may take (a poller there starting the task in history
   * included). An offer that outlasts it counts as not taken, so the sending partition's backlog
   * is never held up by a call that hangs; if a poller did take it, history refuses the second
   * start as stale.
   */
  constructor(
    private readonly matching: Pick<MatchingService, 'offerForwardedTask' | 'pollWorkflowTaskQueue' | 'pollActivityTaskQueue'>,
    private readonly offerTimeoutMs = 10_000,
  ) {}

  forwardTask(target: TaskQueueKey, task: MatchTask, forwardedFrom: number): Promise<boolean> {
    return this.matching.offerForwardedTask(
      { namespaceId: target.namespaceId, taskQueueName: target.name, type: target.type, kind: target.kind, partition: target.partition, forwardedFrom, task },
      { deadline: Date.now() + this.offerTimeoutMs },
    );
  }

  forwardPoll(target: TaskQueueKey, request: PollTaskQueueRequest, call: CallOptions, forwardedFrom: number): Promise<PollResponse | null> {
    const forwarded: PollTaskQueueRequest = { ...request, kind: target.kind, partition: target.partition, forwardedFrom };
    return target.type === 'workflow' ? this.matching.pollWorkflowTaskQueue(forwarded, call) : this.matching.pollActivityTaskQueue(forwarded, call);
  }
}
