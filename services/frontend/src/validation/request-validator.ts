/**
 * Input validation at the edge, run by the chain after the namespace is resolved and before the
 * handler: the generic shape checks of request-shape.ts for every method, then the rules of the
 * method (required fields, policy pairs, task tokens) from METHOD_RULES. Every failure is
 * INVALID_ARGUMENT naming the field; caller values are quoted with quote() (at most ~100 characters
 * and their length).
 */
import {
  FailedPreconditionError,
  InvalidArgumentError,
  Limits,
  MultiOperationExecutionError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  durationToMs,
  quote,
  temporal,
  type Settings,
} from '@hourglass/common';
import { decodeTaskToken, type TaskToken } from '@hourglass/contracts';
import type { NamespaceRecord } from '@hourglass/persistence';
import { requestTypeOf } from '../grpc/service-definition';
import { OPERATOR_SERVICE, TEST_SERVICE, WORKFLOW_SERVICE } from '../method-table';
import { validateNamespaceName } from './namespace-name';
import { checkId, checkRequestShape, type ShapeLimits } from './request-shape';

/** What validation learned that the handler needs: the decoded task token of token-addressed calls. */
export interface Validated {
  taskToken?: TaskToken;
}

interface RuleContext {
  namespace: NamespaceRecord | undefined;
  limits: ShapeLimits;
}

type Rule = (request: any, context: RuleContext) => Validated | void;

/** Top-level fields the generic checks leave alone, per method. */
const SKIP_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  // History validates commands and protocol messages itself and fails the workflow task with the
  // precise cause (BAD_*_ATTRIBUTES…); refusing the RPC instead would leave the task to time out.
  RespondWorkflowTaskCompleted: new Set(['commands', 'messages']),
};

export class RequestValidator {
  constructor(private readonly settings: Settings) {}

  /** The limits that apply in a namespace (or globally for cluster-scoped calls). */
  limits(namespaceName: string | undefined): ShapeLimits {
    const scope = namespaceName ? { namespace: namespaceName } : {};
    return {
      maxIdBytes: this.settings.get(Limits.maxIdLength, scope),
      blobBytes: this.settings.get(Limits.blobSizeError, scope),
      memoBytes: this.settings.get(Limits.memoSizeError, scope),
      transactionBytes: this.settings.get(Limits.transactionSize, scope),
    };
  }

  /** Throws InvalidArgumentError for the first problem; returns what the handler may reuse. */
  validate(service: string, method: string, request: unknown, namespace: NamespaceRecord | undefined, namespaceName?: string): Validated {
    const limits = this.limits(namespace?.name ?? namespaceName);
    const type = requestTypeOf(service, method);
    if (type) checkRequestShape(type, request, limits, { ...(SKIP_FIELDS[method] ? { skipFields: SKIP_FIELDS[method] } : {}) });
    const rule = METHOD_RULES[service]?.[method];
    return (rule?.(request ?? {}, { namespace, limits }) ?? {}) as Validated;
  }
}

// --- Rules ---------------------------------------------------------------------------------------

/** A required string: present and non-empty (lengths are checked generically). */
export function required(value: string | null | undefined, path: string): string {
  if (!value) throw new InvalidArgumentError(`${path} is not set`);
  return value;
}

const reuseName = (v: number): string => WorkflowIdReusePolicy[v] ?? String(v);
const conflictName = (v: number): string => WorkflowIdConflictPolicy[v] ?? String(v);

/**
 * The workflow id policy pairs Temporal refuses: the deprecated TERMINATE_IF_RUNNING already says
 * what to do with a running workflow, so it takes no conflict policy; REJECT_DUPLICATE forbids a new
 * run while TERMINATE_EXISTING would start one over the running run.
 */
export function checkIdPolicies(reuse: number, conflict: number): void {
  if (reuse === WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING && conflict !== WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED) {
    throw new InvalidArgumentError(
      `workflowIdReusePolicy ${reuseName(reuse)} cannot be combined with workflowIdConflictPolicy ${conflictName(conflict)}: use WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING instead`,
    );
  }
  if (reuse === WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE && conflict === WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING) {
    throw new InvalidArgumentError(`workflowIdReusePolicy ${reuseName(reuse)} cannot be combined with workflowIdConflictPolicy ${conflictName(conflict)}`);
  }
}

type StartLike = temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest | temporal.api.workflowservice.v1.ISignalWithStartWorkflowExecutionRequest;

function checkStart(r: StartLike): void {
  required(r.workflowId, 'workflowId');
  required(r.workflowType?.name, 'workflowType.name');
  required(r.taskQueue?.name, 'taskQueue.name');
  checkIdPolicies(r.workflowIdReusePolicy ?? 0, r.workflowIdConflictPolicy ?? 0);
}

/**
 * Decodes a task token and checks it names this namespace, the expected kind of task and ids within
 * the limits (a forged token must not smuggle a 3 MB workflow id past the id checks).
 */
function checkTaskToken(bytes: Uint8Array | null | undefined, kind: TaskToken['kind'], context: RuleContext): Validated {
  const token = decodeTaskToken(bytes);
  const max = context.limits.maxIdBytes;
  checkId(token.workflowId, 'taskToken.workflowId', max);
  checkId(token.runId, 'taskToken.runId', max);
  if (token.kind === 'activity') checkId(token.activityId, 'taskToken.activityId', max);
  if (token.kind === 'query') checkId(token.queryId, 'taskToken.queryId', max);
  const ns = context.namespace;
  if (ns && token.namespaceId !== ns.id) throw new InvalidArgumentError(`task token does not belong to namespace ${quote(ns.name)}`);
  if (token.kind !== kind) throw new InvalidArgumentError(`task token is for ${describeKind(token.kind)}, not ${describeKind(kind)}`);
  return { taskToken: token };
}

function describeKind(kind: TaskToken['kind']): string {
  return kind === 'workflow' ? 'a workflow task' : kind === 'activity' ? 'an activity task' : 'a query task';
}

const workflowTaskToken: Rule = (r, c) => checkTaskToken(r.taskToken, 'workflow', c);
const activityTaskToken: Rule = (r, c) => checkTaskToken(r.taskToken, 'activity', c);
/** By id: a workflow's activity, or with an empty workflowId a standalone activity (as Temporal's ById requests say). */
const activityById = (r: { workflowId?: string | null; activityId?: string | null }): void => {
  required(r.activityId, 'activityId');
};
const failureRequired = (r: { failure?: unknown }): void => {
  if (!r.failure) throw new InvalidArgumentError('failure is not set');
};
const workflowExecution: Rule = (r) => void required(r.workflowExecution?.workflowId, 'workflowExecution.workflowId');
const execution: Rule = (r) => void required(r.execution?.workflowId, 'execution.workflowId');
const taskQueue: Rule = (r) => void required(r.taskQueue?.name, 'taskQueue.name');

type MultiOperationRequest = temporal.api.workflowservice.v1.IExecuteMultiOperationRequest;

/** Runs one operation's checks; its error becomes the MultiOperationExecutionFailure of its position. */
function checkOperation(index: number, count: number, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new MultiOperationExecutionError(index, count, err);
    throw err;
  }
}

/**
 * Update-with-start, the one multi-operation Temporal defines: a start then an update of the same
 * workflow id, in this namespace. A malformed list is refused as a whole; a bad operation is
 * refused in its own position (MultiOperationExecutionFailure), as Temporal does.
 */
function checkMultiOperation(r: MultiOperationRequest): void {
  const ops = r.operations ?? [];
  if (ops.length !== 2 || !ops[0]?.startWorkflow || !ops[1]?.updateWorkflow) {
    throw new InvalidArgumentError(`operations must be exactly a startWorkflow then an updateWorkflow (update-with-start); got ${ops.length} operation(s)`);
  }
  const start = ops[0].startWorkflow;
  const update = ops[1].updateWorkflow;
  checkOperation(0, 2, () => {
    checkStart(start);
    if (start.namespace && start.namespace !== r.namespace) throw new InvalidArgumentError(`startWorkflow.namespace ${quote(start.namespace)} is not the request's namespace`);
    if (start.cronSchedule) throw new InvalidArgumentError('startWorkflow.cronSchedule is not allowed in update-with-start');
    if (start.requestEagerExecution) throw new InvalidArgumentError('startWorkflow.requestEagerExecution is not allowed in update-with-start');
    if ((durationToMs(start.workflowStartDelay) ?? 0) > 0) throw new InvalidArgumentError('startWorkflow.workflowStartDelay is not allowed in update-with-start');
    if (start.workflowIdConflictPolicy === WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED || !start.workflowIdConflictPolicy) {
      throw new InvalidArgumentError('startWorkflow.workflowIdConflictPolicy must be set in update-with-start (USE_EXISTING, FAIL or TERMINATE_EXISTING)');
    }
  });
  checkOperation(1, 2, () => {
    required(update.workflowExecution?.workflowId, 'updateWorkflow.workflowExecution.workflowId');
    required(update.request?.meta?.updateId, 'updateWorkflow.request.meta.updateId');
    required(update.request?.input?.name, 'updateWorkflow.request.input.name');
    if (update.namespace && update.namespace !== r.namespace) throw new InvalidArgumentError(`updateWorkflow.namespace ${quote(update.namespace)} is not the request's namespace`);
    if (update.workflowExecution?.workflowId !== start.workflowId) {
      throw new InvalidArgumentError(`updateWorkflow.workflowExecution.workflowId ${quote(update.workflowExecution?.workflowId ?? '')} is not the started workflow's id ${quote(start.workflowId ?? '')}`);
    }
    if (update.workflowExecution?.runId) throw new InvalidArgumentError('updateWorkflow.workflowExecution.runId must not be set in update-with-start');
    if (update.firstExecutionRunId) throw new InvalidArgumentError('updateWorkflow.firstExecutionRunId must not be set in update-with-start');
  });
}

/**
 * A poll names its task queue. A versioned worker (deployment options, WORKER_VERSIONING_MODE_VERSIONED)
 * names its deployment and build id; build-id versioning (the older worker version capabilities) is
 * not served, and serving such a worker as an unversioned one would break its workflows silently.
 */
const pollRule: Rule = (r: temporal.api.workflowservice.v1.IPollWorkflowTaskQueueRequest) => {
  required(r.taskQueue?.name, 'taskQueue.name');
  if (r.workerVersionCapabilities?.useVersioning) {
    throw new FailedPreconditionError(
      'build-id based worker versioning is not supported by Hourglass: use worker deployments (deploymentOptions with WORKER_VERSIONING_MODE_VERSIONED) instead',
    );
  }
  if (r.deploymentOptions?.workerVersioningMode === temporal.api.enums.v1.WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED) {
    const name = required(r.deploymentOptions.deploymentName, 'deploymentOptions.deploymentName');
    required(r.deploymentOptions.buildId, 'deploymentOptions.buildId');
    // A version's string form is `<deployment>.<buildId>` (the SDKs' canonical string): the name cannot hold the separator.
    if (name.includes('.')) throw new InvalidArgumentError(`deploymentOptions.deploymentName ${quote(name)} must not contain '.'`);
  }
};

type StartBatchRequest = temporal.api.workflowservice.v1.IStartBatchOperationRequest;

/** The operations a batch may run here; the activity and options operations are refused by name. */
const BATCH_OPERATIONS = ['terminationOperation', 'cancellationOperation', 'signalOperation', 'deletionOperation', 'resetOperation'] as const;
const BATCH_OPERATION_NAMES = 'terminationOperation, cancellationOperation, signalOperation, deletionOperation or resetOperation';
const UNSUPPORTED_BATCH_OPERATIONS = [
  'updateWorkflowOptionsOperation',
  'unpauseActivitiesOperation',
  'resetActivitiesOperation',
  'updateActivityOptionsOperation',
  'cancelActivitiesOperation',
  'terminateActivitiesOperation',
  'deleteActivitiesOperation',
] as const;

/** StartBatchOperation as Temporal's batcher validates it (ValidateBatchOperation), with messages that say which field. */
function checkStartBatch(r: StartBatchRequest): void {
  required(r.jobId, 'jobId');
  const unsupported = UNSUPPORTED_BATCH_OPERATIONS.find((name) => r[name]);
  if (unsupported) throw new InvalidArgumentError(`${unsupported} is not supported by Hourglass batch operations yet; use ${BATCH_OPERATION_NAMES}`);
  const given = BATCH_OPERATIONS.filter((name) => r[name]);
  if (given.length === 0) throw new InvalidArgumentError(`no batch operation is set: give one of ${BATCH_OPERATION_NAMES}`);
  if (!r.reason) throw new InvalidArgumentError('reason is not set: a batch operation must say why it runs');
  const selectors = [r.visibilityQuery ? 'visibilityQuery' : '', (r.executions ?? []).length > 0 ? 'executions' : '', (r.targetExecutions ?? []).length > 0 ? 'targetExecutions' : ''].filter(Boolean);
  if (selectors.length === 0) throw new InvalidArgumentError('neither visibilityQuery nor executions is set: say which workflow executions the batch operation affects');
  if (selectors.length > 1) throw new InvalidArgumentError(`${selectors.join(' and ')} are mutually exclusive: give a visibility query or a list of executions, not both`);
  if (selectors[0] === 'targetExecutions') throw new InvalidArgumentError('targetExecutions is not supported by Hourglass batch operations yet; list workflow executions in executions');
  (r.executions ?? []).forEach((e, i) => void required(e.workflowId, `executions[${i}].workflowId`));
  if (r.signalOperation) required(r.signalOperation.signal, 'signalOperation.signal');
  const reset = r.resetOperation;
  if (reset) {
    if ((reset.postResetOperations ?? []).length > 0) throw new InvalidArgumentError('resetOperation.postResetOperations is not supported by Hourglass yet; reset without post-reset operations');
    if (reset.options?.buildId) throw new InvalidArgumentError('resetOperation.options.buildId is not supported by Hourglass yet (worker versioning); reset to the first or last workflow task or a workflow task id');
    const workflowTaskId = Number(reset.options?.workflowTaskId?.toString() ?? 0);
    const target = reset.options ? reset.options.firstWorkflowTask || reset.options.lastWorkflowTask || workflowTaskId > 0 : (reset.resetType ?? 0) > 0;
    if (!target) throw new InvalidArgumentError('resetOperation names no reset point: set options.firstWorkflowTask, options.lastWorkflowTask or options.workflowTaskId (or the deprecated resetType)');
  }
  if (r.maxOperationsPerSecond !== null && r.maxOperationsPerSecond !== undefined && !(r.maxOperationsPerSecond >= 0)) {
    throw new InvalidArgumentError(`maxOperationsPerSecond must not be negative, got ${r.maxOperationsPerSecond}`);
  }
}

/** A standalone activity's start: what Temporal's frontend requires before history sees it. */
function checkStartActivity(r: temporal.api.workflowservice.v1.IStartActivityExecutionRequest): void {
  required(r.activityId, 'activityId');
  required(r.activityType?.name, 'activityType.name');
  required(r.taskQueue?.name, 'taskQueue.name');
  if (!(durationToMs(r.scheduleToCloseTimeout) ?? 0) && !(durationToMs(r.startToCloseTimeout) ?? 0)) {
    throw new InvalidArgumentError('startToCloseTimeout or scheduleToCloseTimeout must be set');
  }
}

const activityExecution: Rule = (r) => void required(r.activityId, 'activityId');

const workflowServiceRules: Record<string, Rule> = {
  StartActivityExecution: (r) => checkStartActivity(r),
  DescribeActivityExecution: activityExecution,
  PollActivityExecution: activityExecution,
  RequestCancelActivityExecution: activityExecution,
  TerminateActivityExecution: activityExecution,
  DeleteActivityExecution: activityExecution,
  StartBatchOperation: (r: StartBatchRequest) => checkStartBatch(r),
  StopBatchOperation: (r: temporal.api.workflowservice.v1.IStopBatchOperationRequest) => {
    required(r.jobId, 'jobId');
    if (!r.reason) throw new InvalidArgumentError('reason is not set: say why the batch operation is stopped');
  },
  DescribeBatchOperation: (r: temporal.api.workflowservice.v1.IDescribeBatchOperationRequest) => void required(r.jobId, 'jobId'),
  ExecuteMultiOperation: (r: MultiOperationRequest) => checkMultiOperation(r),
  RegisterNamespace: (r: temporal.api.workflowservice.v1.IRegisterNamespaceRequest) => {
    validateNamespaceName(r.namespace ?? '');
    const retentionMs = durationToMs(r.workflowExecutionRetentionPeriod);
    if (retentionMs !== undefined && retentionMs <= 0) throw new InvalidArgumentError('workflowExecutionRetentionPeriod must be positive');
  },
  StartWorkflowExecution: (r) => checkStart(r),
  SignalWithStartWorkflowExecution: (r: temporal.api.workflowservice.v1.ISignalWithStartWorkflowExecutionRequest) => {
    checkStart(r);
    required(r.signalName, 'signalName');
    if (r.workflowIdConflictPolicy === WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL) {
      throw new InvalidArgumentError('workflowIdConflictPolicy WORKFLOW_ID_CONFLICT_POLICY_FAIL is not supported by SignalWithStartWorkflowExecution');
    }
  },
  SignalWorkflowExecution: (r) => {
    required(r.workflowExecution?.workflowId, 'workflowExecution.workflowId');
    required(r.signalName, 'signalName');
  },
  RequestCancelWorkflowExecution: workflowExecution,
  TerminateWorkflowExecution: workflowExecution,
  ResetWorkflowExecution: workflowExecution,
  GetWorkflowExecutionHistory: execution,
  DescribeWorkflowExecution: execution,
  UpdateWorkflowExecutionOptions: (r) => void required(r.workflowExecution?.workflowId, 'workflowExecution.workflowId'),
  ResetStickyTaskQueue: execution,
  QueryWorkflow: (r) => {
    required(r.execution?.workflowId, 'execution.workflowId');
    required(r.query?.queryType, 'query.queryType');
  },
  UpdateWorkflowExecution: (r) => {
    required(r.workflowExecution?.workflowId, 'workflowExecution.workflowId');
    required(r.request?.meta?.updateId, 'request.meta.updateId');
    required(r.request?.input?.name, 'request.input.name');
  },
  PollWorkflowExecutionUpdate: (r) => {
    required(r.updateRef?.workflowExecution?.workflowId, 'updateRef.workflowExecution.workflowId');
    required(r.updateRef?.updateId, 'updateRef.updateId');
  },
  PollWorkflowTaskQueue: pollRule,
  PollActivityTaskQueue: pollRule,
  PollNexusTaskQueue: pollRule,
  DescribeTaskQueue: taskQueue,
  ListTaskQueuePartitions: taskQueue,
  GetWorkflowExecutionHistoryReverse: execution,
  DescribeWorker: (r) => void required(r.workerInstanceKey, 'workerInstanceKey'),
  RespondWorkflowTaskCompleted: workflowTaskToken,
  RespondWorkflowTaskFailed: workflowTaskToken,
  RespondActivityTaskCompleted: activityTaskToken,
  RespondActivityTaskFailed: (r, c) => {
    const validated = checkTaskToken(r.taskToken, 'activity', c);
    failureRequired(r);
    return validated;
  },
  RespondActivityTaskCanceled: activityTaskToken,
  RecordActivityTaskHeartbeat: activityTaskToken,
  RespondActivityTaskCompletedById: activityById,
  RespondActivityTaskFailedById: (r) => {
    activityById(r);
    failureRequired(r);
  },
  RespondActivityTaskCanceledById: activityById,
  RecordActivityTaskHeartbeatById: activityById,
  RespondQueryTaskCompleted: (r, c) => checkTaskToken(r.taskToken, 'query', c),
};

/** Service → method → the method's own rules (methods without a row get the generic checks only). */
export const METHOD_RULES: Readonly<Record<string, Readonly<Record<string, Rule>>>> = {
  [WORKFLOW_SERVICE]: workflowServiceRules,
  [OPERATOR_SERVICE]: {},
  [TEST_SERVICE]: {},
};
