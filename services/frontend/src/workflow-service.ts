/**
 * The WorkflowService RPCs Hourglass implements: validate at the edge, resolve the namespace
 * (tenant), then route to history (executions) or matching (task queues). Methods not listed in
 * `handlers()` answer UNIMPLEMENTED with their name (see frontend-server.ts).
 */
import {
  InvalidArgumentError,
  durationToMs,
  temporal,
} from '@hourglass/common';
import { decodeTaskToken, type ActivityTarget, type HistoryService, type MatchingService, type TaskToken } from '@hourglass/contracts';
import type { NamespaceRegistry } from '@hourglass/history';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { CallContext } from './call-context';
import type { FrontendConfig } from './config';
import { describeNamespace } from './namespace-views';
import { RequestValidator } from './validation';

const ws = temporal.api.workflowservice.v1;
/** The request interface type of a workflowservice message, e.g. Req<'StartWorkflowExecutionRequest'>. */
type Req<K extends keyof typeof ws> = (typeof ws)[K] extends { encode(message: infer M, ...rest: never[]): unknown } ? M : never;

export type UnaryHandler = (request: any, call: CallContext) => Promise<unknown>;

const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;
const NAMESPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

export interface WorkflowServiceDeps {
  config: FrontendConfig;
  history: HistoryService;
  matching: MatchingService;
  namespaces: NamespaceRegistry;
}

export class WorkflowService {
  private readonly validate: RequestValidator;

  constructor(private readonly deps: WorkflowServiceDeps) {
    this.validate = new RequestValidator(deps.config);
  }

  /** RPC name → handler. */
  handlers(): Record<string, UnaryHandler> {
    return {
      GetSystemInfo: async () => this.getSystemInfo(),
      RegisterNamespace: (r: Req<'RegisterNamespaceRequest'>) => this.registerNamespace(r),
      DescribeNamespace: (r: Req<'DescribeNamespaceRequest'>) => this.describeNamespace(r),
      ListNamespaces: (r: Req<'ListNamespacesRequest'>) => this.listNamespaces(r),
      StartWorkflowExecution: (r: Req<'StartWorkflowExecutionRequest'>) => this.startWorkflowExecution(r),
      SignalWithStartWorkflowExecution: (r: Req<'SignalWithStartWorkflowExecutionRequest'>) => this.signalWithStartWorkflowExecution(r),
      SignalWorkflowExecution: (r: Req<'SignalWorkflowExecutionRequest'>) => this.signalWorkflowExecution(r),
      RequestCancelWorkflowExecution: (r: Req<'RequestCancelWorkflowExecutionRequest'>) => this.requestCancelWorkflowExecution(r),
      PollWorkflowTaskQueue: (r: Req<'PollWorkflowTaskQueueRequest'>, c) => this.pollWorkflowTaskQueue(r, c),
      RespondWorkflowTaskCompleted: (r: Req<'RespondWorkflowTaskCompletedRequest'>) => this.respondWorkflowTaskCompleted(r),
      RespondWorkflowTaskFailed: (r: Req<'RespondWorkflowTaskFailedRequest'>) => this.respondWorkflowTaskFailed(r),
      PollActivityTaskQueue: (r: Req<'PollActivityTaskQueueRequest'>, c) => this.pollActivityTaskQueue(r, c),
      RespondActivityTaskCompleted: (r: Req<'RespondActivityTaskCompletedRequest'>) => this.respondActivityTaskCompleted(r),
      RespondActivityTaskCompletedById: (r: Req<'RespondActivityTaskCompletedByIdRequest'>) => this.respondActivityTaskCompletedById(r),
      RespondActivityTaskFailed: (r: Req<'RespondActivityTaskFailedRequest'>) => this.respondActivityTaskFailed(r),
      RespondActivityTaskFailedById: (r: Req<'RespondActivityTaskFailedByIdRequest'>) => this.respondActivityTaskFailedById(r),
      RespondActivityTaskCanceled: (r: Req<'RespondActivityTaskCanceledRequest'>) => this.respondActivityTaskCanceled(r),
      RespondActivityTaskCanceledById: (r: Req<'RespondActivityTaskCanceledByIdRequest'>) => this.respondActivityTaskCanceledById(r),
      RecordActivityTaskHeartbeat: (r: Req<'RecordActivityTaskHeartbeatRequest'>) => this.recordActivityTaskHeartbeat(r),
      RecordActivityTaskHeartbeatById: (r: Req<'RecordActivityTaskHeartbeatByIdRequest'>) => this.recordActivityTaskHeartbeatById(r),
      GetWorkflowExecutionHistory: (r: Req<'GetWorkflowExecutionHistoryRequest'>, c) => this.getWorkflowExecutionHistory(r, c),
      DescribeWorkflowExecution: (r: Req<'DescribeWorkflowExecutionRequest'>) => this.describeWorkflowExecution(r),
      TerminateWorkflowExecution: (r: Req<'TerminateWorkflowExecutionRequest'>) => this.terminateWorkflowExecution(r),
      ShutdownWorker: (r: Req<'ShutdownWorkerRequest'>) => this.shutdownWorker(r),
      ResetStickyTaskQueue: (r: Req<'ResetStickyTaskQueueRequest'>) => this.resetStickyTaskQueue(r),
      QueryWorkflow: (r: Req<'QueryWorkflowRequest'>, c) => this.queryWorkflow(r, c),
      ResetWorkflowExecution: (r: Req<'ResetWorkflowExecutionRequest'>) => this.resetWorkflowExecution(r),
      UpdateWorkflowExecution: (r: Req<'UpdateWorkflowExecutionRequest'>, c) => this.updateWorkflowExecution(r, c),
      PollWorkflowExecutionUpdate: (r: Req<'PollWorkflowExecutionUpdateRequest'>, c) => this.pollWorkflowExecutionUpdate(r, c),
      RespondQueryTaskCompleted: (r: Req<'RespondQueryTaskCompletedRequest'>) => this.respondQueryTaskCompleted(r),
    };
  }

  private getSystemInfo(): temporal.api.workflowservice.v1.IGetSystemInfoResponse {
    return {
      serverVersion: this.deps.config.serverVersion,
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: true,
        activityFailureIncludeHeartbeat: true,
        encodedFailureAttributes: true,
        upsertMemo: true,
        // WorkflowTaskCompleted events keep the worker's sdk_metadata verbatim, so core may rely on its flags.
        sdkMetadata: true,
      },
    };
  }

  private async namespace(name: string | null | undefined): Promise<NamespaceRecord> {
    return this.deps.namespaces.getByName(this.validate.namespace(name));
  }

  private async registerNamespace(r: Req<'RegisterNamespaceRequest'>): Promise<object> {
    const name = this.validate.namespace(r.namespace);
    if (!NAMESPACE_NAME.test(name)) {
      throw new InvalidArgumentError(`namespace name ${JSON.stringify(name)} is invalid: start with a letter or digit, then letters, digits, '.', '_' or '-'`);
    }
    const retentionMs = durationToMs(r.workflowExecutionRetentionPeriod) ?? DEFAULT_RETENTION_MS;
    if (retentionMs <= 0) throw new InvalidArgumentError('workflowExecutionRetentionPeriod must be positive');
    await this.deps.namespaces.register({
      name,
      description: r.description ?? '',
      ownerEmail: r.ownerEmail ?? '',
      retentionMs,
      data: { ...(r.data ?? {}) },
    });
    return {};
  }

  private async describeNamespace(r: Req<'DescribeNamespaceRequest'>) {
    if (r.id) return describeNamespace(await this.deps.namespaces.getById(r.id));
    return describeNamespace(await this.namespace(r.namespace));
  }

  private async listNamespaces(r: Req<'ListNamespacesRequest'>) {
    const token = r.nextPageToken && r.nextPageToken.length > 0 ? Buffer.from(r.nextPageToken).toString('utf8') : undefined;
    const page = await this.deps.namespaces.list(r.pageSize && r.pageSize > 0 ? Math.min(r.pageSize, 1000) : 100, token);
    return {
      namespaces: page.items.filter((ns) => ns.state !== 'deleted').map(describeNamespace),
      ...(page.nextPageToken ? { nextPageToken: Buffer.from(page.nextPageToken, 'utf8') } : {}),
    };
  }

  /** The checks StartWorkflowExecution and SignalWithStartWorkflowExecution share. */
  private validateStart(r: Req<'StartWorkflowExecutionRequest'> | Req<'SignalWithStartWorkflowExecutionRequest'>): void {
    this.validate.id(r.workflowId, 'workflowId');
    this.validate.id(r.workflowType?.name, 'workflowType.name');
    this.validate.id(r.taskQueue?.name, 'taskQueue.name');
    this.validate.requestId(r.requestId);
    this.validate.payloads(r.input, 'input');
    this.validate.memo(r.memo, 'memo');
    this.validate.searchAttributes(r.searchAttributes, 'searchAttributes');
    this.validate.header(r.header, 'header');
  }

  private async startWorkflowExecution(r: Req<'StartWorkflowExecutionRequest'>) {
    const ns = await this.namespace(r.namespace);
    this.validateStart(r);
    return this.deps.history.startWorkflowExecution({ namespaceId: ns.id, request: r });
  }

  private async signalWithStartWorkflowExecution(r: Req<'SignalWithStartWorkflowExecutionRequest'>) {
    const ns = await this.namespace(r.namespace);
    this.validateStart(r);
    this.validate.id(r.signalName, 'signalName');
    this.validate.payloads(r.signalInput, 'signalInput');
    return this.deps.history.signalWithStartWorkflowExecution({ namespaceId: ns.id, request: r });
  }

  private async signalWorkflowExecution(r: Req<'SignalWorkflowExecutionRequest'>) {
    const ns = await this.namespace(r.namespace);
    this.validate.id(r.workflowExecution?.workflowId, 'workflowExecution.workflowId');
    this.validate.id(r.signalName, 'signalName');
    this.validate.requestId(r.requestId);
    this.validate.payloads(r.input, 'input');
    this.validate.header(r.header, 'header');
    await this.deps.history.signalWorkflowExecution({ namespaceId: ns.id, request: r });
    return {};
  }

  private async requestCancelWorkflowExecution(r: Req<'RequestCancelWorkflowExecutionRequest'>) {
    const ns = await this.namespace(r.namespace);
    this.validate.id(r.workflowExecution?.workflowId, 'workflowExecution.workflowId');
    this.validate.requestId(r.requestId);
    await this.deps.history.requestCancelWorkflowExecution({ namespaceId: ns.id, request: r });
    return {};
  }

  private async pollWorkflowTaskQueue(r: Req<'PollWorkflowTaskQueueRequest'>, call: CallContext) {
    const ns = await this.namespace(r.namespace);
    const name = this.validate.id(r.taskQueue?.name, 'taskQueue.name');
    const kind = r.taskQueue?.kind === temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY ? 'sticky' : 'normal';
    const response = await this.deps.matching.pollWorkflowTaskQueue({ namespaceId: ns.id, namespaceName: ns.name, taskQueueName: name, kind, identity: r.identity ?? '' }, call);
    // An empty poll must be the all-default message: core compares it with the default.
    return response ?? {};
  }

  private async pollActivityTaskQueue(r: Req<'PollActivityTaskQueueRequest'>, call: CallContext) {
    const ns = await this.namespace(r.namespace);
    const name = this.validate.id(r.taskQueue?.name, 'taskQueue.name');
    const response = await this.deps.matching.pollActivityTaskQueue({ namespaceId: ns.id, namespaceName: ns.name, taskQueueName: name, kind: 'normal', identity: r.identity ?? '' }, call);
    return response ?? {};
  }

  /** Decodes a token and checks it belongs to the request's namespace (a tenant never touches another's tasks). */
  private token(bytes: Uint8Array | null | undefined, ns: NamespaceRecord): TaskToken {
    const token = decodeTaskToken(bytes);
    if (token.namespaceId !== ns.id) throw new InvalidArgumentError(`task token does not belong to namespace ${ns.name}`);
    return token;
  }

  private async respondWorkflowTaskCompleted(r: Req<'RespondWorkflowTaskCompletedRequest'>) {
    const ns = await this.namespace(r.namespace);
    const token = this.token(r.taskToken, ns);
    if (token.kind !== 'workflow') throw new InvalidArgumentError('task token is for an activity, not a workflow task');
    return this.deps.history.respondWorkflowTaskCompleted({ namespaceId: ns.id, token, request: r });
  }

  private async respondWorkflowTaskFailed(r: Req<'RespondWorkflowTaskFailedRequest'>) {
    const ns = await this.namespace(r.namespace);
    const token = this.token(r.taskToken, ns);
    if (token.kind !== 'workflow') throw new InvalidArgumentError('task token is for an activity, not a workflow task');
    this.validate.failure(r.failure, 'failure');
    await this.deps.history.respondWorkflowTaskFailed({ namespaceId: ns.id, token, request: r });
    return {};
  }

  private async activityTarget(nsName: string | null | undefined, taskToken: Uint8Array | null | undefined): Promise<ActivityTarget> {
    const ns = await this.namespace(nsName);
    const token = this.token(taskToken, ns);
    if (token.kind !== 'activity') throw new InvalidArgumentError('task token is for a workflow task, not an activity');
    return { by: 'token', token };
  }

  private async activityTargetById(r: { namespace?: string | null; workflowId?: string | null; runId?: string | null; activityId?: string | null }): Promise<ActivityTarget> {
    const ns = await this.namespace(r.namespace);
    return {
      by: 'id',
      namespaceId: ns.id,
      workflowId: this.validate.id(r.workflowId, 'workflowId'),
      runId: r.runId ?? '',
      activityId: this.validate.id(r.activityId, 'activityId'),
    };
  }

  private async respondActivityTaskCompleted(r: Req<'RespondActivityTaskCompletedRequest'>) {
    const target = await this.activityTarget(r.namespace, r.taskToken);
    this.validate.payloads(r.result, 'result');
    await this.deps.history.respondActivityTaskCompleted({ target, result: r.result ?? null, identity: r.identity ?? '' });
    return {};
  }

  private async respondActivityTaskCompletedById(r: Req<'RespondActivityTaskCompletedByIdRequest'>) {
    const target = await this.activityTargetById(r);
    this.validate.payloads(r.result, 'result');
    await this.deps.history.respondActivityTaskCompleted({ target, result: r.result ?? null, identity: r.identity ?? '' });
    return {};
  }

  private async respondActivityTaskFailed(r: Req<'RespondActivityTaskFailedRequest'>) {
    const target = await this.activityTarget(r.namespace, r.taskToken);
    this.checkFailure(r.failure, r.lastHeartbeatDetails);
    await this.deps.history.respondActivityTaskFailed({ target, failure: r.failure ?? {}, identity: r.identity ?? '', lastHeartbeatDetails: r.lastHeartbeatDetails ?? null });
    return {};
  }

  private async respondActivityTaskFailedById(r: Req<'RespondActivityTaskFailedByIdRequest'>) {
    const target = await this.activityTargetById(r);
    this.checkFailure(r.failure, r.lastHeartbeatDetails);
    await this.deps.history.respondActivityTaskFailed({ target, failure: r.failure ?? {}, identity: r.identity ?? '', lastHeartbeatDetails: r.lastHeartbeatDetails ?? null });
    return {};
  }

  private checkFailure(failure: temporal.api.failure.v1.IFailure | null | undefined, details: temporal.api.common.v1.IPayloads | null | undefined): void {
    if (!failure) throw new InvalidArgumentError('failure is not set');
    this.validate.failure(failure, 'failure');
    this.validate.payloads(details, 'lastHeartbeatDetails');
  }

  private async respondActivityTaskCanceled(r: Req<'RespondActivityTaskCanceledRequest'>) {
    const target = await this.activityTarget(r.namespace, r.taskToken);
    this.validate.payloads(r.details, 'details');
    await this.deps.history.respondActivityTaskCanceled({ target, details: r.details ?? null, identity: r.identity ?? '' });
    return {};
  }

  private async respondActivityTaskCanceledById(r: Req<'RespondActivityTaskCanceledByIdRequest'>) {
    const target = await this.activityTargetById(r);
    this.validate.payloads(r.details, 'details');
    await this.deps.history.respondActivityTaskCanceled({ target, details: r.details ?? null, identity: r.identity ?? '' });
    return {};
  }

  private async recordActivityTaskHeartbeat(r: Req<'RecordActivityTaskHeartbeatRequest'>) {
    const target = await this.activityTarget(r.namespace, r.taskToken);
    this.validate.payloads(r.details, 'details');
    return this.deps.history.recordActivityTaskHeartbeat({ target, details: r.details ?? null, identity: r.identity ?? '' });
  }

  private async recordActivityTaskHeartbeatById(r: Req<'RecordActivityTaskHeartbeatByIdRequest'>) {
    const target = await this.activityTargetById(r);
    this.validate.payloads(r.details, 'details');
    return this.deps.history.recordActivityTaskHeartbeat({ target, details: r.details ?? null, identity: r.identity ?? '' });
  }

  private async getWorkflowExecutionHistory(r: Req<'GetWorkflowExecutionHistoryRequest'>, call: CallContext) {
    const ns = await this.namespace(r.namespace);
    this.validate.id(r.execution?.workflowId, 'execution.workflowId');
    return this.deps.history.getWorkflowExecutionHistory({ namespaceId: ns.id, request: r }, call);
  }

  private async describeWorkflowExecution(r: Req<'DescribeWorkflowExecutionRequest'>) {
    const ns = await this.namespace(r.namespace);
    this.validate.id(r.execution?.workflowId, 'execution.workflowId');
    return this.deps.history.describeWorkflowExecution({ namespaceId: ns.id, request: r });
  }

  private async terminateWorkflowExecution(r: Req<'TerminateWorkflowExecutionRequest'>) {
    const ns = await this.namespace(r.namespace);
    this.validate.id(r.workflowExecution?.workflowId, 'workflowExecution.workflowId');
    this.validate.payloads(r.details, 'details');
    await this.deps.history.terminateWorkflowExecution({ namespaceId: ns.id, request: r });
    return {};
  }

  private async queryWorkflow(r: Req<'QueryWorkflowRequest'>, call: CallContext) {
    const ns = await this.namespace(r.namespace);
    this.validate.id(r.execution?.workflowId, 'execution.workflowId');
    this.validate.id(r.query?.queryType, 'query.queryType');
    this.validate.payloads(r.query?.queryArgs, 'query.queryArgs');
    return this.deps.history.queryWorkflow({ namespaceId: ns.id, request: r }, call);
  }

  private async resetWorkflowExecution(r: Req<'ResetWorkflowExecutionRequest'>) {
    const ns = await this.namespace(r.namespace);
    this.validate.id(r.workflowExecution?.workflowId, 'workflowExecution.workflowId');
    this.validate.requestId(r.requestId);
    return this.deps.history.resetWorkflowExecution({ namespaceId: ns.id, request: r });
  }

  private async updateWorkflowExecution(r: Req<'UpdateWorkflowExecutionRequest'>, call: CallContext) {
    const ns = await this.namespace(r.namespace);
    this.validate.id(r.workflowExecution?.workflowId, 'workflowExecution.workflowId');
    this.validate.id(r.request?.meta?.updateId, 'request.meta.updateId');
    this.validate.id(r.request?.input?.name, 'request.input.name');
    this.validate.payloads(r.request?.input?.args, 'request.input.args');
    this.validate.header(r.request?.input?.header, 'request.input.header');
    return this.deps.history.updateWorkflowExecution({ namespaceId: ns.id, request: r }, call);
  }

  private async pollWorkflowExecutionUpdate(r: Req<'PollWorkflowExecutionUpdateRequest'>, call: CallContext) {
    const ns = await this.namespace(r.namespace);
    this.validate.id(r.updateRef?.workflowExecution?.workflowId, 'updateRef.workflowExecution.workflowId');
    this.validate.id(r.updateRef?.updateId, 'updateRef.updateId');
    return this.deps.history.pollWorkflowExecutionUpdate({ namespaceId: ns.id, request: r }, call);
  }

  private async respondQueryTaskCompleted(r: Req<'RespondQueryTaskCompletedRequest'>) {
    const ns = await this.namespace(r.namespace);
    const token = this.token(r.taskToken, ns);
    if (token.kind !== 'query') throw new InvalidArgumentError('task token is not a query task token');
    this.validate.payloads(r.queryResult, 'queryResult');
    await this.deps.history.respondQueryTaskCompleted({ namespaceId: ns.id, queryId: token.queryId, request: r });
    return {};
  }

  private async resetStickyTaskQueue(r: Req<'ResetStickyTaskQueueRequest'>) {
    const ns = await this.namespace(r.namespace);
    const workflowId = this.validate.id(r.execution?.workflowId, 'execution.workflowId');
    await this.deps.history.resetStickyTaskQueue({ namespaceId: ns.id, workflowId, runId: r.execution?.runId ?? '' });
    return {};
  }

  private async shutdownWorker(r: Req<'ShutdownWorkerRequest'>) {
    const ns = await this.namespace(r.namespace);
    if (r.stickyTaskQueue) await this.deps.matching.shutdownStickyQueue({ namespaceId: ns.id, stickyQueueName: r.stickyTaskQueue });
    return {};
  }
}

