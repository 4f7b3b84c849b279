/**
 * The history service: owns the shards, their queue processors and the API handlers. In-process
 * for now; its methods are the future internal gRPC surface.
 */
import { shardIdFor, type Clock, type Failure, type Logger, type Payloads, temporal } from '@hourglass/common';
import type { NamespaceRecord, Persistence, TimerTaskRow, TransferTaskRow } from '@hourglass/persistence';
import { describeWorkflowExecution } from './api/describe-workflow-execution/describe-workflow-execution.handler';
import { getWorkflowExecutionHistory, type LongPollOptions } from './api/get-workflow-execution-history/get-workflow-execution-history.handler';
import { recordActivityTaskHeartbeat } from './api/record-activity-task-heartbeat/record-activity-task-heartbeat.handler';
import { recordActivityTaskStarted, type RecordActivityTaskStartedArgs } from './api/record-activity-task-started/record-activity-task-started.handler';
import {
  recordWorkflowTaskStarted,
  rescheduleStickyWorkflowTask,
  type RecordWorkflowTaskStartedArgs,
} from './api/record-workflow-task-started/record-workflow-task-started.handler';
import type { ActivityTarget } from './api/respond-activity-task/activity-target';
import { updateNamedRun } from './api/shared';
import { respondActivityTaskCanceled, respondActivityTaskCompleted, respondActivityTaskFailed } from './api/respond-activity-task/respond-activity-task.handler';
import { respondWorkflowTaskCompleted } from './api/respond-workflow-task-completed/respond-workflow-task-completed.handler';
import { respondWorkflowTaskFailed } from './api/respond-workflow-task-failed/respond-workflow-task-failed.handler';
import { queryWorkflow, respondQueryTaskCompleted, type QueryCall } from './api/query-workflow/query-workflow.handler';
import { pollWorkflowExecutionUpdate, updateWorkflowExecution, type UpdateCall } from './api/update-workflow/update-workflow.handler';
import { resetWorkflowExecution } from './api/reset-workflow/reset-workflow.handler';
import { requestCancelWorkflowExecution } from './api/request-cancel-workflow/request-cancel-workflow.handler';
import { signalWorkflowExecution } from './api/signal-workflow/signal-workflow.handler';
import { signalWithStartWorkflowExecution, startWorkflowExecution } from './api/start-workflow/start-workflow.handler';
import { terminateWorkflowExecution } from './api/terminate-workflow/terminate-workflow.handler';
import type { HistoryConfig } from './config';
import type { EngineContext, MatchingClient } from './engine-context';
import type { NamespaceRegistry } from './namespace-registry';
import { ExecutionNotifier } from './notifier';
import { WorkTracker } from './work-tracker';
import { QueryRegistry } from './query-registry';
import { createTimerTaskExecutor } from './queues/timer-queue-executor';
import { TimerQueueProcessor } from './queues/timer-queue-processor';
import { createTransferTaskExecutor } from './queues/transfer-queue-executor';
import { TransferQueueProcessor } from './queues/transfer-queue-processor';
import { ShardContext } from './shard/shard-context';
import type { WorkflowTaskToken } from './task-token';


export interface HistoryEngineDeps {
  persistence: Persistence;
  namespaces: NamespaceRegistry;
  matching: MatchingClient;
  clock: Clock;
  config: HistoryConfig;
  logger: Logger;
}

export class HistoryEngine {
  private readonly shards: ShardContext[] = [];
  private readonly transferQueues: TransferQueueProcessor[] = [];
  private readonly timerQueues: TimerQueueProcessor[] = [];
  private readonly env: EngineContext;
  /** Runs with work in progress (for time skipping in test environments). */
  readonly workTracker = new WorkTracker();

  constructor(deps: HistoryEngineDeps) {
    const notifier = new ExecutionNotifier();
    this.env = {
      config: deps.config,
      clock: deps.clock,
      logger: deps.logger,
      namespaces: deps.namespaces,
      matching: deps.matching,
      notifier,
      queries: new QueryRegistry(),
      shardFor: (namespaceId, workflowId) => this.shardFor(namespaceId, workflowId),
    };
    const executeTransfer = createTransferTaskExecutor(this.env);
    const executeTimer = createTimerTaskExecutor(this.env);
    const store = deps.persistence.executions;
    for (let shardId = 0; shardId < deps.config.numHistoryShards; shardId++) {
      this.shards.push(
        new ShardContext(shardId, store, deps.clock, deps.config, deps.logger, {
          onTransferTasks: (id, rows: TransferTaskRow[]) => this.transferQueues[id]?.enqueue(rows),
          onTimerTasks: (id, rows: TimerTaskRow[]) => this.timerQueues[id]?.enqueue(rows),
          onOwnershipLost: (id) => {
            void this.transferQueues[id]?.stop();
            void this.timerQueues[id]?.stop();
          },
          onExecutionChanged: (key, change, ms) => {
            this.workTracker.record(key, ms, deps.clock.now());
            notifier.notify(key, change);
          },
        }),
      );
      this.transferQueues.push(new TransferQueueProcessor(shardId, store, executeTransfer, deps.config.transferConcurrency, deps.logger));
      this.timerQueues.push(new TimerQueueProcessor(shardId, store, deps.clock, executeTimer, deps.config.timerLookaheadMs, deps.logger));
    }
  }

  /** Acquires every shard (fencing out any previous owner) and starts their queue processors. */
  async start(): Promise<void> {
    for (const shard of this.shards) await shard.acquire();
    await Promise.all(this.transferQueues.map((q) => q.start()));
    await Promise.all(this.timerQueues.map((q) => q.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.transferQueues.map((q) => q.stop()), ...this.timerQueues.map((q) => q.stop())]);
    for (const shard of this.shards) shard.stop();
  }

  shardFor(namespaceId: string, workflowId: string): ShardContext {
    return this.shards[shardIdFor(namespaceId, workflowId, this.shards.length)] as ShardContext;
  }

  startWorkflowExecution(namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest) {
    return startWorkflowExecution(this.env, namespace, req);
  }

  signalWithStartWorkflowExecution(namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.ISignalWithStartWorkflowExecutionRequest) {
    return signalWithStartWorkflowExecution(this.env, namespace, req);
  }

  signalWorkflowExecution(namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.ISignalWorkflowExecutionRequest) {
    return signalWorkflowExecution(this.env, namespace, req);
  }

  requestCancelWorkflowExecution(namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.IRequestCancelWorkflowExecutionRequest) {
    return requestCancelWorkflowExecution(this.env, namespace, req);
  }

  updateWorkflowExecution(namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.IUpdateWorkflowExecutionRequest, call: UpdateCall) {
    return updateWorkflowExecution(this.env, namespace, req, call);
  }

  pollWorkflowExecutionUpdate(namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.IPollWorkflowExecutionUpdateRequest, call: UpdateCall) {
    return pollWorkflowExecutionUpdate(this.env, namespace, req, call);
  }

  resetWorkflowExecution(namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.IResetWorkflowExecutionRequest) {
    return resetWorkflowExecution(this.env, namespace, req);
  }

  queryWorkflow(namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.IQueryWorkflowRequest, call: QueryCall) {
    return queryWorkflow(this.env, namespace, req, call);
  }

  respondQueryTaskCompleted(queryId: string, req: temporal.api.workflowservice.v1.IRespondQueryTaskCompletedRequest) {
    respondQueryTaskCompleted(this.env, queryId, req);
  }

  recordWorkflowTaskStarted(args: RecordWorkflowTaskStartedArgs) {
    return recordWorkflowTaskStarted(this.env, args);
  }

  /** ResetStickyTaskQueue: the next workflow task of the run goes to its normal queue. */
  async resetStickyTaskQueue(namespace: NamespaceRecord, execution: { workflowId: string; runId?: string | null }) {
    await updateNamedRun(this.env, namespace.id, execution.workflowId, execution.runId, (ctx) => {
      if (!ctx || !ctx.ms.sticky) return;
      ctx.ms.sticky = null;
      ctx.markDirty();
    });
  }

  rescheduleStickyWorkflowTask(args: { namespaceId: string; task: { workflowId: string; runId: string; scheduledEventId: number } }) {
    return rescheduleStickyWorkflowTask(this.env, args);
  }

  recordActivityTaskStarted(args: RecordActivityTaskStartedArgs) {
    return recordActivityTaskStarted(this.env, args);
  }

  respondWorkflowTaskCompleted(namespace: NamespaceRecord, token: WorkflowTaskToken, req: temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedRequest) {
    return respondWorkflowTaskCompleted(this.env, namespace, token, req);
  }

  respondWorkflowTaskFailed(token: WorkflowTaskToken, req: temporal.api.workflowservice.v1.IRespondWorkflowTaskFailedRequest) {
    return respondWorkflowTaskFailed(this.env, token, req);
  }

  respondActivityTaskCompleted(target: ActivityTarget, args: { result?: Payloads | null; identity: string }) {
    return respondActivityTaskCompleted(this.env, target, args);
  }

  respondActivityTaskFailed(target: ActivityTarget, args: { failure: Failure; identity: string; lastHeartbeatDetails?: Payloads | null }) {
    return respondActivityTaskFailed(this.env, target, args);
  }

  respondActivityTaskCanceled(target: ActivityTarget, args: { details?: Payloads | null; identity: string }) {
    return respondActivityTaskCanceled(this.env, target, args);
  }

  recordActivityTaskHeartbeat(target: ActivityTarget, args: { details?: Payloads | null; identity: string }) {
    return recordActivityTaskHeartbeat(this.env, target, args);
  }

  getWorkflowExecutionHistory(namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest, poll: LongPollOptions) {
    return getWorkflowExecutionHistory(this.env, namespace, req, poll);
  }

  describeWorkflowExecution(namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionRequest) {
    return describeWorkflowExecution(this.env, namespace, req);
  }

  terminateWorkflowExecution(namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.ITerminateWorkflowExecutionRequest) {
    return terminateWorkflowExecution(this.env, namespace, req);
  }
}
