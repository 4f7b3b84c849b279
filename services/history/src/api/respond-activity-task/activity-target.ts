/** Which activity attempt a completion/heartbeat names: by task token, or by workflow + activity id. */
import { NotFoundError } from '@hourglass/common';
import type { ExecutionKey } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import type { ActivityTarget } from '@hourglass/contracts';
import { activityById, type ActivityInfo } from '../../workflow/mutable-state';
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
 * The running attempt the target names. A token must match the current attempt and that attempt
 * must have started; by-id addressing takes the current attempt and starts it if needed.
 */
export function requireActivityAttempt(maybe: MutationContext | undefined, key: ExecutionKey, target: ActivityTarget, identity: string): { ctx: MutationContext; activity: ActivityInfo } {
  const ctx = requireRunning(maybe, key);
  if (target.by === 'token') {
    const activity = ctx.ms.activities[String(target.token.scheduledEventId)];
    if (!activity || activity.attempt !== target.token.attempt || activity.startedTime === 0) throw activityNotFound();
    return { ctx, activity };
  }
  const activity = activityById(ctx.ms, target.activityId);
  if (!activity) throw activityNotFound();
  if (activity.startedTime === 0) {
    activity.startedTime = ctx.now;
    activity.startedIdentity = identity;
    activity.startedRequestId = '';
  }
  return { ctx, activity };
}
