/** RespondActivityTaskCompleted / Failed / Canceled, by token or by id. */
import { InvalidArgumentError, type Failure, type Payloads } from '@hourglass/common';
import type { EngineContext } from '../../engine-context';
import { cancelActivity, completeActivity, failActivityAttempt } from '../../workflow/activity';
import { requireActivityAttempt, updateTargetRun, type ActivityTarget } from './activity-target';

export async function respondActivityTaskCompleted(env: EngineContext, target: ActivityTarget, args: { result?: Payloads | null; identity: string }): Promise<void> {
  await updateTargetRun(env, target, (maybe, key) => {
    const { ctx, activity } = requireActivityAttempt(maybe, key, target, args.identity);
    completeActivity(ctx, activity, { result: args.result ?? null, identity: args.identity });
    ctx.requestWorkflowTask();
  });
}

export async function respondActivityTaskFailed(
  env: EngineContext,
  target: ActivityTarget,
  args: { failure: Failure; identity: string; lastHeartbeatDetails?: Payloads | null },
): Promise<void> {
  await updateTargetRun(env, target, (maybe, key) => {
    const { ctx, activity } = requireActivityAttempt(maybe, key, target, args.identity);
    const retrying = failActivityAttempt(ctx, activity, { failure: args.failure, identity: args.identity, lastHeartbeatDetails: args.lastHeartbeatDetails ?? null });
    if (!retrying) ctx.requestWorkflowTask();
  });
}

export async function respondActivityTaskCanceled(env: EngineContext, target: ActivityTarget, args: { details?: Payloads | null; identity: string }): Promise<void> {
  await updateTargetRun(env, target, (maybe, key) => {
    const { ctx, activity } = requireActivityAttempt(maybe, key, target, args.identity);
    if (!activity.cancelRequested) {
      throw new InvalidArgumentError('unable to mark activity as canceled without activity being request canceled first');
    }
    cancelActivity(ctx, activity, { details: args.details ?? null, identity: args.identity });
    ctx.requestWorkflowTask();
  });
}
