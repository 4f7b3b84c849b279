/** RecordActivityTaskHeartbeat (+ById): keep the details, move the heartbeat deadline, report cancellation. */
import type { Payloads } from '@hourglass/common';
import type { EngineContext } from '../../engine-context';
import { recordHeartbeat } from '../../workflow/activity';
import { requireActivityAttempt, updateTargetRun, type ActivityTarget } from '../respond-activity-task/activity-target';

export async function recordActivityTaskHeartbeat(env: EngineContext, target: ActivityTarget, args: { details?: Payloads | null; identity: string }): Promise<{ cancelRequested: boolean }> {
  return updateTargetRun(env, target, (maybe, key) => {
    const { ctx, activity } = requireActivityAttempt(maybe, key, target, args.identity);
    recordHeartbeat(ctx, activity, args.details ?? null);
    return { cancelRequested: activity.cancelRequested };
  });
}
