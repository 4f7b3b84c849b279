/**
 * What the matching service answers: history adds tasks and hands query tasks over; the frontend
 * long-polls on behalf of workers. Plain data in and out, as history-service.ts.
 */
import type { CallOptions, MatchTask } from './common';
import type { QueryTask, Ws } from './history-service';

export type TaskQueueKindName = 'normal' | 'sticky';

export interface AddWorkflowTaskRequest {
  namespaceId: string;
  taskQueueName: string;
  kind: TaskQueueKindName;
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  /** The partition to add to (a routed caller picked it); absent: the engine picks one. Sticky queues have only 0. */
  partition?: number;
}

export interface AddActivityTaskRequest {
  namespaceId: string;
  taskQueueName: string;
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  attempt: number;
  /** As AddWorkflowTaskRequest.partition. */
  partition?: number;
}

export interface PollTaskQueueRequest {
  namespaceId: string;
  /** Namespace name, for task-queue scoped settings. */
  namespaceName: string;
  taskQueueName: string;
  kind: TaskQueueKindName;
  identity: string;
  /** The partition to poll (a routed caller picked it); absent: the engine picks one. */
  partition?: number;
  /**
   * Set on a poll a child partition forwards to its parent (`partition`) because it had nothing:
   * the child it comes from. The poll waits on `partition` as any poll, but its poller is not
   * remembered there again.
   */
  forwardedFrom?: number;
}

/**
 * A task a child partition offers to a poller of its parent (`partition`), sync match only: the
 * receiver never stores it (the child keeps it when nobody took it).
 */
export interface OfferForwardedTaskRequest {
  namespaceId: string;
  taskQueueName: string;
  type: 'workflow' | 'activity';
  kind: TaskQueueKindName;
  partition: number;
  forwardedFrom: number;
  task: MatchTask;
}

export interface DispatchQueryTaskRequest {
  namespaceId: string;
  taskQueueName: string;
  kind: TaskQueueKindName;
  task: QueryTask;
  /** Longest the query waits for a poller to take it. */
  timeoutMs: number;
}

/** A worker identity that polled a queue, and when it was last seen (a poll started or ended). */
export interface PollerSeen {
  identity: string;
  lastAccessTime: number;
}

/** One task queue (name, type, kind) as matching holds it. */
export interface TaskQueueDescription {
  /** Polls waiting right now. */
  waitingPollers: number;
  backlogTasks: number;
  pendingQueries: number;
  /** When the oldest task of the backlog was added; undefined without backlog. */
  oldestBacklogTime: number | undefined;
  /** Identities that polled within the last five minutes, most recent first. */
  pollers: PollerSeen[];
}

/**
 * Descriptions of the parts of one queue (its partitions, on one host or several) as one: polls,
 * backlog and queries summed, the oldest backlog time, pollers merged by identity (latest access
 * kept), most recent first. Undefined for no parts.
 */
export function mergeTaskQueueDescriptions(parts: Iterable<TaskQueueDescription>): TaskQueueDescription | undefined {
  let only: TaskQueueDescription | undefined;
  let merged: TaskQueueDescription | undefined;
  let pollers: Map<string, number> | undefined;
  for (const d of parts) {
    if (!only) {
      only = d;
      continue;
    }
    if (!merged || !pollers) {
      merged = { ...only };
      pollers = new Map(only.pollers.map((p) => [p.identity, p.lastAccessTime]));
    }
    merged.waitingPollers += d.waitingPollers;
    merged.backlogTasks += d.backlogTasks;
    merged.pendingQueries += d.pendingQueries;
    if (d.oldestBacklogTime !== undefined && (merged.oldestBacklogTime === undefined || d.oldestBacklogTime < merged.oldestBacklogTime)) merged.oldestBacklogTime = d.oldestBacklogTime;
    for (const p of d.pollers) {
      const seen = pollers.get(p.identity);
      if (seen === undefined || p.lastAccessTime > seen) pollers.set(p.identity, p.lastAccessTime);
    }
  }
  if (!merged || !pollers) return only;
  const all: PollerSeen[] = [];
  for (const [identity, lastAccessTime] of pollers) all.push({ identity, lastAccessTime });
  all.sort((a, b) => b.lastAccessTime - a.lastAccessTime);
  merged.pollers = all;
  return merged;
}

export type WorkerHeartbeat = Ws<'RecordWorkerHeartbeatRequest'>['workerHeartbeat'] extends (infer H)[] | null | undefined ? H : never;

/** The worker fields a ListWorkers/CountWorkers query may filter on (Temporal's names). */
export type WorkerStringField = 'WorkerInstanceKey' | 'WorkerIdentity' | 'HostName' | 'TaskQueue' | 'DeploymentName' | 'BuildId' | 'SdkName' | 'SdkVersion' | 'WorkerStatus';
export type WorkerTimeField = 'StartTime' | 'HeartbeatTime';

/**
 * A ListWorkers/CountWorkers query, checked by the frontend and sent as plain data: strings compare
 * exactly (WorkerStatus by its enum name, e.g. WORKER_STATUS_RUNNING), times are epoch milliseconds
 * (a worker that did not report the time matches no time condition).
 */
export type WorkerFilter =
  | { kind: 'and' | 'or'; operands: WorkerFilter[] }
  | { kind: 'not'; operand: WorkerFilter }
  | { kind: 'string'; field: WorkerStringField; op: '=' | '!=' | 'startsWith' | 'notStartsWith' | 'in' | 'notIn'; values: string[] }
  | { kind: 'time'; field: WorkerTimeField; op: '=' | '!=' | '>' | '>=' | '<' | '<=' | 'between' | 'notBetween'; values: number[] };

export interface MatchingService {
  /** The whole queue; with `partition`, only that partition (a routed caller asks each partition's owner and merges). */
  describeTaskQueue(key: { namespaceId: string; taskQueueName: string; type: 'workflow' | 'activity'; kind: TaskQueueKindName; partition?: number }): Promise<TaskQueueDescription>;
  /** Workers report themselves every heartbeat interval; kept in memory, forgotten after five minutes of silence. */
  recordWorkerHeartbeat(request: { namespaceId: string; heartbeats: WorkerHeartbeat[] }): Promise<void>;
  /** Live workers of a namespace (those the filter matches), most recently heard first. */
  listWorkers(request: { namespaceId: string; pageSize: number; nextPageToken?: string; filter?: WorkerFilter }): Promise<{ workers: WorkerHeartbeat[]; nextPageToken?: string }>;
  countWorkers(request: { namespaceId: string; filter?: WorkerFilter }): Promise<number>;
  describeWorker(request: { namespaceId: string; workerInstanceKey: string }): Promise<WorkerHeartbeat | undefined>;
  /** Sync match to a waiting poller, else backlog. Fails with StickyWorkerUnavailableError on a sticky queue nobody polls. */
  addWorkflowTask(request: AddWorkflowTaskRequest, call?: CallOptions): Promise<void>;
  addActivityTask(request: AddActivityTaskRequest, call?: CallOptions): Promise<void>;
  /** Waits up to the long-poll timeout (and the call's deadline minus a margin); null means "no task". */
  pollWorkflowTaskQueue(request: PollTaskQueueRequest, call: CallOptions): Promise<Ws<'PollWorkflowTaskQueueResponse'> | null>;
  pollActivityTaskQueue(request: PollTaskQueueRequest, call: CallOptions): Promise<Ws<'PollActivityTaskQueueResponse'> | null>;
  /** Hourglass serves no Nexus tasks: held like an empty long poll, then null. */
  pollNexusTaskQueue(request: PollTaskQueueRequest, call: CallOptions): Promise<null>;
  /**
   * Hands a legacy query task to the next poller of the queue. True once a poller took it, false when
   * none did within `timeoutMs`; fails at once with StickyWorkerUnavailableError on a sticky queue
   * whose worker is gone (the caller then uses the normal queue).
   */
  dispatchQueryTask(request: DispatchQueryTaskRequest, call?: CallOptions): Promise<boolean>;
  /**
   * Partition forwarding between matching hosts: a child partition offers a task no poller of its
   * own took to a poller of its parent. True once a poller started it; false when none took it
   * (the sender keeps it). Forwarded polls are polls naming `partition` and `forwardedFrom`.
   */
  offerForwardedTask(request: OfferForwardedTaskRequest, call?: CallOptions): Promise<boolean>;
  /**
   * Worker versioning: the routing of a task queue changed, so the tasks waiting in this (matching)
   * queue go back to history to be routed anew (see TaskStarter.redispatchTask). Answers how many moved.
   */
  redirectBacklog(request: { namespaceId: string; taskQueueName: string; type: 'workflow' | 'activity'; partition?: number }): Promise<number>;
  /** A worker announced its shutdown: its sticky queue is gone and its pending tasks move to the normal queue. */
  shutdownStickyQueue(request: { namespaceId: string; stickyQueueName: string }, call?: CallOptions): Promise<void>;
}
