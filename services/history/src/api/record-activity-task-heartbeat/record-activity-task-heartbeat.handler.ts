/** RecordActivityTaskHeartbeat (+ById): keep the details, move the heartbeat deadline, report cancellation. */
import type { Payloads } from '@hourglass/common';
import type { EngineContext } from '../../engine-context';
import { recordHeartbeat } from '../../workflow/activity';
import { requireActivityAttempt, targetRun, type ActivityTarget } from '../respond-activity-task/activity-target';

export async function recordActivityTaskHeartbeat(env: EngineContext, target: ActivityTarget, args: { details?: Payloads | null; identity: string }): Promise<{ cancelRequested: boolean }> {
  const key = await targetRun(env, target);
  return env.shardFor(key.namespaceId, key.workflowId).updateExecution(key, (maybe) => {
    const { ctx, activity } = requireActivityAttempt(maybe, key, target, args.identity);
    recordHeartbeat(ctx, activity, args.details ?? null);
    return { cancelRequested: activity.cancelRequested };
  });
}
