/**
 * Commands → events, in command order, each with workflow_task_completed_event_id. The table maps
 * every CommandType the SDK can send to its handler; types not built yet fail the workflow task
 * with a clear message.
 */
import { randomUUID } from 'node:crypto';
import { CommandType, InvalidArgumentError, WorkflowTaskFailedCause, formatBytes, temporal, int64, type HistoryEvent } from '@hourglass/common';
import type { AttributeCatalog } from '@hourglass/visibility';
import { requestCancelActivity, scheduleActivity } from '../../workflow/activity';
import { BadCommandError } from '../../workflow/command-error';
import type { CommandLimits } from '../../workflow/command-limits';
import { initiateChild } from '../../workflow/children';
import { cancelWorkflow, completeWorkflow, continueAsNew, failWorkflow, type CloseEnv } from '../../workflow/close';
import { initiateCancelExternal, initiateSignalExternal } from '../../workflow/external';
import type { MutationContext } from '../../workflow/mutation';
import { cancelTimer, startTimer } from '../../workflow/timers';
import { applyProtocolMessageCommand } from '../../workflow/updates';
import { checkSearchAttributes } from '../../workflow/visibility';

type Command = temporal.api.command.v1.ICommand;

export interface CommandEnv {
  workflowTaskCompletedEventId: number;
  identity: string;
  namespace: { id: string; name: string };
  close: CloseEnv;
  /** The completion's protocol messages by id, for ProtocolMessage commands. */
  messages: Map<string, temporal.api.protocol.v1.IMessage>;
  limits: CommandLimits;
  /** The namespace's search attributes, which upsert, continue-as-new and child start commands are checked against. */
  searchAttributes: AttributeCatalog;
  /** Eager activity dispatch for this completion; undefined when off (by setting, or the completion closes the run). */
  eager?: EagerActivities;
}

/** Activities this completion starts itself (ScheduleActivityTask.request_eager_execution), up to `max`. */
export interface EagerActivities {
  max: number;
  /** The workflow's own task queue: only activities on it may run on the completing worker. */
  taskQueue: string;
  started: { scheduledEventId: number; event: HistoryEvent }[];
}

/** A bad search attribute fails the workflow task with `cause`, its message naming the attribute. */
function checkCommandSearchAttributes(fields: Record<string, temporal.api.common.v1.IPayload> | null | undefined, env: CommandEnv, command: string, cause: number): void {
  try {
    checkSearchAttributes(fields, env.searchAttributes, command);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new BadCommandError(cause, err.message);
    throw err;
  }
}

export interface CommandEffect {
  /** The command needs a new workflow task even if nothing else happens (e.g. an activity canceled before it started). */
  needsWorkflowTask?: boolean;
}

type Handler = (ctx: MutationContext, command: Command, env: CommandEnv) => CommandEffect | void;

function attrs<T>(value: T | null | undefined, name: string, cause: number): T {
  if (!value) throw new BadCommandError(cause, `${name} command has no attributes`);
  return value;
}

const Cause = WorkflowTaskFailedCause;

const HANDLERS: Partial<Record<number, Handler>> = {
  [CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK]: (ctx, c, env) => {
    const a = attrs(c.scheduleActivityTaskCommandAttributes, 'ScheduleActivityTask', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES);
    const eager = env.eager;
    const runsHere = eager !== undefined && a.requestEagerExecution === true && eager.started.length < eager.max && (a.taskQueue?.name || eager.taskQueue) === eager.taskQueue;
    const { activity, event } = scheduleActivity(ctx, a, env.workflowTaskCompletedEventId, env.limits, runsHere ? { requestId: randomUUID(), identity: env.identity } : undefined);
    if (runsHere) eager.started.push({ scheduledEventId: activity.scheduledEventId, event });
  },
  [CommandType.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK]: (ctx, c, env) => {
    const a = attrs(c.requestCancelActivityTaskCommandAttributes, 'RequestCancelActivityTask', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES);
    return { needsWorkflowTask: requestCancelActivity(ctx, Number(a.scheduledEventId ?? 0), env.workflowTaskCompletedEventId) };
  },
  [CommandType.COMMAND_TYPE_START_TIMER]: (ctx, c, env) =>
    startTimer(ctx, attrs(c.startTimerCommandAttributes, 'StartTimer', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES), env.workflowTaskCompletedEventId, env.limits),
  [CommandType.COMMAND_TYPE_CANCEL_TIMER]: (ctx, c, env) =>
    cancelTimer(ctx, attrs(c.cancelTimerCommandAttributes, 'CancelTimer', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES), env.workflowTaskCompletedEventId, env.identity),
  [CommandType.COMMAND_TYPE_RECORD_MARKER]: (ctx, c, env) => {
    const a = attrs(c.recordMarkerCommandAttributes, 'RecordMarker', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES);
    if (!a.markerName) throw new BadCommandError(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES, 'MarkerName is not set on RecordMarker');
    env.limits.checkId(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES, 'RecordMarker.MarkerName', a.markerName);
    ctx.addEvent('markerRecordedEventAttributes', {
      markerName: a.markerName,
      details: a.details ?? {},
      workflowTaskCompletedEventId: int64(env.workflowTaskCompletedEventId),
      ...(a.header ? { header: a.header } : {}),
      ...(a.failure ? { failure: a.failure } : {}),
    });
  },
  [CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION]: (ctx, c, env) =>
    completeWorkflow(ctx, { result: c.completeWorkflowExecutionCommandAttributes?.result ?? null, workflowTaskCompletedEventId: env.workflowTaskCompletedEventId }, env.close),
  [CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION]: (ctx, c, env) =>
    failWorkflow(ctx, { failure: c.failWorkflowExecutionCommandAttributes?.failure ?? null, workflowTaskCompletedEventId: env.workflowTaskCompletedEventId }, env.close),
  [CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION]: (ctx, c, env) =>
    cancelWorkflow(ctx, { details: c.cancelWorkflowExecutionCommandAttributes?.details ?? null, workflowTaskCompletedEventId: env.workflowTaskCompletedEventId }, env.close),
  [CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION]: (ctx, c, env) => {
    const a = attrs(c.continueAsNewWorkflowExecutionCommandAttributes, 'ContinueAsNewWorkflowExecution', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES);
    checkCommandSearchAttributes(a.searchAttributes?.indexedFields, env, 'ContinueAsNewWorkflowExecution', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES);
    if (a.taskQueue?.name) env.limits.checkTaskQueue(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, 'ContinueAsNewWorkflowExecution.TaskQueue', a.taskQueue.name);
    try {
      continueAsNew(ctx, a, env.workflowTaskCompletedEventId, env.close);
    } catch (err) {
      if (err instanceof BadCommandError) throw err;
      throw new BadCommandError(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, (err as Error).message);
    }
  },
  [CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE]: (ctx, c, env) => {
    const messageId = c.protocolMessageCommandAttributes?.messageId ?? '';
    applyProtocolMessageCommand(ctx, env.messages.get(messageId), messageId);
  },
  [CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION]: (ctx, c, env) => {
    const a = attrs(c.startChildWorkflowExecutionCommandAttributes, 'StartChildWorkflowExecution', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES);
    // A child in this namespace: its attributes are checked now, so its start cannot fail on them later.
    if (!a.namespace || a.namespace === env.namespace.name) {
      checkCommandSearchAttributes(a.searchAttributes?.indexedFields, env, 'StartChildWorkflowExecution', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES);
    }
    return initiateChild(
      ctx,
      a,
      env.workflowTaskCompletedEventId,
      env.namespace,
      env.limits,
    );
  },
  [CommandType.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION]: (ctx, c, env) =>
    initiateSignalExternal(
      ctx,
      attrs(c.signalExternalWorkflowExecutionCommandAttributes, 'SignalExternalWorkflowExecution', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES),
      env.workflowTaskCompletedEventId,
      env.namespace,
      env.limits,
    ),
  [CommandType.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION]: (ctx, c, env) =>
    initiateCancelExternal(
      ctx,
      attrs(c.requestCancelExternalWorkflowExecutionCommandAttributes, 'RequestCancelExternalWorkflowExecution', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES),
      env.workflowTaskCompletedEventId,
      env.namespace,
      env.limits,
    ),
  [CommandType.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES]: (ctx, c, env) => {
    const a = attrs(c.upsertWorkflowSearchAttributesCommandAttributes, 'UpsertWorkflowSearchAttributes', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES);
    checkCommandSearchAttributes(a.searchAttributes?.indexedFields, env, 'UpsertWorkflowSearchAttributes', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES);
    ctx.addEvent('upsertWorkflowSearchAttributesEventAttributes', {
      workflowTaskCompletedEventId: int64(env.workflowTaskCompletedEventId),
      searchAttributes: { indexedFields: a.searchAttributes?.indexedFields ?? {} },
    });
  },
  [CommandType.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES]: (ctx, c, env) => {
    const a = attrs(c.modifyWorkflowPropertiesCommandAttributes, 'ModifyWorkflowProperties', Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES);
    ctx.addEvent('workflowPropertiesModifiedEventAttributes', {
      workflowTaskCompletedEventId: int64(env.workflowTaskCompletedEventId),
      upsertedMemo: { fields: a.upsertedMemo?.fields ?? {} },
    });
  },
};

const CLOSE_COMMANDS: ReadonlySet<number> = new Set([
  CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
  CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
  CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
  CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
]);

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

export function isCloseCommand(command: Command): boolean {
  return CLOSE_COMMANDS.has(command.commandType ?? 0);
}

/**
 * Commands of features this server does not have. Temporal with Nexus disabled fails the workflow
 * task with FEATURE_DISABLED; so does Hourglass, and the attempts that follow wait
 * (rejectedCommandRetryDelayMs) rather than spin.
 */
const DISABLED_FEATURES: Readonly<Record<number, string>> = {
  [CommandType.COMMAND_TYPE_SCHEDULE_NEXUS_OPERATION]: 'Nexus operations are not supported by Hourglass (GetSystemInfo reports capabilities.nexus false)',
  [CommandType.COMMAND_TYPE_REQUEST_CANCEL_NEXUS_OPERATION]: 'Nexus operations are not supported by Hourglass (GetSystemInfo reports capabilities.nexus false)',
};

/** Checks that need no state and no encoding: known command types, and a closing command only in last position. */
export function validateCommandList(commands: Command[]): void {
  commands.forEach((command, i) => {
    const type = command.commandType ?? 0;
    if (!HANDLERS[type]) {
      const name = CommandType[type] ?? `command type ${type}`;
      const disabled = DISABLED_FEATURES[type];
      // Not UNHANDLED_COMMAND: that cause means "new events raced the decision" and does not count as a failed attempt.
      throw new BadCommandError(Cause.WORKFLOW_TASK_FAILED_CAUSE_FEATURE_DISABLED, disabled ? `${name}: ${disabled}` : `${name} is not supported by this Hourglass version`);
    }
    if (isCloseCommand(command) && i !== commands.length - 1) {
      throw new BadCommandError(
        Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES,
        `${CommandType[type]} must be the last command of a workflow task completion (it is #${i + 1} of ${commands.length})`,
      );
    }
  });
}

/**
 * Size checks, one command at a time (they encode it, so they run in the batched command loop):
 * each command within the payload limit, all of them within one history transaction.
 */
export function commandSizeChecker(limits: Pick<CommandLimits, 'blobSize' | 'transactionSize'>, count: number): (command: Command, index: number) => void {
  let total = 0;
  return (command, i) => {
    const type = command.commandType ?? 0;
    const size = temporal.api.command.v1.Command.encode(command).len;
    total += size;
    if (size > limits.blobSize) {
      throw new BadCommandError(
        Cause.WORKFLOW_TASK_FAILED_CAUSE_PAYLOADS_TOO_LARGE,
        `${CommandType[type] ?? 'command'} #${i + 1} is ${megabytes(size)}, more than the ${megabytes(limits.blobSize)} payload limit`,
      );
    }
    if (total > limits.transactionSize) {
      throw new BadCommandError(
        Cause.WORKFLOW_TASK_FAILED_CAUSE_PAYLOADS_TOO_LARGE,
        `the first ${i + 1} of ${count} commands are already ${formatBytes(total)}, more than one history transaction may hold (${formatBytes(limits.transactionSize)})`,
      );
    }
  };
}

export function applyCommand(ctx: MutationContext, command: Command, env: CommandEnv): CommandEffect {
  const handler = HANDLERS[command.commandType ?? 0];
  if (!handler) throw new BadCommandError(Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, `command type ${command.commandType} is not supported`);
  return handler(ctx, command, env) ?? {};
}
