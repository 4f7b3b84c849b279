import assert from 'node:assert/strict';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const EventType = temporal.api.enums.v1.EventType;
export type EventType = temporal.api.enums.v1.EventType;
export const WorkflowTaskFailedCause = temporal.api.enums.v1.WorkflowTaskFailedCause;
export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Event types that close an execution: the last event of every closed history is one of them. */
const CLOSE_EVENT_TYPES: ReadonlySet<EventType> = new Set([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

/** Int64 fields arrive as protobufjs `Long`s (or numbers); ids in these tests fit a double. */
export function toNumber(value: { toString(): string } | number | string | null | undefined): number {
  if (value === null || value === undefined) return NaN;
  return typeof value === 'number' ? value : Number(value.toString());
}

export function eventTypeName(type: EventType | null | undefined): string {
  return type === null || type === undefined ? String(type) : (EventType[type] ?? `UNKNOWN(${type})`);
}

/** `EVENT_TYPE_X` names of the events, in order: readable in assertion diffs. */
export function eventTypeNames(events: readonly HistoryEvent[]): string[] {
  return events.map((e) => eventTypeName(e.eventType));
}

export function eventsOfType(events: readonly HistoryEvent[], type: EventType): HistoryEvent[] {
  return events.filter((e) => e.eventType === type);
}

/** Fetches the history of an execution (all pages; the SDK follows next_page_token). */
export async function fetchEvents(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  const history = await handle.fetchHistory();
  return history.events ?? [];
}

/**
 * The shared invariant for every CLOSED execution a test creates: the history starts with
 * WorkflowExecutionStarted, its event ids are exactly 1..N with no gap or repeat, every event has a
 * time, and the last event closes the execution. Returns the events for further assertions.
 */
export async function assertContiguousHistory(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  const events = await fetchEvents(handle);
  const where = `history of ${handle.workflowId}`;
  assert.ok(events.length > 0, `${where} is empty`);
  const ids = events.map((e) => toNumber(e.eventId));
  const expected = events.map((_, i) => i + 1);
  assert.deepEqual(ids, expected, `${where}: event ids are not contiguous 1..${events.length}`);
  assert.equal(
    eventTypeName(events[0]!.eventType),
    'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
    `${where}: first event`,
  );
  const last = events[events.length - 1]!;
  assert.ok(
    last.eventType !== null && last.eventType !== undefined && CLOSE_EVENT_TYPES.has(last.eventType),
    `${where}: last event is ${eventTypeName(last.eventType)}, not a close event (${eventTypeNames(events).join(', ')})`,
  );
  // Event times need not be monotonic: like Temporal, events that arrive during a workflow task are
  // buffered and written after WorkflowTaskCompleted with the time they arrived. They must be set.
  for (const e of events) {
    const t = toNumber(e.eventTime?.seconds) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
    assert.ok(Number.isFinite(t) && t > 0, `${where}: event ${toNumber(e.eventId)} has no eventTime`);
  }
  return events;
}

/** WorkflowTaskFailed events whose cause is a nondeterminism error. */
export function nondeterminismFailures(events: readonly HistoryEvent[]): HistoryEvent[] {
  return eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).filter(
    (e) =>
      e.workflowTaskFailedEventAttributes?.cause ===
      WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR,
  );
}

/** One run of a chain linked by continue-as-new, retries or cron, with its full history. */
export interface ChainedRun {
  runId: string;
  events: HistoryEvent[];
}

/** The run id a closed run's last event hands over to (continue-as-new, workflow retry, cron), if any. */
export function nextRunIdOf(events: readonly HistoryEvent[]): string | undefined {
  const last = events[events.length - 1];
  const next =
    last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ??
    last?.workflowExecutionCompletedEventAttributes?.newExecutionRunId ??
    last?.workflowExecutionFailedEventAttributes?.newExecutionRunId ??
    last?.workflowExecutionTimedOutEventAttributes?.newExecutionRunId;
  return next || undefined;
}

/**
 * Follows a chain of runs from `firstRunId` through the new-run ids in each close event, checking
 * every run's history with `assertContiguousHistory` on the way (the last one only if it is closed,
 * unless `requireClosed`). Returns the runs in order.
 */
export async function fetchRunChain(
  client: Client,
  workflowId: string,
  firstRunId: string,
  options: { maxRuns?: number; requireClosed?: boolean } = {},
): Promise<ChainedRun[]> {
  const maxRuns = options.maxRuns ?? 100;
  const runs: ChainedRun[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    assert.ok(runs.length < maxRuns, `${workflowId}: more than ${maxRuns} chained runs`);
    assert.ok(!runs.some((r) => r.runId === runId), `${workflowId}: run ${runId} appears twice in its chain`);
    const handle = client.workflow.getHandle(workflowId, runId);
    const events = await fetchEvents(handle);
    const last = events[events.length - 1];
    const closed = last?.eventType !== null && last?.eventType !== undefined && CLOSE_EVENT_TYPES.has(last.eventType);
    if (closed || options.requireClosed) await assertContiguousHistory(handle);
    runs.push({ runId, events });
    runId = closed ? nextRunIdOf(events) : undefined;
  }
  return runs;
}

/** The decoded arguments of every WorkflowExecutionSignaled event named `signalName`, in order. */
export function signalArgs(events: readonly HistoryEvent[], signalName: string): unknown[][] {
  return eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((a) => a?.signalName === signalName)
    .map((a) => (a?.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p)));
}
