/**
 * RespondWorkflowTaskCompleted (Temporal's algorithm, simplified): validate the token and the
 * commands; UnhandledCommand if events arrived meanwhile and the workflow wants to close;
 * otherwise WorkflowTaskCompleted, one event per command in order, stickiness, flush of buffered
 * events, and a new workflow task if anything is left to deliver.
 */
import { InvalidArgumentError, WorkflowTaskFailedCause, durationToMs, temporal, type Failure, int64 } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import type { WorkflowTaskToken } from '@hourglass/contracts';
import { BadCommandError } from '../../workflow/command-error';
import { isRunning } from '../../workflow/mutable-state';
import type { MutationContext } from '../../workflow/mutation';
import { mayContinue } from '../../workflow/close';
import { applyUnreferencedMessages, hasAdmittedUpdates, resendUnansweredUpdates } from '../../workflow/updates';
import { failWorkflowTask, scheduleWorkflowTask } from '../../workflow/workflow-task';
import { dispatchWaitingQueries } from '../query-workflow/query-workflow.handler';
import { readStartedEvent, requireStartedWorkflowTask } from '../shared';
import { applyCommand, isCloseCommand, validateCommandList } from './commands';

type Request = temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedRequest;
type StartedAttributes = temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes;
type Response = temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedResponse;

/** Sticky schedule-to-start timeout when the worker does not give one. */
const DEFAULT_STICKY_SCHEDULE_TO_START_MS = 10_000;

function failureOf(message: string): Failure {
  return { message, source: 'Server', applicationFailureInfo: { type: 'BadCommand', nonRetryable: false } };
}

export async function respondWorkflowTaskCompleted(env: EngineContext, namespace: NamespaceRecord, token: WorkflowTaskToken, req: Request): Promise<Response> {
  const shard = env.shardFor(token.namespaceId, token.workflowId);
  const commands = req.commands ?? [];
  const identity = req.identity ?? '';
  let rejection: BadCommandError | undefined;
  try {
    validateCommandList(commands, env.config.blobSizeLimitBytes);
    const closes = commands.some(isCloseCommand);
    const outcome = await shard.updateExecution(token, async (maybe) => {
      const ctx = requireStartedWorkflowTask(maybe, token);
      // Events or updates arrived while the worker decided to close: it must see them first.
      if ((ctx.hasBufferedEvents() || hasAdmittedUpdates(ctx.ms)) && closes) {
        failWorkflowTask(ctx, {
          cause: WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
          identity,
          scheduleRetry: true,
        });
        return 'unhandled-command' as const;
      }
      // Closing a cron or retrying run starts a successor that reuses the first event's input.
      const startedEvent = closes && mayContinue(ctx) ? await readStartedEvent(shard, token) : undefined;
      completeWithCommands(ctx, namespace, req, commands, identity, startedEvent);
      return 'completed' as const;
    });
    env.queries.complete(token, outcome === 'completed' ? (req.queryResults ?? {}) : {});
    // Queries that arrived during this task go out as query tasks, but only after this response:
    // the worker must learn that its task completed before it gets another task for the run.
    setImmediate(() => void dispatchWaitingQueries(env, token).catch((err: unknown) => env.logger.warn({ err }, 'could not dispatch waiting queries')));
    // Core compares this message verbatim.
    if (outcome === 'unhandled-command') throw new InvalidArgumentError('UnhandledCommand');
    return {};
  } catch (err) {
    if (!(err instanceof BadCommandError)) throw err;
    rejection = err;
  }
  // A bad command: nothing of the completion was written. Fail the task instead, then tell the worker.
  await shard.updateExecution(token, (maybe) => {
    const ctx = requireStartedWorkflowTask(maybe, token);
    failWorkflowTask(ctx, { cause: rejection.failedCause, failure: failureOf(rejection.message), identity, scheduleRetry: true });
  });
  env.queries.requeue(token);
  throw new InvalidArgumentError(rejection.message);
}

function completeWithCommands(
  ctx: MutationContext,
  namespace: NamespaceRecord,
  req: Request,
  commands: temporal.api.command.v1.ICommand[],
  identity: string,
  startedEvent: StartedAttributes | undefined,
): void {
  const ms = ctx.ms;
  const wft = ms.workflowTask!;
  const completed = ctx.addEvent('workflowTaskCompletedEventAttributes', {
    scheduledEventId: int64(wft.scheduledEventId),
    startedEventId: int64(wft.startedEventId),
    identity,
    binaryChecksum: req.binaryChecksum ?? '',
    // Core replays with the flags it recorded here: persist verbatim.
    ...(req.sdkMetadata ? { sdkMetadata: req.sdkMetadata } : {}),
    ...(req.meteringMetadata ? { meteringMetadata: req.meteringMetadata } : {}),
  });
  ms.lastCompletedWorkflowTaskStartedEventId = wft.startedEventId;
  ms.workflowTask = null;
  ms.workflowTaskFailureStreak = 0;
  const commandEnv = {
    workflowTaskCompletedEventId: Number(completed.eventId),
    identity,
    namespace: { id: namespace.id, name: namespace.name },
    close: { retentionMs: namespace.retentionMs, ...(startedEvent ? { startedEvent } : {}) },
    messages: new Map((req.messages ?? []).map((m) => [m.id ?? '', m])),
  };
  let needsWorkflowTask = false;
  const referenced = new Set<string>();
  for (const command of commands) {
    if (applyCommand(ctx, command, commandEnv).needsWorkflowTask) needsWorkflowTask = true;
    const messageId = command.protocolMessageCommandAttributes?.messageId;
    if (messageId) referenced.add(messageId);
  }
  applyUnreferencedMessages(ctx, req.messages ?? [], referenced);
  // Requests this task carried but the worker did not answer go again with the next one.
  resendUnansweredUpdates(ms);
  const sticky = req.stickyAttributes?.workerTaskQueue?.name;
  ms.sticky = sticky
    ? { queueName: sticky, scheduleToStartTimeoutMs: durationToMs(req.stickyAttributes?.scheduleToStartTimeout) || DEFAULT_STICKY_SCHEDULE_TO_START_MS }
    : null;
  const flushed = ctx.flushBufferedEvents();
  if (isRunning(ms) && (flushed > 0 || needsWorkflowTask || req.forceCreateNewWorkflowTask || hasAdmittedUpdates(ms))) scheduleWorkflowTask(ctx);
}
