/**
 * Workflow updates (protocol messages). An update is admitted into mutable state, delivered as a
 * `Request` message on the next workflow task, and answered by the worker with Acceptance /
 * Rejection / Response messages; Acceptance and Response become history events at the position of
 * the ProtocolMessage commands that reference them. Rejections leave no event.
 */
import { WorkflowTaskFailedCause, int64, quote, temporal } from '@hourglass/common';
import { BadCommandError } from './command-error';
import type { MutableState, UpdateInfo } from './mutable-state';
import type { MutationContext } from './mutation';

const update = temporal.api.update.v1;
const TYPE_PREFIX = 'type.googleapis.com/';
const REQUEST_TYPE = `${TYPE_PREFIX}temporal.api.update.v1.Request`;

export function admitUpdate(ctx: MutationContext, request: temporal.api.update.v1.IRequest): UpdateInfo {
  const updateId = request.meta?.updateId ?? '';
  ctx.bill('update');
  const info: UpdateInfo = {
    updateId,
    stage: 'admitted',
    request: Buffer.from(update.Request.encode(request).finish()).toString('base64'),
    sentInStartedEventId: 0,
    acceptedEventId: 0,
    completedEventId: 0,
    outcome: null,
    admittedTime: ctx.now,
  };
  ctx.ms.updates.set(updateId, info);
  ctx.ms.updateCount += 1;
  return info;
}

export function hasAdmittedUpdates(ms: MutableState): boolean {
  for (const u of ms.updates.values()) if (u.stage === 'admitted') return true;
  return false;
}

/** Updates admitted and not yet completed (Temporal's in-flight count). */
export function inFlightUpdates(ms: MutableState): number {
  let n = 0;
  for (const u of ms.updates.values()) if (u.stage !== 'completed') n += 1;
  return n;
}

/** Request messages for the workflow task being started (marks them sent). */
export function takeUpdateRequests(ctx: MutationContext, startedEventId: number): temporal.api.protocol.v1.IMessage[] {
  const messages: temporal.api.protocol.v1.IMessage[] = [];
  for (const [id, current] of [...ctx.ms.updates.entries()]) {
    // 'sent' with this task's id: the same poll asked again (idempotent start).
    if (current.stage !== 'admitted' && !(current.stage === 'sent' && current.sentInStartedEventId === startedEventId)) continue;
    const info = ctx.ms.updates.mutable(id) as UpdateInfo;
    info.stage = 'sent';
    info.sentInStartedEventId = startedEventId;
    messages.push({
      id: `${info.updateId}/request`,
      protocolInstanceId: info.updateId,
      // Sequencing: the update is ordered right before this task's WorkflowTaskStarted.
      eventId: int64(startedEventId - 1),
      body: { type_url: REQUEST_TYPE, value: Buffer.from(info.request, 'base64') },
    });
  }
  return messages;
}

/** The task that carried requests failed or timed out: they go again with the next one. */
export function resendUnansweredUpdates(ms: MutableState): void {
  for (const [id, current] of [...ms.updates.entries()]) {
    if (current.stage !== 'sent') continue;
    const info = ms.updates.mutable(id) as UpdateInfo;
    info.stage = 'admitted';
    info.sentInStartedEventId = 0;
  }
}

type Message = temporal.api.protocol.v1.IMessage;

function bodyType(message: Message): string {
  return (message.body?.type_url ?? '').replace(TYPE_PREFIX, '');
}

function bad(text: string): BadCommandError {
  return new BadCommandError(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE, text);
}

function updateOf(ms: MutableState, message: Message): Readonly<UpdateInfo> {
  const info = ms.updates.get(message.protocolInstanceId ?? '');
  if (!info) throw bad(`protocol message ${quote(message.id ?? '')} names update ${quote(message.protocolInstanceId ?? '')}, which this workflow does not have`);
  return info;
}

/** ProtocolMessage command → the event of the message it references (Acceptance or Response). */
export function applyProtocolMessageCommand(ctx: MutationContext, message: Message | undefined, messageId: string): void {
  if (!message) throw bad(`ProtocolMessage command references message ${quote(messageId)}, which is not in the completion`);
  const info = updateOf(ctx.ms, message);
  const value = message.body?.value ?? new Uint8Array();
  switch (bodyType(message)) {
    case 'temporal.api.update.v1.Acceptance': {
      const acceptance = update.Acceptance.decode(value);
      ctx.addEvent('workflowExecutionUpdateAcceptedEventAttributes', {
        protocolInstanceId: info.updateId,
        acceptedRequestMessageId: acceptance.acceptedRequestMessageId,
        acceptedRequestSequencingEventId: acceptance.acceptedRequestSequencingEventId,
        acceptedRequest: acceptance.acceptedRequest ?? update.Request.decode(Buffer.from(info.request, 'base64')),
      });
      return;
    }
    case 'temporal.api.update.v1.Response': {
      const response = update.Response.decode(value);
      if (info.acceptedEventId === 0) throw bad(`update ${quote(info.updateId)} completed before it was accepted`);
      ctx.addEvent('workflowExecutionUpdateCompletedEventAttributes', {
        meta: { ...(response.meta ?? {}), updateId: info.updateId },
        acceptedEventId: int64(info.acceptedEventId),
        outcome: response.outcome ?? {},
      });
      return;
    }
    default:
      throw bad(`ProtocolMessage command references a ${bodyType(message) || 'bodiless'} message; only Acceptance and Response have events`);
  }
}

/** Messages no command references: Rejections complete their update with a failure and write nothing. */
export function applyUnreferencedMessages(ctx: MutationContext, messages: Message[], referenced: ReadonlySet<string>): void {
  for (const message of messages) {
    if (referenced.has(message.id ?? '')) continue;
    if (bodyType(message) !== 'temporal.api.update.v1.Rejection') {
      throw bad(`message ${quote(message.id ?? '')} (${quote(bodyType(message))}) is not referenced by any ProtocolMessage command`);
    }
    const id = updateOf(ctx.ms, message).updateId;
    const rejection = update.Rejection.decode(message.body?.value ?? new Uint8Array());
    const info = ctx.ms.updates.mutable(id) as UpdateInfo;
    info.stage = 'completed';
    info.outcome = Buffer.from(update.Outcome.encode({ failure: rejection.failure ?? { message: 'update rejected' } }).finish()).toString('base64');
  }
}

/** The outcome of a rejected update (completed ones keep theirs in history). */
export function rejectionOutcomeOf(info: Readonly<UpdateInfo>): temporal.api.update.v1.IOutcome | undefined {
  if (!info.outcome) return undefined;
  return update.Outcome.decode(Buffer.from(info.outcome, 'base64'));
}
