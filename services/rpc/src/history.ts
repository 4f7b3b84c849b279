/**
 * Internal gRPC of the history service: HistoryService (TaskStarter included), served and called.
 */
import type { Server } from '@grpc/grpc-js';
import type { CallOptions, HistoryService } from '@hourglass/contracts';
import { HISTORY_SERVICE } from './protos';
import { ContractClient, addContractService, type ContractClientOptions, type MethodTable } from './transport';

/** One row per HistoryService method: its rpc, whether it is retried (idempotent), its default deadline. */
export const HISTORY_METHODS: MethodTable<HistoryService> = {
  startWorkflowExecution: { rpc: 'StartWorkflowExecution', retry: false },
  signalWithStartWorkflowExecution: { rpc: 'SignalWithStartWorkflowExecution', retry: false },
  signalWorkflowExecution: { rpc: 'SignalWorkflowExecution', retry: false, result: { constant: undefined } },
  requestCancelWorkflowExecution: { rpc: 'RequestCancelWorkflowExecution', retry: false, result: { constant: undefined } },
  deleteWorkflowExecution: { rpc: 'DeleteWorkflowExecution', retry: false, result: { constant: undefined } },
  startBatchOperation: { rpc: 'StartBatchOperation', retry: false, result: { constant: undefined } },
  describeBatchOperation: { rpc: 'DescribeBatchOperation', retry: true },
  stopBatchOperation: { rpc: 'StopBatchOperation', retry: false, result: { constant: undefined } },
  terminateWorkflowExecution: { rpc: 'TerminateWorkflowExecution', retry: false, result: { constant: undefined } },
  resetWorkflowExecution: { rpc: 'ResetWorkflowExecution', retry: false },
  describeWorkflowExecution: { rpc: 'DescribeWorkflowExecution', retry: true },
  getWorkflowExecutionHistoryReverse: { rpc: 'GetWorkflowExecutionHistoryReverse', retry: true },
  getWorkflowExecutionHistory: { rpc: 'GetWorkflowExecutionHistory', retry: true, timeout: 'long-poll' },
  queryWorkflow: { rpc: 'QueryWorkflow', retry: false, timeout: 'long-poll' },
  onNamespaceDeleted: { rpc: 'OnNamespaceDeleted', retry: true, timeout: 'long-poll', result: { constant: undefined } },
  executeMultiOperation: { rpc: 'ExecuteMultiOperation', retry: false, timeout: 'long-poll' },
  updateWorkflowExecution: { rpc: 'UpdateWorkflowExecution', retry: false, timeout: 'long-poll' },
  pollWorkflowExecutionUpdate: { rpc: 'PollWorkflowExecutionUpdate', retry: true, timeout: 'long-poll' },
  resetStickyTaskQueue: { rpc: 'ResetStickyTaskQueue', retry: true, result: { constant: undefined } },
  respondWorkflowTaskCompleted: { rpc: 'RespondWorkflowTaskCompleted', retry: false },
  respondWorkflowTaskFailed: { rpc: 'RespondWorkflowTaskFailed', retry: false, result: { constant: undefined } },
  respondActivityTaskCompleted: { rpc: 'RespondActivityTaskCompleted', retry: false, result: { constant: undefined } },
  respondActivityTaskFailed: { rpc: 'RespondActivityTaskFailed', retry: false, result: { constant: undefined } },
  respondActivityTaskCanceled: { rpc: 'RespondActivityTaskCanceled', retry: false, result: { constant: undefined } },
  recordActivityTaskHeartbeat: { rpc: 'RecordActivityTaskHeartbeat', retry: false },
  createSchedule: { rpc: 'CreateSchedule', retry: false },
  describeSchedule: { rpc: 'DescribeSchedule', retry: true },
  updateSchedule: { rpc: 'UpdateSchedule', retry: false, result: { constant: undefined } },
  patchSchedule: { rpc: 'PatchSchedule', retry: false, result: { constant: undefined } },
  deleteSchedule: { rpc: 'DeleteSchedule', retry: false, result: { constant: undefined } },
  listScheduleMatchingTimes: { rpc: 'ListScheduleMatchingTimes', retry: true },
  registerWorkerDeploymentVersion: { rpc: 'RegisterWorkerDeploymentVersion', retry: true, result: { constant: undefined } },
  updateWorkflowExecutionOptions: { rpc: 'UpdateWorkflowExecutionOptions', retry: false },
  taskQueueVersions: { rpc: 'TaskQueueVersions', retry: true, result: { field: 'versions', absent: undefined } },
  describeWorkerDeployment: { rpc: 'DescribeWorkerDeployment', retry: true },
  listWorkerDeployments: { rpc: 'ListWorkerDeployments', retry: true },
  describeWorkerDeploymentVersion: { rpc: 'DescribeWorkerDeploymentVersion', retry: true },
  setWorkerDeploymentCurrentVersion: { rpc: 'SetWorkerDeploymentCurrentVersion', retry: false },
  setWorkerDeploymentRampingVersion: { rpc: 'SetWorkerDeploymentRampingVersion', retry: false },
  deleteWorkerDeploymentVersion: { rpc: 'DeleteWorkerDeploymentVersion', retry: false, result: { constant: undefined } },
  deleteWorkerDeployment: { rpc: 'DeleteWorkerDeployment', retry: false, result: { constant: undefined } },
  startActivityExecution: { rpc: 'StartActivityExecution', retry: false },
  describeActivityExecution: { rpc: 'DescribeActivityExecution', retry: true, timeout: 'long-poll' },
  pollActivityExecution: { rpc: 'PollActivityExecution', retry: true, timeout: 'long-poll' },
  requestCancelActivityExecution: { rpc: 'RequestCancelActivityExecution', retry: false, result: { constant: undefined } },
  terminateActivityExecution: { rpc: 'TerminateActivityExecution', retry: false, result: { constant: undefined } },
  deleteActivityExecution: { rpc: 'DeleteActivityExecution', retry: false, result: { constant: undefined } },
  respondQueryTaskCompleted: { rpc: 'RespondQueryTaskCompleted', retry: false, result: { constant: undefined } },
  recordWorkflowTaskStarted: { rpc: 'RecordWorkflowTaskStarted', retry: false },
  recordActivityTaskStarted: { rpc: 'RecordActivityTaskStarted', retry: false },
  rescheduleStickyWorkflowTask: { rpc: 'RescheduleStickyWorkflowTask', retry: false, result: { constant: undefined } },
  redispatchTask: { rpc: 'RedispatchTask', retry: false, result: { constant: undefined } },
  buildQueryTask: { rpc: 'BuildQueryTask', retry: true },
  startChildExecution: { rpc: 'StartChildExecution', retry: true },
  recordChildExecutionClosed: { rpc: 'RecordChildExecutionClosed', retry: true, result: { constant: undefined } },
  applyParentClosePolicy: { rpc: 'ApplyParentClosePolicy', retry: true, result: { constant: undefined } },
  deliverExternalSignal: { rpc: 'DeliverExternalSignal', retry: true, result: { field: 'delivered', absent: undefined } },
  deliverExternalCancel: { rpc: 'DeliverExternalCancel', retry: true, result: { field: 'delivered', absent: undefined } },
  startScheduledWorkflow: { rpc: 'StartScheduledWorkflow', retry: true },
  currentExecution: { rpc: 'CurrentExecution', retry: true, result: { field: 'execution', absent: null } },
};

/** Serves an in-process HistoryService (the engine) as history over internal gRPC. */
export function addHistoryService(server: Server, impl: HistoryService): void {
  addContractService(server, HISTORY_SERVICE, HISTORY_METHODS, impl);
}

/** HistoryService of a remote process, over internal gRPC (see transport.ts for deadlines, cancellation, retries). */
export class HistoryClient implements HistoryService {
  private readonly rpc: ContractClient;
  readonly startWorkflowExecution = this.method('startWorkflowExecution');
  readonly signalWithStartWorkflowExecution = this.method('signalWithStartWorkflowExecution');
  readonly signalWorkflowExecution = this.method('signalWorkflowExecution');
  readonly requestCancelWorkflowExecution = this.method('requestCancelWorkflowExecution');
  readonly deleteWorkflowExecution = this.method('deleteWorkflowExecution');
  readonly startBatchOperation = this.method('startBatchOperation');
  readonly describeBatchOperation = this.method('describeBatchOperation');
  readonly stopBatchOperation = this.method('stopBatchOperation');
  readonly terminateWorkflowExecution = this.method('terminateWorkflowExecution');
  readonly resetWorkflowExecution = this.method('resetWorkflowExecution');
  readonly describeWorkflowExecution = this.method('describeWorkflowExecution');
  readonly getWorkflowExecutionHistoryReverse = this.method('getWorkflowExecutionHistoryReverse');
  readonly getWorkflowExecutionHistory = this.method('getWorkflowExecutionHistory');
  readonly queryWorkflow = this.method('queryWorkflow');
  readonly onNamespaceDeleted = this.method('onNamespaceDeleted');
  readonly executeMultiOperation = this.method('executeMultiOperation');
  readonly updateWorkflowExecution = this.method('updateWorkflowExecution');
  readonly pollWorkflowExecutionUpdate = this.method('pollWorkflowExecutionUpdate');
  readonly resetStickyTaskQueue = this.method('resetStickyTaskQueue');
  readonly respondWorkflowTaskCompleted = this.method('respondWorkflowTaskCompleted');
  readonly respondWorkflowTaskFailed = this.method('respondWorkflowTaskFailed');
  readonly respondActivityTaskCompleted = this.method('respondActivityTaskCompleted');
  readonly respondActivityTaskFailed = this.method('respondActivityTaskFailed');
  readonly respondActivityTaskCanceled = this.method('respondActivityTaskCanceled');
  readonly recordActivityTaskHeartbeat = this.method('recordActivityTaskHeartbeat');
  readonly createSchedule = this.method('createSchedule');
  readonly describeSchedule = this.method('describeSchedule');
  readonly updateSchedule = this.method('updateSchedule');
  readonly patchSchedule = this.method('patchSchedule');
  readonly deleteSchedule = this.method('deleteSchedule');
  readonly listScheduleMatchingTimes = this.method('listScheduleMatchingTimes');
  readonly registerWorkerDeploymentVersion = this.method('registerWorkerDeploymentVersion');
  readonly updateWorkflowExecutionOptions = this.method('updateWorkflowExecutionOptions');
  readonly taskQueueVersions = this.method('taskQueueVersions');
  readonly describeWorkerDeployment = this.method('describeWorkerDeployment');
  readonly listWorkerDeployments = this.method('listWorkerDeployments');
  readonly describeWorkerDeploymentVersion = this.method('describeWorkerDeploymentVersion');
  readonly setWorkerDeploymentCurrentVersion = this.method('setWorkerDeploymentCurrentVersion');
  readonly setWorkerDeploymentRampingVersion = this.method('setWorkerDeploymentRampingVersion');
  readonly deleteWorkerDeploymentVersion = this.method('deleteWorkerDeploymentVersion');
  readonly deleteWorkerDeployment = this.method('deleteWorkerDeployment');
  readonly startActivityExecution = this.method('startActivityExecution');
  readonly describeActivityExecution = this.method('describeActivityExecution');
  readonly pollActivityExecution = this.method('pollActivityExecution');
  readonly requestCancelActivityExecution = this.method('requestCancelActivityExecution');
  readonly terminateActivityExecution = this.method('terminateActivityExecution');
  readonly deleteActivityExecution = this.method('deleteActivityExecution');
  readonly respondQueryTaskCompleted = this.method('respondQueryTaskCompleted');
  readonly recordWorkflowTaskStarted = this.method('recordWorkflowTaskStarted');
  readonly recordActivityTaskStarted = this.method('recordActivityTaskStarted');
  readonly rescheduleStickyWorkflowTask = this.method('rescheduleStickyWorkflowTask');
  readonly redispatchTask = this.method('redispatchTask');
  readonly buildQueryTask = this.method('buildQueryTask');
  readonly startChildExecution = this.method('startChildExecution');
  readonly recordChildExecutionClosed = this.method('recordChildExecutionClosed');
  readonly applyParentClosePolicy = this.method('applyParentClosePolicy');
  readonly deliverExternalSignal = this.method('deliverExternalSignal');
  readonly deliverExternalCancel = this.method('deliverExternalCancel');
  readonly startScheduledWorkflow = this.method('startScheduledWorkflow');
  readonly currentExecution = this.method('currentExecution');

  constructor(address: string, options: ContractClientOptions = {}) {
    this.rpc = new ContractClient(address, HISTORY_SERVICE, HISTORY_METHODS, options);
  }

  /** Closes the channel; calls after this fail. */
  close(): void {
    this.rpc.close();
  }

  private method<K extends keyof HistoryService>(name: K): HistoryService[K] {
    return ((request?: unknown, call?: CallOptions) => this.rpc.invoke(name, request, call)) as HistoryService[K];
  }
}
