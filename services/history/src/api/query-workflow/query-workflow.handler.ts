/**
 * QueryWorkflow. While the run has a workflow task pending (or none completed yet) the query is
 * consistent: it rides on the next workflow task and is answered in its completion. Otherwise, and
 * for closed runs, it goes as a legacy query task to the sticky worker (partial history) or the
 * normal queue (full history, the worker replays). Queries change nothing in history; an answered
 * one is billed by a usage commit of its own.
 */
import { randomUUID } from 'node:crypto';
import {
  DeadlineExceededError,
  FailedPreconditionError,
  HistorySettings,
  StickyWorkerUnavailableError,
  InvalidArgumentError,
  TaskQueueKind,
  WorkflowExecutionStatus,
  int64,
  temporal,
  quote,
} from '@hourglass/common';
import type { ExecutionKey, NamespaceRecord } from '@hourglass/persistence';
import type { CallOptions } from '@hourglass/contracts';
import type { EngineContext } from '../../engine-context';
import type { QueryOutcome } from '../../query-registry';
import { encodeTaskToken, type BuildQueryTaskRequest, type QueryTask } from '@hourglass/contracts';
import { isRunning, type MutableState } from '../../workflow/mutable-state';
import { HISTORY_PAGE_BYTES, encodePageToken } from '../history-page';
import { executionNotFound, resolveRun } from '../shared';

type Request = temporal.api.workflowservice.v1.IQueryWorkflowRequest;
type Response = temporal.api.workflowservice.v1.IQueryWorkflowResponse;
type WorkflowQuery = temporal.api.query.v1.IWorkflowQuery;

const QueryRejectCondition = temporal.api.enums.v1.QueryRejectCondition;
const QueryResultType = temporal.api.enums.v1.QueryResultType;

/** What queries need to know of a run, read under its lock. */
interface QueryView {
  running: boolean;
  status: number;
  backoffPending: boolean;
  /** A workflow task is pending (or none completed yet): a query rides on the next one. */
  consistent: boolean;
  lastCompletedWorkflowTaskStartedEventId: number;
  taskQueue: string;
  stickyQueue: string | undefined;
}

function queryView(ms: MutableState): QueryView {
  const running = isRunning(ms);
  return {
    running,
    status: ms.executionInfo.status,
    backoffPending: ms.backoffPending,
    consistent: running && (ms.workflowTask !== null || ms.lastCompletedWorkflowTaskStartedEventId === 0),
    lastCompletedWorkflowTaskStartedEventId: ms.lastCompletedWorkflowTaskStartedEventId,
    taskQueue: ms.executionInfo.taskQueue,
    stickyQueue: running ? ms.sticky?.queueName : undefined,
  };
}

export async function queryWorkflow(env: EngineContext, namespace: NamespaceRecord, req: Request, call: CallOptions): Promise<Response> {
  const key = await resolveRun(env, namespace.id, req.execution?.workflowId ?? '', req.execution?.runId);
  const view = await env.shardFor(key.namespaceId, key.workflowId).readExecution(key, queryView);
  if (!view) throw executionNotFound(key.workflowId, key.runId);
  const { running, status } = view;
  if (!running) {
    const condition = req.queryRejectCondition ?? QueryRejectCondition.QUERY_REJECT_CONDITION_NONE;
    if (
      condition === QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN ||
      (condition === QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY && status !== WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED)
    ) {
      return { queryRejected: { status } };
    }
    if (view.lastCompletedWorkflowTaskStartedEventId === 0) {
      throw new FailedPreconditionError('the workflow closed before its first workflow task completed, so no worker can answer queries for it');
    }
  } else if (view.backoffPending) {
    throw new FailedPreconditionError('the workflow has not started yet (its first workflow task is delayed); query it once it runs');
  }
  const timeoutMs = queryTimeout(env, namespace, call);
  const outcome = view.consistent
    ? await consistentQuery(env, key, req.query ?? {}, timeoutMs, view.taskQueue, call.signal)
    : await queryTask(env, key, req.query ?? {}, view, timeoutMs, call.signal);
  // A worker answered (a result or a query failure): one billable query, made durable by a usage
  // commit of its own before the caller gets the answer (queries write no history).
  await env.shardFor(key.namespaceId, key.workflowId).commitUsage(key, new Map([['query', 1]]));
  return answerOf(outcome);
}

function queryTimeout(env: EngineContext, namespace: NamespaceRecord, call: CallOptions): number {
  const cap = env.settings.get(HistorySettings.queryTimeout, { namespace: namespace.name });
  return call.deadline ? Math.max(0, Math.min(cap, call.deadline - Date.now() - 500)) : cap;
}

function answerOf(outcome: QueryOutcome): Response {
  if (outcome.resultType === QueryResultType.QUERY_RESULT_TYPE_ANSWERED) return { queryResult: outcome.answer ?? { payloads: [] } };
  const message = outcome.errorMessage || outcome.failure?.message || 'query failed';
  throw new InvalidArgumentError(message, { type: 'QueryFailedFailure', failure: outcome.failure ?? undefined });
}

function noAnswer(timeoutMs: number, taskQueue: string): DeadlineExceededError {
  return new DeadlineExceededError(`no worker answered the query within ${Math.round(timeoutMs / 1000)}s: is a worker polling task queue ${quote(taskQueue)}?`);
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, signal: AbortSignal | undefined, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), Math.max(0, timeoutMs));
        onAbort = () => reject(onTimeout());
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

async function consistentQuery(env: EngineContext, key: ExecutionKey, query: WorkflowQuery, timeoutMs: number, taskQueue: string, signal?: AbortSignal): Promise<QueryOutcome> {
  const buffered = env.queries.buffer(key, query);
  // The task may have completed while we registered: then nothing will carry this query.
  await dispatchWaitingQueries(env, key);
  try {
    return await withTimeout(buffered.outcome, timeoutMs, signal, () => noAnswer(timeoutMs, taskQueue));
  } finally {
    buffered.cancel();
  }
}

/**
 * Queries still waiting for a workflow task when the run has none pending go out as query tasks.
 * Called after every workflow task completion and after registering a consistent query.
 */
export async function dispatchWaitingQueries(env: EngineContext, key: ExecutionKey): Promise<void> {
  if (!env.queries.hasWaiting(key)) return;
  const view = await env.shardFor(key.namespaceId, key.workflowId).readExecution(key, queryView);
  if (!view || view.consistent) return;
  const namespace = await env.namespaces.getById(key.namespaceId);
  const timeoutMs = env.settings.get(HistorySettings.queryTimeout, { namespace: namespace.name });
  for (const waiting of env.queries.takeWaiting(key)) {
    queryTask(env, key, waiting.query, view, timeoutMs).then(waiting.resolve, waiting.reject);
  }
}

async function queryTask(env: EngineContext, key: ExecutionKey, query: WorkflowQuery, view: QueryView, timeoutMs: number, signal?: AbortSignal): Promise<QueryOutcome> {
  const queryId = randomUUID();
  const waiter = env.queries.awaitQueryTask(queryId);
  try {
    const started = Date.now();
    const taken = await dispatchQueryTask(env, key, view, { workflowId: key.workflowId, runId: key.runId, queryId, query }, timeoutMs, signal);
    if (!taken) throw noAnswer(timeoutMs, view.taskQueue);
    return await withTimeout(waiter.outcome, timeoutMs - (Date.now() - started), signal, () => noAnswer(timeoutMs, view.taskQueue));
  } finally {
    waiter.cancel();
  }
}

/**
 * A query task goes to the sticky worker that has the run cached, if any; when that worker is gone
 * (matching says so at once) or does not take the task within the sticky query timeout, the run's
 * stickiness is cleared and the task goes to the normal queue, as Temporal does.
 */
async function dispatchQueryTask(env: EngineContext, key: ExecutionKey, view: QueryView, task: QueryTask, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const call = { deadline: 0, ...(signal ? { signal } : {}) };
  const normal = { namespaceId: key.namespaceId, taskQueueName: view.taskQueue, kind: 'normal' as const, task };
  const stickyQueue = view.stickyQueue;
  const started = Date.now();
  if (stickyQueue) {
    const namespace = await env.namespaces.getById(key.namespaceId);
    const stickyTimeoutMs = Math.min(timeoutMs, env.settings.get(HistorySettings.stickyQueryTimeout, { namespace: namespace.name }));
    try {
      if (await env.matching.dispatchQueryTask({ ...normal, taskQueueName: stickyQueue, kind: 'sticky', timeoutMs: stickyTimeoutMs }, call)) return true;
    } catch (err) {
      if (!(err instanceof StickyWorkerUnavailableError)) throw err;
    }
    if (signal?.aborted) return false;
    await clearStickiness(env, key, stickyQueue);
  }
  return env.matching.dispatchQueryTask({ ...normal, timeoutMs: Math.max(0, timeoutMs - (Date.now() - started)) }, call);
}

/** The sticky worker is gone: the run's next workflow task goes to its normal queue too. */
async function clearStickiness(env: EngineContext, key: ExecutionKey, queueName: string): Promise<void> {
  await env.shardFor(key.namespaceId, key.workflowId).updateExecution(key, (ctx) => {
    if (ctx && ctx.ms.sticky?.queueName === queueName) ctx.ms.sticky = null;
  });
}

/** The poll response of a legacy query task, built when a poller takes it: history up to now, no WorkflowTaskStarted, `query` set. */
export async function buildQueryTask(env: EngineContext, request: BuildQueryTaskRequest): Promise<temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse> {
  const key = { namespaceId: request.namespaceId, workflowId: request.workflowId, runId: request.runId };
  const shard = env.shardFor(key.namespaceId, key.workflowId);
  const run = await shard.readExecution(key, (ms) => ({
    previous: ms.lastCompletedWorkflowTaskStartedEventId,
    nextEventId: ms.nextEventId,
    workflowTypeName: ms.executionInfo.workflowTypeName,
    taskQueue: ms.executionInfo.taskQueue,
  }));
  if (!run) throw executionNotFound(key.workflowId, key.runId);
  // A sticky worker answers from its cache (it fetches the history itself after an eviction); others get the first page.
  const page =
    request.pollKind === 'sticky'
      ? { events: [], nextEventId: run.nextEventId }
      : await shard.readHistoryPage(key, 1, run.nextEventId, env.settings.get(HistorySettings.historyPageSize), HISTORY_PAGE_BYTES);
  return {
    taskToken: encodeTaskToken({ kind: 'query', ...key, queryId: request.queryId }),
    workflowExecution: { workflowId: key.workflowId, runId: key.runId },
    workflowType: { name: run.workflowTypeName },
    workflowExecutionTaskQueue: { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    previousStartedEventId: int64(run.previous),
    startedEventId: int64(0),
    attempt: 1,
    history: { events: page.events },
    ...(page.nextEventId < run.nextEventId ? { nextPageToken: encodePageToken({ runId: key.runId, nextEventId: page.nextEventId }) } : {}),
    query: request.query,
  };
}

/** RespondQueryTaskCompleted: hand the worker's answer to the waiting QueryWorkflow call. */
export function respondQueryTaskCompleted(env: EngineContext, queryId: string, req: temporal.api.workflowservice.v1.IRespondQueryTaskCompletedRequest): void {
  const answered = req.completedType === QueryResultType.QUERY_RESULT_TYPE_ANSWERED;
  env.queries.completeQueryTask(queryId, {
    resultType: req.completedType ?? QueryResultType.QUERY_RESULT_TYPE_FAILED,
    ...(answered ? { answer: req.queryResult ?? null } : { errorMessage: req.errorMessage ?? '', failure: req.failure ?? null }),
  });
}
