/**
 * The history service: owns the shards, their queue processors and the API handlers. In-process
 * for now; its methods are the future internal gRPC surface.
 */
import { DEFAULT_SETTINGS, shardIdFor, type Clock, type Failure, type Logger, type Payloads, type Settings } from '@hourglass/common';
import type {
  ActivityTarget,
  BuildQueryTaskRequest,
  CallOptions,
  HistoryService,
  MatchingService,
  NamespacedRequest,
  RecordActivityTaskStartedRequest,
  RecordWorkflowTaskStartedRequest,
  WorkflowTaskToken,
  Ws,
} from '@hourglass/contracts';
import type { NamespaceRecord, Persistence, TimerTaskRow, TransferTaskRow } from '@hourglass/persistence';
import { describeWorkflowExecution } from './api/describe-workflow-execution/describe-workflow-execution.handler';
import { getWorkflowExecutionHistory } from './api/get-workflow-execution-history/get-workflow-execution-history.handler';
import { recordActivityTaskHeartbeat } from './api/record-activity-task-heartbeat/record-activity-task-heartbeat.handler';
import { recordActivityTaskStarted } from './api/record-activity-task-started/record-activity-task-started.handler';
import { recordWorkflowTaskStarted, rescheduleStickyWorkflowTask } from './api/record-workflow-task-started/record-workflow-task-started.handler';
import { updateNamedRun } from './api/shared';
import { respondActivityTaskCanceled, respondActivityTaskCompleted, respondActivityTaskFailed } from './api/respond-activity-task/respond-activity-task.handler';
import { respondWorkflowTaskCompleted } from './api/respond-workflow-task-completed/respond-workflow-task-completed.handler';
import { respondWorkflowTaskFailed } from './api/respond-workflow-task-failed/respond-workflow-task-failed.handler';
import { buildQueryTask, queryWorkflow, respondQueryTaskCompleted } from './api/query-workflow/query-workflow.handler';
import { pollWorkflowExecutionUpdate, updateWorkflowExecution } from './api/update-workflow/update-workflow.handler';
import { resetWorkflowExecution } from './api/reset-workflow/reset-workflow.handler';
import { requestCancelWorkflowExecution } from './api/request-cancel-workflow/request-cancel-workflow.handler';
import { signalWorkflowExecution } from './api/signal-workflow/signal-workflow.handler';
import { signalWithStartWorkflowExecution, startWorkflowExecution } from './api/start-workflow/start-workflow.handler';
import { terminateWorkflowExecution } from './api/terminate-workflow/terminate-workflow.handler';
import type { HistoryConfig } from './config';
import type { EngineContext } from './engine-context';
import type { NamespaceRegistry } from './namespace-registry';
import { ExecutionNotifier } from './notifier';
import { WorkTracker } from './work-tracker';
import { QueryRegistry } from './query-registry';
import { createTimerTaskExecutor } from './queues/timer-queue-executor';
import { TimerQueueProcessor } from './queues/timer-queue-processor';
import { createTransferTaskExecutor } from './queues/transfer-queue-executor';
import { TransferQueueProcessor } from './queues/transfer-queue-processor';
import { ShardContext } from './shard/shard-context';


export interface HistoryEngineDeps {
  persistence: Persistence;
  namespaces: NamespaceRegistry;
  matching: MatchingService;
  /** Tunables and limits (defaults when absent). */
  settings?: Settings;
  clock: Clock;
  config: HistoryConfig;
  logger: Logger;
}

export class HistoryEngine implements HistoryService {
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
      settings: deps.settings ?? DEFAULT_SETTINGS,
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

  private namespace(id: string): Promise<NamespaceRecord> {
    return this.env.namespaces.getById(id);
  }

  async startWorkflowExecution(r: NamespacedRequest<Ws<'StartWorkflowExecutionRequest'>>) {
    return startWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async signalWithStartWorkflowExecution(r: NamespacedRequest<Ws<'SignalWithStartWorkflowExecutionRequest'>>) {
    const res = await signalWithStartWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
    return { runId: res.runId ?? '', started: res.started ?? false };
  }

  async signalWorkflowExecution(r: NamespacedRequest<Ws<'SignalWorkflowExecutionRequest'>>): Promise<void> {
    await signalWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async requestCancelWorkflowExecution(r: NamespacedRequest<Ws<'RequestCancelWorkflowExecutionRequest'>>): Promise<void> {
    await requestCancelWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async terminateWorkflowExecution(r: NamespacedRequest<Ws<'TerminateWorkflowExecutionRequest'>>): Promise<void> {
    await terminateWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async resetWorkflowExecution(r: NamespacedRequest<Ws<'ResetWorkflowExecutionRequest'>>) {
    return resetWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async describeWorkflowExecution(r: NamespacedRequest<Ws<'DescribeWorkflowExecutionRequest'>>) {
    return describeWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request);
  }

  async getWorkflowExecutionHistory(r: NamespacedRequest<Ws<'GetWorkflowExecutionHistoryRequest'>>, call: CallOptions = NO_DEADLINE) {
    return getWorkflowExecutionHistory(this.env, await this.namespace(r.namespaceId), r.request, call);
  }

  async queryWorkflow(r: NamespacedRequest<Ws<'QueryWorkflowRequest'>>, call: CallOptions = NO_DEADLINE) {
    return queryWorkflow(this.env, await this.namespace(r.namespaceId), r.request, call);
  }

  async updateWorkflowExecution(r: NamespacedRequest<Ws<'UpdateWorkflowExecutionRequest'>>, call: CallOptions = NO_DEADLINE) {
    return updateWorkflowExecution(this.env, await this.namespace(r.namespaceId), r.request, call);
  }

  async pollWorkflowExecutionUpdate(r: NamespacedRequest<Ws<'PollWorkflowExecutionUpdateRequest'>>, call: CallOptions = NO_DEADLINE) {
    return pollWorkflowExecutionUpdate(this.env, await this.namespace(r.namespaceId), r.request, call);
  }

  async resetStickyTaskQueue(r: { namespaceId: string; workflowId: string; runId: string }): Promise<void> {
    await updateNamedRun(this.env, r.namespaceId, r.workflowId, r.runId, (ctx) => {
      if (!ctx || !ctx.ms.sticky) return;
      ctx.ms.sticky = null;
      ctx.markDirty();
    });
  }

  async respondWorkflowTaskCompleted(r: { namespaceId: string; token: WorkflowTaskToken; request: Ws<'RespondWorkflowTaskCompletedRequest'> }) {
    return respondWorkflowTaskCompleted(this.env, await this.namespace(r.namespaceId), r.token, r.request);
  }

  async respondWorkflowTaskFailed(r: { namespaceId: string; token: WorkflowTaskToken; request: Ws<'RespondWorkflowTaskFailedRequest'> }): Promise<void> {
    await respondWorkflowTaskFailed(this.env, r.token, r.request);
  }

  respondActivityTaskCompleted(r: { target: ActivityTarget; result?: Payloads | null; identity: string }): Promise<void> {
    return respondActivityTaskCompleted(this.env, r.target, r);
  }

  respondActivityTaskFailed(r: { target: ActivityTarget; failure: Failure; identity: string; lastHeartbeatDetails?: Payloads | null }): Promise<void> {
    return respondActivityTaskFailed(this.env, r.target, r);
  }

  respondActivityTaskCanceled(r: { target: ActivityTarget; details?: Payloads | null; identity: string }): Promise<void> {
    return respondActivityTaskCanceled(this.env, r.target, r);
  }

  recordActivityTaskHeartbeat(r: { target: ActivityTarget; details?: Payloads | null; identity: string }) {
    return recordActivityTaskHeartbeat(this.env, r.target, r);
  }

  async respondQueryTaskCompleted(r: { namespaceId: string; queryId: string; request: Ws<'RespondQueryTaskCompletedRequest'> }): Promise<void> {
    respondQueryTaskCompleted(this.env, r.queryId, r.request);
  }

  recordWorkflowTaskStarted(r: RecordWorkflowTaskStartedRequest) {
    return recordWorkflowTaskStarted(this.env, r);
  }

  recordActivityTaskStarted(r: RecordActivityTaskStartedRequest) {
    return recordActivityTaskStarted(this.env, r);
  }

  rescheduleStickyWorkflowTask(r: { namespaceId: string; task: { workflowId: string; runId: string; scheduledEventId: number } }) {
    return rescheduleStickyWorkflowTask(this.env, r);
  }

  buildQueryTask(r: BuildQueryTaskRequest) {
    return buildQueryTask(this.env, r);
  }
}

const NO_DEADLINE: CallOptions = { deadline: 0 };
