/**
 * Domain-level store contracts. Backends (SQLite for the embedded default, MySQL for production)
 * implement these; the same contract test suite (src/contract) runs against each.
 *
 * Mutable state is opaque to persistence: the history service serialises it, as one small
 * execution row (`state`) plus one row per pending item (activity, timer, child, request, update,
 * buffered event…), so a change writes what it changed and nothing else. Persistence owns
 * atomicity and the conditional checks (shard range_id, execution db_version, current-run pointer).
 */
import type { MembershipRegistry } from '@hourglass/common';
import type { VisibilityDeletion, VisibilityIndex, VisibilityRecord } from '@hourglass/visibility';
import type { IdentityStore, NamespaceLimits } from './identity-types';
import type { PortalStore } from './portal-types';

/** A namespace (tenant). Names are unique; ids are UUIDs and never change. */
export interface NamespaceRecord {
  id: string;
  name: string;
  /** The account that owns it (identity-types.ts). Records written before accounts existed read as ''. */
  accountId: string;
  /** Starts at 1, up by one with every change (Cloud's resource_version). Older records read as 1. */
  resourceVersion: number;
  /** Operator-set limits; absent fields take the settings' defaults. Older records read as {}. */
  limits: NamespaceLimits;
  state: NamespaceStateName;
  description: string;
  ownerEmail: string;
  /** Closed executions are kept this long before deletion. */
  retentionMs: number;
  /** Free-form key/values (Temporal's namespace `data`). */
  data: Record<string, string>;
  /**
   * Custom search attributes registered for the namespace (OperatorService AddSearchAttributes):
   * name → type (Keyword, Text, Int, Double, Bool, Datetime, KeywordList). Absent: none.
   */
  searchAttributes?: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export type NamespaceStateName = 'registered' | 'deprecated' | 'deleted';

export interface ListPage<T> {
  items: T[];
  /** Opaque; absent when there are no more pages. */
  nextPageToken?: string;
}

export interface NamespaceStore {
  /** Throws AlreadyExistsError when the name (or id) is taken. */
  createNamespace(record: NamespaceRecord): Promise<void>;
  getNamespaceByName(name: string): Promise<NamespaceRecord | undefined>;
  getNamespaceById(id: string): Promise<NamespaceRecord | undefined>;
  listNamespaces(options: { pageSize: number; nextPageToken?: string }): Promise<ListPage<NamespaceRecord>>;
  /** Replaces the record with the same id. Throws NotFoundError when it does not exist. */
  updateNamespace(record: NamespaceRecord): Promise<void>;
}

/** Cluster-wide facts fixed at creation (recorded by the first open of the store). */
export interface ClusterMetadata {
  clusterName: string;
  numHistoryShards: number;
  createdAt: number;
  /** MySQL only: the shard databases, in order (history shard s lives in database s mod N). */
  shardDatabases?: ShardDatabaseRecord[];
}

/** One shard database of a MySQL cluster, as the cluster database records it. */
export interface ShardDatabaseRecord {
  index: number;
  /** Identity written into the database by `hourglass db migrate`; survives renames and moves. */
  databaseId: string;
  /** Where it was last opened, without any password. */
  dsn: string;
}

export interface ClusterStore {
  /** The metadata recorded when the store was created; opening a store records it or checks against it. */
  getClusterMetadata(): Promise<ClusterMetadata>;
}

export interface ShardRecord {
  shardId: number;
  /** Fencing token: bumped by every acquisition (and release); every write in the shard checks it. */
  rangeId: number;
  /** The host that acquired it last; '' once that host released it (the next owner need not wait). */
  owner: string;
  updatedAt: number;
}

/**
 * The membership registry (table cluster_hosts of the cluster database): one row per (role, host),
 * heartbeats stamped and compared with the STORE's clock (MySQL: the server's UTC time; SQLite:
 * the clock the store was opened with, one process anyway), so skew between hosts never matters.
 */
export type MembershipStore = MembershipRegistry;

export interface ExecutionKey {
  namespaceId: string;
  workflowId: string;
  runId: string;
}

/**
 * One item of a run's mutable state, stored in its own row so that changing it does not rewrite the
 * rest. `kind` and `id` are owned by the history service (kind: at most 32 ASCII characters; id: at
 * most 1000 bytes of UTF-8); `data` is opaque text, up to a few MB.
 */
export interface ExecutionItemRow {
  kind: string;
  id: string;
  data: string;
}

export interface ExecutionItemKey {
  kind: string;
  id: string;
}

export interface ExecutionRecord extends ExecutionKey {
  /** The execution row: serialised core of the mutable state, owned by the history service. */
  state: string;
  /** Every item row of the run, in no particular order. */
  items: ExecutionItemRow[];
  /** Next history event id to be written (history holds 1..nextEventId-1). */
  nextEventId: number;
  /** Optimistic concurrency version; starts at 1 and grows by one per write. */
  dbVersion: number;
}

/** WorkflowExecutionStatus numbers from temporal.api.enums.v1 (1 = running). */
export type WorkflowStatusNumber = number;

/** The run that a workflow id currently points at (the newest run). */
export interface CurrentExecutionRecord {
  namespaceId: string;
  workflowId: string;
  runId: string;
  /** request_id of the start that created the run; for start idempotency. */
  createRequestId: string;
  running: boolean;
  status: WorkflowStatusNumber;
  startTime: number;
}

/** One encoded `temporal.api.history.v1.HistoryEvent`. */
export interface HistoryEventRow {
  eventId: number;
  data: Uint8Array;
}

/**
 * A task the shard's queue processors execute at least once (transactional outbox). Tasks belong to
 * a category (a persisted id from the history service's category table): an IMMEDIATE category's
 * tasks have fireAt 0 and are read in taskId order; a SCHEDULED category's tasks are read in
 * (fireAt, taskId) order once due. Task ids are unique within a shard across all categories.
 */
export interface HistoryTaskRow {
  categoryId: number;
  taskId: number;
  /** ms since epoch when due (scheduled categories); 0 for immediate categories. */
  fireAt: number;
  namespaceId: string;
  workflowId: string;
  runId: string;
  /** Task type name, owned by the history service. */
  type: string;
  /** JSON payload, owned by the history service. */
  data: string;
}

export interface HistoryTaskKey {
  categoryId: number;
  fireAt: number;
  taskId: number;
}

export interface ExecutionWrite {
  key: ExecutionKey;
  state: string;
  nextEventId: number;
  /** Events to append; their ids must continue the stored history without gaps. */
  events: HistoryEventRow[];
  /** Item rows to insert, or to replace when (kind, id) exists. */
  upsertItems: ExecutionItemRow[];
}

export interface ExecutionUpdate extends ExecutionWrite {
  /** The write fails with ConditionFailedError unless the stored dbVersion equals this. */
  expectedDbVersion: number;
  /** Item rows to remove (absent ones are ignored). Applied before `upsertItems`. */
  deleteItems: ExecutionItemKey[];
}

/** Removes a run: its execution row, items, history, tasks, and the current pointer if it is at this run. */
export interface ExecutionDeletion {
  key: ExecutionKey;
  /** Fails with ConditionFailedError unless the stored dbVersion equals this (a racing write won). */
  expectedDbVersion: number;
}

export interface CurrentExecutionUpdate {
  namespaceId: string;
  workflowId: string;
  /** The write fails with CurrentExecutionConditionFailedError unless the pointer is at this run (null: no pointer yet). */
  expectedRunId: string | null;
  record: CurrentExecutionRecord;
}

/**
 * Everything one change to a shard writes, committed in ONE transaction:
 * the range_id check, the execution update and/or creation (or the deletion of a run), the
 * current-run pointer, the appended history events, the item rows and the tasks of every category.
 */
export interface ShardCommit {
  shardId: number;
  rangeId: number;
  update?: ExecutionUpdate;
  create?: ExecutionWrite;
  /** Retention: never combined with update or create of the same run. */
  deletion?: ExecutionDeletion;
  current?: CurrentExecutionUpdate;
  tasks: HistoryTaskRow[];
  /**
   * Usage the change caused, added to the hourly usage counters in the commit's own transaction:
   * only for a store whose `foldsUsageInCommit` is true (any other refuses the commit with
   * InvalidArgumentError, and its usage goes as usage tasks instead).
   */
  usage?: UsageIncrement[];
}

export interface ExecutionStore {
  /** Acquire ownership of a shard: creates it (rangeId 1) or bumps its rangeId. */
  acquireShard(shardId: number, owner: string): Promise<ShardRecord>;
  /**
   * A clean hand-over: when the shard is still at `rangeId` (and `owner`'s), bumps the rangeId (the
   * releasing host can no longer commit) and records no owner (''), so the next owner takes it at
   * once. False when another host acquired it meanwhile (nothing changed).
   */
  releaseShard(shardId: number, owner: string, rangeId: number): Promise<boolean>;
  getShard(shardId: number): Promise<ShardRecord | undefined>;

  /**
   * Atomic conditional commit. Errors: ShardOwnershipLostError (rangeId moved),
   * ConditionFailedError (dbVersion or event ids), CurrentExecutionConditionFailedError
   * (pointer moved). On error nothing is written.
   */
  commit(commit: ShardCommit): Promise<void>;
  /**
   * True when the store adds a commit's `usage` to the hourly counters inside the commit: SQLite has
   * one writer, so the counters' rows keep nobody waiting, and a change's usage costs a few rows
   * of its own transaction. False when usage must go as usage tasks folded in batches
   * (foldUsageTasks): on MySQL every commit of a namespace would queue on its counter rows.
   */
  readonly foldsUsageInCommit: boolean;

  getExecution(shardId: number, key: ExecutionKey): Promise<ExecutionRecord | undefined>;
  getCurrentExecution(shardId: number, namespaceId: string, workflowId: string): Promise<CurrentExecutionRecord | undefined>;

  /** Events with fromEventId <= eventId < toEventId, ascending, at most `limit`. */
  readHistory(shardId: number, key: ExecutionKey, fromEventId: number, toEventId: number, limit: number): Promise<HistoryEventRow[]>;
  /**
   * The runs of a namespace in a shard, in (workflowId, runId) order after `after`, at most `limit`
   * (deleting a namespace's executions in batches).
   */
  listExecutionKeys(shardId: number, namespaceId: string, after: { workflowId: string; runId: string } | undefined, limit: number): Promise<ExecutionKey[]>;

  /** Tasks of an immediate category with taskId > afterTaskId, ascending, at most `limit`. */
  listImmediateTasks(shardId: number, categoryId: number, afterTaskId: number, limit: number): Promise<HistoryTaskRow[]>;
  /** Tasks of a scheduled category with fireAt < beforeFireAt, ordered by (fireAt, taskId), at most `limit`. */
  listScheduledTasks(shardId: number, categoryId: number, beforeFireAt: number, limit: number): Promise<HistoryTaskRow[]>;
  /** Acknowledges executed tasks (any categories). Absent keys are ignored. */
  deleteTasks(shardId: number, keys: HistoryTaskKey[]): Promise<void>;
  /** Acknowledges every task of an immediate category with taskId <= maxTaskId (its ack level). */
  deleteImmediateTasksUpTo(shardId: number, categoryId: number, maxTaskId: number): Promise<void>;

  /** Largest task id ever written in the shard (any category), 0 if none. */
  maxTaskId(shardId: number): Promise<number>;

  /**
   * Usage metering, exactly once: in ONE transaction checks the shard's rangeId (else
   * ShardOwnershipLostError), deletes each usage task of the batch and adds its increments to the
   * hourly usage counters. A task already folded (absent) adds nothing: its result is false.
   */
  foldUsageTasks(shardId: number, rangeId: number, batch: readonly UsageFold[]): Promise<boolean[]>;
  /**
   * Hourly usage rows of these namespaces with fromMs <= hourStart < toMs, summed over every
   * shard (database), ordered by (hourStart, namespaceId, recordType). Work is O(hours × types).
   */
  readHourlyUsage(query: UsageQuery): Promise<UsageRow[]>;
}

/** An amount to add to one hourly usage counter. */
export interface UsageIncrement {
  namespaceId: string;
  /** Start of the UTC hour, ms since epoch (a multiple of 3 600 000). */
  hourStart: number;
  /** The usage record type, owned by the history service (at most 64 ASCII characters). */
  recordType: string;
  /** A non-negative safe integer. */
  amount: number;
}

export type UsageRow = UsageIncrement;

/** One usage task to fold: its key, and what it adds. */
export interface UsageFold {
  task: HistoryTaskKey;
  increments: readonly UsageIncrement[];
}

export interface UsageQuery {
  namespaceIds: readonly string[];
  fromMs: number;
  toMs: number;
}

export type TaskQueueType = 'workflow' | 'activity';
export type TaskQueueKindName = 'normal' | 'sticky';

export interface TaskQueueKey {
  namespaceId: string;
  name: string;
  type: TaskQueueType;
  kind: TaskQueueKindName;
  partition: number;
}

export interface TaskQueueLease {
  rangeId: number;
}

/** A backlog task held by matching until a poller takes it. */
export interface TaskQueueTaskRow {
  taskId: number;
  /** JSON payload owned by matching. */
  data: string;
  /** ms since epoch after which the task is dropped; 0 = never. */
  expiresAt: number;
}

export interface TaskQueueStore {
  /** Creates the queue row (rangeId 1) or bumps its rangeId; the owner allocates task ids from it. */
  leaseTaskQueue(key: TaskQueueKey): Promise<TaskQueueLease>;
  /** Fails with ConditionFailedError when rangeId is no longer the queue's. */
  createTasks(key: TaskQueueKey, rangeId: number, tasks: TaskQueueTaskRow[]): Promise<void>;
  /** Tasks with taskId > afterTaskId, ascending, at most `limit`. */
  listTasks(key: TaskQueueKey, afterTaskId: number, limit: number): Promise<TaskQueueTaskRow[]>;
  deleteTasks(key: TaskQueueKey, taskIds: number[]): Promise<void>;
  /** Queues that have backlog, for loading at start. */
  listQueuesWithTasks(): Promise<TaskQueueKey[]>;
}

/** A SELECT or COUNT from the visibility query translator, run as is against visibility_executions. */
export interface VisibilitySqlQuery {
  sql: string;
  params: readonly unknown[];
}

/**
 * The SQL visibility index (table visibility_executions, one row per run). Writes are versioned:
 * a record is written only when the stored row of its run has a smaller record_version (or there
 * is none), so records applied late, twice or out of order leave the newest state.
 */
export interface VisibilityStore extends VisibilityIndex {
  readonly dialect: 'sqlite' | 'mysql';
  upsert(records: readonly VisibilityRecord[]): Promise<void>;
  delete(deletions: readonly VisibilityDeletion[]): Promise<void>;
  get(namespaceId: string, runId: string): Promise<VisibilityRecord | undefined>;
  /** Runs a translated list query (selecting every column); rows as records. */
  list(query: VisibilitySqlQuery): Promise<VisibilityRecord[]>;
  /** Runs a translated count query; rows as the database returns them (numbers as numbers, text as strings). */
  count(query: VisibilitySqlQuery): Promise<Record<string, unknown>[]>;
}

/** The stores of one deployment, opened together. */
export interface Persistence {
  readonly backend: 'sqlite' | 'mysql';
  readonly cluster: ClusterStore;
  readonly namespaces: NamespaceStore;
  readonly identity: IdentityStore;
  /** Portal sign-in: passwords and sessions. */
  readonly portal: PortalStore;
  readonly executions: ExecutionStore;
  readonly taskQueues: TaskQueueStore;
  readonly visibility: VisibilityStore;
  /** Which hosts of each role are live (cluster database). */
  readonly membership: MembershipStore;
  close(): Promise<void>;
}
