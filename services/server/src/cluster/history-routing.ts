/**
 * The history client of a frontend or matching host in a cluster: each call goes to the history
 * host that owns the shard of the execution it names, shard = shardIdFor(namespaceId, workflowId),
 * owner = rendezvous hash of the shard over the live history hosts of membership. When the host
 * answers that it does not own the shard (ShardNotOwned, optionally naming the owner) or cannot be
 * reached (UNAVAILABLE), the call goes again, to the owner named or to the owner of a fresh view of
 * membership, until its deadline.
 *
 * Which execution a method names is one table (HISTORY_ROUTES), keyed by method: the compiler
 * refuses a HistoryService method without a row.
 */
import { shardIdFor } from '@hourglass/common';
import type { ActivityTarget, HistoryService } from '@hourglass/contracts';
import { SCHEDULER_WORKFLOW_ID_PREFIX, STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX, WORKER_DEPLOYMENTS_WORKFLOW_ID } from '@hourglass/history';
import { routedClient, type Placement, type Route, type RoutingOptions } from './routing';

/** The execution (or entity) a call names: what picks its shard. */
export interface RouteKey {
  namespaceId: string;
  workflowId: string;
}

/** How a method is routed: by the execution its request names, or to every history host. */
export type HistoryRoute = { kind: 'shard'; key(request: never): RouteKey } | { kind: 'broadcast' };

type Nr = { namespaceId: string; request: Record<string, unknown> };
const byExecution = (field: string) => (r: Nr): RouteKey => ({ namespaceId: r.namespaceId, workflowId: str((r.request[field] as { workflowId?: unknown } | null | undefined)?.workflowId) });
const byField = (field: string, prefix = '') => (r: Nr): RouteKey => ({ namespaceId: r.namespaceId, workflowId: prefix + str(r.request[field]) });
const byTask = (r: { namespaceId: string; task: { workflowId: string } }): RouteKey => ({ namespaceId: r.namespaceId, workflowId: r.task.workflowId });
const byToken = (r: { namespaceId: string; token: { workflowId: string } }): RouteKey => ({ namespaceId: r.namespaceId, workflowId: r.token.workflowId });
const byRun = (r: { namespaceId: string; workflowId: string }): RouteKey => ({ namespaceId: r.namespaceId, workflowId: r.workflowId });
const deployments = (r: { namespaceId: string }): RouteKey => ({ namespaceId: r.namespaceId, workflowId: WORKER_DEPLOYMENTS_WORKFLOW_ID });
/** A batch job is a workflow of its own id. */
const byBatchJob = byField('jobId');
/** A schedule is its scheduler workflow; a standalone activity the execution that holds it. */
const bySchedule = byField('scheduleId', SCHEDULER_WORKFLOW_ID_PREFIX);
const byStandaloneActivity = byField('activityId', STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX);

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** An activity completion names its run by token or by workflow id; a standalone activity by its own id. */
function byActivityTarget(r: { target: ActivityTarget }): RouteKey {
  const { target } = r;
  if (target.by === 'token') return { namespaceId: target.token.namespaceId, workflowId: target.token.workflowId };
  if (target.workflowId === '') return { namespaceId: target.namespaceId, workflowId: STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX + target.activityId };
  return { namespaceId: target.namespaceId, workflowId: target.workflowId };
}

const shard = <R>(key: (request: R) => RouteKey): HistoryRoute => ({ kind: 'shard', key: key as (request: never) => RouteKey });

/** The execution each HistoryService method names. */
export const HISTORY_ROUTES: Record<keyof HistoryService, HistoryRoute> = {
  startWorkflowExecution: shard(byField('workflowId')),
  signalWithStartWorkflowExecution: shard(byField('workflowId')),
  signalWorkflowExecution: shard(byExecution('workflowExecution')),
  requestCancelWorkflowExecution: shard(byExecution('workflowExecution')),
  deleteWorkflowExecution: shard(byExecution('workflowExecution')),
  startBatchOperation: shard(byBatchJob),
  describeBatchOperation: shard(byBatchJob),
  stopBatchOperation: shard(byBatchJob),
  terminateWorkflowExecution: shard(byExecution('workflowExecution')),
  resetWorkflowExecution: shard(byExecution('workflowExecution')),
  describeWorkflowExecution: shard(byExecution('execution')),
  getWorkflowExecutionHistoryReverse: shard(byExecution('execution')),
  getWorkflowExecutionHistory: shard(byExecution('execution')),
  queryWorkflow: shard(byExecution('execution')),
  onNamespaceDeleted: { kind: 'broadcast' },
  // Update-with-start: every operation names the same workflow id (the frontend checks it).
  executeMultiOperation: shard((r: Nr) => {
    const first = (r.request.operations as { startWorkflow?: { workflowId?: string } | null }[] | null | undefined)?.[0];
    return { namespaceId: r.namespaceId, workflowId: str(first?.startWorkflow?.workflowId) };
  }),
  updateWorkflowExecution: shard(byExecution('workflowExecution')),
  pollWorkflowExecutionUpdate: shard((r: Nr) => ({
    namespaceId: r.namespaceId,
    workflowId: str((r.request.updateRef as { workflowExecution?: { workflowId?: string } | null } | null | undefined)?.workflowExecution?.workflowId),
  })),
  resetStickyTaskQueue: shard(byRun),
  respondWorkflowTaskCompleted: shard(byToken),
  respondWorkflowTaskFailed: shard(byToken),
  respondActivityTaskCompleted: shard(byActivityTarget),
  respondActivityTaskFailed: shard(byActivityTarget),
  respondActivityTaskCanceled: shard(byActivityTarget),
  recordActivityTaskHeartbeat: shard(byActivityTarget),
  createSchedule: shard(bySchedule),
  describeSchedule: shard(bySchedule),
  updateSchedule: shard(bySchedule),
  patchSchedule: shard(bySchedule),
  deleteSchedule: shard(bySchedule),
  listScheduleMatchingTimes: shard(bySchedule),
  registerWorkerDeploymentVersion: shard(deployments),
  updateWorkflowExecutionOptions: shard(byExecution('workflowExecution')),
  taskQueueVersions: shard(deployments),
  describeWorkerDeployment: shard(deployments),
  listWorkerDeployments: shard(deployments),
  describeWorkerDeploymentVersion: shard(deployments),
  setWorkerDeploymentCurrentVersion: shard(deployments),
  setWorkerDeploymentRampingVersion: shard(deployments),
  deleteWorkerDeploymentVersion: shard(deployments),
  deleteWorkerDeployment: shard(deployments),
  startActivityExecution: shard(byStandaloneActivity),
  describeActivityExecution: shard(byStandaloneActivity),
  pollActivityExecution: shard(byStandaloneActivity),
  requestCancelActivityExecution: shard(byStandaloneActivity),
  terminateActivityExecution: shard(byStandaloneActivity),
  deleteActivityExecution: shard(byStandaloneActivity),
  respondQueryTaskCompleted: shard(byRun),
  recordWorkflowTaskStarted: shard(byTask),
  recordActivityTaskStarted: shard(byTask),
  rescheduleStickyWorkflowTask: shard(byTask),
  redispatchTask: shard(byTask),
  buildQueryTask: shard(byRun),
  // Cross-execution transfer tasks name their target at the top of the request.
  startChildExecution: shard(byRun),
  recordChildExecutionClosed: shard(byRun),
  applyParentClosePolicy: shard(byRun),
  deliverExternalSignal: shard(byRun),
  deliverExternalCancel: shard(byRun),
  startScheduledWorkflow: shard(byRun),
  currentExecution: shard(byRun),
};

/** Where history hosts are, as membership knows them. */
export interface HistoryHosts extends Pick<Placement<HistoryService>, 'watch'> {
  /** The address of the live history host owning `shardId`; undefined when no history host is live. `fresh`: re-read membership first. */
  ownerOf(shardId: number, fresh: boolean): Promise<string | undefined>;
  /** Every live history host. */
  all(): Promise<string[]>;
  /** A client of the history host at `address` (cached by the caller's factory). */
  client(address: string): HistoryService;
}

export interface HistoryRoutingOptions extends RoutingOptions {
  numHistoryShards: number;
}

/** A HistoryService that routes every call to the owner of its shard (see the top of this file). */
export function routingHistoryClient(hosts: HistoryHosts, options: HistoryRoutingOptions): HistoryService {
  const routes = Object.fromEntries(
    (Object.entries(HISTORY_ROUTES) as [keyof HistoryService, HistoryRoute][]).map(([method, route]) => [
      method,
      route.kind === 'broadcast'
        ? route
        : {
            kind: 'key' as const,
            key: (request: never) => {
              const key = route.key(request);
              return String(shardIdFor(key.namespaceId, key.workflowId, options.numHistoryShards));
            },
          },
    ]),
  ) as Record<keyof HistoryService, Route>;
  return routedClient<HistoryService>('history shard', routes, { ownerOf: (shard, fresh) => hosts.ownerOf(Number(shard), fresh), all: () => hosts.all(), client: (a) => hosts.client(a), ...(hosts.watch ? { watch: hosts.watch.bind(hosts) } : {}) }, options);
}
