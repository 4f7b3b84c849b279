/**
 * Transfer tasks that reach another execution: starting a child, telling a parent its child
 * closed, parent close policies, and signals/cancellations sent to other workflows. Each first
 * acts on the target (idempotently: derived request ids) and then records the outcome in the
 * source through its own update, so a crash between the two only repeats harmless work.
 */
import { Limits, NamespaceNotFoundError, NotFoundError, UnavailableError, WorkflowExecutionAlreadyStartedError, temporal } from '@hourglass/common';
import type { ExecutionKey, NamespaceRecord } from '@hourglass/persistence';
import { updateNamedRun } from '../api/shared';
import { startChildWorkflowExecution } from '../api/start-workflow/start-workflow.handler';
import type { EngineContext } from '../engine-context';
import { childOutcomeOf, recordChildClosed, recordChildStartFailed, recordChildStarted } from '../workflow/children';
import { terminateWorkflow } from '../workflow/close';
import { recordExternalCancelOutcome, recordExternalSignalOutcome } from '../workflow/external';
import { effectivePinnedVersion, isChildStarted, isRunning } from '../workflow/mutable-state';
import type { MutationContext } from '../workflow/mutation';
import { addSignal, requestCancellation } from '../workflow/signals';

const StartChildFailedCause = temporal.api.enums.v1.StartChildWorkflowExecutionFailedCause;
const SignalFailedCause = temporal.api.enums.v1.SignalExternalWorkflowExecutionFailedCause;
const CancelFailedCause = temporal.api.enums.v1.CancelExternalWorkflowExecutionFailedCause;
const ParentClosePolicy = temporal.api.enums.v1.ParentClosePolicy;

async function namespaceByName(env: EngineContext, name: string): Promise<NamespaceRecord | undefined> {
  try {
    return await env.namespaces.getByName(name);
  } catch (err) {
    if (err instanceof NamespaceNotFoundError) return undefined;
    throw err;
  }
}

async function readEvent(env: EngineContext, key: ExecutionKey, eventId: number): Promise<temporal.api.history.v1.IHistoryEvent | undefined> {
  const [event] = await env.shardFor(key.namespaceId, key.workflowId).readHistory(key, eventId, eventId + 1, 1);
  return event;
}

export async function executeStartChild(env: EngineContext, key: ExecutionKey, initiatedEventId: number): Promise<void> {
  const pending = await env.shardFor(key.namespaceId, key.workflowId).readExecution(key, (ms) => {
    const child = ms.children.get(String(initiatedEventId));
    if (!isRunning(ms) || !child || isChildStarted(child)) return undefined;
    const pinned = effectivePinnedVersion(ms.executionInfo);
    return { child: { ...child }, root: { workflowId: ms.executionInfo.rootWorkflowId, runId: ms.executionInfo.rootRunId }, pinned };
  });
  if (!pending) return;
  const { child, root, pinned } = pending;
  const attrs = (await readEvent(env, key, initiatedEventId))?.startChildWorkflowExecutionInitiatedEventAttributes;
  if (!attrs) return;
  const parentNamespace = await env.namespaces.getById(key.namespaceId);
  const childNamespace = await namespaceByName(env, child.namespaceName);
  let outcome: { started: true; namespaceId: string; runId: string } | { started: false; cause: number };
  if (!childNamespace) {
    outcome = { started: false, cause: StartChildFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_NAMESPACE_NOT_FOUND };
  } else {
    try {
      // A child of a PINNED parent starts pinned to the parent's version when its queue is in that version (Temporal's inheritance).
      const inherits =
        pinned !== undefined &&
        childNamespace.id === key.namespaceId &&
        (await env.deployments.versionHasQueue(key.namespaceId, pinned, { name: attrs.taskQueue?.name ?? '', type: 'workflow' }));
      const res = await startChildWorkflowExecution(
        env,
        childNamespace,
        attrs,
        { namespaceId: key.namespaceId, namespaceName: parentNamespace.name, workflowId: key.workflowId, runId: key.runId, initiatedEventId },
        root,
        inherits ? pinned : undefined,
      );
      outcome = { started: true, namespaceId: childNamespace.id, runId: res.runId as string };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      outcome = { started: false, cause: StartChildFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS };
    }
  }
  await env.shardFor(key.namespaceId, key.workflowId).updateExecution(key, (ctx) => {
    if (!ctx || !isRunning(ctx.ms)) return;
    const stillPending = ctx.ms.children.get(String(initiatedEventId));
    if (!stillPending || isChildStarted(stillPending)) return;
    if (outcome.started) recordChildStarted(ctx, stillPending, { namespaceId: outcome.namespaceId, runId: outcome.runId, header: attrs.header ?? null });
    else recordChildStartFailed(ctx, stillPending, outcome.cause, attrs.control ?? '');
  });
}

/** A child's chain closed: record it in the parent (once the parent has recorded the child's start). */
export async function executeCloseExecution(env: EngineContext, key: ExecutionKey): Promise<void> {
  const closed = await env.shardFor(key.namespaceId, key.workflowId).readExecution(key, (ms) =>
    ms.executionInfo.parent && !isRunning(ms) ? { parent: { ...ms.executionInfo.parent }, lastEventId: ms.nextEventId - 1 } : undefined,
  );
  if (!closed) return;
  const { parent } = closed;
  const closeEvent = await readEvent(env, key, closed.lastEventId);
  const outcome = closeEvent ? childOutcomeOf(closeEvent) : undefined;
  if (!outcome) return;
  const parentKey = { namespaceId: parent.namespaceId, workflowId: parent.workflowId, runId: parent.runId };
  await env.shardFor(parentKey.namespaceId, parentKey.workflowId).updateExecution(parentKey, (ctx) => {
    if (!ctx || !isRunning(ctx.ms)) return;
    const child = ctx.ms.children.get(String(parent.initiatedEventId));
    if (!child || child.workflowId !== key.workflowId) return;
    // The child can finish before the parent recorded its start; retry until it has.
    if (!isChildStarted(child)) throw new UnavailableError(`child ${key.workflowId} closed before its parent recorded its start; retrying`);
    recordChildClosed(ctx, child, key.runId, outcome);
  });
}

export async function executeParentClosePolicy(
  env: EngineContext,
  parentKey: ExecutionKey,
  children: { namespaceId: string; workflowId: string; runId: string; policy: number }[],
): Promise<void> {
  for (const child of children) {
    const namespace = await env.namespaces.getById(child.namespaceId);
    await updateNamedRun(env, child.namespaceId, child.workflowId, '', (ctx) => {
      if (!ctx || !isRunning(ctx.ms)) return;
      // Only the chain this parent started (not a later, unrelated run with the same id).
      const parent = ctx.ms.executionInfo.parent;
      if (ctx.ms.executionInfo.firstExecutionRunId !== child.runId && parent?.runId !== parentKey.runId) return;
      if (child.policy === ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE) {
        terminateWorkflow(ctx, { reason: 'terminated by parent close policy', identity: `parent:${parentKey.workflowId}`, retentionMs: namespace.retentionMs });
      } else if (child.policy === ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL) {
        requestCancellation(ctx, { reason: 'requested by parent close policy', identity: `parent:${parentKey.workflowId}` });
      }
    }).catch((err: unknown) => {
      // The child's workflow id is gone (deleted after retention): nothing to apply the policy to.
      if (!(err instanceof NotFoundError)) throw err;
    });
  }
}

/** Applies `apply` to the target run; false when the target (namespace, run) does not exist or is closed. */
async function deliverToTarget(
  env: EngineContext,
  source: ExecutionKey,
  target: { namespaceName: string; workflowId: string; runId: string; childWorkflowOnly: boolean },
  apply: (ctx: MutationContext, namespace: NamespaceRecord) => void,
): Promise<boolean> {
  const namespace = await namespaceByName(env, target.namespaceName);
  if (!namespace) return false;
  try {
    await updateNamedRun(env, namespace.id, target.workflowId, target.runId, (ctx) => {
      if (!ctx || !isRunning(ctx.ms)) throw new NotFoundError('target workflow execution is not running');
      if (target.childWorkflowOnly && ctx.ms.executionInfo.parent?.workflowId !== source.workflowId) {
        throw new NotFoundError('target is not a child of the requesting workflow');
      }
      apply(ctx, namespace);
    });
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

/** The pending request (a copy) of a running source run, or undefined. */
function pendingRequest(env: EngineContext, key: ExecutionKey, kind: 'externalSignals' | 'externalCancels', initiatedEventId: number) {
  return env.shardFor(key.namespaceId, key.workflowId).readExecution(key, (ms) => {
    const request = ms[kind].get(String(initiatedEventId));
    return isRunning(ms) && request ? { ...request } : undefined;
  });
}

export async function executeSignalExternal(env: EngineContext, key: ExecutionKey, initiatedEventId: number): Promise<void> {
  const request = await pendingRequest(env, key, 'externalSignals', initiatedEventId);
  if (!request) return;
  const attrs = (await readEvent(env, key, initiatedEventId))?.signalExternalWorkflowExecutionInitiatedEventAttributes;
  if (!attrs) return;
  const delivered = await deliverToTarget(env, key, request, (ctx, namespace) => {
    if (!ctx.ms.rememberRequestId(`signal:${key.runId}:${initiatedEventId}`)) return;
    addSignal(
      ctx,
      {
        signalName: attrs.signalName ?? '',
        input: attrs.input ?? null,
        header: attrs.header ?? null,
        identity: `workflow:${key.workflowId}`,
        externalWorkflowExecution: { workflowId: key.workflowId, runId: key.runId },
      },
      env.settings.get(Limits.maxSignalsPerExecution, { namespace: namespace.name }),
    );
  });
  await env.shardFor(key.namespaceId, key.workflowId).updateExecution(key, (ctx) => {
    if (!ctx || !isRunning(ctx.ms)) return;
    const pending = ctx.ms.externalSignals.get(String(initiatedEventId));
    if (!pending) return;
    recordExternalSignalOutcome(ctx, pending, delivered, SignalFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  });
}

export async function executeCancelExternal(env: EngineContext, key: ExecutionKey, initiatedEventId: number): Promise<void> {
  const request = await pendingRequest(env, key, 'externalCancels', initiatedEventId);
  if (!request) return;
  const attrs = (await readEvent(env, key, initiatedEventId))?.requestCancelExternalWorkflowExecutionInitiatedEventAttributes;
  const delivered = await deliverToTarget(env, key, request, (ctx) => {
    requestCancellation(ctx, {
      reason: attrs?.reason ?? '',
      identity: `workflow:${key.workflowId}`,
      externalInitiatedEventId: initiatedEventId,
      externalWorkflowExecution: { workflowId: key.workflowId, runId: key.runId },
    });
  });
  await env.shardFor(key.namespaceId, key.workflowId).updateExecution(key, (ctx) => {
    if (!ctx || !isRunning(ctx.ms)) return;
    const pending = ctx.ms.externalCancels.get(String(initiatedEventId));
    if (!pending) return;
    recordExternalCancelOutcome(ctx, pending, delivered, CancelFailedCause.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  });
}
