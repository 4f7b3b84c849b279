/**
 * StartWorkflowExecution: request-id idempotency, id conflict policy (running run) and id reuse
 * policy (closed run), then the new run — all under the workflow id's lock, committed in one
 * transaction (with the termination of the old run under TERMINATE_EXISTING).
 */
import { randomUUID } from 'node:crypto';
import {
  HistorySettings,
  InvalidArgumentError,
  Limits,
  MultiOperationExecutionError,
  WorkflowExecutionAlreadyStartedError,
  isHourglassError,
  WorkflowExecutionStatus,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  durationToMs,
  temporal,
} from '@hourglass/common';
import type { CurrentExecutionRecord, NamespaceRecord } from '@hourglass/persistence';
import type { CallOptions } from '@hourglass/contracts';
import type { EngineContext } from '../../engine-context';
import type { InlineWorkflowTask, MutationContext } from '../../workflow/mutation';
import { workflowTaskResponse } from '../record-workflow-task-started/record-workflow-task-started.handler';
import { admitUpdateOnce, waitForUpdateStage } from '../update-workflow/update-workflow.handler';
import { terminateWorkflow } from '../../workflow/close';
import { normalizeRetryPolicy } from '../../workflow/retry';
import { cronBackoffMs, validateCronSchedule } from '../../workflow/cron';
import type { ParentInfo } from '../../workflow/mutable-state';
import { addSignal } from '../../workflow/signals';
import { newRun } from '../../workflow/start';
import { checkSearchAttributes, namespaceCatalog } from '../../workflow/visibility';
import { requireRunning } from '../shared';
import { normalizeVersioningOverride } from '../../worker-deployments/worker-deployments';

type StartRequest = temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest;
type StartResponse = temporal.api.workflowservice.v1.IStartWorkflowExecutionResponse;

const FAILED_STATUSES: ReadonlySet<number> = new Set([
  WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED,
  WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED,
  WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED,
  WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
]);

export interface WorkflowTimeouts {
  executionTimeoutMs: number;
  runTimeoutMs: number;
  workflowTaskTimeoutMs: number;
}

/** Temporal's defaults: run timeout ≤ execution timeout; task timeout 10 s by default, at most 120 s and at most the run timeout. */
export function normalizeWorkflowTimeouts(
  req: Pick<StartRequest, 'workflowExecutionTimeout' | 'workflowRunTimeout' | 'workflowTaskTimeout'>,
  config: { defaultWorkflowTaskTimeoutMs: number; maxWorkflowTaskTimeoutMs: number },
): WorkflowTimeouts {
  const read = (d: StartRequest['workflowRunTimeout'], name: string): number => {
    const ms = durationToMs(d) ?? 0;
    if (ms < 0) throw new InvalidArgumentError(`${name} must not be negative`);
    return ms;
  };
  const executionTimeoutMs = read(req.workflowExecutionTimeout, 'workflowExecutionTimeout');
  let runTimeoutMs = read(req.workflowRunTimeout, 'workflowRunTimeout');
  if (executionTimeoutMs > 0 && (runTimeoutMs === 0 || runTimeoutMs > executionTimeoutMs)) runTimeoutMs = executionTimeoutMs;
  let workflowTaskTimeoutMs = read(req.workflowTaskTimeout, 'workflowTaskTimeout') || config.defaultWorkflowTaskTimeoutMs;
  workflowTaskTimeoutMs = Math.min(workflowTaskTimeoutMs, config.maxWorkflowTaskTimeoutMs);
  if (runTimeoutMs > 0) workflowTaskTimeoutMs = Math.min(workflowTaskTimeoutMs, runTimeoutMs);
  return { executionTimeoutMs, runTimeoutMs, workflowTaskTimeoutMs };
}

interface Policies {
  reuse: number;
  conflict: number;
}

function policiesOf(req: StartRequest): Policies {
  let reuse = req.workflowIdReusePolicy ?? WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED;
  let conflict = req.workflowIdConflictPolicy ?? WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED;
  if (reuse === WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING) {
    if (conflict !== WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED) {
      throw new InvalidArgumentError('workflowIdReusePolicy TERMINATE_IF_RUNNING cannot be combined with a workflowIdConflictPolicy');
    }
    reuse = WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE;
    conflict = WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING;
  }
  if (
    reuse === WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE &&
    conflict === WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
  ) {
    throw new InvalidArgumentError('workflowIdReusePolicy REJECT_DUPLICATE cannot be combined with workflowIdConflictPolicy TERMINATE_EXISTING');
  }
  if (reuse === WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED) reuse = WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE;
  if (conflict === WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED) conflict = WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL;
  return { reuse, conflict };
}

function alreadyStarted(current: CurrentExecutionRecord, running: boolean): WorkflowExecutionAlreadyStartedError {
  const what = running ? 'is already running' : 'already ran and the workflow id reuse policy does not allow another run';
  return new WorkflowExecutionAlreadyStartedError(
    `Workflow execution ${what}. WorkflowId: ${current.workflowId}, RunId: ${current.runId}.`,
    current.createRequestId,
    current.runId,
  );
}

/** What SignalWithStart adds to a start. */
export interface StartSignal {
  signalName: string;
  input?: temporal.api.common.v1.IPayloads | null;
  header?: temporal.api.common.v1.IHeader | null;
  requestId: string;
}

/**
 * StartWorkflowExecution. With `requestEagerExecution` (the SDK has a worker for the queue in the
 * same process, sharing the client's connection) and eager start on for the namespace, the new
 * run's first workflow task is started in the same commit and returned in `eagerWorkflowTask`
 * instead of going through matching, as Temporal does. Not for a delayed or cron start, nor when
 * the start found an existing run.
 */
export async function startWorkflowExecution(env: EngineContext, namespace: NamespaceRecord, req: StartRequest): Promise<StartResponse> {
  const eager = req.requestEagerExecution === true && env.settings.get(HistorySettings.enableEagerWorkflowStart, { namespace: namespace.name });
  let inline: InlineWorkflowTask | undefined;
  const response = await startOrSignal(env, namespace, req, {
    ...(eager
      ? {
          onNewRun: (run: MutationContext, requestId: string) => {
            inline = { requestId, identity: req.identity ?? '', suggestContinueAsNew: () => false };
            run.inlineWorkflowTask = inline;
          },
        }
      : {}),
  });
  const started = inline?.started;
  if (!started || !response.started || !response.runId) return response;
  const key = { namespaceId: namespace.id, workflowId: req.workflowId ?? '', runId: response.runId };
  return { ...response, eagerWorkflowTask: await workflowTaskResponse(env, namespace.name, key, started, 'normal') };
}

/**
 * Starts a child run for the parent's StartChildWorkflowExecutionInitiated event. The request id
 * is derived from the parent run and event, so a retried transfer task finds the run it created.
 */
export function startChildWorkflowExecution(
  env: EngineContext,
  namespace: NamespaceRecord,
  attrs: temporal.api.history.v1.IStartChildWorkflowExecutionInitiatedEventAttributes,
  parent: ParentInfo,
  root: { workflowId: string; runId: string },
  inheritedPinnedVersion?: { deploymentName: string; buildId: string },
): Promise<StartResponse> {
  return startOrSignal(
    env,
    namespace,
    {
      namespace: namespace.name,
      workflowId: attrs.workflowId ?? '',
      workflowType: attrs.workflowType ?? null,
      taskQueue: attrs.taskQueue ?? null,
      input: attrs.input ?? null,
      workflowExecutionTimeout: attrs.workflowExecutionTimeout ?? null,
      workflowRunTimeout: attrs.workflowRunTimeout ?? null,
      workflowTaskTimeout: attrs.workflowTaskTimeout ?? null,
      identity: `parent:${parent.workflowId}`,
      requestId: `child:${parent.runId}:${parent.initiatedEventId}`,
      workflowIdReusePolicy: attrs.workflowIdReusePolicy ?? 0,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
      retryPolicy: attrs.retryPolicy ?? null,
      cronSchedule: attrs.cronSchedule ?? '',
      memo: attrs.memo ?? null,
      searchAttributes: attrs.searchAttributes ?? null,
      header: attrs.header ?? null,
      priority: attrs.priority ?? null,
    },
    { parent, root, ...(inheritedPinnedVersion ? { inheritedPinnedVersion } : {}) },
  );
}

type SignalWithStartRequest = temporal.api.workflowservice.v1.ISignalWithStartWorkflowExecutionRequest;

/** SignalWithStartWorkflowExecution: signal the running run, or start one whose first events are Started, Signaled. */
export function signalWithStartWorkflowExecution(env: EngineContext, namespace: NamespaceRecord, req: SignalWithStartRequest): Promise<StartResponse> {
  if (req.workflowIdConflictPolicy === WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL) {
    throw new InvalidArgumentError('workflowIdConflictPolicy FAIL is not valid for SignalWithStartWorkflowExecution');
  }
  const conflict = req.workflowIdConflictPolicy || WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING;
  const requestId = req.requestId || randomUUID();
  return startOrSignal(env, namespace, { ...req, requestId, workflowIdConflictPolicy: conflict }, {
    signal: { signalName: req.signalName ?? '', input: req.signalInput ?? null, header: req.header ?? null, requestId },
  });
}

interface StartOptions {
  signal?: StartSignal;
  /** Update-with-start: the update admitted into the run started or used, in the same transaction. */
  update?: temporal.api.update.v1.IRequest;
  parent?: ParentInfo;
  root?: { workflowId: string; runId: string };
  /** A child of a PINNED parent: the version it starts pinned to. */
  inheritedPinnedVersion?: { deploymentName: string; buildId: string };
  /** Search attributes the server sets (a schedule's TemporalScheduledById...), added after the caller's are checked. */
  systemSearchAttributes?: Record<string, temporal.api.common.v1.IPayload>;
  /** Called with the run this start creates, before it is committed (not called when an existing run answers). */
  onNewRun?: (run: MutationContext, requestId: string) => void;
}

/**
 * A start by a schedule: the caller's search attributes are checked as a client's are, then the
 * system attributes Temporal sets on scheduled runs are added.
 */
export function startScheduledWorkflow(
  env: EngineContext,
  namespace: NamespaceRecord,
  req: StartRequest,
  systemSearchAttributes: Record<string, temporal.api.common.v1.IPayload>,
): Promise<StartResponse> {
  return startOrSignal(env, namespace, req, { systemSearchAttributes });
}

/** Admits the update-with-start's update; its refusal is the update operation's (position 2 of 2). */
function admitWithStart(env: EngineContext, namespace: NamespaceRecord, ctx: MutationContext, update: temporal.api.update.v1.IRequest): void {
  try {
    admitUpdateOnce(env, namespace, ctx, update);
  } catch (err) {
    if (isHourglassError(err)) throw new MultiOperationExecutionError(1, 2, err);
    throw err;
  }
}

type MultiOperationRequest = temporal.api.workflowservice.v1.IExecuteMultiOperationRequest;
type MultiOperationResponse = temporal.api.workflowservice.v1.IExecuteMultiOperationResponse;

/**
 * ExecuteMultiOperation as Temporal defines it, update-with-start: under the workflow id's lock,
 * start a run (or, by the id conflict policy, use or terminate the running one) and admit the
 * update into that run in the same transaction, so the run's first workflow task carries it. Then
 * wait, bounded, for the stage the update asked for. A start refused (FAIL on a running id) is the
 * start operation's error with the update aborted (MultiOperationExecutionFailure).
 */
export async function executeMultiOperation(env: EngineContext, namespace: NamespaceRecord, req: MultiOperationRequest, call: CallOptions): Promise<MultiOperationResponse> {
  const start = req.operations?.[0]?.startWorkflow ?? {};
  const update = req.operations?.[1]?.updateWorkflow ?? {};
  let started: StartResponse;
  try {
    started = await startOrSignal(env, namespace, { ...start, requestId: start.requestId || randomUUID() }, { update: update.request ?? {} });
  } catch (err) {
    if (isHourglassError(err) && !(err instanceof MultiOperationExecutionError)) throw new MultiOperationExecutionError(0, 2, err);
    throw err;
  }
  const key = { namespaceId: namespace.id, workflowId: start.workflowId ?? '', runId: started.runId ?? '' };
  const wanted = update.waitPolicy?.lifecycleStage || temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
  let updated: temporal.api.workflowservice.v1.IUpdateWorkflowExecutionResponse;
  try {
    updated = await waitForUpdateStage(env, namespace, key, update.request?.meta?.updateId ?? '', wanted, call);
  } catch (err) {
    if (isHourglassError(err)) throw new MultiOperationExecutionError(1, 2, err);
    throw err;
  }
  return { responses: [{ startWorkflow: started }, { updateWorkflow: updated }] };
}

async function startOrSignal(env: EngineContext, namespace: NamespaceRecord, req: StartRequest, options: StartOptions): Promise<StartResponse> {
  const { signal } = options;
  checkSearchAttributes(req.searchAttributes?.indexedFields, namespaceCatalog(namespace), 'searchAttributes');
  const versioningOverride = normalizeVersioningOverride(req.versioningOverride, 'versioningOverride');
  const workflowId = req.workflowId ?? '';
  const requestId = req.requestId || randomUUID();
  const cronSchedule = req.cronSchedule ? validateCronSchedule(req.cronSchedule) : '';
  const scope = { namespace: namespace.name };
  const timeouts = normalizeWorkflowTimeouts(req, {
    defaultWorkflowTaskTimeoutMs: env.settings.get(HistorySettings.defaultWorkflowTaskTimeout, scope),
    maxWorkflowTaskTimeoutMs: env.settings.get(HistorySettings.maxWorkflowTaskTimeout, scope),
  });
  const retryPolicy = req.retryPolicy ? normalizeRetryPolicy(req.retryPolicy, 'retryPolicy') : null;
  const startDelayMs = durationToMs(req.workflowStartDelay) ?? 0;
  if (startDelayMs < 0) throw new InvalidArgumentError('workflowStartDelay must not be negative');
  if (startDelayMs > 0 && cronSchedule) throw new InvalidArgumentError('workflowStartDelay cannot be combined with cronSchedule');
  const policies = policiesOf(req);
  const shard = env.shardFor(namespace.id, workflowId);

  return shard.updateWorkflow(namespace.id, workflowId, async (tx) => {
    const current = await tx.current();
    if (current) {
      if (current.createRequestId === requestId) {
        // The same start again (the SDK repeats update-with-start until the update is durable).
        if (options.update && current.running) admitWithStart(env, namespace, requireRunning(await tx.run(current.runId), current), options.update);
        return { runId: current.runId, started: true, status: current.status };
      }
      if (current.running) {
        switch (policies.conflict) {
          case WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING:
            if (signal) {
              const ctx = requireRunning(await tx.run(current.runId), current);
              if (ctx.ms.rememberRequestId(signal.requestId)) {
                addSignal(ctx, { ...signal, identity: req.identity ?? '' }, env.settings.get(Limits.maxSignalsPerExecution, scope));
              }
            }
            if (options.update) admitWithStart(env, namespace, requireRunning(await tx.run(current.runId), current), options.update);
            return { runId: current.runId, started: false, status: current.status };
          case WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING: {
            const ctx = await tx.run(current.runId);
            if (ctx) {
              terminateWorkflow(ctx, {
                reason: 'terminated by a new start (workflow id conflict policy TERMINATE_EXISTING)',
                identity: req.identity ?? '',
                retentionMs: namespace.retentionMs,
              });
            }
            break;
          }
          default:
            throw alreadyStarted(current, true);
        }
      } else {
        const allowed =
          policies.reuse === WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE ||
          (policies.reuse === WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY && FAILED_STATUSES.has(current.status));
        if (!allowed) throw alreadyStarted(current, false);
      }
    }
    const runId = randomUUID();
    const now = tx.now;
    const run = newRun({
      namespaceId: namespace.id,
      workflowId,
      runId,
      firstExecutionRunId: runId,
      requestId,
      identity: req.identity ?? '',
      workflowTypeName: req.workflowType?.name ?? '',
      taskQueue: req.taskQueue?.name ?? '',
      input: req.input ?? null,
      header: req.header ?? null,
      memo: req.memo ?? null,
      searchAttributes: options.systemSearchAttributes
        ? { indexedFields: { ...(req.searchAttributes?.indexedFields ?? {}), ...options.systemSearchAttributes } }
        : (req.searchAttributes ?? null),
      retryPolicy,
      cronSchedule,
      ...timeouts,
      startDelayMs: cronSchedule ? cronBackoffMs(cronSchedule, now) : startDelayMs,
      userMetadata: req.userMetadata ?? null,
      priority: req.priority ?? null,
      now,
      ...(signal ? { signal: { ...signal, identity: req.identity ?? '' } } : {}),
      ...(options.parent ? { parent: options.parent } : {}),
      ...(options.root ? { root: options.root } : {}),
      ...(options.inheritedPinnedVersion ? { inheritedPinnedVersion: options.inheritedPinnedVersion } : {}),
      ...(versioningOverride ? { versioningOverride } : {}),
    });
    if (options.update) admitWithStart(env, namespace, run, options.update);
    options.onNewRun?.(run, requestId);
    tx.startRun(run);
    return { runId, started: true, status: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING };
  });
}
