/**
 * Transfer tasks that reach another execution: starting a child, telling a parent its child
 * closed, parent close policies, and signals/cancellations sent to other workflows. Each first
 * acts on the target (idempotently: derived request ids) and then records the outcome in the
 * source through its own update, so a crash between the two only repeats harmless work. The target
 * side (api/cross-execution) is reached through `env.peers`: this engine itself in one process,
 * the owner of the target's shard in a cluster.
 */
import { NamespaceNotFoundError, temporal } from '@hourglass/common';
import type { CrossExecutionTarget } from '@hourglass/contracts';
import type { ExecutionKey, NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../engine-context';
import { childOutcomeOf, recordChildStartFailed, recordChildStarted } from '../workflow/children';
import { recordExternalCancelOutcome, recordExternalSignalOutcome } from '../workflow/external';
import { effectivePinnedVersion, isChildStarted, isRunning } from '../workflow/mutable-state';

const StartChildFailedCause = temporal.api.enums.v1.StartChildWorkflowExecutionFailedCause;
const SignalFailedCause = temporal.api.enums.v1.SignalExternalWorkflowExecutionFailedCause;
const CancelFailedCause = temporal.api.enums.v1.CancelExternalWorkflowExecutionFailedCause;

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
    const res = await env.peers.startChildExecution({
      namespaceId: childNamespace.id,
      workflowId: attrs.workflowId ?? '',
      attributes: attrs,
      parent: { namespaceId: key.namespaceId, namespaceName: parentNamespace.name, workflowId: key.workflowId, runId: key.runId, initiatedEventId },
      root,
      ...(pinned ? { parentPinnedVersion: pinned } : {}),
    });
    outcome =
      'runId' in res
        ? { started: true, namespaceId: childNamespace.id, runId: res.runId }
        : { started: false, cause: StartChildFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS };
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
  await env.peers.recordChildExecutionClosed({
    namespaceId: parent.namespaceId,
    workflowId: parent.workflowId,
    runId: parent.runId,
    initiatedEventId: parent.initiatedEventId,
    child: { workflowId: key.workflowId, runId: key.runId },
    outcome,
  });
}

export async function executeParentClosePolicy(
  env: EngineContext,
  parentKey: ExecutionKey,
  children: { namespaceId: string; workflowId: string; runId: string; policy: number }[],
): Promise<void> {
  for (const child of children) {
    await env.peers.applyParentClosePolicy({
      namespaceId: child.namespaceId,
      workflowId: child.workflowId,
      firstRunId: child.runId,
      parent: { workflowId: parentKey.workflowId, runId: parentKey.runId },
      policy: child.policy,
    });
  }
}

/** The pending request (a copy) of a running source run, or undefined. */
function pendingRequest(env: EngineContext, key: ExecutionKey, kind: 'externalSignals' | 'externalCancels', initiatedEventId: number) {
  return env.shardFor(key.namespaceId, key.workflowId).readExecution(key, (ms) => {
    const request = ms[kind].get(String(initiatedEventId));
    return isRunning(ms) && request ? { ...request } : undefined;
  });
}

/** The target of a pending external request, by namespace id; undefined when its namespace does not exist. */
async function targetOf(env: EngineContext, request: { namespaceName: string; workflowId: string; runId: string; childWorkflowOnly: boolean }): Promise<CrossExecutionTarget | undefined> {
  const namespace = await namespaceByName(env, request.namespaceName);
  return namespace ? { namespaceId: namespace.id, workflowId: request.workflowId, runId: request.runId, childWorkflowOnly: request.childWorkflowOnly } : undefined;
}

export async function executeSignalExternal(env: EngineContext, key: ExecutionKey, initiatedEventId: number): Promise<void> {
  const request = await pendingRequest(env, key, 'externalSignals', initiatedEventId);
  if (!request) return;
  const attrs = (await readEvent(env, key, initiatedEventId))?.signalExternalWorkflowExecutionInitiatedEventAttributes;
  if (!attrs) return;
  const target = await targetOf(env, request);
  const delivered =
    target !== undefined &&
    (await env.peers.deliverExternalSignal({
      ...target,
      source: { workflowId: key.workflowId, runId: key.runId },
      initiatedEventId,
      signal: { signalName: attrs.signalName ?? '', input: attrs.input ?? null, header: attrs.header ?? null },
    }));
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
  const target = await targetOf(env, request);
  const delivered =
    target !== undefined &&
    (await env.peers.deliverExternalCancel({ ...target, source: { workflowId: key.workflowId, runId: key.runId }, initiatedEventId, reason: attrs?.reason ?? '' }));
  await env.shardFor(key.namespaceId, key.workflowId).updateExecution(key, (ctx) => {
    if (!ctx || !isRunning(ctx.ms)) return;
    const pending = ctx.ms.externalCancels.get(String(initiatedEventId));
    if (!pending) return;
    recordExternalCancelOutcome(ctx, pending, delivered, CancelFailedCause.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  });
}
