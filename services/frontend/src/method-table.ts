/**
 * THE per-method table of the frontend: for every method of every service it serves, where the
 * request names its namespace, the permission the caller needs, the rate-limit bucket and priority,
 * whether it long-polls, and whether it is a billable Action. The interceptor chain reads nothing
 * else (src/interceptors/), so a cross-cutting concern is a column here plus one interceptor, never a
 * line in each handler. Methods Hourglass does not implement yet are here too: they pass the same
 * chain and then answer UNIMPLEMENTED.
 *
 * `method-table.test.ts` walks the service descriptors of @temporalio/proto and fails when a method
 * is missing here or a row names a method that does not exist.
 *
 * Priorities and buckets follow Temporal's frontend quotas (service/frontend/configs/quotas.go):
 * execution P0 system, P1 external events and progress, P2 state changes, P3 status queries and
 * failure reports, P4 polls, P5 informational; visibility and namespace-replication-inducing calls
 * have buckets of their own. Billable follows Temporal Cloud's Actions: an Action the RPC itself
 * causes. Actions caused by a workflow task's commands (timers, activities, child starts, signals
 * sent by workflows, search-attribute upserts) are counted where history applies the commands, so
 * RespondWorkflowTaskCompleted is not billable here; activity starts are counted where an attempt
 * starts.
 */

import type { PermissionClass } from '@hourglass/identity';

/** How the chain finds and resolves the namespace a request targets. */
export type NamespaceRule =
  /** Cluster-scoped: the call has no namespace. */
  | { readonly kind: 'none' }
  /** `field` names an existing namespace; the chain resolves it (NOT_FOUND when unknown). */
  | { readonly kind: 'resolve'; readonly field: string }
  /** As `resolve`, or by id when `idField` is set (DescribeNamespace). */
  | { readonly kind: 'resolveByNameOrId'; readonly field: string; readonly idField: string }
  /** `field` names a namespace that need not exist (RegisterNamespace): validated, not resolved. */
  | { readonly kind: 'name'; readonly field: string }
  /**
   * Temporal Cloud's account API: any namespace in the request (a filter, a target, a spec) is the
   * identity service's to resolve under its rules; the chain does not touch it.
   */
  | { readonly kind: 'account' };

/**
 * What the caller must be allowed, for the authorizer (@hourglass/identity's PermissionClass, which
 * documents each): `read`, `write`, `worker` and `namespaceAdmin` on the call's namespace;
 * `developer`, `accountMember` account-wide; `system` (the cluster itself) and `operator` (the
 * operator API); `none` for capability checks and the test server's clock.
 */
export type Permission = PermissionClass;

/**
 * Which token bucket a call draws from. `control`: the account and operator APIs (per account);
 * `none`: not rate limited (the time-skipping test service).
 */
export type RateLimitBucket = 'execution' | 'visibility' | 'namespaceReplication' | 'control' | 'none';

export interface RateLimit {
  readonly bucket: RateLimitBucket;
  /** 0 is served first when the bucket runs short. */
  readonly priority: number;
  /** The priority while the call long-polls (GetWorkflowExecutionHistory with waitNewEvent: 5). */
  readonly pollingPriority?: number;
}

/**
 * Whether the call may be held open: `always` (task-queue and update polls), `never`, or only when
 * the request sets the boolean `whenField` (GetWorkflowExecutionHistory.waitNewEvent). `longRunning`
 * calls block on a workflow task (QueryWorkflow, UpdateWorkflowExecution). Both count against a
 * concurrent long-request limit, never against deadlines of short calls.
 */
export type Polling = 'never' | 'always' | 'longRunning' | { readonly whenField: string };

export interface MethodSpec {
  readonly namespace: NamespaceRule;
  readonly permission: Permission;
  readonly rateLimit: RateLimit;
  readonly polling: Polling;
  /** An Action in Temporal Cloud's sense, counted when the call succeeds. */
  readonly billable: boolean;
}

export const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
export const OPERATOR_SERVICE = 'temporal.api.operatorservice.v1.OperatorService';
export const TEST_SERVICE = 'temporal.api.testservice.v1.TestService';
export const CLOUD_SERVICE = 'temporal.api.cloud.cloudservice.v1.CloudService';
export const OPERATOR_API = 'hourglass.operator.v1.OperatorApi';

// Shorthands, so each row below reads as one line.
const NS: NamespaceRule = { kind: 'resolve', field: 'namespace' };
const CLUSTER: NamespaceRule = { kind: 'none' };
const exec = (priority: number, pollingPriority?: number): RateLimit =>
  pollingPriority === undefined ? { bucket: 'execution', priority } : { bucket: 'execution', priority, pollingPriority };
const vis = (priority: number): RateLimit => ({ bucket: 'visibility', priority });
const repl = (priority: number): RateLimit => ({ bucket: 'namespaceReplication', priority });

interface RowOptions {
  polling?: Polling;
  billable?: boolean;
  namespace?: NamespaceRule;
}

function row(permission: Permission, rateLimit: RateLimit, options: RowOptions = {}): MethodSpec {
  return {
    namespace: options.namespace ?? NS,
    permission,
    rateLimit,
    polling: options.polling ?? 'never',
    billable: options.billable ?? false,
  };
}

const BILLABLE = { billable: true } as const;
const POLLS = { polling: 'always' } as const;
const LONG = { polling: 'longRunning' } as const;

/** temporal.api.workflowservice.v1.WorkflowService */
const workflowService: Record<string, MethodSpec> = {
  // Namespaces
  RegisterNamespace: row('developer', repl(1), { namespace: { kind: 'name', field: 'namespace' } }),
  DescribeNamespace: row('read', exec(0), { namespace: { kind: 'resolveByNameOrId', field: 'namespace', idField: 'id' } }),
  ListNamespaces: row('read', exec(0), { namespace: CLUSTER }),
  UpdateNamespace: row('namespaceAdmin', repl(1)),
  DeprecateNamespace: row('namespaceAdmin', exec(0)),

  // Starting, signalling, changing executions
  StartWorkflowExecution: row('write', exec(1), BILLABLE),
  ExecuteMultiOperation: row('write', exec(1), { ...LONG, ...BILLABLE }),
  SignalWorkflowExecution: row('write', exec(1), BILLABLE),
  SignalWithStartWorkflowExecution: row('write', exec(1), BILLABLE),
  UpdateWorkflowExecution: row('write', exec(1), { ...LONG, ...BILLABLE }),
  PollWorkflowExecutionUpdate: row('read', exec(4), POLLS),
  RequestCancelWorkflowExecution: row('write', exec(2)),
  TerminateWorkflowExecution: row('write', exec(2)),
  ResetWorkflowExecution: row('write', exec(2), BILLABLE),
  DeleteWorkflowExecution: row('write', exec(2)),
  UpdateWorkflowExecutionOptions: row('write', exec(2)),
  PauseWorkflowExecution: row('write', exec(2)),
  UnpauseWorkflowExecution: row('write', exec(2)),

  // Reading executions
  GetWorkflowExecutionHistory: row('read', exec(2, 5), { polling: { whenField: 'waitNewEvent' } }),
  GetWorkflowExecutionHistoryReverse: row('read', exec(4)),
  DescribeWorkflowExecution: row('read', exec(3)),
  QueryWorkflow: row('read', exec(3), { ...LONG, ...BILLABLE }),
  PollWorkflowExecutionTimeSkipping: row('read', exec(5), POLLS),

  // Workers
  PollWorkflowTaskQueue: row('worker', exec(4), POLLS),
  RespondWorkflowTaskCompleted: row('worker', exec(1)),
  RespondWorkflowTaskFailed: row('worker', exec(3)),
  PollActivityTaskQueue: row('worker', exec(4), POLLS),
  RecordActivityTaskHeartbeat: row('worker', exec(1), BILLABLE),
  RecordActivityTaskHeartbeatById: row('worker', exec(1), BILLABLE),
  RespondActivityTaskCompleted: row('worker', exec(1)),
  RespondActivityTaskCompletedById: row('worker', exec(1)),
  RespondActivityTaskFailed: row('worker', exec(3)),
  RespondActivityTaskFailedById: row('worker', exec(3)),
  RespondActivityTaskCanceled: row('worker', exec(3)),
  RespondActivityTaskCanceledById: row('worker', exec(3)),
  RespondQueryTaskCompleted: row('worker', exec(1)),
  ResetStickyTaskQueue: row('worker', exec(4)),
  ShutdownWorker: row('worker', exec(4)),
  PollNexusTaskQueue: row('worker', exec(4), POLLS),
  RespondNexusTaskCompleted: row('worker', exec(1)),
  RespondNexusTaskFailed: row('worker', exec(3)),
  RecordWorkerHeartbeat: row('worker', exec(4)),
  FetchWorkerConfig: row('worker', exec(4)),
  UpdateWorkerConfig: row('write', exec(4)),
  ListWorkers: row('read', exec(3)),
  CountWorkers: row('read', exec(3)),
  DescribeWorker: row('read', exec(3)),

  // Visibility
  ListOpenWorkflowExecutions: row('read', vis(1)),
  ListClosedWorkflowExecutions: row('read', vis(1)),
  ListWorkflowExecutions: row('read', vis(1)),
  ListArchivedWorkflowExecutions: row('read', vis(1)),
  ScanWorkflowExecutions: row('read', vis(1)),
  CountWorkflowExecutions: row('read', vis(1)),
  GetSearchAttributes: row('read', exec(0), { namespace: CLUSTER }),

  // Cluster
  GetClusterInfo: row('none', exec(0), { namespace: CLUSTER }),
  GetSystemInfo: row('none', exec(0), { namespace: CLUSTER }),

  // Task queues and worker versioning
  DescribeTaskQueue: row('read', exec(3)),
  ListTaskQueuePartitions: row('read', exec(3)),
  UpdateTaskQueueConfig: row('write', repl(2)),
  UpdateWorkerBuildIdCompatibility: row('write', repl(2)),
  GetWorkerBuildIdCompatibility: row('read', exec(3)),
  UpdateWorkerVersioningRules: row('write', repl(2)),
  GetWorkerVersioningRules: row('read', exec(3)),
  GetWorkerTaskReachability: row('read', vis(1)),
  DescribeDeployment: row('read', exec(3)),
  ListDeployments: row('read', vis(1)),
  GetDeploymentReachability: row('read', vis(1)),
  GetCurrentDeployment: row('read', exec(3)),
  SetCurrentDeployment: row('write', exec(2)),
  DescribeWorkerDeploymentVersion: row('read', exec(3)),
  DescribeWorkerDeployment: row('read', exec(3)),
  ListWorkerDeployments: row('read', vis(1)),
  CreateWorkerDeployment: row('write', exec(2)),
  CreateWorkerDeploymentVersion: row('write', exec(2)),
  DeleteWorkerDeployment: row('write', exec(2)),
  DeleteWorkerDeploymentVersion: row('write', repl(2)),
  SetWorkerDeploymentCurrentVersion: row('write', repl(2)),
  SetWorkerDeploymentRampingVersion: row('write', repl(2)),
  SetWorkerDeploymentManager: row('write', exec(2)),
  UpdateWorkerDeploymentVersionComputeConfig: row('write', exec(2)),
  ValidateWorkerDeploymentVersionComputeConfig: row('read', exec(3)),
  UpdateWorkerDeploymentVersionMetadata: row('write', exec(2)),

  // Schedules (a scheduled start is counted when the schedule fires, not here)
  CreateSchedule: row('write', exec(1)),
  DescribeSchedule: row('read', exec(3)),
  UpdateSchedule: row('write', exec(2)),
  PatchSchedule: row('write', exec(2)),
  ListScheduleMatchingTimes: row('read', exec(3)),
  DeleteSchedule: row('write', exec(2)),
  ListSchedules: row('read', vis(1)),
  CountSchedules: row('read', vis(1)),

  // Batch operations
  StartBatchOperation: row('write', exec(1)),
  StopBatchOperation: row('write', exec(2)),
  DescribeBatchOperation: row('read', exec(3)),
  ListBatchOperations: row('read', vis(1)),

  // Activity operations
  UpdateActivityOptions: row('write', exec(2)),
  PauseActivity: row('write', exec(2)),
  UnpauseActivity: row('write', exec(2)),
  ResetActivity: row('write', exec(2)),

  // Workflow rules
  CreateWorkflowRule: row('write', exec(2)),
  DescribeWorkflowRule: row('read', exec(2)),
  DeleteWorkflowRule: row('write', exec(2)),
  ListWorkflowRules: row('read', exec(2)),
  TriggerWorkflowRule: row('write', exec(2)),

  // Standalone activities and Nexus operations
  StartActivityExecution: row('write', exec(1), BILLABLE),
  StartNexusOperationExecution: row('write', exec(1), BILLABLE),
  DescribeActivityExecution: row('read', exec(3, 5), { polling: { whenField: 'longPollToken' } }),
  DescribeNexusOperationExecution: row('read', exec(3, 5), { polling: { whenField: 'longPollToken' } }),
  PollActivityExecution: row('read', exec(4), POLLS),
  PollNexusOperationExecution: row('read', exec(4), POLLS),
  ListActivityExecutions: row('read', vis(1)),
  ListNexusOperationExecutions: row('read', vis(1)),
  CountActivityExecutions: row('read', vis(1)),
  CountNexusOperationExecutions: row('read', vis(1)),
  RequestCancelActivityExecution: row('write', exec(2)),
  RequestCancelNexusOperationExecution: row('write', exec(2)),
  TerminateActivityExecution: row('write', exec(2)),
  TerminateNexusOperationExecution: row('write', exec(2)),
  DeleteActivityExecution: row('write', exec(2)),
  DeleteNexusOperationExecution: row('write', exec(2)),
  PauseActivityExecution: row('write', exec(2)),
  UnpauseActivityExecution: row('write', exec(2)),
  ResetActivityExecution: row('write', exec(2)),
  UpdateActivityExecutionOptions: row('write', exec(2)),
};

/**
 * temporal.api.operatorservice.v1.OperatorService. Temporal's frontend gives these no priority of
 * their own: they fall to the lowest execution priority.
 */
const operatorService: Record<string, MethodSpec> = {
  AddSearchAttributes: row('namespaceAdmin', exec(5)),
  RemoveSearchAttributes: row('namespaceAdmin', exec(5)),
  ListSearchAttributes: row('read', exec(5)),
  DeleteNamespace: row('namespaceAdmin', exec(5), { namespace: { kind: 'resolveByNameOrId', field: 'namespace', idField: 'namespaceId' } }),
  AddOrUpdateRemoteCluster: row('system', exec(5), { namespace: CLUSTER }),
  RemoveRemoteCluster: row('system', exec(5), { namespace: CLUSTER }),
  ListClusters: row('accountMember', exec(5), { namespace: CLUSTER }),
  GetNexusEndpoint: row('accountMember', exec(5), { namespace: CLUSTER }),
  CreateNexusEndpoint: row('developer', exec(5), { namespace: CLUSTER }),
  UpdateNexusEndpoint: row('developer', exec(5), { namespace: CLUSTER }),
  DeleteNexusEndpoint: row('developer', exec(5), { namespace: CLUSTER }),
  ListNexusEndpoints: row('accountMember', exec(5), { namespace: CLUSTER }),
};

/**
 * temporal.api.cloud.cloudservice.v1.CloudService, Temporal Cloud's Cloud Ops API, with the
 * permissions of Temporal Cloud's permissions reference. Account-wide rows leave any namespace in
 * the request to the identity service; namespace rows resolve it in the chain like any other.
 * The identity service checks the same rules again (the portal calls it directly).
 */
const ACCOUNT: NamespaceRule = { kind: 'account' };
const CLOUD_NS: NamespaceRule = { kind: 'resolve', field: 'namespace' };
const ctl = (priority: number): RateLimit => ({ bucket: 'control', priority });
const account = (permission: Permission, read = false): MethodSpec => row(permission, ctl(read ? 3 : 2), { namespace: ACCOUNT });
const onNamespace = (permission: Permission, read = false): MethodSpec => row(permission, ctl(read ? 3 : 2), { namespace: CLOUD_NS });
const cloudService: Record<string, MethodSpec> = {
  GetCurrentIdentity: account('accountMember', true),
  GetAccount: account('accountMember', true),
  UpdateAccount: account('accountAdmin'),
  GetUsage: account('finance', true),
  CreateBillingReport: account('finance'),
  GetBillingReport: account('finance', true),
  GetAsyncOperation: account('accountMember', true),
  GetRegions: account('accountMember', true),
  GetRegion: account('accountMember', true),

  GetUsers: account('accountMember', true),
  GetUser: account('accountMember', true),
  CreateUser: account('accountAdmin'),
  UpdateUser: account('accountAdmin'),
  DeleteUser: account('accountAdmin'),
  SetUserNamespaceAccess: onNamespace('namespaceAdmin'),
  GetUserNamespaceAssignments: onNamespace('read', true),

  GetUserGroups: account('accountMember', true),
  GetUserGroup: account('accountMember', true),
  GetUserGroupMembers: account('accountMember', true),
  CreateUserGroup: account('accountAdmin'),
  UpdateUserGroup: account('accountAdmin'),
  DeleteUserGroup: account('accountAdmin'),
  AddUserGroupMember: account('accountAdmin'),
  RemoveUserGroupMember: account('accountAdmin'),
  SetUserGroupNamespaceAccess: onNamespace('namespaceAdmin'),
  GetUserGroupNamespaceAssignments: onNamespace('read', true),

  // Scoped rules (a namespace admin manages that namespace's service accounts): the identity service.
  GetServiceAccounts: account('accountMember', true),
  GetServiceAccount: account('accountMember', true),
  CreateServiceAccount: account('accountMember'),
  UpdateServiceAccount: account('accountMember'),
  DeleteServiceAccount: account('accountMember'),
  SetServiceAccountNamespaceAccess: onNamespace('namespaceAdmin'),
  GetServiceAccountNamespaceAssignments: onNamespace('read', true),

  // Everyone manages its own keys; owners and admins every key: the identity service.
  GetApiKeys: account('accountMember', true),
  GetApiKey: account('accountMember', true),
  CreateApiKey: account('accountMember'),
  UpdateApiKey: account('accountMember'),
  DeleteApiKey: account('accountMember'),

  GetNamespaces: account('accountMember', true),
  CreateNamespace: account('developer'),
  GetNamespace: onNamespace('read', true),
  UpdateNamespace: onNamespace('namespaceAdmin'),
  DeleteNamespace: onNamespace('namespaceAdmin'),
  GetNamespaceCapacityInfo: onNamespace('read', true),
  RenameCustomSearchAttribute: onNamespace('namespaceAdmin'),
  UpdateNamespaceTags: account('accountAdmin'),
  FailoverNamespaceRegion: onNamespace('namespaceAdmin'),
  AddNamespaceRegion: onNamespace('namespaceAdmin'),
  DeleteNamespaceRegion: onNamespace('namespaceAdmin'),
  CreateNamespaceExportSink: onNamespace('namespaceAdmin'),
  GetNamespaceExportSink: onNamespace('read', true),
  GetNamespaceExportSinks: onNamespace('read', true),
  UpdateNamespaceExportSink: onNamespace('namespaceAdmin'),
  DeleteNamespaceExportSink: onNamespace('namespaceAdmin'),
  ValidateNamespaceExportSink: onNamespace('namespaceAdmin'),

  GetNexusEndpoints: account('accountMember', true),
  GetNexusEndpoint: account('accountMember', true),
  CreateNexusEndpoint: account('developer'),
  UpdateNexusEndpoint: account('developer'),
  DeleteNexusEndpoint: account('developer'),

  CreateConnectivityRule: account('accountAdmin'),
  GetConnectivityRule: account('developer', true),
  GetConnectivityRules: account('developer', true),
  DeleteConnectivityRule: account('accountAdmin'),

  GetAuditLogs: account('accountAdmin', true),
  ValidateAccountAuditLogSink: account('accountAdmin'),
  CreateAccountAuditLogSink: account('accountAdmin'),
  GetAccountAuditLogSink: account('accountAdmin', true),
  GetAccountAuditLogSinks: account('accountAdmin', true),
  UpdateAccountAuditLogSink: account('accountAdmin'),
  DeleteAccountAuditLogSink: account('accountAdmin'),

  GetCustomRoles: account('accountMember', true),
  GetCustomRole: account('accountMember', true),
  CreateCustomRole: account('accountAdmin'),
  UpdateCustomRole: account('accountAdmin'),
  DeleteCustomRole: account('accountAdmin'),
};

/** hourglass.operator.v1.OperatorApi (proto/): the platform's staff, with operator keys. */
const operatorApi: Record<string, MethodSpec> = {
  CreateAccount: row('operator', ctl(2), { namespace: CLUSTER }),
  SetAccountState: row('operator', ctl(2), { namespace: CLUSTER }),
  ListAccounts: row('operator', ctl(3), { namespace: CLUSTER }),
  SetNamespaceLimits: row('operator', ctl(2), { namespace: CLUSTER }),
  GetAccountUsage: row('operator', ctl(3), { namespace: CLUSTER }),
  GetInvoice: row('operator', ctl(3), { namespace: CLUSTER }),
};

/** temporal.api.testservice.v1.TestService: served by the time-skipping test server only. */
const TEST: MethodSpec = { namespace: CLUSTER, permission: 'none', rateLimit: { bucket: 'none', priority: 0 }, polling: 'never', billable: false };
const testService: Record<string, MethodSpec> = {
  LockTimeSkipping: TEST,
  UnlockTimeSkipping: TEST,
  Sleep: { ...TEST, polling: 'always' },
  SleepUntil: { ...TEST, polling: 'always' },
  UnlockTimeSkippingWithSleep: { ...TEST, polling: 'always' },
  GetCurrentTime: TEST,
};

/** Full service name → method name → spec. */
export const METHOD_TABLE: Readonly<Record<string, Readonly<Record<string, MethodSpec>>>> = {
  [WORKFLOW_SERVICE]: workflowService,
  [OPERATOR_SERVICE]: operatorService,
  [TEST_SERVICE]: testService,
  [CLOUD_SERVICE]: cloudService,
  [OPERATOR_API]: operatorApi,
};

/** The spec of one method; undefined when the table has no row (the server refuses to start then). */
export function methodSpec(service: string, method: string): MethodSpec | undefined {
  const rows = METHOD_TABLE[service];
  return rows && Object.prototype.hasOwnProperty.call(rows, method) ? rows[method] : undefined;
}

/** The namespace field of a spec, or undefined for cluster-scoped methods. */
export function namespaceField(spec: MethodSpec): string | undefined {
  return spec.namespace.kind === 'none' || spec.namespace.kind === 'account' ? undefined : spec.namespace.field;
}

/** The rate-limit priority of one call: the polling priority when the request long-polls. */
export function callPriority(spec: MethodSpec, request: unknown): number {
  const { polling, rateLimit } = spec;
  if (rateLimit.pollingPriority !== undefined && typeof polling === 'object' && isSet((request as Record<string, unknown> | null)?.[polling.whenField])) {
    return rateLimit.pollingPriority;
  }
  return rateLimit.priority;
}

/** Whether this call may be held open: a poll, a call that waits on a worker, or a history long poll. */
export function isLongPoll(spec: MethodSpec, request: unknown): boolean {
  const { polling } = spec;
  if (polling === 'never') return false;
  if (polling === 'always' || polling === 'longRunning') return true;
  return isSet((request as Record<string, unknown> | null)?.[polling.whenField]);
}

function isSet(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return false;
  if (value instanceof Uint8Array) return value.length > 0;
  return true;
}
