/**
 * The matching client of a frontend or history host in a cluster. A normal task queue has
 * `matching.numTaskQueuePartitions` partitions, each placed on its own matching host: the
 * rendezvous hash of the partition's key over the live matching hosts of membership. As Temporal's
 * frontend and history do, this client picks the partition: an add goes to a random one, a poll to
 * the one with the fewest polls this client has under way (ties at random); it names the partition
 * in the request and calls the partition's owner, with the retries of routing.ts. Partitions
 * forward to their parents' owners themselves (the engine's ServicePartitionRouter through this
 * client). DescribeTaskQueue and RedirectBacklog ask every partition's owner and combine the
 * answers; query tasks wait on the root partition. Sticky queues have one partition.
 *
 * The worker registry (heartbeats, ListWorkers, DescribeWorker) lives per namespace, on the owner of
 * the namespace's key, so a namespace's workers are listed from one place.
 */
import { DEFAULT_SETTINGS, MatchingSettings, type Settings } from '@hourglass/common';
import { baseTaskQueueName, mergeTaskQueueDescriptions, type CallOptions, type MatchingService, type PollTaskQueueRequest, type TaskQueueDescription } from '@hourglass/contracts';
import { routedClient, type Placement, type Route, type RoutingOptions } from './routing';

/** The placement key of a task queue's root partition (and of a sticky queue). */
export function taskQueueKey(namespaceId: string, taskQueueName: string): string {
  return `tq:${namespaceId}/${taskQueueName}`;
}

/** The placement key of partition `partition` of a task queue: the root keeps the queue's key. */
export function taskQueuePartitionKey(namespaceId: string, taskQueueName: string, partition: number): string {
  return partition === 0 ? taskQueueKey(namespaceId, taskQueueName) : `${taskQueueKey(namespaceId, taskQueueName)}#${partition}`;
}

/** The placement key of a namespace's worker registry. */
export function workerRegistryKey(namespaceId: string): string {
  return `workers:${namespaceId}`;
}

const byPartition = (r: { namespaceId: string; taskQueueName: string; partition?: number }): string => taskQueuePartitionKey(r.namespaceId, r.taskQueueName, r.partition ?? 0);
const byNamespace = (r: { namespaceId: string }): string => workerRegistryKey(r.namespaceId);
const key = <R>(fn: (request: R) => string): Route => ({ kind: 'key', key: fn as (request: never) => string });

/**
 * The placement key each MatchingService method names (the partition a request names; the root
 * when it names none). The client below names the partition of adds, polls and describes.
 */
export const MATCHING_ROUTES: Record<keyof MatchingService, Route> = {
  describeTaskQueue: key(byPartition),
  recordWorkerHeartbeat: key(byNamespace),
  listWorkers: key(byNamespace),
  countWorkers: key(byNamespace),
  describeWorker: key(byNamespace),
  addWorkflowTask: key(byPartition),
  addActivityTask: key(byPartition),
  pollWorkflowTaskQueue: key(byPartition),
  pollActivityTaskQueue: key(byPartition),
  pollNexusTaskQueue: key(byPartition),
  dispatchQueryTask: key(byPartition),
  // One attempt: an offer that reached its target may have been taken there; the sender keeps the
  // task when the offer fails (see ServicePartitionRouter), and retries later itself.
  offerForwardedTask: { kind: 'key', key: byPartition as (request: never) => string, once: true },
  redirectBacklog: key(byPartition),
  shutdownStickyQueue: key((r: { namespaceId: string; stickyQueueName: string }) => taskQueueKey(r.namespaceId, r.stickyQueueName)),
};

export interface MatchingRoutingOptions extends RoutingOptions {
  /**
   * Each partition on its own host (`matching.placePartitionsAcrossHosts`): this client picks and
   * names partitions. Off (the default): every call names the queue only and goes to the owner of
   * its root key, whose engine holds all its partitions.
   */
  placePartitions?: boolean;
  /** Where `matching.numTaskQueuePartitions` is read (the engines' settings); default: the defaults. */
  settings?: Settings;
  /** A number in [0, 1): which partition an add takes, and ties between polls (tests fix it). */
  random?: () => number;
}

/** Polls this client has under way per partition of each queue (forgotten when none is). */
class PollBalancer {
  private readonly inFlight = new Map<string, number[]>();

  constructor(private readonly random: () => number) {}

  /** The partition with the fewest polls under way, ties broken from a random start. */
  start(queue: string, count: number): number {
    let counts = this.inFlight.get(queue);
    if (!counts) {
      counts = [];
      this.inFlight.set(queue, counts);
    }
    const first = pickPartition(count, this.random);
    let best = first;
    for (let i = 1; i < count && (counts[best] ?? 0) > 0; i++) {
      const p = (first + i) % count;
      if ((counts[p] ?? 0) < (counts[best] ?? 0)) best = p;
    }
    counts[best] = (counts[best] ?? 0) + 1;
    return best;
  }

  end(queue: string, partition: number): void {
    const counts = this.inFlight.get(queue);
    if (!counts) return;
    counts[partition] = Math.max(0, (counts[partition] ?? 1) - 1);
    if (counts.every((n) => !n)) this.inFlight.delete(queue);
  }
}

function pickPartition(count: number, random: () => number): number {
  return count <= 1 ? 0 : Math.min(count - 1, Math.floor(random() * count));
}

const NOTHING: TaskQueueDescription = { waitingPollers: 0, backlogTasks: 0, pendingQueries: 0, oldestBacklogTime: undefined, pollers: [] };

export function routingMatchingClient(hosts: Placement<MatchingService>, options: MatchingRoutingOptions = {}): MatchingService {
  const routed = routedClient<MatchingService>('task queue', MATCHING_ROUTES, hosts, options);
  if (!options.placePartitions) return routed;
  const settings = options.settings ?? DEFAULT_SETTINGS;
  const random = options.random ?? Math.random;
  const balancer = new PollBalancer(random);
  // Adds name no namespace: the count is the task queue's (and global) setting; a poll's namespace-scoped one may differ, which only costs forwarding.
  const partitionsOf = (taskQueueName: string, namespaceName?: string): number => settings.get(MatchingSettings.numTaskQueuePartitions, { namespace: namespaceName, taskQueue: baseTaskQueueName(taskQueueName) });
  const all = (taskQueueName: string): number[] => Array.from({ length: partitionsOf(taskQueueName) }, (_, p) => p);

  const poll = async <R>(type: 'workflow' | 'activity', send: (request: PollTaskQueueRequest, call: CallOptions) => Promise<R>, request: PollTaskQueueRequest, call: CallOptions): Promise<R> => {
    if (request.partition !== undefined || request.kind === 'sticky') return send(request, call);
    const queue = `${request.namespaceId}\u0000${request.taskQueueName}\u0000${type}`;
    const partition = balancer.start(queue, partitionsOf(request.taskQueueName, request.namespaceName));
    try {
      return await send({ ...request, partition }, call);
    } finally {
      balancer.end(queue, partition);
    }
  };

  return {
    ...routed,
    addWorkflowTask: (request, call) =>
      routed.addWorkflowTask(request.partition !== undefined || request.kind === 'sticky' ? request : { ...request, partition: pickPartition(partitionsOf(request.taskQueueName), random) }, call),
    addActivityTask: (request, call) => routed.addActivityTask(request.partition !== undefined ? request : { ...request, partition: pickPartition(partitionsOf(request.taskQueueName), random) }, call),
    pollWorkflowTaskQueue: (request, call) => poll('workflow', routed.pollWorkflowTaskQueue, request, call),
    pollActivityTaskQueue: (request, call) => poll('activity', routed.pollActivityTaskQueue, request, call),
    describeTaskQueue: async (request) => {
      if (request.partition !== undefined || request.kind === 'sticky') return routed.describeTaskQueue(request);
      const parts = await Promise.all(all(request.taskQueueName).map((partition) => routed.describeTaskQueue({ ...request, partition })));
      return mergeTaskQueueDescriptions(parts) ?? { ...NOTHING, pollers: [] };
    },
    redirectBacklog: async (request) => {
      if (request.partition !== undefined) return routed.redirectBacklog(request);
      const moved = await Promise.all(all(request.taskQueueName).map((partition) => routed.redirectBacklog({ ...request, partition })));
      return moved.reduce((sum, n) => sum + n, 0);
    },
  };
}
