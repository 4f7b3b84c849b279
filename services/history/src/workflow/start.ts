/** A new run: its mutable state and first events (WorkflowExecutionStarted, then the first workflow task or its backoff). */
import { TaskQueueKind, int64, msToDuration, msToTimestamp, temporal, type Payloads } from '@hourglass/common';
import type { ParentInfo, VersioningInfo } from './mutable-state';
import { versioningOverrideProto } from '../worker-deployments/worker-deployments';
import { blankState } from './rebuild';
import { MutationContext } from './mutation';
import type { RetryPolicyMs } from './retry';
import { retryPolicyToProto } from './retry';

export interface NewRunArgs {
  namespaceId: string;
  workflowId: string;
  runId: string;
  firstExecutionRunId: string;
  requestId: string;
  identity: string;
  workflowTypeName: string;
  taskQueue: string;
  input?: Payloads | null;
  header?: temporal.api.common.v1.IHeader | null;
  memo?: temporal.api.common.v1.IMemo | null;
  searchAttributes?: temporal.api.common.v1.ISearchAttributes | null;
  retryPolicy: RetryPolicyMs | null;
  cronSchedule: string;
  executionTimeoutMs: number;
  runTimeoutMs: number;
  workflowTaskTimeoutMs: number;
  startDelayMs: number;
  userMetadata?: temporal.api.sdk.v1.IUserMetadata | null;
  priority?: temporal.api.common.v1.IPriority | null;
  now: number;
  /** Set when a parent started this run as its child. */
  parent?: ParentInfo | null;
  root?: { workflowId: string; runId: string };
  /** Attempt of the workflow retry policy (1 for a fresh start). */
  attempt?: number;
  /** Deadline of the whole chain (continue-as-new, retries, cron keep the first run's). */
  executionExpirationTime?: number;
  /** Links this run to the run it continues (continue-as-new, retry, cron). */
  continuedFrom?: {
    runId: string;
    /** temporal.api.enums.v1.ContinueAsNewInitiator */
    initiator: number;
    failure?: temporal.api.failure.v1.IFailure | null;
    lastCompletionResult?: Payloads | null;
  };
  /** Request ids the run this one continues has seen: a client retry reaching the new run is still a duplicate. */
  inheritedRequestIds?: string[];
  /** A system run no worker serves (a batch operation's job): no workflow task; its own tasks drive it. */
  withoutWorkflowTask?: boolean;
  /**
   * Worker versioning: the version a PINNED parent (for its child) or previous run (continue-as-new)
   * was pinned to; the new run starts pinned to it (its first workflow task goes there).
   */
  inheritedPinnedVersion?: { deploymentName: string; buildId: string };
  /** Worker versioning: the override the start gave (checked), or the one a continued run keeps. */
  versioningOverride?: VersioningInfo;
  /** SignalWithStart: the signal written right after WorkflowExecutionStarted. */
  signal?: { signalName: string; input?: Payloads | null; header?: temporal.api.common.v1.IHeader | null; identity: string; requestId: string };
}

export function newRun(args: NewRunArgs): MutationContext {
  const now = args.now;
  const executionExpirationTime = args.executionExpirationTime ?? (args.executionTimeoutMs > 0 ? now + args.executionTimeoutMs : 0);
  const attempt = args.attempt ?? 1;
  // What WorkflowExecutionStarted does not say; the rest comes from the event (applyEvent).
  const ms = blankState({ namespaceId: args.namespaceId, workflowId: args.workflowId, runId: args.runId, startRequestId: args.requestId, identity: args.identity }, now);
  for (const id of [...(args.inheritedRequestIds ?? []), args.requestId, ...(args.signal?.requestId ? [args.signal.requestId] : [])]) ms.rememberRequestId(id);
  const ctx = new MutationContext(ms, now);
  ctx.addEvent('workflowExecutionStartedEventAttributes', {
    workflowType: { name: args.workflowTypeName },
    taskQueue: { name: args.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    ...(args.input ? { input: args.input } : {}),
    ...(args.executionTimeoutMs > 0 ? { workflowExecutionTimeout: msToDuration(args.executionTimeoutMs) } : {}),
    ...(args.runTimeoutMs > 0 ? { workflowRunTimeout: msToDuration(args.runTimeoutMs) } : {}),
    workflowTaskTimeout: msToDuration(args.workflowTaskTimeoutMs),
    identity: args.identity,
    originalExecutionRunId: args.runId,
    firstExecutionRunId: args.firstExecutionRunId,
    attempt,
    ...(args.parent
      ? {
          parentWorkflowNamespace: args.parent.namespaceName,
          parentWorkflowNamespaceId: args.parent.namespaceId,
          parentWorkflowExecution: { workflowId: args.parent.workflowId, runId: args.parent.runId },
          parentInitiatedEventId: int64(args.parent.initiatedEventId),
        }
      : {}),
    ...(args.root && args.root.workflowId !== args.workflowId ? { rootWorkflowExecution: { workflowId: args.root.workflowId, runId: args.root.runId } } : {}),
    ...(args.continuedFrom
      ? {
          continuedExecutionRunId: args.continuedFrom.runId,
          initiator: args.continuedFrom.initiator,
          ...(args.continuedFrom.failure ? { continuedFailure: args.continuedFrom.failure } : {}),
          ...(args.continuedFrom.lastCompletionResult ? { lastCompletionResult: args.continuedFrom.lastCompletionResult } : {}),
        }
      : {}),
    ...(executionExpirationTime > 0 ? { workflowExecutionExpirationTime: msToTimestamp(executionExpirationTime) } : {}),
    ...(args.cronSchedule ? { cronSchedule: args.cronSchedule } : {}),
    ...(args.startDelayMs > 0 ? { firstWorkflowTaskBackoff: msToDuration(args.startDelayMs) } : {}),
    ...(args.memo ? { memo: args.memo } : {}),
    ...(args.searchAttributes ? { searchAttributes: args.searchAttributes } : {}),
    header: args.header ?? {},
    ...(args.retryPolicy ? { retryPolicy: retryPolicyToProto(args.retryPolicy) } : {}),
    ...(args.priority ? { priority: args.priority } : {}),
    ...(args.inheritedPinnedVersion ? { inheritedPinnedVersion: args.inheritedPinnedVersion } : {}),
    ...(args.versioningOverride ? { versioningOverride: versioningOverrideProto(args.versioningOverride) } : {}),
  }, args.userMetadata ? { userMetadata: args.userMetadata } : {});
  if (args.signal) {
    ctx.addEvent('workflowExecutionSignaledEventAttributes', {
      signalName: args.signal.signalName,
      ...(args.signal.input ? { input: args.signal.input } : {}),
      identity: args.signal.identity,
      header: args.signal.header ?? {},
    });
  }
  if (args.startDelayMs > 0) ctx.addTimerTask(now + args.startDelayMs, { type: 'workflow-backoff' });
  else if (!args.withoutWorkflowTask) ctx.requestWorkflowTask();
  generateRunTimeoutTask(ctx);
  return ctx;
}

/** The run's (or its chain's) timeout, if it has one. */
export function generateRunTimeoutTask(ctx: MutationContext): void {
  const info = ctx.ms.executionInfo;
  const deadlines = [info.executionExpirationTime, info.runExpirationTime].filter((t) => t > 0);
  if (deadlines.length > 0) ctx.addTimerTask(Math.min(...deadlines), { type: 'workflow-timeout' });
}
