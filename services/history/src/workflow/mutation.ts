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
 * startedEventId placeholder in an activity close event whose ActivityTaskStarted was buffered
 * together with it; replaced by the Started event's real id when the buffer is flushed.
 */
export const BUFFERED_STARTED_EVENT_ID = -1;

const ACTIVITY_CLOSE_KEYS: ReadonlySet<EventAttributesKey> = new Set([
  'activityTaskCompletedEventAttributes',
  'activityTaskFailedEventAttributes',
  'activityTaskTimedOutEventAttributes',
  'activityTaskCanceledEventAttributes',
] as EventAttributesKey[]);

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
    const startedIdBySchedule = new Map<number, number>();
    for (const blob of buffered) {
      const event = eventBlob.unpack(blob) as HistoryEvent;
      const key = attributesKeyOf(event);
      if (key && ACTIVITY_CLOSE_KEYS.has(key)) {
        const attrs = event[key] as { scheduledEventId?: unknown; startedEventId?: unknown };
        if (Number(attrs.startedEventId) === BUFFERED_STARTED_EVENT_ID) {
          attrs.startedEventId = startedIdBySchedule.get(Number(attrs.scheduledEventId)) ?? 0;
        }
      }
      this.assignId(event);
      if (key === 'activityTaskStartedEventAttributes') {
        startedIdBySchedule.set(Number(event.activityTaskStartedEventAttributes?.scheduledEventId), Number(event.eventId));
      }
    }
    return buffered.length;
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
