/**
 * The WorkflowService RPCs Hourglass implements. By the time a handler runs, the interceptor chain
 * has resolved the namespace (`ctx.namespace`), authorized and admitted the call, and validated the
 * request (`ctx.taskToken` for token-addressed calls), so a handler only routes to history
 * (executions) or matching (task queues). Methods not listed in `handlers()` answer UNIMPLEMENTED
 * with their name.
 */
import { hostname } from 'node:os';
import { DEFAULT_SETTINGS, FailedPreconditionError, InvalidArgumentError, MatchingSettings, NotFoundError, PermissionDeniedError, durationToMs, int64, msToTimestamp, quote, temporal, type Settings } from '@hourglass/common';
import { accountIdOfNamespaceName, namespacePermission, shortNameOf, type IdentityService, type Principal } from '@hourglass/identity';
import type { NamespaceRecord } from '@hourglass/persistence';
import { taskQueuePartitionName, versionedTaskQueueName, type ActivityTarget, type ActivityTaskToken, type HistoryService, type MatchingService, type Ws, type WorkflowTaskToken } from '@hourglass/contracts';
import {
  ACTIVITY_SEARCH_ATTRIBUTES,
  BATCH_LIST_QUERY,
  SCHEDULE_INFO_MEMO_FIELD,
  activityNamespaceId,
  activityStatusOfWorkflowStatus,
  batchStateOf,
  operationTypeOfMemo,
  scheduleNamespaceId,
  type NamespaceRegistry,
} from '@hourglass/history';
import type { VisibilitySearch } from '@hourglass/visibility';
import type { FrontendConfig } from './config';
import type { HandlerContext, UnaryHandler } from './interceptors';
import { CLUSTER_NAME, describeNamespace } from './namespace-views';
import { builtInSearchAttributes } from './operator-service';
import { describeTaskQueue } from './task-queue-views';
import { compileWorkerQuery } from './worker-query';

const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;
const DEFAULT_LIST_PAGE_SIZE = 100;
const MAX_LIST_PAGE_SIZE = 1000;
const VersionStatus = temporal.api.enums.v1.WorkerDeploymentVersionStatus;

/** A version named by Temporal's deprecated string form, `<deployment>.<buildId>` (split at the first dot). */
function versionOfString(text: string | null | undefined): { deploymentName: string; buildId: string } | undefined {
  const at = (text ?? '').indexOf('.');
  return text && at > 0 ? { deploymentName: text.slice(0, at), buildId: text.slice(at + 1) } : undefined;
}

/** What GetClusterInfo reports about the deployment. */
export interface ClusterInfo {
  clusterName: string;
  clusterId: string;
  historyShardCount: number;
  persistenceStore: string;
  visibilityStore: string;
}

export interface WorkflowServiceDeps {
  config: FrontendConfig;
  cluster?: ClusterInfo;
  history: HistoryService;
  matching: MatchingService;
  namespaces: NamespaceRegistry;
  /** Settings the handlers read (task queue partitions); defaults without. */
  settings?: Settings;
  /** Search over executions (list, scan, count); absent: those RPCs answer UNIMPLEMENTED. */
  visibility?: VisibilitySearch;
  /** With accounts: namespaces belong to them, and callers see only what they may use. */
  identity?: { service: IdentityService; devAccountId: () => string | undefined };
}

const DAY_MS = 86_400_000;

/** Types a handler by its request message name. */
function wsHandler<K extends keyof typeof temporal.api.workflowservice.v1>(_request: K, handler: (r: Ws<K>, ctx: HandlerContext) => Promise<unknown>): UnaryHandler {
  return handler;
}

interface ActivityById {
  workflowId?: string | null;
  runId?: string | null;
  activityId?: string | null;
}

/**
 * The namespace id of a call that starts a workflow: a deprecated namespace runs what it has and
 * starts nothing new (Temporal's NamespaceInvalidState: FAILED_PRECONDITION).
 */
function acceptingStarts(ctx: HandlerContext): string {
  if (ctx.namespace.state === 'deprecated') {
    throw new FailedPreconditionError(`namespace ${quote(ctx.namespace.name)} is deprecated: its workflows run to completion but no new workflow starts in it`);
  }
  return ctx.namespace.id;
}

function byToken(ctx: HandlerContext): ActivityTarget {
  return { by: 'token', token: ctx.taskToken as ActivityTaskToken };
}

function byId(r: ActivityById, ctx: HandlerContext): ActivityTarget {
  return { by: 'id', namespaceId: ctx.namespace.id, workflowId: r.workflowId ?? '', runId: r.runId ?? '', activityId: r.activityId ?? '' };
}

export class WorkflowService {
  constructor(private readonly deps: WorkflowServiceDeps) {}

  /** Every namespace without accounts; with them, the caller's account's, as far as it may see them. */
  private async listNamespaces(principal: Principal | undefined, method: string, pageSize: number, token: string | undefined): Promise<{ items: NamespaceRecord[]; nextPageToken?: string }> {
    const { identity, namespaces } = this.deps;
    if (!identity || !principal) return namespaces.list(pageSize, token);
    const page = await identity.service.listNamespaces({ principal, operation: method }, token ? { pageSize, nextPageToken: token } : { pageSize });
    return { ...page, items: page.items.filter((ns) => namespacePermission(principal, ns) !== undefined) };
  }

  /**
   * Changes the call's namespace: through the identity service when there are accounts (its rules,
   * its audit log), else in the registry. Retention is whole days there, as in Temporal Cloud.
   */
  private async changeNamespace(
    ctx: HandlerContext,
    change: { description?: string; ownerEmail?: string; data?: Record<string, string>; retentionMs?: number; state?: 'deprecated' },
  ): Promise<NamespaceRecord> {
    const { identity, namespaces } = this.deps;
    if (identity && ctx.principal) {
      const { retentionMs, ...rest } = change;
      if (retentionMs !== undefined && retentionMs % DAY_MS !== 0) {
        throw new InvalidArgumentError(`config.workflowExecutionRetentionTtl must be a whole number of days, got ${retentionMs / 3_600_000} hours`);
      }
      const changed = await identity.service.updateNamespace(
        { principal: ctx.principal, operation: ctx.method },
        ctx.namespace.name,
        { ...rest, ...(retentionMs !== undefined ? { retentionDays: retentionMs / DAY_MS } : {}) },
        '',
      );
      namespaces.remember(changed.result);
      return changed.result;
    }
    return namespaces.update(ctx.namespace.name, () => change);
  }

  /**
   * A version still running PINNED workflows is draining, and is not deleted unless the caller skips
   * drainage (as Temporal refuses): its open pinned workflows are counted in visibility.
   */
  private async assertDrained(ctx: HandlerContext, version: temporal.api.deployment.v1.IWorkerDeploymentVersion | null | undefined): Promise<void> {
    if (!version?.deploymentName || !version.buildId) return;
    const open = (await this.openPinned(ctx, { deploymentName: version.deploymentName, buildId: version.buildId })) ?? 0;
    if (open > 0) {
      throw new FailedPreconditionError(`version ${quote(`${version.deploymentName}.${version.buildId}`)} is draining: ${open} open pinned workflow(s) run on it; wait for them, or set skipDrainage`);
    }
  }

  /** Open workflows pinned to a version, by visibility (undefined without a visibility store). */
  private async openPinned(ctx: HandlerContext, version: { deploymentName: string; buildId: string }): Promise<number | undefined> {
    const { visibility } = this.deps;
    if (!visibility) return undefined;
    const literal = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
    const query = `TemporalWorkerDeploymentVersion = ${literal(`${version.deploymentName}:${version.buildId}`)} AND TemporalWorkflowVersioningBehavior = 'Pinned' AND ExecutionStatus = 'Running'`;
    return Number((await visibility.count(ctx.namespace, query)).count ?? 0);
  }

  /**
   * A version that took work once and is neither current nor ramping is draining while workflows
   * pinned to it run, and drained after (Temporal's drainage status, checked at each describe).
   */
  private async withDrainage<T extends { status?: number | null; drainageStatus?: number | null; drainageInfo?: temporal.api.deployment.v1.IVersionDrainageInfo | null }>(
    ctx: HandlerContext,
    version: { deploymentName: string; buildId: string },
    summary: T,
  ): Promise<T> {
    if (summary.status !== VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING) return summary;
    const open = await this.openPinned(ctx, version);
    if (open === undefined) return summary;
    const drainage = open > 0 ? temporal.api.enums.v1.VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING : temporal.api.enums.v1.VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED;
    return {
      ...summary,
      status: open > 0 ? VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING : VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED,
      drainageInfo: { status: drainage, lastCheckedTime: msToTimestamp(Date.now()) },
    };
  }

  /** RPC name → handler. */
  handlers(): Record<string, UnaryHandler> {
    const { history, matching, namespaces, config } = this.deps;
    const ns = (ctx: HandlerContext) => ctx.namespace.id;
    /** The matching queue a poll waits on: its version's own queue for a versioned worker, which it registers (cached after the first poll). */
    const pollQueueName = async (r: { taskQueue?: { name?: string | null } | null; deploymentOptions?: temporal.api.deployment.v1.IWorkerDeploymentOptions | null; identity?: string | null }, ctx: HandlerContext, type: 'workflow' | 'activity'): Promise<string> => {
      const name = r.taskQueue?.name ?? '';
      const options = r.deploymentOptions;
      if (options?.workerVersioningMode !== temporal.api.enums.v1.WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED) return name;
      const version = { deploymentName: options.deploymentName ?? '', buildId: options.buildId ?? '' };
      await history.registerWorkerDeploymentVersion({ namespaceId: ns(ctx), version, taskQueue: { name, type }, identity: r.identity ?? '' });
      return versionedTaskQueueName(name, version);
    };
    const done = async (work: Promise<unknown>): Promise<object> => {
      await work;
      return {};
    };
    const handlers: Record<string, UnaryHandler> = {
      GetSystemInfo: async () => getSystemInfo(config),

      RegisterNamespace: wsHandler('RegisterNamespaceRequest', async (r, ctx) => {
        const retentionMs = durationToMs(r.workflowExecutionRetentionPeriod) ?? DEFAULT_RETENTION_MS;
        const args = { name: ctx.namespaceName, description: r.description ?? '', ownerEmail: r.ownerEmail ?? '', retentionMs, data: { ...(r.data ?? {}) } };
        const { identity } = this.deps;
        if (!identity || !ctx.principal) return done(namespaces.register({ accountId: '', ...args }));
        const principal = ctx.principal;
        // A namespace of the caller's account, named as Temporal Cloud names them: its rules apply.
        if (accountIdOfNamespaceName(args.name) === principal.accountId) {
          const created = await identity.service.createNamespace(
            { principal, operation: ctx.method },
            { name: shortNameOf(args.name), retentionDays: Math.ceil(retentionMs / DAY_MS), description: args.description },
          );
          namespaces.remember(created.result);
          return {};
        }
        // Unsuffixed names belong to the development account (start-dev's `default` and `-n`).
        if (accountIdOfNamespaceName(args.name) === undefined && principal.accountId === identity.devAccountId()) {
          return done(namespaces.register({ accountId: principal.accountId, ...args }));
        }
        throw new PermissionDeniedError(`RegisterNamespace: namespaces of account ${principal.accountId} are named <name>.${principal.accountId}; ${quote(args.name)} is not`, {
          type: 'PermissionDeniedFailure',
          reason: 'namespace name outside the account',
        });
      }),
      DescribeNamespace: async (_r, ctx) => describeNamespace(ctx.namespace),
      UpdateNamespace: wsHandler('UpdateNamespaceRequest', async (r, ctx) => {
        const retentionMs = durationToMs(r.config?.workflowExecutionRetentionTtl);
        if (retentionMs !== undefined && retentionMs <= 0) throw new InvalidArgumentError('config.workflowExecutionRetentionTtl must be positive');
        // As Temporal: empty strings leave a field unchanged; data entries are merged.
        const info = r.updateInfo;
        const data = info?.data && Object.keys(info.data).length > 0 ? { ...info.data } : undefined;
        const change = {
          ...(info?.description ? { description: info.description } : {}),
          ...(info?.ownerEmail ? { ownerEmail: info.ownerEmail } : {}),
          ...(data ? { data } : {}),
        };
        const all = { ...change, ...(retentionMs !== undefined ? { retentionMs } : {}) };
        // Nothing to change: nothing is written (no new resource version, no audit record).
        if (Object.keys(all).length === 0) return describeNamespace(ctx.namespace);
        return describeNamespace(await this.changeNamespace(ctx, all));
      }),
      DeprecateNamespace: wsHandler('DeprecateNamespaceRequest', async (_r, ctx) => {
        await this.changeNamespace(ctx, { state: 'deprecated' });
        return {};
      }),
      ListNamespaces: wsHandler('ListNamespacesRequest', async (r, ctx) => {
        const token = r.nextPageToken && r.nextPageToken.length > 0 ? Buffer.from(r.nextPageToken).toString('utf8') : undefined;
        const pageSize = r.pageSize && r.pageSize > 0 ? Math.min(r.pageSize, MAX_LIST_PAGE_SIZE) : DEFAULT_LIST_PAGE_SIZE;
        const page = await this.listNamespaces(ctx.principal, ctx.method, pageSize, token);
        return {
          namespaces: page.items.filter((n) => n.state !== 'deleted').map(describeNamespace),
          ...(page.nextPageToken ? { nextPageToken: Buffer.from(page.nextPageToken, 'utf8') } : {}),
        };
      }),

      StartWorkflowExecution: wsHandler('StartWorkflowExecutionRequest', (r, ctx) => history.startWorkflowExecution({ namespaceId: acceptingStarts(ctx), request: r })),
      SignalWithStartWorkflowExecution: wsHandler('SignalWithStartWorkflowExecutionRequest', (r, ctx) =>
        history.signalWithStartWorkflowExecution({ namespaceId: acceptingStarts(ctx), request: r }),
      ),
      SignalWorkflowExecution: wsHandler('SignalWorkflowExecutionRequest', (r, ctx) => done(history.signalWorkflowExecution({ namespaceId: ns(ctx), request: r }))),
      RequestCancelWorkflowExecution: wsHandler('RequestCancelWorkflowExecutionRequest', (r, ctx) =>
        done(history.requestCancelWorkflowExecution({ namespaceId: ns(ctx), request: r })),
      ),
      TerminateWorkflowExecution: wsHandler('TerminateWorkflowExecutionRequest', (r, ctx) => done(history.terminateWorkflowExecution({ namespaceId: ns(ctx), request: r }))),
      ResetWorkflowExecution: wsHandler('ResetWorkflowExecutionRequest', (r, ctx) => history.resetWorkflowExecution({ namespaceId: ns(ctx), request: r })),
      GetWorkflowExecutionHistoryReverse: wsHandler('GetWorkflowExecutionHistoryReverseRequest', (r, ctx) => history.getWorkflowExecutionHistoryReverse({ namespaceId: ns(ctx), request: r })),
      GetWorkflowExecutionHistory: wsHandler('GetWorkflowExecutionHistoryRequest', (r, ctx) => history.getWorkflowExecutionHistory({ namespaceId: ns(ctx), request: r }, ctx)),
      DescribeWorkflowExecution: wsHandler('DescribeWorkflowExecutionRequest', (r, ctx) => history.describeWorkflowExecution({ namespaceId: ns(ctx), request: r })),
      QueryWorkflow: wsHandler('QueryWorkflowRequest', (r, ctx) => history.queryWorkflow({ namespaceId: ns(ctx), request: r }, ctx)),
      ExecuteMultiOperation: wsHandler('ExecuteMultiOperationRequest', (r, ctx) => history.executeMultiOperation({ namespaceId: acceptingStarts(ctx), request: r }, ctx)),
      UpdateWorkflowExecution: wsHandler('UpdateWorkflowExecutionRequest', (r, ctx) => history.updateWorkflowExecution({ namespaceId: ns(ctx), request: r }, ctx)),
      PollWorkflowExecutionUpdate: wsHandler('PollWorkflowExecutionUpdateRequest', (r, ctx) => history.pollWorkflowExecutionUpdate({ namespaceId: ns(ctx), request: r }, ctx)),
      ResetStickyTaskQueue: wsHandler('ResetStickyTaskQueueRequest', (r, ctx) =>
        done(history.resetStickyTaskQueue({ namespaceId: ns(ctx), workflowId: r.execution?.workflowId ?? '', runId: r.execution?.runId ?? '' })),
      ),

      PollWorkflowTaskQueue: wsHandler('PollWorkflowTaskQueueRequest', async (r, ctx) => {
        const kind = r.taskQueue?.kind === temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY ? 'sticky' : 'normal';
        // A sticky queue is one worker's own: only the normal queue is split by version.
        const taskQueueName = kind === 'normal' ? await pollQueueName(r, ctx, 'workflow') : (r.taskQueue?.name ?? '');
        const response = await matching.pollWorkflowTaskQueue({ namespaceId: ns(ctx), namespaceName: ctx.namespace.name, taskQueueName, kind, identity: r.identity ?? '' }, ctx);
        // An empty poll must be the all-default message: core compares it with the default.
        return response ?? {};
      }),
      PollActivityTaskQueue: wsHandler('PollActivityTaskQueueRequest', async (r, ctx) => {
        const taskQueueName = await pollQueueName(r, ctx, 'activity');
        const response = await matching.pollActivityTaskQueue({ namespaceId: ns(ctx), namespaceName: ctx.namespace.name, taskQueueName, kind: 'normal', identity: r.identity ?? '' }, ctx);
        return response ?? {};
      }),
      // Nexus is off (GetSystemInfo says so): the poll is held and answered empty, as for a queue without tasks.
      PollNexusTaskQueue: wsHandler('PollNexusTaskQueueRequest', async (r, ctx) => {
        await matching.pollNexusTaskQueue({ namespaceId: ns(ctx), namespaceName: ctx.namespace.name, taskQueueName: r.taskQueue?.name ?? '', kind: 'normal', identity: r.identity ?? '' }, ctx);
        return {};
      }),
      ShutdownWorker: wsHandler('ShutdownWorkerRequest', async (r, ctx) => {
        // The worker's last heartbeat (status SHUTTING_DOWN) tells ListWorkers it is leaving.
        if (r.workerHeartbeat?.workerInstanceKey) await matching.recordWorkerHeartbeat({ namespaceId: ns(ctx), heartbeats: [r.workerHeartbeat] });
        if (r.stickyTaskQueue) await matching.shutdownStickyQueue({ namespaceId: ns(ctx), stickyQueueName: r.stickyTaskQueue });
        return {};
      }),
      RecordWorkerHeartbeat: wsHandler('RecordWorkerHeartbeatRequest', async (r, ctx) => {
        await matching.recordWorkerHeartbeat({ namespaceId: ns(ctx), heartbeats: r.workerHeartbeat ?? [] });
        return {};
      }),
      ListWorkers: wsHandler('ListWorkersRequest', async (r, ctx) => {
        const filter = compileWorkerQuery(r.query ?? '');
        const pageSize = r.pageSize && r.pageSize > 0 ? Math.min(r.pageSize, MAX_LIST_PAGE_SIZE) : DEFAULT_LIST_PAGE_SIZE;
        const token = r.nextPageToken && r.nextPageToken.length > 0 ? Buffer.from(r.nextPageToken).toString('utf8') : undefined;
        const page = await matching.listWorkers({ namespaceId: ns(ctx), pageSize, ...(token ? { nextPageToken: token } : {}), ...(filter ? { filter } : {}) });
        return {
          workersInfo: page.workers.map((workerHeartbeat) => ({ workerHeartbeat })),
          ...(page.nextPageToken ? { nextPageToken: Buffer.from(page.nextPageToken, 'utf8') } : {}),
        };
      }),
      CountWorkers: wsHandler('CountWorkersRequest', async (r, ctx) => {
        const filter = compileWorkerQuery(r.query ?? '');
        return { count: int64(await matching.countWorkers({ namespaceId: ns(ctx), ...(filter ? { filter } : {}) })) };
      }),
      DescribeWorker: wsHandler('DescribeWorkerRequest', async (r, ctx) => {
        const workerHeartbeat = await matching.describeWorker({ namespaceId: ns(ctx), workerInstanceKey: r.workerInstanceKey ?? '' });
        if (!workerHeartbeat) throw new NotFoundError(`no worker with instance key ${quote(r.workerInstanceKey ?? '')} has sent a heartbeat to namespace ${quote(ctx.namespace.name)} in the last five minutes`);
        return { workerInfo: { workerHeartbeat } };
      }),
      DescribeTaskQueue: wsHandler('DescribeTaskQueueRequest', async (r, ctx) =>
        describeTaskQueue(matching, (namespaceId, taskQueue) => history.taskQueueVersions({ namespaceId, taskQueue }), ns(ctx), r, Date.now()),
      ),
      // Matching's partitions of the queue (by their names: the root is the queue's), all served by this process.
      ListTaskQueuePartitions: wsHandler('ListTaskQueuePartitionsRequest', async (r, ctx) => {
        const name = r.taskQueue?.name ?? '';
        const sticky = r.taskQueue?.kind === temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY;
        const count = sticky ? 1 : (this.deps.settings ?? DEFAULT_SETTINGS).get(MatchingSettings.numTaskQueuePartitions, { namespace: ctx.namespace.name, taskQueue: name });
        const partitions = Array.from({ length: count }, (_, k) => ({ key: taskQueuePartitionName(name, k), ownerHostName: hostname() }));
        return { workflowTaskQueuePartitions: partitions, activityTaskQueuePartitions: sticky ? [] : partitions };
      }),
      GetClusterInfo: async () => getClusterInfo(config, this.deps.cluster),

      RespondWorkflowTaskCompleted: wsHandler('RespondWorkflowTaskCompletedRequest', (r, ctx) =>
        history.respondWorkflowTaskCompleted({ namespaceId: ns(ctx), token: ctx.taskToken as WorkflowTaskToken, request: r }),
      ),
      RespondWorkflowTaskFailed: wsHandler('RespondWorkflowTaskFailedRequest', (r, ctx) =>
        done(history.respondWorkflowTaskFailed({ namespaceId: ns(ctx), token: ctx.taskToken as WorkflowTaskToken, request: r })),
      ),
      RespondQueryTaskCompleted: wsHandler('RespondQueryTaskCompletedRequest', (r, ctx) => {
        const token = ctx.taskToken;
        const query = token.kind === 'query' ? token : undefined;
        return done(history.respondQueryTaskCompleted({ namespaceId: ns(ctx), workflowId: query?.workflowId ?? '', queryId: query?.queryId ?? '', request: r }));
      }),

      RespondActivityTaskCompleted: wsHandler('RespondActivityTaskCompletedRequest', (r, ctx) =>
        done(history.respondActivityTaskCompleted({ target: byToken(ctx), result: r.result ?? null, identity: r.identity ?? '' })),
      ),
      RespondActivityTaskCompletedById: wsHandler('RespondActivityTaskCompletedByIdRequest', (r, ctx) =>
        done(history.respondActivityTaskCompleted({ target: byId(r, ctx), result: r.result ?? null, identity: r.identity ?? '' })),
      ),
      RespondActivityTaskFailed: wsHandler('RespondActivityTaskFailedRequest', (r, ctx) =>
        done(history.respondActivityTaskFailed({ target: byToken(ctx), failure: r.failure ?? {}, identity: r.identity ?? '', lastHeartbeatDetails: r.lastHeartbeatDetails ?? null })),
      ),
      RespondActivityTaskFailedById: wsHandler('RespondActivityTaskFailedByIdRequest', (r, ctx) =>
        done(history.respondActivityTaskFailed({ target: byId(r, ctx), failure: r.failure ?? {}, identity: r.identity ?? '', lastHeartbeatDetails: r.lastHeartbeatDetails ?? null })),
      ),
      RespondActivityTaskCanceled: wsHandler('RespondActivityTaskCanceledRequest', (r, ctx) =>
        done(history.respondActivityTaskCanceled({ target: byToken(ctx), details: r.details ?? null, identity: r.identity ?? '' })),
      ),
      RespondActivityTaskCanceledById: wsHandler('RespondActivityTaskCanceledByIdRequest', (r, ctx) =>
        done(history.respondActivityTaskCanceled({ target: byId(r, ctx), details: r.details ?? null, identity: r.identity ?? '' })),
      ),
      RecordActivityTaskHeartbeat: wsHandler('RecordActivityTaskHeartbeatRequest', (r, ctx) =>
        history.recordActivityTaskHeartbeat({ target: byToken(ctx), details: r.details ?? null, identity: r.identity ?? '' }),
      ),
      RecordActivityTaskHeartbeatById: wsHandler('RecordActivityTaskHeartbeatByIdRequest', (r, ctx) =>
        history.recordActivityTaskHeartbeat({ target: byId(r, ctx), details: r.details ?? null, identity: r.identity ?? '' }),
      ),
      DescribeWorkerDeployment: wsHandler('DescribeWorkerDeploymentRequest', async (r, ctx) => {
        const described = await history.describeWorkerDeployment({ namespaceId: ns(ctx), request: r });
        const info = described.workerDeploymentInfo;
        if (!info?.versionSummaries) return described;
        const versionSummaries = await Promise.all(
          info.versionSummaries.map(async (v) => {
            const withStatus = await this.withDrainage(ctx, { deploymentName: info.name ?? '', buildId: v.deploymentVersion?.buildId ?? '' }, v);
            return withStatus.drainageInfo ? { ...withStatus, drainageStatus: withStatus.drainageInfo.status ?? 0 } : withStatus;
          }),
        );
        return { ...described, workerDeploymentInfo: { ...info, versionSummaries } };
      }),
      UpdateWorkflowExecutionOptions: wsHandler('UpdateWorkflowExecutionOptionsRequest', (r, ctx) => history.updateWorkflowExecutionOptions({ namespaceId: ns(ctx), request: r })),
      ListWorkerDeployments: wsHandler('ListWorkerDeploymentsRequest', (r, ctx) => history.listWorkerDeployments({ namespaceId: ns(ctx), request: r })),
      DescribeWorkerDeploymentVersion: wsHandler('DescribeWorkerDeploymentVersionRequest', async (r, ctx) => {
        const described = await history.describeWorkerDeploymentVersion({ namespaceId: ns(ctx), request: r });
        const info = described.workerDeploymentVersionInfo;
        const version = info?.deploymentVersion;
        if (!info || !version?.deploymentName || !version.buildId) return described;
        return { ...described, workerDeploymentVersionInfo: await this.withDrainage(ctx, { deploymentName: version.deploymentName, buildId: version.buildId }, info) };
      }),
      SetWorkerDeploymentCurrentVersion: wsHandler('SetWorkerDeploymentCurrentVersionRequest', (r, ctx) =>
        history.setWorkerDeploymentCurrentVersion({ namespaceId: ns(ctx), request: r }),
      ),
      SetWorkerDeploymentRampingVersion: wsHandler('SetWorkerDeploymentRampingVersionRequest', (r, ctx) =>
        history.setWorkerDeploymentRampingVersion({ namespaceId: ns(ctx), request: r }),
      ),
      DeleteWorkerDeploymentVersion: wsHandler('DeleteWorkerDeploymentVersionRequest', async (r, ctx) => {
        if (!r.skipDrainage) await this.assertDrained(ctx, r.deploymentVersion?.buildId ? r.deploymentVersion : versionOfString(r.version));
        return done(history.deleteWorkerDeploymentVersion({ namespaceId: ns(ctx), request: r }));
      }),
      DeleteWorkerDeployment: wsHandler('DeleteWorkerDeploymentRequest', (r, ctx) => done(history.deleteWorkerDeployment({ namespaceId: ns(ctx), request: r }))),
      CreateSchedule: wsHandler('CreateScheduleRequest', (r, ctx) => history.createSchedule({ namespaceId: acceptingStarts(ctx), request: r })),
      DescribeSchedule: wsHandler('DescribeScheduleRequest', (r, ctx) => history.describeSchedule({ namespaceId: ns(ctx), request: r })),
      UpdateSchedule: wsHandler('UpdateScheduleRequest', (r, ctx) => done(history.updateSchedule({ namespaceId: ns(ctx), request: r }))),
      PatchSchedule: wsHandler('PatchScheduleRequest', (r, ctx) => done(history.patchSchedule({ namespaceId: ns(ctx), request: r }))),
      DeleteSchedule: wsHandler('DeleteScheduleRequest', (r, ctx) => done(history.deleteSchedule({ namespaceId: ns(ctx), request: r }))),
      ListScheduleMatchingTimes: wsHandler('ListScheduleMatchingTimesRequest', (r, ctx) => history.listScheduleMatchingTimes({ namespaceId: ns(ctx), request: r })),

      StartActivityExecution: wsHandler('StartActivityExecutionRequest', (r, ctx) => history.startActivityExecution({ namespaceId: acceptingStarts(ctx), request: r })),
      DescribeActivityExecution: wsHandler('DescribeActivityExecutionRequest', (r, ctx) => history.describeActivityExecution({ namespaceId: ns(ctx), request: r }, ctx)),
      PollActivityExecution: wsHandler('PollActivityExecutionRequest', (r, ctx) => history.pollActivityExecution({ namespaceId: ns(ctx), request: r }, ctx)),
      RequestCancelActivityExecution: wsHandler('RequestCancelActivityExecutionRequest', (r, ctx) => done(history.requestCancelActivityExecution({ namespaceId: ns(ctx), request: r }))),
      TerminateActivityExecution: wsHandler('TerminateActivityExecutionRequest', (r, ctx) => done(history.terminateActivityExecution({ namespaceId: ns(ctx), request: r }))),
      DeleteActivityExecution: wsHandler('DeleteActivityExecutionRequest', (r, ctx) => done(history.deleteActivityExecution({ namespaceId: ns(ctx), request: r }))),
    };
    const { visibility } = this.deps;
    if (visibility) {
      // A namespace's schedules are indexed in a visibility namespace of their own (see @hourglass/history's scheduler).
      const schedulesOf = (ctx: HandlerContext) => ({ ...ctx.namespace, id: scheduleNamespaceId(ctx.namespace.id) });
      handlers.ListSchedules = wsHandler('ListSchedulesRequest', async (r, ctx) => {
        const page = await visibility.list(schedulesOf(ctx), { query: r.query ?? '', pageSize: r.maximumPageSize ?? 0, nextPageToken: r.nextPageToken ?? null });
        return { schedules: page.executions.map(scheduleListEntry), nextPageToken: page.nextPageToken };
      });
      handlers.CountSchedules = wsHandler('CountSchedulesRequest', (r, ctx) => visibility.count(schedulesOf(ctx), r.query));
      // Standalone activities too, with ActivityId and ActivityType queryable (see @hourglass/history's standalone-activity).
      const activitiesOf = (ctx: HandlerContext) => ({
        ...ctx.namespace,
        id: activityNamespaceId(ctx.namespace.id),
        searchAttributes: { ...(ctx.namespace.searchAttributes ?? {}), ...ACTIVITY_SEARCH_ATTRIBUTES },
      });
      handlers.ListActivityExecutions = wsHandler('ListActivityExecutionsRequest', async (r, ctx) => {
        const page = await visibility.list(activitiesOf(ctx), { query: r.query ?? '', pageSize: r.pageSize ?? 0, nextPageToken: r.nextPageToken ?? null });
        return { executions: page.executions.map(activityListEntry), nextPageToken: page.nextPageToken };
      });
      handlers.CountActivityExecutions = wsHandler('CountActivityExecutionsRequest', (r, ctx) => visibility.count(activitiesOf(ctx), r.query));
      handlers.ListWorkflowExecutions = wsHandler('ListWorkflowExecutionsRequest', (r, ctx) => visibility.list(ctx.namespace, r));
      handlers.ScanWorkflowExecutions = wsHandler('ScanWorkflowExecutionsRequest', (r, ctx) => visibility.list(ctx.namespace, r));
      handlers.CountWorkflowExecutions = wsHandler('CountWorkflowExecutionsRequest', (r, ctx) => visibility.count(ctx.namespace, r.query));
      handlers.ListOpenWorkflowExecutions = wsHandler('ListOpenWorkflowExecutionsRequest', (r, ctx) => visibility.listLegacy(ctx.namespace, true, r));
      handlers.ListClosedWorkflowExecutions = wsHandler('ListClosedWorkflowExecutionsRequest', (r, ctx) => visibility.listLegacy(ctx.namespace, false, r));
    }
    // Cluster-wide: no namespace, so only the attributes every namespace has (custom ones are per namespace: ListSearchAttributes).
    handlers.GetSearchAttributes = async () => ({ keys: builtInSearchAttributes() });
    handlers.StartBatchOperation = wsHandler('StartBatchOperationRequest', async (r, ctx) => {
      // The job is a workflow run in the namespace (as in Temporal): a deprecated namespace starts none.
      await history.startBatchOperation({ namespaceId: acceptingStarts(ctx), request: r });
      return {};
    });
    handlers.StopBatchOperation = wsHandler('StopBatchOperationRequest', async (r, ctx) => {
      await history.stopBatchOperation({ namespaceId: ns(ctx), request: r });
      return {};
    });
    handlers.DescribeBatchOperation = wsHandler('DescribeBatchOperationRequest', (r, ctx) => history.describeBatchOperation({ namespaceId: ns(ctx), request: r }));
    if (visibility) {
      handlers.ListBatchOperations = wsHandler('ListBatchOperationsRequest', async (r, ctx) => {
        // Temporal's: the namespace's job runs, newest first, by their namespace division.
        const page = await visibility.list(ctx.namespace, { query: BATCH_LIST_QUERY, pageSize: r.pageSize ?? 0, nextPageToken: r.nextPageToken ?? null });
        return {
          operationInfo: page.executions.map((e) => ({
            jobId: e.execution?.workflowId ?? '',
            state: batchStateOf(e.status),
            ...(e.startTime ? { startTime: e.startTime } : {}),
            ...(e.closeTime ? { closeTime: e.closeTime } : {}),
            operationType: operationTypeOfMemo(e.memo),
          })),
          nextPageToken: page.nextPageToken,
        };
      });
    }
    handlers.DeleteWorkflowExecution = wsHandler('DeleteWorkflowExecutionRequest', (r, ctx) => done(history.deleteWorkflowExecution({ namespaceId: ns(ctx), request: r })));
    return handlers;
  }
}

/** Clients and versions as Temporal's frontend reports them; the rest describes this deployment. */
function getClusterInfo(config: FrontendConfig, cluster: ClusterInfo | undefined): temporal.api.workflowservice.v1.IGetClusterInfoResponse {
  return {
    supportedClients: { 'temporal-cli': '>=0.1.0', 'temporal-go': '>=1.0.0', 'temporal-java': '>=1.0.0', 'temporal-typescript': '>=1.0.0', 'temporal-server': '>=1.0.0' },
    serverVersion: config.serverVersion,
    clusterId: cluster?.clusterId ?? '',
    clusterName: cluster?.clusterName ?? CLUSTER_NAME,
    historyShardCount: cluster?.historyShardCount ?? 0,
    persistenceStore: cluster?.persistenceStore ?? '',
    visibilityStore: cluster?.visibilityStore ?? '',
    versionInfo: { current: { version: config.serverVersion } },
  };
}

function getSystemInfo(config: FrontendConfig): temporal.api.workflowservice.v1.IGetSystemInfoResponse {
  return {
    serverVersion: config.serverVersion,
    capabilities: {
      signalAndQueryHeader: true,
      internalErrorDifferentiation: true,
      activityFailureIncludeHeartbeat: true,
      encodedFailureAttributes: true,
      upsertMemo: true,
      // WorkflowTaskCompleted events keep the worker's sdk_metadata verbatim, so core may rely on its flags.
      sdkMetadata: true,
      // StartWorkflowExecution.request_eager_execution is honoured (per namespace: history.enableEagerWorkflowStart).
      eagerWorkflowStart: true,
      // No Nexus endpoints, tasks or operations: workers poll Nexus queues in vain and
      // ScheduleNexusOperation commands fail their workflow task with FEATURE_DISABLED.
      nexus: false,
    },
  };
}

/** A standalone activity's visibility row as ListActivityExecutions answers it. */
function activityListEntry(e: temporal.api.workflow.v1.IWorkflowExecutionInfo): temporal.api.activity.v1.IActivityExecutionListInfo {
  const attributes = { ...(e.searchAttributes?.indexedFields ?? {}) };
  for (const name of Object.keys(ACTIVITY_SEARCH_ATTRIBUTES)) delete attributes[name];
  return {
    activityId: e.execution?.workflowId ?? '',
    runId: e.execution?.runId ?? '',
    activityType: { name: e.type?.name ?? '' },
    ...(e.startTime ? { scheduleTime: e.startTime } : {}),
    ...(e.closeTime ? { closeTime: e.closeTime } : {}),
    status: activityStatusOfWorkflowStatus(e.status),
    searchAttributes: { indexedFields: attributes },
    taskQueue: e.taskQueue ?? '',
    stateTransitionCount: e.stateTransitionCount ?? int64(0),
    ...(e.executionDuration ? { executionDuration: e.executionDuration } : {}),
    ...(e.executionTime ? { executionTime: e.executionTime } : {}),
  };
}

/** A schedule's visibility row as ListSchedules answers it: its ScheduleListInfo travels in a memo field of its own. */
function scheduleListEntry(e: temporal.api.workflow.v1.IWorkflowExecutionInfo): temporal.api.schedule.v1.IScheduleListEntry {
  const fields = { ...(e.memo?.fields ?? {}) };
  const infoPayload = fields[SCHEDULE_INFO_MEMO_FIELD];
  delete fields[SCHEDULE_INFO_MEMO_FIELD];
  const attributes = { ...(e.searchAttributes?.indexedFields ?? {}) };
  delete attributes.TemporalSchedulePaused;
  return {
    scheduleId: e.execution?.workflowId ?? '',
    memo: { fields },
    searchAttributes: { indexedFields: attributes },
    info: infoPayload?.data ? temporal.api.schedule.v1.ScheduleListInfo.decode(infoPayload.data) : null,
  };
}
