/**
 * Batch operations (StartBatchOperation and friends), run as Temporal runs them: each job is a run
 * of the system workflow type `temporal-sys-batch-workflow` in the caller's namespace, with the
 * job id as its workflow id, search attribute TemporalNamespaceDivision = 'TemporalBatcher' (so
 * ordinary lists do not show it) and the operation type, reason and query in its memo. No worker
 * serves it: no workflow task is ever scheduled. Its steps are tasks of the `batch` category.
 *
 * A step, at its rate-limited time: choose the next targets (a page of the visibility query from
 * the persisted page token, or the next slice of the request's list) and COMMIT them as `pending`
 * before touching any; apply the operation to each; commit the counts, the next cursor and the
 * next step's task together. A crash anywhere re-runs the step on the same persisted targets, and
 * every operation is idempotent per execution (a terminated run cannot be terminated again, signals
 * and cancellations carry a request id derived from the job and the execution, deletion of a gone
 * run is a no-op), so each execution is affected once and counted once.
 */
import { createHash } from 'node:crypto';
import {
  HistorySettings,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
  WorkflowExecutionAlreadyStartedError,
  int64,
  isHourglassError,
  msToTimestamp,
  quote,
  temporal,
  toNumber,
  type LongLike,
} from '@hourglass/common';
import type { ExecutionKey, HistoryTaskRow, NamespaceRecord } from '@hourglass/persistence';
import { randomUUID } from 'node:crypto';
import type { EngineContext } from '../engine-context';
import { resolveRun } from '../api/shared';
import { TaskCategories } from '../queues/task-categories';
import { parseBatchTask, type BatchTask } from '../tasks';
import { completeWorkflow, terminateWorkflow } from '../workflow/close';
import { isRunning, type BatchJobProgress, type MutableState } from '../workflow/mutable-state';
import type { MutationContext } from '../workflow/mutation';
import { newRun } from '../workflow/start';
import { memoBlob } from '../workflow/codec';

type StartRequest = temporal.api.workflowservice.v1.IStartBatchOperationRequest;
type DescribeResponse = temporal.api.workflowservice.v1.IDescribeBatchOperationResponse;
type ExecutionInfo = temporal.api.workflow.v1.IWorkflowExecutionInfo;

/** Temporal's names: the job run's workflow type, its task queue and its namespace division. */
export const BATCH_WORKFLOW_TYPE = 'temporal-sys-batch-workflow';
export const BATCH_TASK_QUEUE = 'temporal-sys-per-ns-tq';
export const BATCH_NAMESPACE_DIVISION = 'TemporalBatcher';
/** Memo keys of the job run, as Temporal's batcher writes them. */
export const BATCH_MEMO = { type: 'batch_operation_type', reason: 'batch_operation_reason', query: 'batch_operation_visibility_query' } as const;
/** The identity batch-affected workflows see when the operation names none. */
export const BATCHER_IDENTITY = 'batcher';
/** Jobs of this namespace still running (Temporal's OpenBatchOperationQuery). */
export const OPEN_BATCH_QUERY = `TemporalNamespaceDivision = '${BATCH_NAMESPACE_DIVISION}' AND ExecutionStatus = 'Running'`;
/** Every job of the namespace (ListBatchOperations). */
export const BATCH_LIST_QUERY = `TemporalNamespaceDivision = '${BATCH_NAMESPACE_DIVISION}'`;

const OperationType = temporal.api.enums.v1.BatchOperationType;
const OperationState = temporal.api.enums.v1.BatchOperationState;
const Status = temporal.api.enums.v1.WorkflowExecutionStatus;

/** The operations Hourglass runs, with the memo string and enum Temporal records for each. */
export type BatchOperationKind = 'terminate' | 'cancel' | 'signal' | 'delete' | 'reset';

const OPERATION_TYPES: Record<BatchOperationKind, number> = {
  terminate: OperationType.BATCH_OPERATION_TYPE_TERMINATE_WORKFLOW,
  cancel: OperationType.BATCH_OPERATION_TYPE_CANCEL_WORKFLOW,
  signal: OperationType.BATCH_OPERATION_TYPE_SIGNAL_WORKFLOW,
  delete: OperationType.BATCH_OPERATION_TYPE_DELETE_WORKFLOW,
  reset: OperationType.BATCH_OPERATION_TYPE_RESET_WORKFLOW,
};

/** The operation a request asks for; undefined when it names none Hourglass runs. */
export function operationOf(req: StartRequest): { kind: BatchOperationKind; identity: string } | undefined {
  if (req.terminationOperation) return { kind: 'terminate', identity: req.terminationOperation.identity ?? '' };
  if (req.cancellationOperation) return { kind: 'cancel', identity: req.cancellationOperation.identity ?? '' };
  if (req.signalOperation) return { kind: 'signal', identity: req.signalOperation.identity ?? '' };
  if (req.deletionOperation) return { kind: 'delete', identity: req.deletionOperation.identity ?? '' };
  if (req.resetOperation) return { kind: 'reset', identity: req.resetOperation.identity ?? '' };
  return undefined;
}

/** The operation type a job's memo names (Temporal's strings), UNSPECIFIED when unknown. */
export function operationTypeOfMemo(memo: temporal.api.common.v1.IMemo | null | undefined): number {
  const kind = stringOfPayload(memo?.fields?.[BATCH_MEMO.type]);
  return kind && kind in OPERATION_TYPES ? OPERATION_TYPES[kind as BatchOperationKind] : OperationType.BATCH_OPERATION_TYPE_UNSPECIFIED;
}

/** Temporal's mapping of the job run's status to the job's state. */
export function batchStateOf(status: number | null | undefined): number {
  if (status === Status.WORKFLOW_EXECUTION_STATUS_RUNNING) return OperationState.BATCH_OPERATION_STATE_RUNNING;
  if (status === Status.WORKFLOW_EXECUTION_STATUS_COMPLETED) return OperationState.BATCH_OPERATION_STATE_COMPLETED;
  return OperationState.BATCH_OPERATION_STATE_FAILED;
}

/** Where query-mode jobs find their targets and count the namespace's open jobs: the visibility search. */
export interface BatchTargetSource {
  list(
    namespace: { id: string; searchAttributes?: Record<string, string> },
    request: { query?: string | null; pageSize?: number | null; nextPageToken?: Uint8Array | null },
  ): Promise<{ executions: ExecutionInfo[]; nextPageToken: Uint8Array }>;
  count(namespace: { id: string; searchAttributes?: Record<string, string> }, query: string | null | undefined): Promise<{ count?: LongLike }>;
}

function batchStep(seq: number): BatchTask {
  return { type: 'batch-step', seq };
}

function stringPayload(value: string): temporal.api.common.v1.IPayload {
  return { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) };
}

function stringOfPayload(payload: temporal.api.common.v1.IPayload | null | undefined): string | undefined {
  if (!payload?.data) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(payload.data).toString('utf8'));
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

function keywordAttribute(value: string): temporal.api.common.v1.IPayload {
  return { metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from('Keyword') }, data: Buffer.from(JSON.stringify(value)) };
}

/** The rate a job runs at: the request's max_operations_per_second up to the namespace's setting. */
export function operationsPerSecondFor(env: EngineContext, namespace: NamespaceRecord, requested: number | null | undefined): number {
  const max = env.settings.get(HistorySettings.batchMaxOperationsPerSecond, { namespace: namespace.name });
  return requested && requested > 0 ? Math.min(requested, max) : max;
}

/**
 * StartBatchOperation, after the frontend validated the request: refuse a job over the namespace's
 * concurrent limit (RESOURCE_EXHAUSTED, as Temporal), check the query by counting its matches, and
 * start the job run with its first step due now.
 */
export async function startBatchOperation(env: EngineContext, namespace: NamespaceRecord, req: StartRequest, targets: BatchTargetSource | undefined): Promise<void> {
  const operation = operationOf(req);
  if (!operation) throw new InvalidArgumentError('StartBatchOperation: no operation given (terminationOperation, cancellationOperation, signalOperation, deletionOperation or resetOperation)');
  const query = req.visibilityQuery ?? '';
  if (!targets) throw new UnavailableError('batch operations need the visibility search, which this history host was not given');
  // A bad query fails here, INVALID_ARGUMENT, before anything is written.
  const totalEstimate = query ? toNumber((await targets.count(namespace, query)).count) : (req.executions ?? []).length;
  const limit = env.settings.get(HistorySettings.batchMaxConcurrent, { namespace: namespace.name });
  const open = toNumber((await targets.count(namespace, OPEN_BATCH_QUERY)).count);
  if (open >= limit) {
    throw new ResourceExhaustedError(`namespace ${quote(namespace.name)} already runs ${open} batch operation${open === 1 ? '' : 's'}, the most it may run at once (${HistorySettings.batchMaxConcurrent.key} = ${limit}); wait for one to finish or stop it`, {
      type: 'ResourceExhaustedFailure',
      cause: temporal.api.enums.v1.ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT,
      scope: temporal.api.enums.v1.ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE,
    });
  }
  const jobId = req.jobId ?? '';
  const identity = operation.identity;
  const memoFields: Record<string, temporal.api.common.v1.IPayload> = {
    [BATCH_MEMO.type]: stringPayload(operation.kind),
    [BATCH_MEMO.reason]: stringPayload(req.reason ?? ''),
  };
  if (query) memoFields[BATCH_MEMO.query] = stringPayload(query);
  const searchAttributes: Record<string, temporal.api.common.v1.IPayload> = { TemporalNamespaceDivision: keywordAttribute(BATCH_NAMESPACE_DIVISION) };
  if (identity) searchAttributes.BatcherUser = keywordAttribute(identity);
  const progress: BatchJobProgress = {
    seq: 1,
    pending: [],
    cursor: null,
    listIndex: 0,
    exhausted: false,
    totalEstimate,
    successCount: 0,
    failureCount: 0,
    operationsPerSecond: operationsPerSecondFor(env, namespace, req.maxOperationsPerSecond),
  };
  const request = Buffer.from(temporal.api.workflowservice.v1.StartBatchOperationRequest.encode(req).finish()).toString('base64');
  await env.shardFor(namespace.id, jobId).updateWorkflow(namespace.id, jobId, async (tx) => {
    const current = await tx.current();
    // Temporal starts the job with REJECT_DUPLICATE: a job id is used once.
    if (current) {
      throw new WorkflowExecutionAlreadyStartedError(`a batch operation or workflow with id ${quote(jobId)} already exists in namespace ${quote(namespace.name)}; choose another job id`, current.createRequestId, current.runId);
    }
    const runId = randomUUID();
    const run = newRun({
      namespaceId: namespace.id,
      workflowId: jobId,
      runId,
      firstExecutionRunId: runId,
      requestId: randomUUID(),
      identity,
      workflowTypeName: BATCH_WORKFLOW_TYPE,
      taskQueue: BATCH_TASK_QUEUE,
      memo: { fields: memoFields },
      searchAttributes: { indexedFields: searchAttributes },
      retryPolicy: null,
      cronSchedule: '',
      executionTimeoutMs: 0,
      runTimeoutMs: 0,
      workflowTaskTimeoutMs: 10_000,
      startDelayMs: 0,
      now: tx.now,
      withoutWorkflowTask: true,
    });
    run.ms.batchJob.set('request', { request });
    run.ms.batchJob.set('progress', progress);
    run.addTask(TaskCategories.batch, tx.now, batchStep(progress.seq));
    tx.startRun(run);
  });
}

interface JobView {
  request: StartRequest;
  progress: BatchJobProgress;
}

function jobOf(ms: MutableState): JobView | undefined {
  const request = ms.batchJob.get('request');
  const progress = ms.batchJob.get('progress');
  if (!request || !progress || !('request' in request) || !('seq' in progress)) return undefined;
  return { request: temporal.api.workflowservice.v1.StartBatchOperationRequest.decode(Buffer.from(request.request, 'base64')), progress };
}

function notABatch(jobId: string): NotFoundError {
  return new NotFoundError(`batch operation not found: job id ${quote(jobId)}`);
}

/** DescribeBatchOperation: the job run's state and the job's progress. */
export async function describeBatchOperation(env: EngineContext, namespace: NamespaceRecord, jobId: string): Promise<DescribeResponse> {
  const shard = env.shardFor(namespace.id, jobId);
  const current = await shard.getCurrentExecution(namespace.id, jobId);
  if (!current) throw notABatch(jobId);
  const described = await shard.readExecution({ namespaceId: namespace.id, workflowId: jobId, runId: current.runId }, (ms): DescribeResponse | undefined => {
    const job = jobOf(ms);
    if (!job) return undefined;
    const info = ms.executionInfo;
    const memo = memoBlob.unpack(ms.memo);
    const { progress, request } = job;
    const running = isRunning(ms);
    return {
      operationType: operationTypeOfMemo(memo),
      jobId,
      state: batchStateOf(info.status),
      startTime: msToTimestamp(info.startTime),
      ...(info.closeTime > 0 ? { closeTime: msToTimestamp(info.closeTime) } : {}),
      totalOperationCount: int64(running ? Math.max(progress.totalEstimate, progress.successCount + progress.failureCount) : progress.successCount + progress.failureCount),
      completeOperationCount: int64(progress.successCount),
      failureOperationCount: int64(progress.failureCount),
      identity: operationOf(request)?.identity ?? '',
      reason: request.reason ?? '',
      query: request.visibilityQuery ?? '',
      executions: (request.executions ?? []).map((e) => ({ type: temporal.api.enums.v1.ExecutionType.EXECUTION_TYPE_WORKFLOW, businessId: e.workflowId ?? '', runId: e.runId ?? '' })),
    };
  });
  if (!described) throw notABatch(jobId);
  return described;
}

/** StopBatchOperation: terminate the job run (its next step finds it closed and does nothing). */
export async function stopBatchOperation(env: EngineContext, namespace: NamespaceRecord, req: temporal.api.workflowservice.v1.IStopBatchOperationRequest): Promise<void> {
  const jobId = req.jobId ?? '';
  await env.shardFor(namespace.id, jobId).updateWorkflow(namespace.id, jobId, async (tx) => {
    const current = await tx.current();
    const ctx = current ? await tx.run(current.runId) : undefined;
    if (!ctx || !jobOf(ctx.ms)) throw notABatch(jobId);
    if (!isRunning(ctx.ms)) throw new NotFoundError(`batch operation ${quote(jobId)} already finished`);
    terminateWorkflow(ctx, { reason: req.reason ?? '', identity: req.identity ?? '', retentionMs: namespace.retentionMs });
  });
}

/** One step's size and spacing: `perStep` executions, then the next step `intervalMs` after this one began. */
function stepShape(operationsPerSecond: number): { perStep: number; intervalMs: number } {
  const perStep = Math.max(1, Math.round(operationsPerSecond));
  return { perStep, intervalMs: Math.ceil((perStep / operationsPerSecond) * 1000) };
}

/** Executions of one step acted on at once. */
const STEP_CONCURRENCY = 10;

/** Request ids derived from the job and the target, so a step run again is deduplicated by the target run. */
function derivedRequestId(jobId: string, ...parts: string[]): string {
  const hex = createHash('sha1').update([jobId, ...parts].join(':')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

type Outcome = 'success' | 'failure';

/** Where a reset batch resets each run: its first or last completed workflow task, or an explicit event id. */
type ResetPoint = 'first' | 'last' | number;
const ResetType = temporal.api.enums.v1.ResetType;
const WorkflowTaskCompleted = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED;

/** Temporal's batcher's reset points: the first (or last) WorkflowTaskCompleted of the run. */
async function resetEventId(env: EngineContext, key: ExecutionKey, point: 'first' | 'last'): Promise<number> {
  const shard = env.shardFor(key.namespaceId, key.workflowId);
  const nextEventId = await shard.readExecution(key, (ms) => ms.nextEventId);
  if (nextEventId === undefined) throw new NotFoundError(`workflow execution not found: workflowId ${quote(key.workflowId)}`);
  const completed = (await shard.readHistoryRange(key, 1, nextEventId)).filter((e) => e.eventType === WorkflowTaskCompleted);
  const event = point === 'first' ? completed[0] : completed[completed.length - 1];
  if (!event) throw new InvalidArgumentError(`workflow ${quote(key.workflowId)} has no completed workflow task to reset to`);
  return toNumber(event.eventId);
}

/**
 * A call to the owner of a target's shard: the request, in the job's namespace. `NoInfer`: the
 * request is checked against the method's own request type (a misspelt field is an error).
 */
function peerRequest<R>(namespace: NamespaceRecord, request: NoInfer<R>): { namespaceId: string; request: R } {
  return { namespaceId: namespace.id, request };
}

async function applyOperation(env: EngineContext, namespace: NamespaceRecord, jobId: string, req: StartRequest, target: { workflowId: string; runId: string }): Promise<Outcome> {
  const workflowExecution = { workflowId: target.workflowId, runId: target.runId };
  try {
    if (req.terminationOperation) {
      await env.peers.terminateWorkflowExecution(peerRequest(namespace, {
        workflowExecution,
        reason: req.reason ?? '',
        identity: req.terminationOperation.identity || BATCHER_IDENTITY,
        ...(req.terminationOperation.details ? { details: req.terminationOperation.details } : {}),
      }));
    } else if (req.cancellationOperation) {
      await env.peers.requestCancelWorkflowExecution(peerRequest(namespace, {
        workflowExecution,
        reason: req.reason ?? '',
        identity: req.cancellationOperation.identity || BATCHER_IDENTITY,
        requestId: derivedRequestId(jobId, 'cancel', target.workflowId, target.runId),
      }));
    } else if (req.signalOperation) {
      const signal = req.signalOperation;
      await env.peers.signalWorkflowExecution(peerRequest(namespace, {
        workflowExecution,
        signalName: signal.signal ?? '',
        ...(signal.input ? { input: signal.input } : {}),
        ...(signal.header ? { header: signal.header } : {}),
        identity: signal.identity || BATCHER_IDENTITY,
        requestId: derivedRequestId(jobId, 'signal', target.workflowId, target.runId, signal.signal ?? ''),
      }));
    } else if (req.deletionOperation) {
      await env.peers.deleteWorkflowExecution(peerRequest(namespace, { workflowExecution }));
    } else if (req.resetOperation) {
      const reset = req.resetOperation;
      const options = reset.options;
      const point: ResetPoint = options?.workflowTaskId && toNumber(options.workflowTaskId) > 0 ? toNumber(options.workflowTaskId) : options?.lastWorkflowTask || (!options?.firstWorkflowTask && reset.resetType === ResetType.RESET_TYPE_LAST_WORKFLOW_TASK) ? 'last' : 'first';
      const key = await resolveRun(env, namespace.id, target.workflowId, target.runId);
      await env.peers.resetWorkflowExecution(peerRequest(namespace, {
        workflowExecution: { workflowId: key.workflowId, runId: key.runId },
        reason: req.reason ?? '',
        workflowTaskFinishEventId: int64(typeof point === 'number' ? point : await resetEventId(env, key, point)),
        requestId: derivedRequestId(jobId, 'reset', key.workflowId, key.runId),
        resetReapplyType: options?.resetReapplyType || reset.resetReapplyType || 0,
        resetReapplyExcludeTypes: options?.resetReapplyExcludeTypes ?? [],
        identity: reset.identity || BATCHER_IDENTITY,
      }));
    }
    return 'success';
  } catch (err) {
    // As Temporal's batcher: NOT_FOUND means the run is closed or gone, which is what the step wanted.
    if (err instanceof NotFoundError) return 'success';
    // Transient (the store unavailable, the shard moving): the whole step is retried, on the same targets.
    if (isHourglassError(err) && err.kind === 'operational') throw err;
    // A user error (a signal over a limit, a run with no reset point) or a bug is this execution's
    // failure: one bad target must not hold the job up forever.
    if (!isHourglassError(err) || err.kind !== 'user') env.logger.error({ err, jobId, workflowId: target.workflowId, runId: target.runId }, 'batch operation failed on an execution');
    return 'failure';
  }
}

/**
 * The query a job pages through. Visibility's default order puts open runs before closed ones, so
 * a run the job just closed would come back on a later page; without an ORDER BY of the caller's,
 * the job orders by start time, which no operation changes.
 */
export function pagedQuery(query: string): string {
  return /\border\s+by\b/i.test(query) ? query : `${query} ORDER BY StartTime DESC`;
}

async function currentRunOf(env: EngineContext, namespace: NamespaceRecord, target: { workflowId: string; runId: string }): Promise<{ workflowId: string; runId: string }> {
  if (target.runId) return target;
  const current = await env.peers.currentExecution({ namespaceId: namespace.id, workflowId: target.workflowId });
  // Unknown workflows stay as given: the operation finds them gone (NOT_FOUND, done).
  return current ? { workflowId: target.workflowId, runId: current.runId } : target;
}

/** The next targets of a job, from its list or its query's next page. */
async function nextTargets(
  env: EngineContext,
  namespace: NamespaceRecord,
  jobId: string,
  job: JobView,
  perStep: number,
  targets: BatchTargetSource | undefined,
): Promise<Pick<BatchJobProgress, 'pending' | 'cursor' | 'listIndex' | 'exhausted'>> {
  const { request, progress } = job;
  if (!request.visibilityQuery) {
    const all = request.executions ?? [];
    const slice = all.slice(progress.listIndex, progress.listIndex + perStep);
    const listIndex = progress.listIndex + slice.length;
    let pending = slice.map((e) => ({ workflowId: e.workflowId ?? '', runId: e.runId ?? '' })).filter((t) => t.workflowId !== jobId);
    // A reset makes a new current run: the step must name the run it resets, so a re-run finds its own reset.
    if (request.resetOperation) pending = await Promise.all(pending.map((t) => currentRunOf(env, namespace, t)));
    return { pending, cursor: null, listIndex, exhausted: listIndex >= all.length };
  }
  if (!targets) throw new UnavailableError('batch operations need the visibility search, which this history host was not given');
  const page = await targets.list(namespace, {
    query: pagedQuery(request.visibilityQuery),
    pageSize: perStep,
    ...(progress.cursor ? { nextPageToken: Buffer.from(progress.cursor, 'base64') } : {}),
  });
  const cursor = page.nextPageToken.length > 0 ? Buffer.from(page.nextPageToken).toString('base64') : null;
  return {
    // A query that names TemporalNamespaceDivision may match batch job runs: never the job's own.
    pending: page.executions.map((e) => ({ workflowId: e.execution?.workflowId ?? '', runId: e.execution?.runId ?? '' })).filter((t) => t.workflowId !== jobId),
    cursor,
    listIndex: progress.listIndex,
    exhausted: cursor === null,
  };
}

/** Reads the job in a change of its run; undefined when the run closed or the step `seq` is stale. */
function liveJob(ctx: MutationContext | undefined, seq: number): JobView | undefined {
  if (!ctx || !isRunning(ctx.ms)) return undefined;
  const job = jobOf(ctx.ms);
  return job && job.progress.seq === seq ? job : undefined;
}

/** The executor of the `batch` task category: one step of a job per task. */
export function createBatchTaskExecutor(env: EngineContext, targets: BatchTargetSource | undefined) {
  return async function executeBatchTask(row: HistoryTaskRow): Promise<void> {
    const task = parseBatchTask(row);
    const key: ExecutionKey = { namespaceId: row.namespaceId, workflowId: row.workflowId, runId: row.runId };
    const shard = env.shardFor(key.namespaceId, key.workflowId);
    let job = await shard.readExecution(key, (ms) => (isRunning(ms) ? jobOf(ms) : undefined));
    if (!job || job.progress.seq !== task.seq) return;
    const namespace = await env.namespaces.getById(key.namespaceId);
    const stepStartedAt = env.clock.now();
    const { perStep, intervalMs } = stepShape(job.progress.operationsPerSecond);
    if (job.progress.pending.length === 0 && !job.progress.exhausted) {
      // Persist the step's targets before touching any: a re-run acts on (and counts) exactly these.
      const chosen = await nextTargets(env, namespace, key.workflowId, job, perStep, targets);
      const planned: BatchJobProgress = { ...job.progress, ...chosen };
      const committed = await shard.updateExecution(key, (ctx) => {
        if (!liveJob(ctx, task.seq) || !ctx) return false;
        ctx.ms.batchJob.set('progress', planned);
        return true;
      });
      if (!committed) return;
      job = { ...job, progress: planned };
    }
    let success = 0;
    let failure = 0;
    const pending = job.progress.pending;
    for (let i = 0; i < pending.length; i += STEP_CONCURRENCY) {
      const outcomes = await Promise.all(pending.slice(i, i + STEP_CONCURRENCY).map((target) => applyOperation(env, namespace, key.workflowId, job.request, target)));
      for (const outcome of outcomes) {
        if (outcome === 'success') success++;
        else failure++;
      }
    }
    const done = job.progress;
    await shard.updateExecution(key, (ctx) => {
      if (!ctx || !liveJob(ctx, task.seq)) return;
      const next: BatchJobProgress = { ...done, seq: done.seq + 1, pending: [], successCount: done.successCount + success, failureCount: done.failureCount + failure };
      ctx.ms.batchJob.set('progress', next);
      if (next.exhausted) {
        completeWorkflow(ctx, { result: null, workflowTaskCompletedEventId: 0 }, { retentionMs: namespace.retentionMs });
      } else {
        ctx.addTask(TaskCategories.batch, Math.max(ctx.now, stepStartedAt + intervalMs), batchStep(next.seq));
      }
    });
  };
}
