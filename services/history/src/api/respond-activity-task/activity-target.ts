/** Which activity attempt a completion/heartbeat names: by task token, or by workflow + activity id. */
import { NotFoundError } from '@hourglass/common';
import type { ExecutionKey } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import type { ActivityTarget } from '@hourglass/contracts';
import { isActivityStarted, type ActivityInfo } from '../../workflow/mutable-state';
import type { MutationContext } from '../../workflow/mutation';
import { requireRunning, updateNamedRun } from '../shared';

export type { ActivityTarget };

/** Changes the run the target names (by id with an empty run id: the current run, resolved under its lock). */
export function updateTargetRun<T>(env: EngineContext, target: ActivityTarget, fn: (ctx: MutationContext | undefined, key: ExecutionKey) => T | Promise<T>): Promise<T> {
  const t = target.by === 'token' ? target.token : target;
  return updateNamedRun(env, t.namespaceId, t.workflowId, t.runId, fn);
}

function activityNotFound(): NotFoundError {
  return new NotFoundError('activity task not found: it already completed, timed out, was retried or the workflow closed');
}

/**
 * The running attempt the target names, writable (the caller changes it). A token must match the
 * current attempt and that attempt must have started; by-id addressing takes the current attempt
 * and starts it if needed.
 */
export function requireActivityAttempt(maybe: MutationContext | undefined, key: ExecutionKey, target: ActivityTarget, identity: string): { ctx: MutationContext; activity: ActivityInfo } {
  const ctx = requireRunning(maybe, key);
  if (target.by === 'token') {
    const id = String(target.token.scheduledEventId);
    const current = ctx.ms.activities.get(id);
    if (!current || current.attempt !== target.token.attempt || !isActivityStarted(current)) throw activityNotFound();
    return { ctx, activity: ctx.ms.activities.mutable(id) as ActivityInfo };
  }
  const current = ctx.ms.activityById(target.activityId);
  if (!current) throw activityNotFound();
  const activity = ctx.ms.activities.mutable(String(current.scheduledEventId)) as ActivityInfo;
  if (!isActivityStarted(activity)) {
    activity.startedTime = ctx.now;
    activity.startedIdentity = identity;
    activity.startedRequestId = '';
  }
  return { ctx, activity };
}
