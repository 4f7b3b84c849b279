/**
 * MutationContext: what one change to a run produces — new history events (ids assigned, or
 * buffered while a workflow task is in flight), transfer tasks and timer tasks. The shard commits
 * all of it in one transaction (see shard/shard-context.ts `updateExecution`).
 */
import { msToTimestamp, type HistoryEvent, int64 } from '@hourglass/common';
import type { PendingTimerTask, TimerTask, TransferTask } from '../tasks';
import { eventBlob } from './codec';
import { attributesKeyOf, encodeEvent, eventTypeOf, type EventAttributes, type EventAttributesKey } from './events';
import { isWorkflowTaskStarted, type MutableStateData } from './mutable-state';

/**
 * startedEventId placeholder in a close event (activity or child workflow) whose Started event is
 * still in the buffer; replaced by the Started event's real id when the buffer is flushed.
 */
export const BUFFERED_STARTED_EVENT_ID = -1;

/** Started events that close events may reference while both are buffered, with the id field linking them. */
const STARTED_KEYS: Partial<Record<EventAttributesKey, 'scheduledEventId' | 'initiatedEventId'>> = {
  activityTaskStartedEventAttributes: 'scheduledEventId',
  childWorkflowExecutionStartedEventAttributes: 'initiatedEventId',
};

const CLOSE_KEYS: Partial<Record<EventAttributesKey, 'scheduledEventId' | 'initiatedEventId'>> = {
  activityTaskCompletedEventAttributes: 'scheduledEventId',
  activityTaskFailedEventAttributes: 'scheduledEventId',
  activityTaskTimedOutEventAttributes: 'scheduledEventId',
  activityTaskCanceledEventAttributes: 'scheduledEventId',
  childWorkflowExecutionCompletedEventAttributes: 'initiatedEventId',
  childWorkflowExecutionFailedEventAttributes: 'initiatedEventId',
  childWorkflowExecutionCanceledEventAttributes: 'initiatedEventId',
  childWorkflowExecutionTimedOutEventAttributes: 'initiatedEventId',
  childWorkflowExecutionTerminatedEventAttributes: 'initiatedEventId',
};

export interface AddEventOptions {
  /** External events (activity results, timer fires, signals…) wait in the buffer while a workflow task is started. */
  bufferable?: boolean;
  /** Event time when it is not "now" (e.g. the lazily written ActivityTaskStarted). */
  eventTime?: number;
  /** Summary/details the SDK attached (HistoryEvent.user_metadata). */
  userMetadata?: HistoryEvent['userMetadata'];
}

export class MutationContext {
  /** Events that got ids in this mutation, in order: the history append. */
  readonly events: HistoryEvent[] = [];
  /** `events`, encoded once: what gets persisted. */
  readonly encodedEvents: Uint8Array[] = [];
  readonly transferTasks: TransferTask[] = [];
  readonly timerTasks: PendingTimerTask[] = [];
  /** Set when this mutation only touched mutable state (no events) but still must be persisted. */
  private dirty = false;

  /** A run that continues this one (continue-as-new, retry, cron), created in the same commit. */
  successor: MutationContext | undefined;
  /** The run's status before this mutation: a change moves the workflow's current pointer. */
  readonly initialStatus: number;

  constructor(readonly ms: MutableStateData, readonly now: number) {
    this.initialStatus = ms.executionInfo.status;
  }

  /** Appends an event (or buffers it) and returns it; a buffered event has eventId 0 for now. */
  addEvent<K extends EventAttributesKey>(key: K, attributes: EventAttributes<K>, options: AddEventOptions = {}): HistoryEvent {
    const event: HistoryEvent = {
      eventId: int64(0),
      eventTime: msToTimestamp(options.eventTime ?? this.now),
      eventType: eventTypeOf(key),
      [key]: attributes,
      ...(options.userMetadata ? { userMetadata: options.userMetadata } : {}),
    };
    if (options.bufferable && isWorkflowTaskStarted(this.ms)) {
      this.ms.bufferedEvents.push(eventBlob.pack(event) as string);
      this.dirty = true;
      return event;
    }
    this.assignId(event);
    return event;
  }

  hasBufferedEvents(): boolean {
    return this.ms.bufferedEvents.length > 0;
  }

  /** Gives buffered events their ids, after the workflow task that held them closed. Returns how many. */
  flushBufferedEvents(): number {
    const buffered = this.ms.bufferedEvents;
    if (buffered.length === 0) return 0;
    this.ms.bufferedEvents = [];
    const startedIds = new Map<string, number>();
    for (const blob of buffered) {
      const event = eventBlob.unpack(blob) as HistoryEvent;
      const key = attributesKeyOf(event);
      const closeLink = key ? CLOSE_KEYS[key] : undefined;
      if (key && closeLink) {
        const attrs = event[key] as Record<string, unknown>;
        if (Number(attrs.startedEventId) === BUFFERED_STARTED_EVENT_ID) {
          attrs.startedEventId = int64(startedIds.get(`${closeLink}:${Number(attrs[closeLink])}`) ?? 0);
        }
      }
      this.assignId(event);
      const startedLink = key ? STARTED_KEYS[key] : undefined;
      if (key && startedLink) {
        const ref = Number((event[key] as Record<string, unknown>)[startedLink]);
        startedIds.set(`${startedLink}:${ref}`, Number(event.eventId));
        // A child's Started event id becomes known only now.
        const child = startedLink === 'initiatedEventId' ? this.ms.children[String(ref)] : undefined;
        if (child && child.startedEventId === BUFFERED_STARTED_EVENT_ID) child.startedEventId = Number(event.eventId);
      }
    }
    return buffered.length;
  }

  /** Events copied verbatim from another run (reset); mutable state already accounts for them. */
  adoptEvents(events: HistoryEvent[]): void {
    for (const event of events) {
      this.events.push(event);
      this.encodedEvents.push(encodeEvent(event));
    }
  }

  addTransferTask(task: TransferTask): void {
    this.transferTasks.push(task);
  }

  addTimerTask(fireAt: number, task: TimerTask): void {
    this.timerTasks.push({ fireAt, task });
  }

  /** Mutable state changed without events or tasks (e.g. an activity attempt started). */
  markDirty(): void {
    this.dirty = true;
  }

  hasChanges(): boolean {
    return this.dirty || this.events.length > 0 || this.transferTasks.length > 0 || this.timerTasks.length > 0;
  }

  private assignId(event: HistoryEvent): void {
    event.eventId = int64(this.ms.nextEventId++);
    const encoded = encodeEvent(event);
    this.ms.executionInfo.historySizeBytes += encoded.length;
    this.events.push(event);
    this.encodedEvents.push(encoded);
  }
}
