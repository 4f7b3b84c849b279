/**
 * Schedules, as Temporal runs them (service/worker/scheduler), implemented as a durable entity of
 * the history service instead of a system workflow: a schedule's state is one row in the shard that
 * owns `temporal-sys-scheduler:<scheduleId>` (no current-run pointer, so no workflow API sees it),
 * and its next firing is a persisted task of the `schedule` category. Every change (create, update,
 * patch, a firing) reads the row, decides, and commits the new state with the next timer in ONE
 * conditional, fenced transaction.
 *
 * A firing starts `<workflowId>-<scheduled time RFC 3339>` with a request id derived from the
 * schedule and the time, BEFORE the state that records it is committed: a crash in between retries
 * the same start, which finds the run it created (request-id idempotency), so no run is lost or
 * doubled. Overlap policies watch the schedule's running workflows: while a start is buffered
 * behind a running one, the schedule re-checks every `history.scheduleWatchInterval` (a persisted
 * timer too).
 */
import { createHash } from 'node:crypto';
import {
  FailedPreconditionError,
  HistorySettings,
  InvalidArgumentError,
  NotFoundError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  durationToMs,
  int64,
  msToDuration,
  msToTimestamp,
  quote,
  temporal,
  timestampToMs,
  toNumber,
} from '@hourglass/common';
import type { ExecutionKey, NamespaceRecord } from '@hourglass/persistence';
import { encodeSearchAttributeValue, type VisibilityChange, type VisibilityRecord } from '@hourglass/visibility';
import type { EngineContext } from '../engine-context';
import { TaskCategories } from '../queues/task-categories';
import { checkSearchAttributes, indexedSearchAttributes, namespaceCatalog } from '../workflow/visibility';
import type { EntityChange } from '../shard/shard-context';
import { CompiledSpec, canonicalizeSpec } from './spec';

const v1 = temporal.api.schedule.v1;
type Schedule = temporal.api.schedule.v1.ISchedule;
type WsNs = typeof temporal.api.workflowservice.v1;
const Overlap = temporal.api.enums.v1.ScheduleOverlapPolicy;
const Status = temporal.api.enums.v1.WorkflowExecutionStatus;
/** Closes that pauseOnFailure pauses on, as Temporal: failed and timed out (not canceled or terminated). */
const FAILURE_STATUSES: ReadonlySet<number> = new Set([Status.WORKFLOW_EXECUTION_STATUS_FAILED, Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT]);

/** Workflow id prefix of a schedule's row, as Temporal names its scheduler workflows. */
export const SCHEDULER_WORKFLOW_ID_PREFIX = 'temporal-sys-scheduler:';
/** The run id of every schedule row (rows of a workflow id are otherwise keyed by run). */
const SCHEDULE_RUN_ID = '00000000-0000-4000-8000-5c4ed0100000';

/** Whether a row of the execution store is a schedule's (not a run). */
export function isScheduleKey(key: { workflowId: string; runId: string }): boolean {
  return key.runId === SCHEDULE_RUN_ID && key.workflowId.startsWith(SCHEDULER_WORKFLOW_ID_PREFIX);
}
/** Temporal's defaults and bounds. */
const DEFAULT_CATCHUP_WINDOW_MS = 365 * 86_400_000;
const MIN_CATCHUP_WINDOW_MS = 10_000;
const RECENT_ACTIONS = 10;
const FUTURE_ACTIONS = 10;
/** Scheduled times one firing takes at most (the rest are taken by the next, immediately). */
const MAX_TIMES_PER_FIRING = 100;
const MAX_BUFFER = 1000;
const MAX_RUNNING_TRACKED = 1000;
const MAX_BACKFILL_TIMES = 1000;
const MAX_MATCHING_TIMES = 1000;
const MAX_SCHEDULE_ID_LENGTH = 1000;
/** Temporal Cloud bills a schedule execution as 3 actions: 2 for the schedule, 1 for the workflow start (metered as a start). */
const SCHEDULE_ACTIONS_PER_ACTION = 2;
/** The memo field of a schedule's visibility record that carries its ScheduleListInfo. */
export const SCHEDULE_INFO_MEMO_FIELD = '__hourglass_schedule_info';

interface BufferedStart {
  nominal: number;
  actual: number;
  overlap: number;
  manual: boolean;
  /** Manual starts: a sequence number of the schedule, so two triggers in the same millisecond are two starts. */
  seq?: number;
}

interface StoredSchedule {
  v: 1;
  scheduleId: string;
  /** Encoded temporal.api.schedule.v1.Schedule (canonical spec, overlap policy resolved). */
  schedule: string;
  memo: string | null;
  searchAttributes: string | null;
  createTime: number;
  updateTime: number | null;
  conflictToken: number;
  /** Every nominal time <= highWater has been taken, buffered, skipped or missed. */
  highWater: number;
  buffer: BufferedStart[];
  running: { workflowId: string; runId: string }[];
  recent: { scheduleTime: number; actualTime: number; workflowId: string; runId: string }[];
  counts: { actions: number; missedCatchup: number; overlapSkipped: number; bufferDropped: number };
  /** Generation of the pending wake timer: an older timer's task is stale and ignored. */
  timerGen: number;
  wakeAt: number | null;
  /** Version of the visibility record last published (monotonic across delete and re-create). */
  visVersion: number;
  /** Manual starts buffered so far (their sequence numbers). */
  manualSeq?: number;
}

/** Tasks of the schedule category (persisted type names: never rename). */
type ScheduleTask = { type: 'schedule-wake'; gen: number } | { type: 'schedule-publish'; version: number; deleted: boolean };

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (text: string): Uint8Array => Buffer.from(text, 'base64');

function decodeSchedule(s: StoredSchedule): Schedule {
  return v1.Schedule.decode(unb64(s.schedule));
}

function keyOf(namespaceId: string, scheduleId: string): ExecutionKey {
  return { namespaceId, workflowId: SCHEDULER_WORKFLOW_ID_PREFIX + scheduleId, runId: SCHEDULE_RUN_ID };
}

/** The visibility namespace of a namespace's schedules: a UUID of its own, so workflow searches never see them. */
export function scheduleNamespaceId(namespaceId: string): string {
  const h = createHash('sha256').update(`schedules:${namespaceId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function scheduleRecordRunId(scheduleId: string): string {
  const h = createHash('sha256').update(`schedule:${scheduleId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-b${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** RFC 3339 in UTC to the second, as Go formats it: 2024-01-01T00:00:00Z. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function checkOverlap(policy: number | null | undefined, where: string): number {
  const p = policy ?? 0;
  if (!Number.isInteger(p) || p < 0 || p > Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL) throw new InvalidArgumentError(`${where}: unknown overlap policy ${p}`);
  return p;
}

function resolveOverlap(p: number, schedule: Schedule): number {
  return p || schedule.policies?.overlapPolicy || Overlap.SCHEDULE_OVERLAP_POLICY_SKIP;
}

/** Validates a Schedule and returns what is stored: the canonical spec and the defaults filled in. */
function normalizeSchedule(schedule: Schedule | null | undefined, namespace: NamespaceRecord): Schedule {
  if (!schedule) throw new InvalidArgumentError('schedule is required');
  const spec = canonicalizeSpec(schedule.spec);
  const start = schedule.action?.startWorkflow;
  if (!start) throw new InvalidArgumentError('schedule.action.startWorkflow is required (the only action Temporal schedules take)');
  if (!start.workflowId) throw new InvalidArgumentError('schedule.action.startWorkflow.workflowId must not be empty');
  if (start.workflowId.length > 900) throw new InvalidArgumentError(`schedule.action.startWorkflow.workflowId ${quote(start.workflowId)} is longer than 900 characters`);
  if (!start.workflowType?.name) throw new InvalidArgumentError('schedule.action.startWorkflow.workflowType.name must not be empty');
  if (!start.taskQueue?.name) throw new InvalidArgumentError('schedule.action.startWorkflow.taskQueue.name must not be empty');
  if (start.cronSchedule) throw new InvalidArgumentError('schedule.action.startWorkflow.cronSchedule is not allowed: the schedule is the cron');
  checkSearchAttributes(start.searchAttributes?.indexedFields, namespaceCatalog(namespace), 'schedule.action.startWorkflow.searchAttributes');
  const overlapPolicy = checkOverlap(schedule.policies?.overlapPolicy, 'schedule.policies.overlapPolicy') || Overlap.SCHEDULE_OVERLAP_POLICY_SKIP;
  let catchup = durationToMs(schedule.policies?.catchupWindow) ?? 0;
  if (catchup < 0) throw new InvalidArgumentError('schedule.policies.catchupWindow must not be negative');
  if (catchup === 0) catchup = DEFAULT_CATCHUP_WINDOW_MS;
  catchup = Math.max(catchup, MIN_CATCHUP_WINDOW_MS);
  const state = schedule.state ?? {};
  const remaining = toNumber(state.remainingActions);
  if (state.limitedActions && remaining < 0) throw new InvalidArgumentError('schedule.state.remainingActions must not be negative');
  return {
    spec,
    action: { startWorkflow: { ...start, workflowIdReusePolicy: 0 } },
    policies: { overlapPolicy, catchupWindow: msToDuration(catchup), pauseOnFailure: schedule.policies?.pauseOnFailure ?? false, keepOriginalWorkflowId: schedule.policies?.keepOriginalWorkflowId ?? false },
    state: { notes: state.notes ?? '', paused: state.paused ?? false, limitedActions: state.limitedActions ?? false, remainingActions: int64(state.limitedActions ? remaining : 0) },
  };
}

function checkScheduleId(id: string | null | undefined): string {
  if (!id) throw new InvalidArgumentError('scheduleId must not be empty');
  if (id.length > MAX_SCHEDULE_ID_LENGTH) throw new InvalidArgumentError(`scheduleId ${quote(id)} is longer than ${MAX_SCHEDULE_ID_LENGTH} characters`);
  return id;
}

function conflictTokenBytes(n: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

type Req<K extends keyof WsNs> = WsNs[K] extends { encode(message: infer M, ...rest: never[]): unknown } ? M : never;

export interface ScheduleDeps {
  env: EngineContext;
  namespace(id: string): Promise<NamespaceRecord>;
}

/** The schedule API of the history service and the executor of its tasks. */
export class Scheduler {
  constructor(private readonly deps: ScheduleDeps) {}

  private get env(): EngineContext {
    return this.deps.env;
  }

  private shard(key: ExecutionKey) {
    return this.env.shardFor(key.namespaceId, key.workflowId);
  }

  private compiled(s: StoredSchedule, schedule: Schedule): CompiledSpec {
    return new CompiledSpec(schedule.spec ?? {}, s.scheduleId);
  }

  async createSchedule(namespaceId: string, r: Req<'CreateScheduleRequest'>): Promise<Req<'CreateScheduleResponse'>> {
    const scheduleId = checkScheduleId(r.scheduleId);
    const namespace = await this.deps.namespace(namespaceId);
    const schedule = normalizeSchedule(r.schedule, namespace);
    checkSearchAttributes(r.searchAttributes?.indexedFields, namespaceCatalog(namespace), 'searchAttributes');
    const patch = r.initialPatch ?? {};
    const key = keyOf(namespaceId, scheduleId);
    return this.shard(key).updateEntity(key, async (record) => {
      const now = this.env.clock.now();
      if (record) {
        const existing = JSON.parse(record.state) as StoredSchedule;
        // The same request again (a client retry) is answered as before.
        if (r.requestId && existing.createTime > 0 && (existing as unknown as { requestId?: string }).requestId === r.requestId) {
          return { write: undefined, result: { conflictToken: conflictTokenBytes(existing.conflictToken) } };
        }
        throw new WorkflowExecutionAlreadyStartedError(`schedule ${quote(scheduleId)} already exists`, '', '');
      }
      const s: StoredSchedule & { requestId?: string } = {
        v: 1,
        scheduleId,
        schedule: b64(v1.Schedule.encode(schedule).finish()),
        memo: r.memo ? b64(temporal.api.common.v1.Memo.encode(r.memo).finish()) : null,
        searchAttributes: r.searchAttributes ? b64(temporal.api.common.v1.SearchAttributes.encode(r.searchAttributes).finish()) : null,
        createTime: now,
        updateTime: null,
        conflictToken: 1,
        highWater: now,
        buffer: [],
        running: [],
        recent: [],
        counts: { actions: 0, missedCatchup: 0, overlapSkipped: 0, bufferDropped: 0 },
        timerGen: 0,
        wakeAt: null,
        visVersion: 0,
        ...(r.requestId ? { requestId: r.requestId } : {}),
      };
      this.applyPatch(s, schedule, patch, now);
      const effects = await this.process(s, namespace, now);
      return { write: JSON.stringify(s), ...effects, result: { conflictToken: conflictTokenBytes(s.conflictToken) } };
    });
  }

  private async load(namespaceId: string, scheduleId: string): Promise<StoredSchedule> {
    const key = keyOf(namespaceId, checkScheduleId(scheduleId));
    const record = await this.shard(key).readEntity(key);
    if (!record) throw new NotFoundError(`schedule ${quote(scheduleId)} not found`);
    return JSON.parse(record.state) as StoredSchedule;
  }

  async describeSchedule(namespaceId: string, r: Req<'DescribeScheduleRequest'>): Promise<Req<'DescribeScheduleResponse'>> {
    const s = await this.load(namespaceId, r.scheduleId ?? '');
    const schedule = decodeSchedule(s);
    const running = await this.stillRunning(namespaceId, s.running);
    return {
      schedule,
      info: {
        actionCount: int64(s.counts.actions),
        missedCatchupWindow: int64(s.counts.missedCatchup),
        overlapSkipped: int64(s.counts.overlapSkipped),
        bufferDropped: int64(s.counts.bufferDropped),
        bufferSize: int64(s.buffer.length),
        runningWorkflows: running.map((w) => ({ workflowId: w.workflowId, runId: w.runId })),
        recentActions: this.recentActions(s),
        futureActionTimes: this.futureTimes(s, schedule).map(msToTimestamp),
        createTime: msToTimestamp(s.createTime),
        ...(s.updateTime ? { updateTime: msToTimestamp(s.updateTime) } : {}),
      },
      memo: s.memo ? temporal.api.common.v1.Memo.decode(unb64(s.memo)) : null,
      searchAttributes: s.searchAttributes ? temporal.api.common.v1.SearchAttributes.decode(unb64(s.searchAttributes)) : null,
      conflictToken: conflictTokenBytes(s.conflictToken),
    };
  }

  private recentActions(s: StoredSchedule): temporal.api.schedule.v1.IScheduleActionResult[] {
    return s.recent.map((a) => ({
      scheduleTime: msToTimestamp(a.scheduleTime),
      actualTime: msToTimestamp(a.actualTime),
      startWorkflowResult: { workflowId: a.workflowId, runId: a.runId },
    }));
  }

  /** The next action times the schedule will take on its own (none while paused or out of actions). */
  private futureTimes(s: StoredSchedule, schedule: Schedule): number[] {
    if (schedule.state?.paused) return [];
    let limit = FUTURE_ACTIONS;
    if (schedule.state?.limitedActions) limit = Math.min(limit, toNumber(schedule.state.remainingActions));
    const spec = this.compiled(s, schedule);
    const out: number[] = [];
    let t = Math.max(s.highWater, this.env.clock.now());
    while (out.length < limit) {
      const n = spec.next(t);
      if (!n) break;
      out.push(n.actual);
      t = n.nominal;
    }
    return out;
  }

  async updateSchedule(namespaceId: string, r: Req<'UpdateScheduleRequest'>): Promise<void> {
    const scheduleId = checkScheduleId(r.scheduleId);
    const namespace = await this.deps.namespace(namespaceId);
    const schedule = normalizeSchedule(r.schedule, namespace);
    if (r.searchAttributes) checkSearchAttributes(r.searchAttributes.indexedFields, namespaceCatalog(namespace), 'searchAttributes');
    const key = keyOf(namespaceId, scheduleId);
    await this.shard(key).updateEntity(key, async (record) => {
      if (!record) throw new NotFoundError(`schedule ${quote(scheduleId)} not found`);
      const s = JSON.parse(record.state) as StoredSchedule;
      if (r.conflictToken && r.conflictToken.length === 8 && Number(Buffer.from(r.conflictToken).readBigInt64BE()) !== s.conflictToken) {
        throw new FailedPreconditionError(`schedule ${quote(scheduleId)} changed since the conflict token was read`);
      }
      const now = this.env.clock.now();
      s.schedule = b64(v1.Schedule.encode(schedule).finish());
      if (r.searchAttributes) s.searchAttributes = b64(temporal.api.common.v1.SearchAttributes.encode(r.searchAttributes).finish());
      s.updateTime = now;
      s.conflictToken += 1;
      // Times between the last firing and now are not taken again under the new spec.
      s.highWater = Math.max(s.highWater, now);
      const effects = await this.process(s, namespace, now);
      return { write: JSON.stringify(s), ...effects, result: undefined };
    });
  }

  async patchSchedule(namespaceId: string, r: Req<'PatchScheduleRequest'>): Promise<void> {
    const scheduleId = checkScheduleId(r.scheduleId);
    const namespace = await this.deps.namespace(namespaceId);
    const patch = r.patch ?? {};
    const key = keyOf(namespaceId, scheduleId);
    await this.shard(key).updateEntity(key, async (record) => {
      if (!record) throw new NotFoundError(`schedule ${quote(scheduleId)} not found`);
      const s = JSON.parse(record.state) as StoredSchedule;
      const schedule = decodeSchedule(s);
      const now = this.env.clock.now();
      this.applyPatch(s, schedule, patch, now);
      s.updateTime = now;
      const effects = await this.process(s, namespace, now);
      return { write: JSON.stringify(s), ...effects, result: undefined };
    });
  }

  /** Pause, unpause, trigger now, backfills: into the stored schedule and its buffer. */
  private applyPatch(s: StoredSchedule, schedule: Schedule, patch: temporal.api.schedule.v1.ISchedulePatch, now: number): void {
    if (patch.pause && patch.unpause) throw new InvalidArgumentError('patch cannot both pause and unpause');
    const state = schedule.state ?? {};
    if (patch.pause) {
      state.paused = true;
      state.notes = patch.pause;
    }
    if (patch.unpause) {
      state.paused = false;
      state.notes = patch.unpause;
      // Times that passed while paused are not taken.
      s.highWater = Math.max(s.highWater, now);
    }
    schedule.state = state;
    const added: BufferedStart[] = [];
    if (patch.triggerImmediately) {
      const overlap = checkOverlap(patch.triggerImmediately.overlapPolicy, 'patch.triggerImmediately.overlapPolicy');
      added.push({ nominal: now, actual: now, overlap, manual: true, seq: (s.manualSeq = (s.manualSeq ?? 0) + 1) });
    }
    const spec = this.compiled(s, schedule);
    for (const [i, b] of (patch.backfillRequest ?? []).entries()) {
      const overlap = checkOverlap(b.overlapPolicy, `patch.backfillRequest[${i}].overlapPolicy`);
      const start = timestampToMs(b.startTime);
      const end = timestampToMs(b.endTime);
      if (start === undefined || end === undefined) throw new InvalidArgumentError(`patch.backfillRequest[${i}] needs startTime and endTime`);
      if (end < start) throw new InvalidArgumentError(`patch.backfillRequest[${i}].endTime is before its startTime`);
      const times = spec.between(start - 1, end, MAX_BACKFILL_TIMES + 1);
      if (times.length > MAX_BACKFILL_TIMES) throw new InvalidArgumentError(`patch.backfillRequest[${i}] covers more than ${MAX_BACKFILL_TIMES} action times; split it`);
      for (const t of times) added.push({ nominal: t.nominal, actual: t.nominal, overlap, manual: true, seq: (s.manualSeq = (s.manualSeq ?? 0) + 1) });
    }
    if (s.buffer.length + added.length > MAX_BUFFER) throw new FailedPreconditionError(`schedule ${quote(s.scheduleId)} has ${s.buffer.length} buffered actions; at most ${MAX_BUFFER}`);
    s.buffer.push(...added);
    s.schedule = b64(v1.Schedule.encode(schedule).finish());
  }

  async deleteSchedule(namespaceId: string, r: Req<'DeleteScheduleRequest'>): Promise<void> {
    const scheduleId = checkScheduleId(r.scheduleId);
    const key = keyOf(namespaceId, scheduleId);
    await this.shard(key).updateEntity(key, (record) => {
      if (!record) throw new NotFoundError(`schedule ${quote(scheduleId)} not found`);
      const s = JSON.parse(record.state) as StoredSchedule;
      const version = Math.max(s.visVersion + 1, this.env.clock.now());
      const task: ScheduleTask = { type: 'schedule-publish', version, deleted: true };
      return { write: 'delete', tasks: [{ category: TaskCategories.schedule, fireAt: this.env.clock.now(), type: task.type, data: JSON.stringify(task) }], result: undefined };
    });
  }

  async listScheduleMatchingTimes(namespaceId: string, r: Req<'ListScheduleMatchingTimesRequest'>): Promise<Req<'ListScheduleMatchingTimesResponse'>> {
    const s = await this.load(namespaceId, r.scheduleId ?? '');
    const start = timestampToMs(r.startTime);
    const end = timestampToMs(r.endTime);
    if (start === undefined || end === undefined) throw new InvalidArgumentError('startTime and endTime are required');
    if (end < start) throw new InvalidArgumentError('endTime is before startTime');
    // As Temporal: the times after startTime whose actual (jittered) time is not after endTime.
    const times = this.compiled(s, decodeSchedule(s)).between(start, end, MAX_MATCHING_TIMES).filter((t) => t.actual <= end);
    return { startTime: times.map((t) => msToTimestamp(t.actual)) };
  }

  /** Executes a task of the schedule category. */
  async execute(row: { namespaceId: string; workflowId: string; type: string; data: string }, publish: (changes: VisibilityChange[]) => Promise<void>): Promise<void> {
    const task = JSON.parse(row.data) as ScheduleTask;
    const scheduleId = row.workflowId.slice(SCHEDULER_WORKFLOW_ID_PREFIX.length);
    const key = keyOf(row.namespaceId, scheduleId);
    if (task.type === 'schedule-publish') {
      if (task.deleted) {
        await publish([{ kind: 'delete', deletion: { namespaceId: scheduleNamespaceId(row.namespaceId), workflowId: scheduleId, runId: scheduleRecordRunId(scheduleId), version: task.version }, committedAt: this.env.clock.now() }]);
        return;
      }
      const record = await this.shard(key).readEntity(key);
      if (!record) return;
      const s = JSON.parse(record.state) as StoredSchedule;
      const namespace = await this.deps.namespace(row.namespaceId);
      await publish([{ kind: 'upsert', record: this.visibilityRecord(s, namespace), committedAt: this.env.clock.now() }]);
      return;
    }
    const namespace = await this.deps.namespace(row.namespaceId);
    await this.shard(key).updateEntity(key, async (record) => {
      if (!record) return { write: undefined, result: undefined };
      const s = JSON.parse(record.state) as StoredSchedule;
      // A timer replaced by a newer one (the schedule changed since) does nothing.
      if (task.gen !== s.timerGen) return { write: undefined, result: undefined };
      s.wakeAt = null;
      const effects = await this.process(s, namespace, this.env.clock.now());
      return { write: JSON.stringify(s), ...effects, result: undefined };
    });
  }

  /**
   * Which of these workflows still run. A workflow id is the chain of its runs (retries,
   * continue-as-new, as Temporal's scheduler watches it), so its current run decides.
   */
  private async stillRunning(namespaceId: string, list: readonly { workflowId: string; runId: string }[]): Promise<{ workflowId: string; runId: string }[]> {
    return (await this.refreshRunning(namespaceId, list)).running;
  }

  private async refreshRunning(
    namespaceId: string,
    list: readonly { workflowId: string; runId: string }[],
  ): Promise<{ running: { workflowId: string; runId: string }[]; failed: string[] }> {
    const running: { workflowId: string; runId: string }[] = [];
    const failed: string[] = [];
    for (const w of list) {
      const current = await this.env.peers.currentExecution({ namespaceId, workflowId: w.workflowId });
      if (current?.running) running.push(w);
      else if (current && FAILURE_STATUSES.has(current.status)) failed.push(w.workflowId);
    }
    return { running, failed };
  }

  /**
   * The scheduler's step, as Temporal's: take the times that came due (or count them missed),
   * resolve the buffer against the overlap policy, start what may start, and set the next timer.
   * Mutates `s`; returns the tasks of the commit that stores it.
   */
  private async process(s: StoredSchedule, namespace: NamespaceRecord, now: number): Promise<Pick<EntityChange<unknown>, 'tasks' | 'usage'>> {
    const schedule = decodeSchedule(s);
    const spec = this.compiled(s, schedule);
    schedule.state ??= {};
    const state = schedule.state;
    const catchupMs = durationToMs(schedule.policies?.catchupWindow) ?? DEFAULT_CATCHUP_WINDOW_MS;
    let more = false;
    if (state.paused) {
      s.highWater = Math.max(s.highWater, now);
    } else {
      const due = spec.between(s.highWater, now, MAX_TIMES_PER_FIRING + 1).filter((t) => t.actual <= now);
      more = due.length > MAX_TIMES_PER_FIRING;
      for (const t of due.slice(0, MAX_TIMES_PER_FIRING)) {
        s.highWater = t.nominal;
        if (now - t.actual > catchupMs) {
          s.counts.missedCatchup += 1;
          continue;
        }
        if (s.buffer.length >= MAX_BUFFER) {
          s.counts.bufferDropped += 1;
          continue;
        }
        s.buffer.push({ nominal: t.nominal, actual: t.actual, overlap: 0, manual: false });
      }
      // Nothing came due but the jitter of the next time: times up to now are done.
      if (!more) {
        const pending = spec.next(s.highWater);
        if (!pending || pending.nominal > now) s.highWater = Math.max(s.highWater, Math.min(now, pending ? pending.nominal - 1 : now));
      }
    }

    const refreshed = await this.refreshRunning(namespace.id, s.running);
    s.running = refreshed.running;
    // pauseOnFailure: a run that failed or timed out pauses the schedule before its next action.
    if (schedule.policies?.pauseOnFailure && refreshed.failed.length > 0 && !state.paused) {
      state.paused = true;
      state.notes = `paused after workflow ${refreshed.failed[0] ?? ''} failed`;
      s.highWater = Math.max(s.highWater, now);
      s.buffer = s.buffer.filter((b) => b.manual);
    }
    let isRunning = s.running.length > 0;
    const toStart: BufferedStart[] = [];
    const newBuffer: BufferedStart[] = [];
    let cancel = false;
    let terminate = false;
    // As Temporal: a start of the spec (not a trigger or backfill) is dropped when it would run while
    // the schedule is paused or out of remaining actions.
    let budget = state.limitedActions ? toNumber(state.remainingActions) : Infinity;
    const mayStart = (b: BufferedStart): boolean => {
      if (b.manual) return true;
      if (state.paused || budget <= 0) return false;
      budget -= 1;
      return true;
    };
    for (const b of s.buffer) {
      const policy = resolveOverlap(b.overlap, schedule);
      if (policy === Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL) {
        if (mayStart(b)) toStart.push(b);
        continue;
      }
      if (!isRunning && newBuffer.length === 0) {
        if (mayStart(b)) {
          toStart.push(b);
          isRunning = true;
        }
        continue;
      }
      switch (policy) {
        case Overlap.SCHEDULE_OVERLAP_POLICY_SKIP:
          s.counts.overlapSkipped += 1;
          break;
        case Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE:
          if (newBuffer.length === 0) newBuffer.push(b);
          else s.counts.bufferDropped += 1;
          break;
        case Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL:
          newBuffer.push(b);
          break;
        case Overlap.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER:
          cancel = true;
          newBuffer.splice(0, newBuffer.length, b);
          break;
        case Overlap.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER:
          terminate = true;
          newBuffer.splice(0, newBuffer.length, b);
          break;
        default:
          s.counts.overlapSkipped += 1;
      }
    }
    s.buffer = newBuffer;
    if (cancel || terminate) {
      for (const w of s.running) {
        const execution = { workflowId: w.workflowId, runId: w.runId };
        try {
          if (terminate) {
            await this.env.peers.terminateWorkflowExecution({
              namespaceId: namespace.id,
              request: { namespace: namespace.name, workflowExecution: execution, reason: 'terminated by schedule overlap policy TERMINATE_OTHER', identity: `temporal-scheduler/${s.scheduleId}` },
            });
          } else {
            await this.env.peers.requestCancelWorkflowExecution({
              namespaceId: namespace.id,
              request: { namespace: namespace.name, workflowExecution: execution, reason: 'canceled by schedule overlap policy CANCEL_OTHER', identity: `temporal-scheduler/${s.scheduleId}`, requestId: `sched-cancel:${s.scheduleId}:${w.runId}` },
            });
          }
        } catch (err) {
          if (!(err instanceof NotFoundError) && !(err instanceof FailedPreconditionError)) throw err;
        }
      }
      // Terminated runs are closed now: a buffered start need not wait for the next check.
      if (terminate) {
        s.running = await this.stillRunning(namespace.id, s.running);
        const next = s.running.length === 0 ? s.buffer.shift() : undefined;
        if (next && mayStart(next)) toStart.push(next);
      }
    }
    let taken = 0;
    for (const b of toStart) if (await this.start(s, schedule, namespace, b, now)) taken += 1;
    s.schedule = b64(v1.Schedule.encode(schedule).finish());

    // The next wake: the next time's actual time, or soon while a start waits behind a running workflow.
    const tasks: { category: { id: number }; fireAt: number; type: string; data: string }[] = [];
    let wake: number | undefined;
    const outOfActions = state.limitedActions && toNumber(state.remainingActions) <= 0;
    if (more) wake = now;
    else if (!state.paused && !outOfActions) wake = spec.next(s.highWater)?.actual;
    if (s.buffer.length > 0 && (s.running.length > 0 || cancel)) wake = Math.min(wake ?? Infinity, now + Math.max(100, this.env.settings.get(HistorySettings.scheduleWatchInterval)));
    if (wake !== undefined && wake !== s.wakeAt) {
      s.timerGen += 1;
      s.wakeAt = wake;
      const task: ScheduleTask = { type: 'schedule-wake', gen: s.timerGen };
      tasks.push({ category: TaskCategories.schedule, fireAt: wake, type: task.type, data: JSON.stringify(task) });
    } else if (wake === undefined && s.wakeAt !== null) {
      s.timerGen += 1;
      s.wakeAt = null;
    }
    s.visVersion = Math.max(s.visVersion + 1, now);
    const publish: ScheduleTask = { type: 'schedule-publish', version: s.visVersion, deleted: false };
    tasks.push({ category: TaskCategories.schedule, fireAt: now, type: publish.type, data: JSON.stringify(publish) });
    return { tasks, ...(taken > 0 ? { usage: new Map([['scheduleAction', SCHEDULE_ACTIONS_PER_ACTION * taken]]) } : {}) };
  }

  /** Starts one action's workflow; idempotent by its request id (a retried firing finds the run it started). */
  private async start(s: StoredSchedule, schedule: Schedule, namespace: NamespaceRecord, b: BufferedStart, now: number): Promise<boolean> {
    const action = schedule.action?.startWorkflow ?? {};
    const workflowId = schedule.policies?.keepOriginalWorkflowId ? action.workflowId ?? '' : `${action.workflowId ?? ''}-${rfc3339(b.nominal)}`;
    const requestId = `sched:${s.scheduleId}:${b.nominal}:${b.manual ? `m${b.seq ?? 0}` : 's'}`;
    let runId: string;
    try {
      const res = await this.env.peers.startScheduledWorkflow({
        namespaceId: namespace.id,
        workflowId,
        request: {
          namespace: namespace.name,
          workflowId,
          workflowType: action.workflowType ?? null,
          taskQueue: action.taskQueue ?? null,
          input: action.input ?? null,
          workflowExecutionTimeout: action.workflowExecutionTimeout ?? null,
          workflowRunTimeout: action.workflowRunTimeout ?? null,
          workflowTaskTimeout: action.workflowTaskTimeout ?? null,
          identity: `temporal-scheduler/${s.scheduleId}`,
          requestId,
          workflowIdReusePolicy: WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
          retryPolicy: action.retryPolicy ?? null,
          memo: action.memo ?? null,
          searchAttributes: action.searchAttributes ?? null,
          header: action.header ?? null,
          userMetadata: action.userMetadata ?? null,
          priority: action.priority ?? null,
        },
        systemSearchAttributes: {
          TemporalScheduledStartTime: encodeSearchAttributeValue(b.nominal, 'Datetime'),
          TemporalScheduledById: encodeSearchAttributeValue(s.scheduleId, 'Keyword'),
        },
      });
      runId = res.runId ?? '';
    } catch (err) {
      // Another start took the id (not this schedule's retry): the action is skipped, not retried forever.
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        this.env.logger.warn({ scheduleId: s.scheduleId, workflowId }, 'schedule action skipped: its workflow id is already in use');
        s.counts.overlapSkipped += 1;
        return false;
      }
      throw err;
    }
    const state = schedule.state ?? {};
    if (!b.manual && state.limitedActions) state.remainingActions = int64(Math.max(0, toNumber(state.remainingActions) - 1));
    s.counts.actions += 1;
    s.running.push({ workflowId, runId });
    // Bounded work per firing: the oldest of very many running workflows (ALLOW_ALL) are no longer watched.
    if (s.running.length > MAX_RUNNING_TRACKED) s.running.splice(0, s.running.length - MAX_RUNNING_TRACKED);
    s.recent.push({ scheduleTime: b.nominal, actualTime: now, workflowId, runId });
    if (s.recent.length > RECENT_ACTIONS) s.recent.splice(0, s.recent.length - RECENT_ACTIONS);
    return true;
  }

  /** The schedule's row in its namespace's schedule visibility (ListSchedules, CountSchedules). */
  private visibilityRecord(s: StoredSchedule, namespace: NamespaceRecord): VisibilityRecord {
    const schedule = decodeSchedule(s);
    const fields = s.searchAttributes ? temporal.api.common.v1.SearchAttributes.decode(unb64(s.searchAttributes)).indexedFields : undefined;
    const { attributes, types } = indexedSearchAttributes(fields, namespaceCatalog(namespace));
    attributes.TemporalSchedulePaused = schedule.state?.paused === true;
    types.TemporalSchedulePaused = 'Bool';
    const info: temporal.api.schedule.v1.IScheduleListInfo = {
      spec: schedule.spec ?? null,
      workflowType: schedule.action?.startWorkflow?.workflowType ?? null,
      notes: schedule.state?.notes ?? '',
      paused: schedule.state?.paused ?? false,
      recentActions: this.recentActions(s),
      futureActionTimes: this.futureTimes(s, schedule).map(msToTimestamp),
    };
    const memo = s.memo ? temporal.api.common.v1.Memo.decode(unb64(s.memo)) : { fields: {} };
    memo.fields = { ...(memo.fields ?? {}), [SCHEDULE_INFO_MEMO_FIELD]: { metadata: { encoding: Buffer.from('binary/plain') }, data: v1.ScheduleListInfo.encode(info).finish() } };
    return {
      namespaceId: scheduleNamespaceId(namespace.id),
      workflowId: s.scheduleId,
      runId: scheduleRecordRunId(s.scheduleId),
      workflowType: schedule.action?.startWorkflow?.workflowType?.name ?? '',
      status: temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
      startTime: s.createTime,
      executionTime: s.createTime,
      closeTime: null,
      executionDuration: null,
      taskQueue: schedule.action?.startWorkflow?.taskQueue?.name ?? '',
      historyLength: 0,
      historySizeBytes: 0,
      stateTransitionCount: s.conflictToken,
      parentWorkflowId: null,
      parentRunId: null,
      rootWorkflowId: null,
      rootRunId: null,
      memo: temporal.api.common.v1.Memo.encode(memo).finish(),
      searchAttributes: attributes,
      searchAttributeTypes: types,
      version: s.visVersion,
    };
  }
}
