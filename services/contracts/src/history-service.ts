/**
 * What the history service answers: the frontend's calls (one per WorkflowService RPC that touches an
 * execution) and matching's calls (starting tasks a poller took). Plain data in and out, one request
 * object per method: the same interface is served in process by `start-dev` and over internal gRPC
 * when roles run as separate processes. Namespaces travel as ids; history resolves them itself.
 */
import type { Failure, Payloads, temporal } from '@hourglass/common';
import type { CallOptions, DeploymentVersionRef, MatchTask } from './common';
import type { ActivityTaskToken, WorkflowTaskToken } from './task-token';

type ws = typeof temporal.api.workflowservice.v1;
/** The request/response interface of a WorkflowService message, e.g. `Ws<'StartWorkflowExecutionRequest'>`. */
export type Ws<K extends keyof ws> = ws[K] extends { encode(message: infer M, ...rest: never[]): unknown } ? M : never;

/** A WorkflowService request the frontend validated, for the namespace it resolved. */
export interface NamespacedRequest<R> {
  namespaceId: string;
  request: R;
}

/** Which activity attempt a completion or heartbeat names: by task token, or by workflow + activity id. */
export type ActivityTarget =
  | { by: 'token'; token: ActivityTaskToken }
  | { by: 'id'; namespaceId: string; workflowId: string; runId: string; activityId: string };

export interface RecordWorkflowTaskStartedRequest {
  namespaceId: string;
  task: Pick<MatchTask, 'workflowId' | 'runId' | 'scheduledEventId'>;
  /** Which queue the task was delivered from: a sticky delivery gets partial history. */
  pollKind: 'normal' | 'sticky';
  identity: string;
  pollRequestId: string;
}

export interface RecordActivityTaskStartedRequest {
  namespaceId: string;
  task: Pick<MatchTask, 'workflowId' | 'runId' | 'scheduledEventId' | 'attempt'>;
  identity: string;
  pollRequestId: string;
}

/** A legacy query task as matching holds it until a poller takes it. */
export interface QueryTask {
  workflowId: string;
  runId: string;
  /** Names the waiting QueryWorkflow call; the worker's RespondQueryTaskCompleted carries it back. */
  queryId: string;
  query: temporal.api.query.v1.IWorkflowQuery;
}

export interface BuildQueryTaskRequest extends QueryTask {
  namespaceId: string;
  pollKind: 'normal' | 'sticky';
}

/** What matching needs from history: starting (or rebuilding) the task a poller took. */
export interface TaskStarter {
  /** Records WorkflowTaskStarted and returns the poll response; NOT_FOUND when the task no longer applies (matching drops it). */
  recordWorkflowTaskStarted(request: RecordWorkflowTaskStartedRequest, call?: CallOptions): Promise<Ws<'PollWorkflowTaskQueueResponse'>>;
  /** Marks the attempt started and returns the poll response; NOT_FOUND when it no longer applies. */
  recordActivityTaskStarted(request: RecordActivityTaskStartedRequest, call?: CallOptions): Promise<Ws<'PollActivityTaskQueueResponse'>>;
  /** A sticky queue's worker is gone: move its pending workflow task to the normal queue. */
  rescheduleStickyWorkflowTask(request: { namespaceId: string; task: Pick<MatchTask, 'workflowId' | 'runId' | 'scheduledEventId'> }, call?: CallOptions): Promise<void>;
  /**
   * Worker versioning: a task waiting in a queue its routing no longer targets (the current version
   * changed) is scheduled again, routed anew. NOT_FOUND when the task no longer applies.
   */
  redispatchTask(request: { namespaceId: string; type: 'workflow' | 'activity'; task: Pick<MatchTask, 'workflowId' | 'runId' | 'scheduledEventId' | 'attempt'> }, call?: CallOptions): Promise<void>;
  /** The poll response of a legacy query task, built when a poller takes it. */
  buildQueryTask(request: BuildQueryTaskRequest, call?: CallOptions): Promise<Ws<'PollWorkflowTaskQueueResponse'>>;
}

/** The run that started a child: where the child reports its close. */
export interface ParentRef {
  namespaceId: string;
  namespaceName: string;
  workflowId: string;
  runId: string;
  /** The parent's StartChildWorkflowExecutionInitiated event. */
  initiatedEventId: number;
}

/** How a child's chain closed, as its parent records it. */
export type ChildCloseOutcome =
  | { status: 'completed'; result?: Payloads | null }
  | { status: 'failed'; failure?: Failure | null; retryState: number }
  | { status: 'canceled'; details?: Payloads | null }
  | { status: 'terminated' }
  | { status: 'timed-out'; retryState: number };

/** A run one workflow's transfer task acts on (by namespace id, workflow id and run id; '' = the current run). */
export interface CrossExecutionTarget {
  namespaceId: string;
  workflowId: string;
  runId: string;
  /** Only if it is a child of the source workflow (RequestCancelExternal/SignalExternal with child_workflow_only). */
  childWorkflowOnly: boolean;
}

/**
 * The target side of the transfer tasks that reach another execution (a child's start and close,
 * parent close policies, signals and cancellations sent to other workflows). The source's shard
 * calls these on the host that owns the TARGET execution's shard: route each by the `namespaceId`
 * and `workflowId` at the top of its request. Each is idempotent (request ids derived from the
 * source run and event), so a transfer task may repeat it.
 */
export interface CrossExecutionService {
  /** Starts the child run; `alreadyStarted` when its workflow id is taken (by another start). */
  startChildExecution(request: {
    namespaceId: string;
    workflowId: string;
    attributes: temporal.api.history.v1.IStartChildWorkflowExecutionInitiatedEventAttributes;
    parent: ParentRef;
    root: { workflowId: string; runId: string };
    /** A PINNED parent's version: the child inherits it if its queue is in that version (same namespace only). */
    parentPinnedVersion?: DeploymentVersionRef;
  }): Promise<{ runId: string } | { alreadyStarted: true }>;
  /** Records a child's close in its parent run; UNAVAILABLE (retry) while the parent has not recorded the child's start. */
  recordChildExecutionClosed(request: { namespaceId: string; workflowId: string; runId: string; initiatedEventId: number; child: { workflowId: string; runId: string }; outcome: ChildCloseOutcome }): Promise<void>;
  /** Applies a closed parent's policy (terminate, request cancel) to its child's chain. */
  applyParentClosePolicy(request: { namespaceId: string; workflowId: string; firstRunId: string; parent: { workflowId: string; runId: string }; policy: number }): Promise<void>;
  /** Delivers a SignalExternalWorkflowExecution; false when the target is missing, closed or not the source's child. */
  deliverExternalSignal(
    request: CrossExecutionTarget & { source: { workflowId: string; runId: string }; initiatedEventId: number; signal: { signalName: string; input?: Payloads | null; header?: temporal.api.common.v1.IHeader | null } },
  ): Promise<boolean>;
  /** A schedule's action: a start with the search attributes Temporal sets on scheduled runs (TemporalScheduledById…). */
  startScheduledWorkflow(request: { namespaceId: string; workflowId: string; request: Ws<'StartWorkflowExecutionRequest'>; systemSearchAttributes: Record<string, temporal.api.common.v1.IPayload> }): Promise<Ws<'StartWorkflowExecutionResponse'>>;
  /** The current run of a workflow id (null when the id has none): schedules and batch jobs watch their targets with it. */
  currentExecution(request: { namespaceId: string; workflowId: string }): Promise<{ runId: string; running: boolean; status: number } | null>;
  /** Delivers a RequestCancelExternalWorkflowExecution; false as for signals. */
  deliverExternalCancel(request: CrossExecutionTarget & { source: { workflowId: string; runId: string }; initiatedEventId: number; reason: string }): Promise<boolean>;
}

export interface HistoryService extends TaskStarter, CrossExecutionService {
  startWorkflowExecution(request: NamespacedRequest<Ws<'StartWorkflowExecutionRequest'>>, call?: CallOptions): Promise<Ws<'StartWorkflowExecutionResponse'>>;
  signalWithStartWorkflowExecution(
    request: NamespacedRequest<Ws<'SignalWithStartWorkflowExecutionRequest'>>,
    call?: CallOptions,
  ): Promise<Ws<'SignalWithStartWorkflowExecutionResponse'>>;
  signalWorkflowExecution(request: NamespacedRequest<Ws<'SignalWorkflowExecutionRequest'>>, call?: CallOptions): Promise<void>;
  requestCancelWorkflowExecution(request: NamespacedRequest<Ws<'RequestCancelWorkflowExecutionRequest'>>, call?: CallOptions): Promise<void>;
  /** Removes a run with its history and visibility record (a running one is terminated first). */
  deleteWorkflowExecution(request: NamespacedRequest<Ws<'DeleteWorkflowExecutionRequest'>>): Promise<void>;
  /** Starts a batch operation's job (validated by the frontend); RESOURCE_EXHAUSTED over the namespace's concurrent limit. */
  startBatchOperation(request: NamespacedRequest<Ws<'StartBatchOperationRequest'>>): Promise<void>;
  describeBatchOperation(request: NamespacedRequest<Ws<'DescribeBatchOperationRequest'>>): Promise<Ws<'DescribeBatchOperationResponse'>>;
  stopBatchOperation(request: NamespacedRequest<Ws<'StopBatchOperationRequest'>>): Promise<void>;
  terminateWorkflowExecution(request: NamespacedRequest<Ws<'TerminateWorkflowExecutionRequest'>>, call?: CallOptions): Promise<void>;
  resetWorkflowExecution(request: NamespacedRequest<Ws<'ResetWorkflowExecutionRequest'>>, call?: CallOptions): Promise<Ws<'ResetWorkflowExecutionResponse'>>;
  describeWorkflowExecution(request: NamespacedRequest<Ws<'DescribeWorkflowExecutionRequest'>>, call?: CallOptions): Promise<Ws<'DescribeWorkflowExecutionResponse'>>;
  /** Long-polls with `wait_new_event` until the call's deadline (minus a margin) at most. */
  /** The newest events first, paged. */
  getWorkflowExecutionHistoryReverse(request: NamespacedRequest<Ws<'GetWorkflowExecutionHistoryReverseRequest'>>): Promise<Ws<'GetWorkflowExecutionHistoryReverseResponse'>>;
  getWorkflowExecutionHistory(
    request: NamespacedRequest<Ws<'GetWorkflowExecutionHistoryRequest'>>,
    call?: CallOptions,
  ): Promise<Ws<'GetWorkflowExecutionHistoryResponse'>>;
  queryWorkflow(request: NamespacedRequest<Ws<'QueryWorkflowRequest'>>, call?: CallOptions): Promise<Ws<'QueryWorkflowResponse'>>;
  /** A namespace was marked deleted: its executions are deleted in the background (resolves after a pass). */
  onNamespaceDeleted(): Promise<void>;
  /** Update-with-start: a start (or the running run, by conflict policy) and an update, admitted together. */
  executeMultiOperation(request: NamespacedRequest<Ws<'ExecuteMultiOperationRequest'>>, call?: CallOptions): Promise<Ws<'ExecuteMultiOperationResponse'>>;
  updateWorkflowExecution(request: NamespacedRequest<Ws<'UpdateWorkflowExecutionRequest'>>, call?: CallOptions): Promise<Ws<'UpdateWorkflowExecutionResponse'>>;
  pollWorkflowExecutionUpdate(
    request: NamespacedRequest<Ws<'PollWorkflowExecutionUpdateRequest'>>,
    call?: CallOptions,
  ): Promise<Ws<'PollWorkflowExecutionUpdateResponse'>>;
  /** The next workflow task of the run goes to its normal queue. */
  resetStickyTaskQueue(request: { namespaceId: string; workflowId: string; runId: string }, call?: CallOptions): Promise<void>;

  respondWorkflowTaskCompleted(
    request: { namespaceId: string; token: WorkflowTaskToken; request: Ws<'RespondWorkflowTaskCompletedRequest'> },
    call?: CallOptions,
  ): Promise<Ws<'RespondWorkflowTaskCompletedResponse'>>;
  respondWorkflowTaskFailed(request: { namespaceId: string; token: WorkflowTaskToken; request: Ws<'RespondWorkflowTaskFailedRequest'> }, call?: CallOptions): Promise<void>;
  respondActivityTaskCompleted(request: { target: ActivityTarget; result?: Payloads | null; identity: string }, call?: CallOptions): Promise<void>;
  respondActivityTaskFailed(
    request: { target: ActivityTarget; failure: Failure; identity: string; lastHeartbeatDetails?: Payloads | null },
    call?: CallOptions,
  ): Promise<void>;
  respondActivityTaskCanceled(request: { target: ActivityTarget; details?: Payloads | null; identity: string }, call?: CallOptions): Promise<void>;
  recordActivityTaskHeartbeat(
    request: { target: ActivityTarget; details?: Payloads | null; identity: string },
    call?: CallOptions,
  ): Promise<Ws<'RecordActivityTaskHeartbeatResponse'>>;
  /** Schedules (a durable entity of the history service; ListSchedules/CountSchedules are visibility's). */
  createSchedule(request: NamespacedRequest<Ws<'CreateScheduleRequest'>>): Promise<Ws<'CreateScheduleResponse'>>;
  describeSchedule(request: NamespacedRequest<Ws<'DescribeScheduleRequest'>>): Promise<Ws<'DescribeScheduleResponse'>>;
  updateSchedule(request: NamespacedRequest<Ws<'UpdateScheduleRequest'>>): Promise<void>;
  /** Pause, unpause, trigger now, backfill. */
  patchSchedule(request: NamespacedRequest<Ws<'PatchScheduleRequest'>>): Promise<void>;
  deleteSchedule(request: NamespacedRequest<Ws<'DeleteScheduleRequest'>>): Promise<void>;
  listScheduleMatchingTimes(request: NamespacedRequest<Ws<'ListScheduleMatchingTimesRequest'>>): Promise<Ws<'ListScheduleMatchingTimesResponse'>>;
  /**
   * Worker deployments (a durable entity of the history service). `registerWorkerDeploymentVersion`:
   * a versioned poll registers its deployment, version and task queue (cached: only new ones write).
   */
  registerWorkerDeploymentVersion(request: { namespaceId: string; version: DeploymentVersionRef; taskQueue: { name: string; type: 'workflow' | 'activity' }; identity: string }): Promise<void>;
  /** Sets or unsets a running workflow's versioning override (the only execution option Hourglass keeps). */
  updateWorkflowExecutionOptions(request: NamespacedRequest<Ws<'UpdateWorkflowExecutionOptionsRequest'>>): Promise<Ws<'UpdateWorkflowExecutionOptionsResponse'>>;
  /** The deployment versions a task queue is registered in (none for an unversioned queue). */
  taskQueueVersions(request: { namespaceId: string; taskQueue: { name: string; type: 'workflow' | 'activity' } }): Promise<DeploymentVersionRef[]>;
  describeWorkerDeployment(request: NamespacedRequest<Ws<'DescribeWorkerDeploymentRequest'>>): Promise<Ws<'DescribeWorkerDeploymentResponse'>>;
  listWorkerDeployments(request: NamespacedRequest<Ws<'ListWorkerDeploymentsRequest'>>): Promise<Ws<'ListWorkerDeploymentsResponse'>>;
  describeWorkerDeploymentVersion(request: NamespacedRequest<Ws<'DescribeWorkerDeploymentVersionRequest'>>): Promise<Ws<'DescribeWorkerDeploymentVersionResponse'>>;
  setWorkerDeploymentCurrentVersion(request: NamespacedRequest<Ws<'SetWorkerDeploymentCurrentVersionRequest'>>): Promise<Ws<'SetWorkerDeploymentCurrentVersionResponse'>>;
  setWorkerDeploymentRampingVersion(request: NamespacedRequest<Ws<'SetWorkerDeploymentRampingVersionRequest'>>): Promise<Ws<'SetWorkerDeploymentRampingVersionResponse'>>;
  deleteWorkerDeploymentVersion(request: NamespacedRequest<Ws<'DeleteWorkerDeploymentVersionRequest'>>): Promise<void>;
  deleteWorkerDeployment(request: NamespacedRequest<Ws<'DeleteWorkerDeploymentRequest'>>): Promise<void>;
  /** Standalone activities (a durable entity of the history service; ListActivityExecutions/CountActivityExecutions are visibility's). */
  startActivityExecution(request: NamespacedRequest<Ws<'StartActivityExecutionRequest'>>): Promise<Ws<'StartActivityExecutionResponse'>>;
  /** Answers the current state; with a long-poll token, waits (up to the call's deadline) for a state after it. */
  describeActivityExecution(request: NamespacedRequest<Ws<'DescribeActivityExecutionRequest'>>, call?: CallOptions): Promise<Ws<'DescribeActivityExecutionResponse'>>;
  /** Long-polls for the outcome: an answer without one when the poll's time ran out first. */
  pollActivityExecution(request: NamespacedRequest<Ws<'PollActivityExecutionRequest'>>, call?: CallOptions): Promise<Ws<'PollActivityExecutionResponse'>>;
  requestCancelActivityExecution(request: NamespacedRequest<Ws<'RequestCancelActivityExecutionRequest'>>): Promise<void>;
  terminateActivityExecution(request: NamespacedRequest<Ws<'TerminateActivityExecutionRequest'>>): Promise<void>;
  deleteActivityExecution(request: NamespacedRequest<Ws<'DeleteActivityExecutionRequest'>>): Promise<void>;
  /**
   * A worker's answer to a legacy query task, handed to the waiting QueryWorkflow call (held in
   * memory by the host owning the workflow's shard: route by `workflowId`).
   */
  respondQueryTaskCompleted(request: { namespaceId: string; workflowId: string; queryId: string; request: Ws<'RespondQueryTaskCompletedRequest'> }, call?: CallOptions): Promise<void>;
}
