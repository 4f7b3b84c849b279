/** Matching hands an activity attempt to a poller: mark it started (no event yet) and build the poll response. */
import { InvariantViolationError, NotFoundError, msToDuration, msToTimestamp, temporal, type HistoryEvent } from '@hourglass/common';
import type { EngineContext } from '../../engine-context';
import { encodeTaskToken, type RecordActivityTaskStartedRequest } from '@hourglass/contracts';
import { startActivityAttempt } from '../../workflow/activity';
import { payloadsBlob } from '../../workflow/codec';
import { retryPolicyToProto } from '../../workflow/retry';
import { isActivityStarted, type ActivityInfo } from '../../workflow/mutable-state';
import { requireRunning } from '../shared';

type PollResponse = temporal.api.workflowservice.v1.IPollActivityTaskQueueResponse;

export async function recordActivityTaskStarted(env: EngineContext, args: RecordActivityTaskStartedRequest): Promise<PollResponse> {
  const key = { namespaceId: args.namespaceId, workflowId: args.task.workflowId, runId: args.task.runId };
  const shard = env.shardFor(key.namespaceId, key.workflowId);
  const started = await shard.updateExecution(key, (maybe) => {
    const ctx = requireRunning(maybe, key);
    const id = String(args.task.scheduledEventId);
    const current = ctx.ms.activities.get(id);
    if (!current || current.attempt !== args.task.attempt) throw new NotFoundError('activity task not found');
    if (current.currentAttemptScheduledTime > ctx.now) throw new NotFoundError('activity attempt is still in its retry backoff');
    if (isActivityStarted(current) && current.startedRequestId !== args.pollRequestId) throw new NotFoundError('activity task already started');
    if (!isActivityStarted(current)) startActivityAttempt(ctx, ctx.ms.activities.mutable(id) as ActivityInfo, { requestId: args.pollRequestId, identity: args.identity });
    return { activity: { ...(ctx.ms.activities.get(id) as ActivityInfo) }, workflowTypeName: ctx.ms.executionInfo.workflowTypeName };
  });
  const { activity } = started;
  const [scheduled] = await shard.readHistory(key, activity.scheduledEventId, activity.scheduledEventId + 1, 1);
  if (!scheduled?.activityTaskScheduledEventAttributes) throw new NotFoundError(`ActivityTaskScheduled event ${activity.scheduledEventId} not found`);
  const namespace = await env.namespaces.getById(key.namespaceId);
  return activityTaskOf(namespace.name, key, started.workflowTypeName, activity, scheduled);
}

/** The task a worker runs for an activity attempt that was just started (a poll's answer, or an eager one in a completion's). */
export function activityTaskOf(
  namespaceName: string,
  key: { namespaceId: string; workflowId: string; runId: string },
  workflowTypeName: string,
  activity: ActivityInfo,
  scheduled: HistoryEvent,
): PollResponse {
  const attrs = scheduled.activityTaskScheduledEventAttributes;
  if (!attrs) throw new InvariantViolationError(`event ${String(scheduled.eventId)} is not the ActivityTaskScheduled of activity ${activity.scheduledEventId}`);
  const heartbeatDetails = payloadsBlob.unpack(activity.heartbeatDetails);
  return {
    taskToken: encodeTaskToken({ kind: 'activity', ...key, scheduledEventId: activity.scheduledEventId, attempt: activity.attempt, activityId: activity.activityId }),
    workflowNamespace: namespaceName,
    workflowType: { name: workflowTypeName },
    workflowExecution: { workflowId: key.workflowId, runId: key.runId },
    activityType: { name: activity.activityTypeName },
    activityId: activity.activityId,
    header: attrs.header ?? {},
    ...(attrs.input ? { input: attrs.input } : {}),
    ...(heartbeatDetails ? { heartbeatDetails } : {}),
    scheduledTime: scheduled.eventTime ?? msToTimestamp(activity.scheduledTime),
    currentAttemptScheduledTime: msToTimestamp(activity.currentAttemptScheduledTime),
    startedTime: msToTimestamp(activity.startedTime),
    attempt: activity.attempt,
    scheduleToCloseTimeout: msToDuration(activity.scheduleToCloseTimeoutMs),
    startToCloseTimeout: msToDuration(activity.startToCloseTimeoutMs),
    heartbeatTimeout: msToDuration(activity.heartbeatTimeoutMs),
    retryPolicy: retryPolicyToProto(activity.retryPolicy),
    ...(attrs.priority ? { priority: attrs.priority } : {}),
  };
}
