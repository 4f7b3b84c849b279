/**
 * The matching client of a frontend or history host in a cluster: a call goes to the matching host
 * owning its task queue — the rendezvous hash of `namespaceId/taskQueueName` over the live matching
 * hosts of membership — with the retries of routing.ts. The worker registry (heartbeats, ListWorkers,
 * DescribeWorker) lives per namespace, on the owner of the namespace's key, so a namespace's
 * workers are listed from one place. (Once task-queue partitions are placed across hosts, the key
 * becomes the partition's.)
 */
import type { MatchingService } from '@hourglass/contracts';
import { routedClient, type Placement, type Route, type RoutingOptions } from './routing';

/** The placement key of a task queue. */
export function taskQueueKey(namespaceId: string, taskQueueName: string): string {
  return `tq:${namespaceId}/${taskQueueName}`;
}

/** The placement key of a namespace's worker registry. */
export function workerRegistryKey(namespaceId: string): string {
  return `workers:${namespaceId}`;
}

const byQueue = (r: { namespaceId: string; taskQueueName: string }): string => taskQueueKey(r.namespaceId, r.taskQueueName);
const byNamespace = (r: { namespaceId: string }): string => workerRegistryKey(r.namespaceId);
const key = <R>(fn: (request: R) => string): Route => ({ kind: 'key', key: fn as (request: never) => string });

/** The placement key each MatchingService method names. */
export const MATCHING_ROUTES: Record<keyof MatchingService, Route> = {
  describeTaskQueue: key(byQueue),
  recordWorkerHeartbeat: key(byNamespace),
  listWorkers: key(byNamespace),
  countWorkers: key(byNamespace),
  describeWorker: key(byNamespace),
  addWorkflowTask: key(byQueue),
  addActivityTask: key(byQueue),
  pollWorkflowTaskQueue: key(byQueue),
  pollActivityTaskQueue: key(byQueue),
  pollNexusTaskQueue: key(byQueue),
  dispatchQueryTask: key(byQueue),
  redirectBacklog: key(byQueue),
  shutdownStickyQueue: key((r: { namespaceId: string; stickyQueueName: string }) => taskQueueKey(r.namespaceId, r.stickyQueueName)),
};

export function routingMatchingClient(hosts: Placement<MatchingService>, options: RoutingOptions = {}): MatchingService {
  return routedClient<MatchingService>('task queue', MATCHING_ROUTES, hosts, options);
}
