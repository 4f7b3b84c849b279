/**
 * RespondWorkflowTaskCompleted (Temporal's algorithm, simplified): validate the token and the
 * commands; UnhandledCommand if events arrived meanwhile and the workflow wants to close;
 * otherwise WorkflowTaskCompleted, one event per command in order, stickiness, flush of buffered
 * events, and a new workflow task if anything is left to deliver.
 */
import { CommandRejectedError, HistorySettings, InvalidArgumentError, TimeSlice, WorkflowTaskFailedCause, durationToMs, quote, temporal, utf8Length, type Failure, int64 } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import type { WorkflowTaskToken } from '@hourglass/contracts';
import { BadCommandError } from '../../workflow/command-error';
import { CommandLimits } from '../../workflow/command-limits';
import { namespaceCatalog } from '../../workflow/visibility';
import type { InlineWorkflowTask, MutationContext } from '../../workflow/mutation';
import { shouldSuggestContinueAsNew } from '../../workflow/limits';
import { workflowTaskResponse } from '../record-workflow-task-started/record-workflow-task-started.handler';
import { mayContinue } from '../../workflow/close';
import { applyUnreferencedMessages, hasAdmittedUpdates, resendUnansweredUpdates } from '../../workflow/updates';
import { failWorkflowTask, rejectedCommandRetryDelayMs } from '../../workflow/workflow-task';
import { dispatchWaitingQueries } from '../query-workflow/query-workflow.handler';
import { readStartedEvent, requireStartedWorkflowTask } from '../shared';
import { activityTaskOf } from '../record-activity-task-started/record-activity-task-started.handler';
import type { ActivityInfo } from '../../workflow/mutable-state';
import { applyCommand, commandSizeChecker, isCloseCommand, validateCommandList, type EagerActivities } from './commands';

type Request = temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedRequest;
type StartedAttributes = temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes;
type Response = temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedResponse;

function failureOf(message: string): Failure {
  return { message, source: 'Server', applicationFailureInfo: { type: 'BadCommand', nonRetryable: false } };
}

export async function respondWorkflowTaskCompleted(env: EngineContext, namespace: NamespaceRecord, token: WorkflowTaskToken, req: Request): Promise<Response> {
  const shard = env.shardFor(token.namespaceId, token.workflowId);
  const commands = req.commands ?? [];
  const identity = req.identity ?? '';
  const limits = new CommandLimits(env.settings, namespace.name);
  checkRequestIds(limits, req);
  let rejection: BadCommandError | undefined;
  try {
    validateCommandList(commands);
    const closes = commands.some(isCloseCommand);
    const outcome = await shard.updateExecution(token, async (maybe) => {
      const ctx = requireStartedWorkflowTask(maybe, token);
      // Events or updates arrived while the worker decided to close: it must see them first.
      if ((ctx.hasBufferedEvents() || hasAdmittedUpdates(ctx.ms)) && closes) {
        failWorkflowTask(ctx, { cause: WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, identity });
        return 'unhandled-command' as const;
      }
      // Closing a cron or retrying run starts a successor that reuses the first event's input.
      const startedEvent = closes && mayContinue(ctx) ? await readStartedEvent(shard, token) : undefined;
      // A completion that closes the run starts nothing eagerly: its activities will never run.
      const eager = closes ? undefined : eagerActivities(env, namespace, ctx);
      await completeWithCommands(env, ctx, namespace, req, commands, limits, startedEvent, eager);
      const started = (eager?.started ?? []).map(({ scheduledEventId, event }) => ({ activity: { ...(ctx.ms.activities.get(String(scheduledEventId)) as ActivityInfo) }, event }));
      // The worker caches the run (it has a sticky queue) and asks for the next task inline: if this
      // change schedules one (events arrived while the task ran), it is started here and returned.
      const inline: InlineWorkflowTask | undefined =
        req.returnNewWorkflowTask && ctx.ms.sticky && !closes
          ? { requestId: `inline:${token.scheduledEventId}:${token.startedEventId}`, identity, suggestContinueAsNew: (c) => shouldSuggestContinueAsNew(c, env.settings, namespace.name) }
          : undefined;
      ctx.inlineWorkflowTask = inline;
      return { started, workflowTypeName: ctx.ms.executionInfo.workflowTypeName, inline };
    });
    env.queries.complete(token, outcome !== 'unhandled-command' ? (req.queryResults ?? {}) : {});
    // Queries that arrived during this task go out as query tasks, but only after this response:
    // the worker must learn that its task completed before it gets another task for the run.
    setImmediate(() => void dispatchWaitingQueries(env, token).catch((err: unknown) => env.logger.warn({ err }, 'could not dispatch waiting queries')));
    // Core compares this message verbatim.
    if (outcome === 'unhandled-command') throw new InvalidArgumentError('UnhandledCommand');
    const key = { namespaceId: token.namespaceId, workflowId: token.workflowId, runId: token.runId };
    const next = outcome.inline?.started;
    return {
      ...(next ? { workflowTask: await workflowTaskResponse(env, namespace.name, key, next, 'sticky') } : {}),
      ...(outcome.started.length > 0 ? { activityTasks: outcome.started.map(({ activity, event }) => activityTaskOf(namespace.name, key, outcome.workflowTypeName, activity, event)) } : {}),
    };
  } catch (err) {
    if (!(err instanceof BadCommandError)) throw err;
    rejection = err;
  }
  // A bad command: nothing of the completion was written. Fail the task instead, then tell the worker.
  await shard.updateExecution(token, (maybe) => {
    const ctx = requireStartedWorkflowTask(maybe, token);
    // The streak this failure makes: the worker will send the same commands again, so later attempts wait.
    const retryAfterMs = rejectedCommandRetryDelayMs(ctx.ms.workflowTaskFailureStreak + 1);
    failWorkflowTask(ctx, { cause: rejection.failedCause, failure: failureOf(rejection.message), identity, retryAfterMs });
  });
  env.queries.requeue(token);
  throw new CommandRejectedError(rejection.message);
}

/** Eager activity dispatch for a completion of this run, when the namespace has it on. */
function eagerActivities(env: EngineContext, namespace: NamespaceRecord, ctx: MutationContext): EagerActivities | undefined {
  if (!env.settings.get(HistorySettings.enableActivityEagerExecution, { namespace: namespace.name })) return undefined;
  const max = env.settings.get(HistorySettings.maxEagerActivitiesPerWorkflowTask, { namespace: namespace.name });
  return max > 0 ? { max, taskQueue: ctx.ms.executionInfo.taskQueue, started: [] } : undefined;
}

/** Ids of the request itself (not of its commands) that are over the limit: INVALID_ARGUMENT, nothing changes. */
function checkRequestIds(limits: CommandLimits, req: Request): void {
  const check = (field: string, value: string | null | undefined): void => {
    if (!value) return;
    const bytes = utf8Length(value);
    if (bytes > limits.maxIdLength) throw new InvalidArgumentError(`${field} ${quote(value)} is ${bytes} bytes long, more than the limit of ${limits.maxIdLength}`);
  };
  check('identity', req.identity);
  check('stickyAttributes.workerTaskQueue.name', req.stickyAttributes?.workerTaskQueue?.name);
}

/** Longest stretch of a completion's command processing between turns of the event loop. */
const COMMAND_SLICE_MS = 5;

async function completeWithCommands(
  env: EngineContext,
  ctx: MutationContext,
  namespace: NamespaceRecord,
  req: Request,
  commands: temporal.api.command.v1.ICommand[],
  limits: CommandLimits,
  startedEvent: StartedAttributes | undefined,
  eager: EagerActivities | undefined,
): Promise<void> {
  const ms = ctx.ms;
  const wft = ms.workflowTask!;
  const identity = req.identity ?? '';
  const completed = ctx.addEvent('workflowTaskCompletedEventAttributes', {
    scheduledEventId: int64(wft.scheduledEventId),
    startedEventId: int64(wft.startedEventId),
    identity,
    binaryChecksum: req.binaryChecksum ?? '',
    // Core replays with the flags it recorded here: persist verbatim.
    ...(req.sdkMetadata ? { sdkMetadata: req.sdkMetadata } : {}),
    ...(req.meteringMetadata ? { meteringMetadata: req.meteringMetadata } : {}),
    ...versioningOfCompletion(req),
  });
  const commandEnv = {
    workflowTaskCompletedEventId: Number(completed.eventId),
    identity,
    namespace: { id: namespace.id, name: namespace.name },
    close: { retentionMs: namespace.retentionMs, ...(startedEvent ? { startedEvent } : {}) },
    messages: new Map((req.messages ?? []).map((m) => [m.id ?? '', m])),
    limits,
    searchAttributes: namespaceCatalog(namespace),
    ...(eager ? { eager } : {}),
  };
  const batch = env.settings.get(HistorySettings.commandBatchSize);
  const checkSize = commandSizeChecker(limits, commands.length);
  let needsWorkflowTask = false;
  const referenced = new Set<string>();
  // A completion with thousands of commands must not hold the event loop: other callers get a turn
  // every `batch` commands, and sooner when they take longer than COMMAND_SLICE_MS (a loaded machine).
  const slice = new TimeSlice(COMMAND_SLICE_MS);
  for (let i = 0; i < commands.length; i++) {
    if (i > 0 && (i % batch === 0 || slice.due())) await slice.yield();
    const command = commands[i] as temporal.api.command.v1.ICommand;
    checkSize(command, i);
    if (applyCommand(ctx, command, commandEnv).needsWorkflowTask) needsWorkflowTask = true;
    const messageId = command.protocolMessageCommandAttributes?.messageId;
    if (messageId) referenced.add(messageId);
  }
  applyUnreferencedMessages(ctx, req.messages ?? [], referenced);
  // Requests this task carried but the worker did not answer go again with the next one.
  resendUnansweredUpdates(ms);
  const sticky = req.stickyAttributes?.workerTaskQueue?.name;
  ms.sticky = sticky
    ? {
        queueName: sticky,
        scheduleToStartTimeoutMs:
          durationToMs(req.stickyAttributes?.scheduleToStartTimeout) || env.settings.get(HistorySettings.defaultStickyScheduleToStartTimeout, { namespace: namespace.name }),
      }
    : null;
  const flushed = ctx.flushBufferedEvents();
  // The commit's own preparation (rows of every new item) starts in a turn of its own.
  if (slice.due()) await slice.yield();
  if (flushed > 0 || needsWorkflowTask || req.forceCreateNewWorkflowTask || hasAdmittedUpdates(ms)) ctx.requestWorkflowTask();
}

/**
 * What a versioned worker's completion declares (its behavior and its deployment version), recorded
 * on WorkflowTaskCompleted as Temporal does; an unversioned worker's completion declares nothing.
 */
function versioningOfCompletion(req: Request): Pick<temporal.api.history.v1.IWorkflowTaskCompletedEventAttributes, 'versioningBehavior' | 'deploymentVersion' | 'workerDeploymentVersion'> {
  const options = req.deploymentOptions;
  const behavior = req.versioningBehavior ?? 0;
  if (behavior === 0 || options?.workerVersioningMode !== temporal.api.enums.v1.WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED || !options.deploymentName || !options.buildId) return {};
  return {
    versioningBehavior: behavior,
    deploymentVersion: { deploymentName: options.deploymentName, buildId: options.buildId },
    workerDeploymentVersion: `${options.deploymentName}.${options.buildId}`,
  };
}
