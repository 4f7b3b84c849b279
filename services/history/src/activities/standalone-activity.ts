/**
 * Standalone activities (WorkflowService StartActivityExecution & co., Temporal's chasm/lib/activity),
 * implemented as a durable entity of the history service as schedules are: an activity id's state is
 * one row in the shard that owns `temporal-sys-activity:<activityId>` (no current-run pointer, no
 * history, so no workflow API sees it), holding the current run: its options, input, attempt,
 * heartbeat, last failure and outcome. Every change reads the row, decides and commits the new state
 * with its tasks (of the `activity` category) in ONE conditional, fenced transaction.
 *
 * An attempt is dispatched through matching like a workflow's activity: the match task names the
 * entity's workflow id and run id (scheduled event id 1), so RecordActivityTaskStarted lands here,
 * and the task token it hands out carries the same names, so the worker's completions, failures,
 * cancellations and heartbeats come back here too. Timeouts (schedule-to-start, start-to-close,
 * schedule-to-close, heartbeat) and retry backoffs are persisted tasks that fire at their time;
 * each names the run and attempt it was armed for and does nothing once those moved on.
 *
 * The visibility record lives in a visibility namespace of its own (activityNamespaceId), so
 * workflow searches never see an activity and activity searches never see a workflow.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  ActivityExecutionAlreadyStartedError,
  FailedPreconditionError,
  HistorySettings,
  InvalidArgumentError,
  NotFoundError,
  RetryState,
  TimeoutType,
  assertNever,
  durationToMs,
  int64,
  msToDuration,
  msToTimestamp,
  quote,
  temporal,
  type Failure,
  type Payloads,
} from '@hourglass/common';
import { encodeTaskToken, type ActivityTaskToken, type CallOptions, type RecordActivityTaskStartedRequest, type Ws } from '@hourglass/contracts';
import type { ExecutionKey, HistoryTaskRow, NamespaceRecord } from '@hourglass/persistence';
import type { SearchAttributeType, VisibilityChange, VisibilityRecord } from '@hourglass/visibility';
import type { EngineContext } from '../engine-context';
import { TaskCategories } from '../queues/task-categories';
import { checkSearchAttributes, indexedSearchAttributes, namespaceCatalog } from '../workflow/visibility';
import { failureBlob, headerBlob, payloadsBlob, searchAttributesBlob } from '../workflow/codec';
import { decideRetry, normalizeRetryPolicy, retryPolicyToProto, type RetryPolicyMs } from '../workflow/retry';
import type { EntityChange } from '../shard/shard-context';

const Status = temporal.api.enums.v1.ActivityExecutionStatus;
const WorkflowStatus = temporal.api.enums.v1.WorkflowExecutionStatus;
const RunState = temporal.api.enums.v1.PendingActivityState;
const Reuse = temporal.api.enums.v1.ActivityIdReusePolicy;
const Conflict = temporal.api.enums.v1.ActivityIdConflictPolicy;

/** Workflow id prefix of a standalone activity's entity row (and of its match tasks and task tokens). */
export const STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX = 'temporal-sys-activity:';
/** The run id of every activity entity row: one row per activity id, holding its current run. */
const ENTITY_RUN_ID = '00000000-0000-4000-8000-ac7100000000';

/** Whether a row of the execution store is a standalone activity's (not a run). */
export function isStandaloneActivityKey(key: { workflowId: string; runId: string }): boolean {
  return key.runId === ENTITY_RUN_ID && key.workflowId.startsWith(STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX);
}
/** The scheduled event id every match task and token of a standalone activity carries (there is no history). */
const SCHEDULED_EVENT_ID = 1;
const MAX_ACTIVITY_ID_LENGTH = 1000;
/** Search attributes every activity record carries, queryable in ListActivityExecutions / CountActivityExecutions. */
export const ACTIVITY_SEARCH_ATTRIBUTES: Readonly<Record<string, SearchAttributeType>> = { ActivityId: 'Keyword', ActivityType: 'Keyword' };

type Outcome = { kind: 'completed'; result: string | null } | { kind: 'failed' | 'timedOut' | 'canceled' | 'terminated'; failure: string | null; retryState: number };

interface StoredActivity {
  v: 1;
  activityId: string;
  runId: string;
  requestId: string;
  activityType: string;
  taskQueue: string;
  scheduleToCloseMs: number;
  scheduleToStartMs: number;
  startToCloseMs: number;
  heartbeatMs: number;
  startDelayMs: number;
  retryPolicy: RetryPolicyMs;
  input: string | null;
  header: string | null;
  searchAttributes: string | null;
  userMetadata: string | null;
  priority: string | null;
  scheduleTime: number;
  attempt: number;
  /** When the current attempt is (or was) handed to matching: after a retry, the end of its backoff. */
  attemptScheduledTime: number;
  /** 0 while the current attempt waits for a worker. */
  startedTime: number;
  startedIdentity: string;
  startedRequestId: string;
  lastHeartbeatTime: number;
  heartbeatDetails: string | null;
  heartbeatCount: number;
  lastFailure: string | null;
  lastAttemptCompleteTime: number;
  currentRetryIntervalMs: number;
  lastWorkerIdentity: string;
  cancelRequested: boolean;
  cancelRequestId: string;
  cancelReason: string;
  terminateRequestId?: string;
  closeTime: number | null;
  outcome: Outcome | null;
  stateTransitions: number;
  /** Version of the visibility record last published (monotonic across runs of the id). */
  visVersion: number;
}

/** Tasks of the activity category (persisted type names: never rename). */
type ActivityTask =
  | { type: 'activity-dispatch'; runId: string; attempt: number }
  | { type: 'activity-timeout'; runId: string; attempt: number; timeoutType: number }
  | { type: 'activity-publish'; runId: string; version: number }
  | { type: 'activity-unpublish'; runId: string; version: number }
  | { type: 'activity-retention'; runId: string };

type PendingTask = NonNullable<EntityChange<unknown>['tasks']>[number];

/** What a change of the activity decides: whether to write (and publish its record), the tasks of the commit, what to return. */
interface Change<T> {
  write?: boolean;
  publish?: false;
  tasks?: PendingTask[];
  result: T;
  /** A new run replacing the stored one (a start). */
  fresh?: StoredActivity;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (text: string): Uint8Array => Buffer.from(text, 'base64');

function keyOf(namespaceId: string, activityId: string): ExecutionKey {
  return { namespaceId, workflowId: STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX + activityId, runId: ENTITY_RUN_ID };
}

/** Whether a match task, token or target names a standalone activity (by its entity's workflow id). */
export function isStandaloneActivityWorkflowId(workflowId: string): boolean {
  return workflowId.startsWith(STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX);
}

/** The visibility namespace of a namespace's standalone activities: a UUID of its own, so workflow searches never see them. */
export function activityNamespaceId(namespaceId: string): string {
  const h = createHash('sha256').update(`activities:${namespaceId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function checkActivityId(id: string | null | undefined): string {
  if (!id) throw new InvalidArgumentError('activityId must not be empty');
  if (id.length > MAX_ACTIVITY_ID_LENGTH) throw new InvalidArgumentError(`activityId ${quote(id)} is longer than ${MAX_ACTIVITY_ID_LENGTH} characters`);
  return id;
}

const isClosed = (s: StoredActivity): boolean => s.outcome !== null;
const isStarted = (s: StoredActivity): boolean => s.startedTime > 0;

function statusOf(s: StoredActivity): number {
  const outcome = s.outcome;
  if (!outcome) return Status.ACTIVITY_EXECUTION_STATUS_RUNNING;
  switch (outcome.kind) {
    case 'completed':
      return Status.ACTIVITY_EXECUTION_STATUS_COMPLETED;
    case 'failed':
      return Status.ACTIVITY_EXECUTION_STATUS_FAILED;
    case 'timedOut':
      return Status.ACTIVITY_EXECUTION_STATUS_TIMED_OUT;
    case 'canceled':
      return Status.ACTIVITY_EXECUTION_STATUS_CANCELED;
    case 'terminated':
      return Status.ACTIVITY_EXECUTION_STATUS_TERMINATED;
    default:
      return assertNever(outcome, 'activity outcome');
  }
}

/** The workflow execution status a record carries (visibility's status column and ExecutionStatus queries). */
const WORKFLOW_STATUS_OF: Readonly<Record<number, number>> = {
  [Status.ACTIVITY_EXECUTION_STATUS_RUNNING]: WorkflowStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
  [Status.ACTIVITY_EXECUTION_STATUS_COMPLETED]: WorkflowStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
  [Status.ACTIVITY_EXECUTION_STATUS_FAILED]: WorkflowStatus.WORKFLOW_EXECUTION_STATUS_FAILED,
  [Status.ACTIVITY_EXECUTION_STATUS_CANCELED]: WorkflowStatus.WORKFLOW_EXECUTION_STATUS_CANCELED,
  [Status.ACTIVITY_EXECUTION_STATUS_TERMINATED]: WorkflowStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED,
  [Status.ACTIVITY_EXECUTION_STATUS_TIMED_OUT]: WorkflowStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
};

/** The activity status of a visibility record's workflow status (ListActivityExecutions). */
export function activityStatusOfWorkflowStatus(status: number | null | undefined): number {
  for (const [activity, workflow] of Object.entries(WORKFLOW_STATUS_OF)) if (workflow === status) return Number(activity);
  return Status.ACTIVITY_EXECUTION_STATUS_UNSPECIFIED;
}

const TIMEOUT_NAMES: Readonly<Record<number, string>> = {
  [TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE]: 'StartToClose',
  [TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START]: 'ScheduleToStart',
  [TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE]: 'ScheduleToClose',
  [TimeoutType.TIMEOUT_TYPE_HEARTBEAT]: 'Heartbeat',
};

function timeoutFailure(s: StoredActivity, timeoutType: number, message?: string): Failure {
  const details = payloadsBlob.unpack(s.heartbeatDetails);
  const cause = failureBlob.unpack(s.lastFailure);
  return {
    message: message ?? `activity ${TIMEOUT_NAMES[timeoutType] ?? 'unknown'} timeout`,
    source: 'Server',
    timeoutFailureInfo: { timeoutType, ...(details ? { lastHeartbeatDetails: details } : {}) },
    ...(cause ? { cause } : {}),
  };
}

type StartRequest = Ws<'StartActivityExecutionRequest'>;

/** Temporal's timeout normalisation for a standalone activity: one of start-to-close or schedule-to-close is required. */
function normalizeTimeouts(r: StartRequest): Pick<StoredActivity, 'scheduleToCloseMs' | 'scheduleToStartMs' | 'startToCloseMs' | 'heartbeatMs' | 'startDelayMs'> {
  const read = (d: StartRequest['startToCloseTimeout'], name: string): number => {
    const ms = durationToMs(d) ?? 0;
    if (ms < 0) throw new InvalidArgumentError(`${name} must not be negative`);
    return ms;
  };
  const scheduleToCloseMs = read(r.scheduleToCloseTimeout, 'scheduleToCloseTimeout');
  let scheduleToStartMs = read(r.scheduleToStartTimeout, 'scheduleToStartTimeout');
  let startToCloseMs = read(r.startToCloseTimeout, 'startToCloseTimeout');
  const heartbeatMs = read(r.heartbeatTimeout, 'heartbeatTimeout');
  const startDelayMs = read(r.startDelay, 'startDelay');
  if (scheduleToCloseMs === 0 && startToCloseMs === 0) throw new InvalidArgumentError('startToCloseTimeout or scheduleToCloseTimeout must be set');
  if (scheduleToCloseMs > 0) {
    scheduleToStartMs = scheduleToStartMs > 0 ? Math.min(scheduleToStartMs, scheduleToCloseMs) : 0;
    startToCloseMs = startToCloseMs > 0 ? Math.min(startToCloseMs, scheduleToCloseMs) : scheduleToCloseMs;
  }
  return { scheduleToCloseMs, scheduleToStartMs, startToCloseMs, heartbeatMs: Math.min(heartbeatMs, startToCloseMs), startDelayMs };
}

export interface StandaloneActivityDeps {
  env: EngineContext;
  namespace(id: string): Promise<NamespaceRecord>;
}

type Target = { namespaceId: string; activityId: string; runId: string };

/** A worker's completion or heartbeat: by task token, or by activity id (ById RPCs with an empty workflow id). */
export type StandaloneActivityTarget = { by: 'token'; token: ActivityTaskToken } | ({ by: 'id' } & Target);

/** The standalone activity API of the history service and the executor of its tasks. */
export class StandaloneActivities {
  constructor(private readonly deps: StandaloneActivityDeps) {}

  private get env(): EngineContext {
    return this.deps.env;
  }

  private shard(key: ExecutionKey) {
    return this.env.shardFor(key.namespaceId, key.workflowId);
  }

  /**
   * Changes the activity under its lock: `fn` gets the stored run (undefined: none) and returns the
   * tasks of the commit (undefined: nothing changed, nothing written). Waiting pollers are woken.
   */
  private async change<T>(key: ExecutionKey, fn: (s: StoredActivity | undefined, now: number) => Change<T>): Promise<T> {
    let changed = false;
    const result = await this.shard(key).updateEntity(key, (record) => {
      const s = record ? (JSON.parse(record.state) as StoredActivity) : undefined;
      const now = this.env.clock.now();
      const out = fn(s, now);
      const state = out.fresh ?? s;
      if (!out.write || !state) return { write: undefined, result: out.result };
      state.stateTransitions += 1;
      const tasks = [...(out.tasks ?? [])];
      // A heartbeat changes nothing a search shows: no record is published for it.
      if (out.publish !== false) {
        state.visVersion = Math.max(state.visVersion + 1, now);
        tasks.push(task(now, { type: 'activity-publish', runId: state.runId, version: state.visVersion }));
      }
      changed = true;
      return { write: JSON.stringify(state), tasks, result: out.result };
    });
    if (changed) this.env.notifier.notify(key, { nextEventId: 0, closed: false });
    return result;
  }

  private async load(t: Target): Promise<StoredActivity> {
    const key = keyOf(t.namespaceId, checkActivityId(t.activityId));
    const record = await this.shard(key).readEntity(key);
    const s = record ? (JSON.parse(record.state) as StoredActivity) : undefined;
    return requireRun(s, t);
  }

  async start(namespaceId: string, r: StartRequest): Promise<Ws<'StartActivityExecutionResponse'>> {
    const activityId = checkActivityId(r.activityId);
    const activityType = r.activityType?.name ?? '';
    if (!activityType) throw new InvalidArgumentError('activityType.name must not be empty');
    const taskQueue = r.taskQueue?.name ?? '';
    if (!taskQueue) throw new InvalidArgumentError('taskQueue.name must not be empty');
    const timeouts = normalizeTimeouts(r);
    const retryPolicy = normalizeRetryPolicy(r.retryPolicy, 'retryPolicy');
    const namespace = await this.deps.namespace(namespaceId);
    checkSearchAttributes(r.searchAttributes?.indexedFields, namespaceCatalog(namespace), 'searchAttributes');
    const reuse = r.idReusePolicy || Reuse.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE;
    const conflict = r.idConflictPolicy || Conflict.ACTIVITY_ID_CONFLICT_POLICY_FAIL;
    const requestId = r.requestId || randomUUID();
    const key = keyOf(namespaceId, activityId);
    return this.change<Ws<'StartActivityExecutionResponse'>>(key, (existing, now) => {
      if (existing) {
        // The same request again (a client retry) is answered as the first time.
        if (existing.requestId === requestId) return { result: { runId: existing.runId, started: true } };
        if (!isClosed(existing)) {
          if (conflict === Conflict.ACTIVITY_ID_CONFLICT_POLICY_USE_EXISTING) return { result: { runId: existing.runId, started: false } };
          throw new ActivityExecutionAlreadyStartedError(`activity ${quote(activityId)} is already running`, existing.requestId, existing.runId);
        }
        const completed = existing.outcome?.kind === 'completed';
        if (reuse === Reuse.ACTIVITY_ID_REUSE_POLICY_REJECT_DUPLICATE || (reuse === Reuse.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY && completed)) {
          throw new ActivityExecutionAlreadyStartedError(`activity ${quote(activityId)} already ran and its id reuse policy forbids another run`, existing.requestId, existing.runId);
        }
      }
      const s: StoredActivity = {
        v: 1,
        activityId,
        runId: randomUUID(),
        requestId,
        activityType,
        taskQueue,
        ...timeouts,
        retryPolicy,
        input: payloadsBlob.pack(r.input),
        header: headerBlob.pack(r.header),
        searchAttributes: searchAttributesBlob.pack(r.searchAttributes),
        userMetadata: r.userMetadata ? b64(temporal.api.sdk.v1.UserMetadata.encode(r.userMetadata).finish()) : null,
        priority: r.priority ? b64(temporal.api.common.v1.Priority.encode(r.priority).finish()) : null,
        scheduleTime: now,
        attempt: 1,
        attemptScheduledTime: now + timeouts.startDelayMs,
        startedTime: 0,
        startedIdentity: '',
        startedRequestId: '',
        lastHeartbeatTime: 0,
        heartbeatDetails: null,
        heartbeatCount: 0,
        lastFailure: null,
        lastAttemptCompleteTime: 0,
        currentRetryIntervalMs: 0,
        lastWorkerIdentity: '',
        cancelRequested: false,
        cancelRequestId: '',
        cancelReason: '',
        closeTime: null,
        outcome: null,
        stateTransitions: existing?.stateTransitions ?? 0,
        visVersion: existing?.visVersion ?? 0,
      };
      const tasks: PendingTask[] = [];
      if (s.scheduleToCloseMs > 0) tasks.push(timeoutTask(s, s.scheduleTime + timeouts.startDelayMs + s.scheduleToCloseMs, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE));
      tasks.push(...dispatch(s));
      return { write: true, fresh: s, tasks, result: { runId: s.runId, started: true } };
    });
  }

  async describe(namespaceId: string, r: Ws<'DescribeActivityExecutionRequest'>, call: CallOptions): Promise<Ws<'DescribeActivityExecutionResponse'>> {
    const target = { namespaceId, activityId: r.activityId ?? '', runId: r.runId ?? '' };
    let s = await this.load(target);
    if (r.longPollToken && r.longPollToken.length > 0) {
      const seen = Buffer.from(r.longPollToken).toString('utf8');
      const key = keyOf(namespaceId, s.activityId);
      const deadline = Date.now() + (await this.longPollBudget(namespaceId, call));
      while (String(s.stateTransitions) === seen && Date.now() < deadline) {
        const waiter = this.env.notifier.subscribe(key, () => true, deadline - Date.now(), call.signal);
        s = await this.load(target);
        if (String(s.stateTransitions) !== seen) {
          waiter.cancel();
          break;
        }
        if (!(await waiter.promise)) break;
        s = await this.load(target);
      }
    }
    const outcome = r.includeOutcome ? outcomeOf(s) : undefined;
    return {
      runId: s.runId,
      info: this.info(s, { heartbeat: r.includeHeartbeatDetails ?? false, lastFailure: r.includeLastFailure ?? false }),
      ...(r.includeInput && s.input ? { input: payloadsBlob.unpack(s.input) ?? null } : {}),
      ...(outcome ? { outcome } : {}),
      longPollToken: Buffer.from(String(s.stateTransitions), 'utf8'),
    };
  }

  /** The outcome once the activity closed; an empty answer when the long poll's time ran out first (the client polls again). */
  async poll(namespaceId: string, r: Ws<'PollActivityExecutionRequest'>, call: CallOptions): Promise<Ws<'PollActivityExecutionResponse'>> {
    const target = { namespaceId, activityId: r.activityId ?? '', runId: r.runId ?? '' };
    let s = await this.load(target);
    const key = keyOf(namespaceId, s.activityId);
    const deadline = Date.now() + (await this.longPollBudget(namespaceId, call));
    while (!isClosed(s) && Date.now() < deadline && !call.signal?.aborted) {
      const waiter = this.env.notifier.subscribe(key, () => true, deadline - Date.now(), call.signal);
      s = await this.load({ ...target, runId: s.runId });
      if (isClosed(s)) {
        waiter.cancel();
        break;
      }
      await waiter.promise;
      s = await this.load({ ...target, runId: s.runId });
    }
    const outcome = outcomeOf(s);
    return { runId: s.runId, ...(outcome ? { outcome } : {}) };
  }

  private async longPollBudget(namespaceId: string, call: CallOptions): Promise<number> {
    const namespace = await this.deps.namespace(namespaceId);
    const cap = this.env.settings.get(HistorySettings.longPollExpirationInterval, { namespace: namespace.name });
    if (!call.deadline) return cap;
    return Math.max(0, Math.min(cap, call.deadline - Date.now() - 1000));
  }

  private info(s: StoredActivity, include: { heartbeat: boolean; lastFailure: boolean }): temporal.api.activity.v1.IActivityExecutionInfo {
    const running = !isClosed(s);
    const runState = !running
      ? RunState.PENDING_ACTIVITY_STATE_UNSPECIFIED
      : s.cancelRequested
        ? RunState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
        : isStarted(s)
          ? RunState.PENDING_ACTIVITY_STATE_STARTED
          : RunState.PENDING_ACTIVITY_STATE_SCHEDULED;
    const heartbeatDetails = include.heartbeat ? payloadsBlob.unpack(s.heartbeatDetails) : undefined;
    const lastFailure = include.lastFailure ? failureBlob.unpack(s.lastFailure) : undefined;
    const searchAttributes = searchAttributesBlob.unpack(s.searchAttributes);
    const header = headerBlob.unpack(s.header);
    const executionTime = s.scheduleTime + s.startDelayMs;
    return {
      activityId: s.activityId,
      runId: s.runId,
      activityType: { name: s.activityType },
      status: statusOf(s),
      runState,
      taskQueue: s.taskQueue,
      scheduleToCloseTimeout: msToDuration(s.scheduleToCloseMs),
      scheduleToStartTimeout: msToDuration(s.scheduleToStartMs),
      startToCloseTimeout: msToDuration(s.startToCloseMs),
      heartbeatTimeout: msToDuration(s.heartbeatMs),
      retryPolicy: retryPolicyToProto(s.retryPolicy),
      ...(heartbeatDetails ? { heartbeatDetails } : {}),
      ...(s.lastHeartbeatTime > 0 ? { lastHeartbeatTime: msToTimestamp(s.lastHeartbeatTime) } : {}),
      ...(isStarted(s) ? { lastStartedTime: msToTimestamp(s.startedTime) } : {}),
      attempt: s.attempt,
      ...(s.closeTime !== null ? { executionDuration: msToDuration(Math.max(0, s.closeTime - executionTime)), closeTime: msToTimestamp(s.closeTime) } : {}),
      scheduleTime: msToTimestamp(s.scheduleTime),
      ...(s.scheduleToCloseMs > 0 ? { expirationTime: msToTimestamp(executionTime + s.scheduleToCloseMs) } : {}),
      ...(lastFailure ? { lastFailure } : {}),
      lastWorkerIdentity: s.lastWorkerIdentity || s.startedIdentity,
      ...(s.currentRetryIntervalMs > 0 ? { currentRetryInterval: msToDuration(s.currentRetryIntervalMs) } : {}),
      ...(s.lastAttemptCompleteTime > 0 ? { lastAttemptCompleteTime: msToTimestamp(s.lastAttemptCompleteTime) } : {}),
      ...(running && !isStarted(s) && s.attemptScheduledTime > 0 ? { nextAttemptScheduleTime: msToTimestamp(s.attemptScheduledTime) } : {}),
      ...(s.priority ? { priority: temporal.api.common.v1.Priority.decode(unb64(s.priority)) } : {}),
      stateTransitionCount: int64(s.stateTransitions),
      ...(searchAttributes ? { searchAttributes } : {}),
      ...(header ? { header } : {}),
      ...(s.userMetadata ? { userMetadata: temporal.api.sdk.v1.UserMetadata.decode(unb64(s.userMetadata)) } : {}),
      canceledReason: s.cancelReason,
      totalHeartbeatCount: int64(s.heartbeatCount),
      ...(s.startDelayMs > 0 ? { startDelay: msToDuration(s.startDelayMs) } : {}),
      executionTime: msToTimestamp(executionTime),
    };
  }

  async requestCancel(namespaceId: string, r: Ws<'RequestCancelActivityExecutionRequest'>): Promise<void> {
    const target = { namespaceId, activityId: checkActivityId(r.activityId), runId: r.runId ?? '' };
    const { retentionMs } = await this.deps.namespace(namespaceId);
    await this.change(keyOf(namespaceId, target.activityId), (stored, now) => {
      const s = requireRun(stored, target);
      // A retried request is answered as the first (even after the activity closed since), as Temporal does.
      if (r.requestId && r.requestId === s.cancelRequestId) return { result: undefined };
      if (isClosed(s)) throw new FailedPreconditionError(`activity ${quote(s.activityId)} is already closed (${closedName(s)})`);
      if (s.cancelRequested) throw new FailedPreconditionError(`cancellation of activity ${quote(s.activityId)} was already requested (request id ${quote(s.cancelRequestId)})`);
      s.cancelRequested = true;
      s.cancelRequestId = r.requestId ?? '';
      s.cancelReason = r.reason ?? '';
      // Not running on a worker: nobody to tell, canceled at once (the reason as details). Else the worker learns it from its next heartbeat.
      if (!isStarted(s)) {
        const details = { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(s.cancelReason)) }] };
        close(s, now, { kind: 'canceled', failure: failureBlob.pack(canceledFailure(details)), retryState: RetryState.RETRY_STATE_CANCEL_REQUESTED });
      }
      return { write: true, tasks: closeTasks(s, now, retentionMs), result: undefined };
    });
  }

  async terminate(namespaceId: string, r: Ws<'TerminateActivityExecutionRequest'>): Promise<void> {
    const target = { namespaceId, activityId: checkActivityId(r.activityId), runId: r.runId ?? '' };
    const { retentionMs } = await this.deps.namespace(namespaceId);
    await this.change(keyOf(namespaceId, target.activityId), (stored, now) => {
      const s = requireRun(stored, target);
      if (isClosed(s)) {
        if (s.outcome?.kind === 'terminated' && (!r.requestId || r.requestId === s.terminateRequestId)) return { result: undefined };
        throw new FailedPreconditionError(`activity ${quote(s.activityId)} is already closed (${closedName(s)})`);
      }
      s.terminateRequestId = r.requestId ?? '';
      const failure: Failure = { message: r.reason || 'activity terminated', source: 'Server', terminatedFailureInfo: {} };
      close(s, now, { kind: 'terminated', failure: failureBlob.pack(failure), retryState: RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE });
      return { write: true, tasks: closeTasks(s, now, retentionMs), result: undefined };
    });
  }

  async delete(namespaceId: string, r: Ws<'DeleteActivityExecutionRequest'>): Promise<void> {
    const target = { namespaceId, activityId: checkActivityId(r.activityId), runId: r.runId ?? '' };
    const key = keyOf(namespaceId, target.activityId);
    await this.shard(key).updateEntity(key, (record) => {
      const s = requireRun(record ? (JSON.parse(record.state) as StoredActivity) : undefined, target);
      const version = Math.max(s.visVersion + 1, this.env.clock.now());
      return { write: 'delete', tasks: [task(this.env.clock.now(), { type: 'activity-unpublish', runId: s.runId, version })], result: undefined };
    });
    this.env.notifier.notify(key, { nextEventId: 0, closed: true });
  }

  /** Matching hands an attempt to a poller: mark it started and build the poll response. */
  async recordStarted(args: RecordActivityTaskStartedRequest): Promise<Ws<'PollActivityTaskQueueResponse'>> {
    const activityId = args.task.workflowId.slice(STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX.length);
    const key = keyOf(args.namespaceId, activityId);
    const started = await this.change(key, (s, now) => {
      if (!s || s.runId !== args.task.runId || isClosed(s) || s.attempt !== args.task.attempt) throw new NotFoundError('activity task not found');
      if (s.attemptScheduledTime > now) throw new NotFoundError('activity attempt is still in its retry backoff');
      if (isStarted(s)) {
        if (s.startedRequestId !== args.pollRequestId) throw new NotFoundError('activity task already started');
        return { result: { ...s } };
      }
      return { write: true, tasks: startAttempt(s, now, args.identity, args.pollRequestId), result: { ...s } };
    });
    const namespace = await this.deps.namespace(args.namespaceId);
    return this.activityTaskOf(namespace, started);
  }

  private activityTaskOf(namespace: NamespaceRecord, s: StoredActivity): Ws<'PollActivityTaskQueueResponse'> {
    const token: ActivityTaskToken = {
      kind: 'activity',
      namespaceId: namespace.id,
      workflowId: STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX + s.activityId,
      runId: s.runId,
      scheduledEventId: SCHEDULED_EVENT_ID,
      attempt: s.attempt,
      activityId: s.activityId,
    };
    const input = payloadsBlob.unpack(s.input);
    const heartbeatDetails = payloadsBlob.unpack(s.heartbeatDetails);
    return {
      taskToken: encodeTaskToken(token),
      workflowNamespace: namespace.name,
      activityType: { name: s.activityType },
      activityId: s.activityId,
      activityRunId: s.runId,
      header: headerBlob.unpack(s.header) ?? {},
      ...(input ? { input } : {}),
      ...(heartbeatDetails ? { heartbeatDetails } : {}),
      scheduledTime: msToTimestamp(s.scheduleTime),
      currentAttemptScheduledTime: msToTimestamp(s.attemptScheduledTime),
      startedTime: msToTimestamp(s.startedTime),
      attempt: s.attempt,
      scheduleToCloseTimeout: msToDuration(s.scheduleToCloseMs),
      startToCloseTimeout: msToDuration(s.startToCloseMs),
      heartbeatTimeout: msToDuration(s.heartbeatMs),
      retryPolicy: retryPolicyToProto(s.retryPolicy),
      ...(s.priority ? { priority: temporal.api.common.v1.Priority.decode(unb64(s.priority)) } : {}),
    };
  }

  /** The attempt a worker's token names: the current run's current attempt, started and not closed. */
  /**
   * The attempt a worker names, by its task token (the current run's current attempt, started and not
   * closed) or by activity id (the current attempt of the run, started now if no worker took it yet).
   */
  private async attempt<T>(target: StandaloneActivityTarget, identity: string, fn: (s: StoredActivity, now: number, retentionMs: number) => Change<T>): Promise<T> {
    const namespaceId = target.by === 'token' ? target.token.namespaceId : target.namespaceId;
    const activityId = target.by === 'token' ? target.token.workflowId.slice(STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX.length) : checkActivityId(target.activityId);
    const { retentionMs } = await this.deps.namespace(namespaceId);
    return this.change(keyOf(namespaceId, activityId), (s, now) => {
      const notFound = (): NotFoundError => new NotFoundError('activity task not found: it already completed, timed out, was retried or the activity closed');
      if (target.by === 'token') {
        const token = target.token;
        if (!s || s.runId !== token.runId || isClosed(s) || s.attempt !== token.attempt || !isStarted(s)) throw notFound();
        return fn(s, now, retentionMs);
      }
      if (!s || (target.runId && s.runId !== target.runId) || isClosed(s)) throw notFound();
      const started = isStarted(s) ? [] : startAttempt(s, now, identity, '');
      const change = fn(s, now, retentionMs);
      return { ...change, write: true, tasks: [...started, ...(change.tasks ?? [])] };
    });
  }

  async respondCompleted(target: StandaloneActivityTarget, args: { result?: Payloads | null; identity: string }): Promise<void> {
    await this.attempt(target, args.identity, (s, now, retentionMs) => {
      s.lastWorkerIdentity = args.identity || s.startedIdentity;
      close(s, now, { kind: 'completed', result: payloadsBlob.pack(args.result) });
      return { write: true, tasks: closeTasks(s, now, retentionMs), result: undefined };
    });
  }

  async respondFailed(target: StandaloneActivityTarget, args: { failure: Failure; identity: string; lastHeartbeatDetails?: Payloads | null }): Promise<void> {
    await this.attempt(target, args.identity, (s, now, retentionMs) => {
      if (args.lastHeartbeatDetails) s.heartbeatDetails = payloadsBlob.pack(args.lastHeartbeatDetails);
      s.lastWorkerIdentity = args.identity || s.startedIdentity;
      return { write: true, tasks: failAttempt(s, now, args.failure, undefined, retentionMs), result: undefined };
    });
  }

  async respondCanceled(target: StandaloneActivityTarget, args: { details?: Payloads | null; identity: string }): Promise<void> {
    await this.attempt(target, args.identity, (s, now, retentionMs) => {
      s.lastWorkerIdentity = args.identity || s.startedIdentity;
      close(s, now, { kind: 'canceled', failure: failureBlob.pack(canceledFailure(args.details ?? null)), retryState: RetryState.RETRY_STATE_CANCEL_REQUESTED });
      return { write: true, tasks: closeTasks(s, now, retentionMs), result: undefined };
    });
  }

  async recordHeartbeat(target: StandaloneActivityTarget, args: { details?: Payloads | null; identity: string }): Promise<Ws<'RecordActivityTaskHeartbeatResponse'>> {
    return this.attempt(target, args.identity, (s, now) => {
      if (args.details) s.heartbeatDetails = payloadsBlob.pack(args.details);
      s.lastHeartbeatTime = now;
      s.heartbeatCount += 1;
      return { write: true, publish: false, result: { cancelRequested: s.cancelRequested } };
    });
  }

  /** Executes a task of the activity category. */
  async execute(row: HistoryTaskRow, publish: (changes: VisibilityChange[]) => Promise<void>): Promise<void> {
    const t = JSON.parse(row.data) as ActivityTask;
    const activityId = row.workflowId.slice(STANDALONE_ACTIVITY_WORKFLOW_ID_PREFIX.length);
    const key = keyOf(row.namespaceId, activityId);
    const read = async (): Promise<StoredActivity | undefined> => {
      const record = await this.shard(key).readEntity(key);
      const s = record ? (JSON.parse(record.state) as StoredActivity) : undefined;
      return s?.runId === t.runId ? s : undefined;
    };
    switch (t.type) {
      case 'activity-publish': {
        const s = await read();
        if (!s) return;
        const namespace = await this.deps.namespace(row.namespaceId);
        await publish([{ kind: 'upsert', record: visibilityRecord(s, namespace), committedAt: this.env.clock.now() }]);
        return;
      }
      case 'activity-unpublish':
        await publish([{ kind: 'delete', deletion: { namespaceId: activityNamespaceId(row.namespaceId), workflowId: activityId, runId: t.runId, version: t.version }, committedAt: this.env.clock.now() }]);
        return;
      case 'activity-dispatch': {
        const s = await read();
        if (!s || isClosed(s) || isStarted(s) || s.attempt !== t.attempt) return;
        await this.env.matching.addActivityTask({
          namespaceId: row.namespaceId,
          taskQueueName: s.taskQueue,
          workflowId: key.workflowId,
          runId: s.runId,
          scheduledEventId: SCHEDULED_EVENT_ID,
          attempt: s.attempt,
        });
        return;
      }
      case 'activity-timeout': {
        const { retentionMs } = await this.deps.namespace(row.namespaceId);
        await this.change(key, (s, now) => {
          if (!s || s.runId !== t.runId || isClosed(s)) return { result: undefined };
          return this.timeout(s, t, now, retentionMs);
        });
        return;
      }
      case 'activity-retention': {
        const s = await read();
        if (s && isClosed(s)) {
          await this.delete(row.namespaceId, { activityId, runId: t.runId });
          return;
        }
        // A later run of the id took the row: only the old run's record is left to remove.
        if (!s) await publish([{ kind: 'delete', deletion: { namespaceId: activityNamespaceId(row.namespaceId), workflowId: activityId, runId: t.runId, version: this.env.clock.now() }, committedAt: this.env.clock.now() }]);
        return;
      }
      default:
        assertNever(t, 'activity task');
    }
  }

  /** A timeout task came due: what it means for the run now (nothing, once its attempt moved on). */
  private timeout(s: StoredActivity, t: Extract<ActivityTask, { type: 'activity-timeout' }>, now: number, retentionMs: number): Change<undefined> {
    switch (t.timeoutType) {
      case TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE:
        close(s, now, { kind: 'timedOut', failure: failureBlob.pack(timeoutFailure(s, t.timeoutType)), retryState: RetryState.RETRY_STATE_TIMEOUT });
        return { write: true, tasks: closeTasks(s, now, retentionMs), result: undefined };
      case TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START:
        if (s.attempt !== t.attempt || isStarted(s)) return { result: undefined };
        close(s, now, { kind: 'timedOut', failure: failureBlob.pack(timeoutFailure(s, t.timeoutType)), retryState: RetryState.RETRY_STATE_TIMEOUT });
        return { write: true, tasks: closeTasks(s, now, retentionMs), result: undefined };
      case TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE:
        if (s.attempt !== t.attempt || !isStarted(s)) return { result: undefined };
        return { write: true, tasks: failAttempt(s, now, timeoutFailure(s, t.timeoutType), t.timeoutType, retentionMs), result: undefined };
      case TimeoutType.TIMEOUT_TYPE_HEARTBEAT: {
        if (s.attempt !== t.attempt || !isStarted(s)) return { result: undefined };
        // One timer per deadline: a heartbeat since it was armed moves the deadline, and the timer is armed again for it.
        const deadline = Math.max(s.startedTime, s.lastHeartbeatTime) + s.heartbeatMs;
        if (deadline > now) return { write: true, tasks: [timeoutTask(s, deadline, TimeoutType.TIMEOUT_TYPE_HEARTBEAT)], result: undefined };
        return { write: true, tasks: failAttempt(s, now, timeoutFailure(s, t.timeoutType), t.timeoutType, retentionMs), result: undefined };
      }
      default:
        return { result: undefined };
    }
  }
}

/** The run a request names: the current run of the id, which must be `runId` when one is given. */
function requireRun(s: StoredActivity | undefined, t: Target): StoredActivity {
  if (!s || (t.runId && s.runId !== t.runId)) {
    throw new NotFoundError(`activity ${quote(t.activityId)}${t.runId ? ` run ${quote(t.runId)}` : ''} not found`);
  }
  return s;
}

function task(fireAt: number, t: ActivityTask): PendingTask {
  return { category: TaskCategories.activity, fireAt, type: t.type, data: JSON.stringify(t) };
}

function timeoutTask(s: StoredActivity, fireAt: number, timeoutType: number): PendingTask {
  return task(fireAt, { type: 'activity-timeout', runId: s.runId, attempt: s.attempt, timeoutType });
}

/** A worker took the current attempt: who and when, and its start-to-close and heartbeat timeouts. */
function startAttempt(s: StoredActivity, now: number, identity: string, requestId: string): PendingTask[] {
  s.startedTime = now;
  s.startedIdentity = identity;
  s.startedRequestId = requestId;
  s.lastHeartbeatTime = 0;
  const tasks: PendingTask[] = [];
  if (s.startToCloseMs > 0) tasks.push(timeoutTask(s, now + s.startToCloseMs, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE));
  if (s.heartbeatMs > 0) tasks.push(timeoutTask(s, now + s.heartbeatMs, TimeoutType.TIMEOUT_TYPE_HEARTBEAT));
  return tasks;
}

/** The current attempt goes to matching at its scheduled time, with its schedule-to-start timeout. */
function dispatch(s: StoredActivity): PendingTask[] {
  const tasks = [task(s.attemptScheduledTime, { type: 'activity-dispatch', runId: s.runId, attempt: s.attempt })];
  if (s.scheduleToStartMs > 0) tasks.push(timeoutTask(s, s.attemptScheduledTime + s.scheduleToStartMs, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START));
  return tasks;
}

function close(s: StoredActivity, now: number, outcome: Outcome): void {
  s.outcome = outcome;
  s.closeTime = now;
  if (isStarted(s)) s.lastAttemptCompleteTime = now;
  if (outcome.kind !== 'completed' && outcome.kind !== 'terminated' && outcome.failure && outcome.kind !== 'canceled') s.lastFailure = outcome.failure;
}

/** A closed run is removed after the namespace's retention, as a closed workflow is. */
function closeTasks(s: StoredActivity, now: number, retentionMs: number): PendingTask[] {
  return retentionMs > 0 ? [task(now + retentionMs, { type: 'activity-retention', runId: s.runId })] : [];
}

function canceledFailure(details: Payloads | null): Failure {
  return { message: 'Activity canceled', source: 'Server', canceledFailureInfo: { ...(details ? { details } : {}) } };
}

/** How a closed run ended, for messages. */
function closedName(s: StoredActivity): string {
  return s.outcome ? { completed: 'completed', failed: 'failed', timedOut: 'timed out', canceled: 'canceled', terminated: 'terminated' }[s.outcome.kind] : 'running';
}

/**
 * An attempt failed (the worker's failure, or a start-to-close or heartbeat timeout): the next
 * attempt after the retry policy's backoff, or the run closes failed (timed out).
 */
function failAttempt(s: StoredActivity, now: number, failure: Failure, timeoutType: number | undefined, retentionMs: number): PendingTask[] {
  const executionTime = s.scheduleTime + s.startDelayMs;
  const deadline = s.scheduleToCloseMs > 0 ? executionTime + s.scheduleToCloseMs : 0;
  const decision = s.cancelRequested
    ? ({ retry: false, retryState: RetryState.RETRY_STATE_CANCEL_REQUESTED } as const)
    : decideRetry({ policy: s.retryPolicy, attempt: s.attempt, failure, now, deadline });
  s.lastAttemptCompleteTime = now;
  if (decision.retry) {
    s.lastFailure = failureBlob.pack(failure);
    s.lastWorkerIdentity = s.lastWorkerIdentity || s.startedIdentity;
    s.attempt += 1;
    s.startedTime = 0;
    s.startedIdentity = '';
    s.startedRequestId = '';
    s.lastHeartbeatTime = 0;
    s.currentRetryIntervalMs = decision.backoffMs;
    s.attemptScheduledTime = now + decision.backoffMs;
    return dispatch(s);
  }
  if (timeoutType === undefined) {
    close(s, now, { kind: 'failed', failure: failureBlob.pack(failure), retryState: decision.retryState });
  } else {
    // Out of time for another attempt: reported as the schedule-to-close timeout, as Temporal does.
    const closing = decision.retryState === RetryState.RETRY_STATE_TIMEOUT ? TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE : timeoutType;
    const reported = closing === timeoutType ? failure : { ...timeoutFailure(s, closing, 'Not enough time to schedule next retry before activity ScheduleToClose timeout, giving up retrying'), cause: failure };
    close(s, now, { kind: 'timedOut', failure: failureBlob.pack(reported), retryState: decision.retryState });
  }
  return closeTasks(s, now, retentionMs);
}

function outcomeOf(s: StoredActivity): temporal.api.activity.v1.IActivityExecutionOutcome | undefined {
  const o = s.outcome;
  if (!o) return undefined;
  if (o.kind === 'completed') return { result: payloadsBlob.unpack(o.result) ?? { payloads: [] } };
  return { failure: failureBlob.unpack(o.failure) ?? { message: o.kind }, retryState: o.retryState };
}

/** The run's row in its namespace's activity visibility (ListActivityExecutions, CountActivityExecutions). */
function visibilityRecord(s: StoredActivity, namespace: NamespaceRecord): VisibilityRecord {
  const { attributes, types } = indexedSearchAttributes(searchAttributesBlob.unpack(s.searchAttributes)?.indexedFields, namespaceCatalog(namespace));
  attributes.ActivityId = s.activityId;
  attributes.ActivityType = s.activityType;
  Object.assign(types, ACTIVITY_SEARCH_ATTRIBUTES);
  const executionTime = s.scheduleTime + s.startDelayMs;
  return {
    namespaceId: activityNamespaceId(namespace.id),
    workflowId: s.activityId,
    runId: s.runId,
    workflowType: s.activityType,
    status: WORKFLOW_STATUS_OF[statusOf(s)] ?? WorkflowStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
    startTime: s.scheduleTime,
    executionTime,
    closeTime: s.closeTime,
    executionDuration: s.closeTime !== null ? Math.max(0, s.closeTime - executionTime) * 1_000_000 : null,
    taskQueue: s.taskQueue,
    historyLength: 0,
    historySizeBytes: 0,
    stateTransitionCount: s.stateTransitions,
    parentWorkflowId: null,
    parentRunId: null,
    rootWorkflowId: null,
    rootRunId: null,
    memo: null,
    searchAttributes: attributes,
    searchAttributeTypes: types,
    version: s.visVersion,
  };
}
