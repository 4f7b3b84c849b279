/**
 * The target side of transfer tasks that reach another execution (queues/cross-execution.ts is the
 * source side): starting a child, recording a child's close in its parent, a parent close policy,
 * and signals and cancellations sent by other workflows. Served by the host that owns the target's
 * shard: in one process the source calls them directly, in a cluster over internal gRPC.
 */
import { Limits, NotFoundError, UnavailableError, WorkflowExecutionAlreadyStartedError, temporal } from '@hourglass/common';
import type { CrossExecutionService } from '@hourglass/contracts';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import { isChildStarted, isRunning } from '../../workflow/mutable-state';
import type { MutationContext } from '../../workflow/mutation';
import { recordChildClosed } from '../../workflow/children';
import { terminateWorkflow } from '../../workflow/close';
import { addSignal, requestCancellation } from '../../workflow/signals';
import { updateNamedRun } from '../shared';
import { startChildWorkflowExecution } from '../start-workflow/start-workflow.handler';

const ParentClosePolicy = temporal.api.enums.v1.ParentClosePolicy;

type Req<K extends keyof CrossExecutionService> = Parameters<CrossExecutionService[K]>[0];

export async function startChildExecution(env: EngineContext, r: Req<'startChildExecution'>): ReturnType<CrossExecutionService['startChildExecution']> {
  const namespace = await env.namespaces.getById(r.namespaceId);
  const pinned = r.parentPinnedVersion;
  // A child of a PINNED parent starts pinned to the parent's version when its queue is in that version (Temporal's inheritance).
  const inherits =
    pinned !== undefined &&
    r.namespaceId === r.parent.namespaceId &&
    (await env.deployments.versionHasQueue(r.namespaceId, pinned, { name: r.attributes.taskQueue?.name ?? '', type: 'workflow' }));
  try {
    const res = await startChildWorkflowExecution(env, namespace, r.attributes, r.parent, r.root, inherits ? pinned : undefined);
    return { runId: res.runId ?? '' };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { alreadyStarted: true };
    throw err;
  }
}

export async function recordChildExecutionClosed(env: EngineContext, r: Req<'recordChildExecutionClosed'>): Promise<void> {
  const parentKey = { namespaceId: r.namespaceId, workflowId: r.workflowId, runId: r.runId };
  await env.shardFor(parentKey.namespaceId, parentKey.workflowId).updateExecution(parentKey, (ctx) => {
    if (!ctx || !isRunning(ctx.ms)) return;
    const child = ctx.ms.children.get(String(r.initiatedEventId));
    if (!child || child.workflowId !== r.child.workflowId) return;
    // The child can finish before the parent recorded its start; retry until it has.
    if (!isChildStarted(child)) throw new UnavailableError(`child ${r.child.workflowId} closed before its parent recorded its start; retrying`);
    recordChildClosed(ctx, child, r.child.runId, r.outcome);
  });
}

export async function applyParentClosePolicy(env: EngineContext, r: Req<'applyParentClosePolicy'>): Promise<void> {
  const namespace = await env.namespaces.getById(r.namespaceId);
  await updateNamedRun(env, r.namespaceId, r.workflowId, '', (ctx) => {
    if (!ctx || !isRunning(ctx.ms)) return;
    // Only the chain this parent started (not a later, unrelated run with the same id).
    const parent = ctx.ms.executionInfo.parent;
    if (ctx.ms.executionInfo.firstExecutionRunId !== r.firstRunId && parent?.runId !== r.parent.runId) return;
    if (r.policy === ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE) {
      terminateWorkflow(ctx, { reason: 'terminated by parent close policy', identity: `parent:${r.parent.workflowId}`, retentionMs: namespace.retentionMs });
    } else if (r.policy === ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL) {
      requestCancellation(ctx, { reason: 'requested by parent close policy', identity: `parent:${r.parent.workflowId}` });
    }
  }).catch((err: unknown) => {
    // The child's workflow id is gone (deleted after retention): nothing to apply the policy to.
    if (!(err instanceof NotFoundError)) throw err;
  });
}

/** Applies `apply` to the target run; false when the target (namespace, run) does not exist, is closed, or is not the source's child when that was asked. */
async function deliverToTarget(env: EngineContext, r: Req<'deliverExternalSignal'> | Req<'deliverExternalCancel'>, apply: (ctx: MutationContext, namespace: NamespaceRecord) => void): Promise<boolean> {
  let namespace: NamespaceRecord;
  try {
    namespace = await env.namespaces.getById(r.namespaceId);
    await updateNamedRun(env, r.namespaceId, r.workflowId, r.runId, (ctx) => {
      if (!ctx || !isRunning(ctx.ms)) throw new NotFoundError('target workflow execution is not running');
      if (r.childWorkflowOnly && ctx.ms.executionInfo.parent?.workflowId !== r.source.workflowId) {
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

export function deliverExternalSignal(env: EngineContext, r: Req<'deliverExternalSignal'>): Promise<boolean> {
  return deliverToTarget(env, r, (ctx, namespace) => {
    if (!ctx.ms.rememberRequestId(`signal:${r.source.runId}:${r.initiatedEventId}`)) return;
    addSignal(
      ctx,
      {
        signalName: r.signal.signalName,
        input: r.signal.input ?? null,
        header: r.signal.header ?? null,
        identity: `workflow:${r.source.workflowId}`,
        externalWorkflowExecution: { workflowId: r.source.workflowId, runId: r.source.runId },
      },
      env.settings.get(Limits.maxSignalsPerExecution, { namespace: namespace.name }),
    );
  });
}

export function deliverExternalCancel(env: EngineContext, r: Req<'deliverExternalCancel'>): Promise<boolean> {
  return deliverToTarget(env, r, (ctx) => {
    requestCancellation(ctx, {
      reason: r.reason,
      identity: `workflow:${r.source.workflowId}`,
      externalInitiatedEventId: r.initiatedEventId,
      externalWorkflowExecution: { workflowId: r.source.workflowId, runId: r.source.runId },
    });
  });
}
