/**
 * UpdateWorkflowExecutionOptions, for its versioning override (the only option Hourglass keeps):
 * sets or unsets the override of a running workflow with a WorkflowExecutionOptionsUpdated event
 * (marked for the worker's replay to skip, as Temporal writes it). A workflow task or activity
 * waiting for a worker is dispatched again, routed by the new override; the copy left where the
 * old routing put it is dropped when a poller takes it.
 */
import { InvalidArgumentError, quote, temporal } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import { isActivityStarted } from '../../workflow/mutable-state';
import { normalizeVersioningOverride, versioningOverrideProto } from '../../worker-deployments/worker-deployments';
import { requireRunning, updateNamedRun } from '../shared';

type Request = temporal.api.workflowservice.v1.IUpdateWorkflowExecutionOptionsRequest;
type Response = temporal.api.workflowservice.v1.IUpdateWorkflowExecutionOptionsResponse;

/** The update mask paths naming the override (proto and JSON spellings). */
const OVERRIDE_PATHS: ReadonlySet<string> = new Set(['versioning_override', 'versioningOverride']);

export async function updateWorkflowExecutionOptions(env: EngineContext, namespace: NamespaceRecord, req: Request): Promise<Response> {
  const paths = req.updateMask?.paths ?? [];
  if (paths.length === 0) throw new InvalidArgumentError('updateMask must name the options to change (versioning_override)');
  const other = paths.find((p) => !OVERRIDE_PATHS.has(p));
  if (other !== undefined) throw new InvalidArgumentError(`updateMask path ${quote(other)} is not supported by Hourglass; only versioning_override is`);
  const override = normalizeVersioningOverride(req.workflowExecutionOptions?.versioningOverride, 'workflowExecutionOptions.versioningOverride');
  const execution = req.workflowExecution;
  return updateNamedRun(env, namespace.id, execution?.workflowId ?? '', execution?.runId, (maybe, key) => {
    const ctx = requireRunning(maybe, key);
    const ms = ctx.ms;
    ctx.addEvent(
      'workflowExecutionOptionsUpdatedEventAttributes',
      { ...(override ? { versioningOverride: versioningOverrideProto(override) } : { unsetVersioningOverride: true }), identity: req.identity ?? '' },
      { bufferable: true, workerMayIgnore: true },
    );
    const wft = ms.workflowTask;
    if (wft && wft.startedEventId === 0 && wft.taskQueueKind === 'normal') {
      ctx.addTransferTask({ type: 'workflow-task', scheduledEventId: wft.scheduledEventId, taskQueueName: wft.taskQueueName, taskQueueKind: 'normal' });
    }
    for (const activity of ms.activities.values()) {
      // Queued in matching now (an attempt in its retry backoff is dispatched by its timer later).
      const queued = !isActivityStarted(activity) && activity.currentAttemptScheduledTime <= ctx.now;
      if (queued) ctx.addTransferTask({ type: 'activity-task', scheduledEventId: activity.scheduledEventId, attempt: activity.attempt, taskQueueName: activity.taskQueue });
    }
    const current = ms.executionInfo.versioningOverride;
    return { workflowExecutionOptions: current ? { versioningOverride: versioningOverrideProto(current) } : {} };
  });
}
