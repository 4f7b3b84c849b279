/**
 * MutationContext: what one change to a run produces — new history events (ids assigned, or
 * buffered while a workflow task is in flight), tasks of every category, item rows — and what it
 * asks of the mutation helper (a new workflow task, a successor run). The shard commits all of it
 * in one transaction (shard/shard-context.ts `updateWorkflow`).
 *
 * Every appended or buffered event goes through `applyEvent`, its one effect on mutable state.
 */
import { msToTimestamp, type HistoryEvent, int64, type temporal } from '@hourglass/common';
import type { TaskCategory } from '../queues/task-categories';
import { TaskCategories } from '../queues/task-categories';
import type { TimerTask, TransferTask } from '../tasks';
import { applyEvent, BUFFERED_STARTED_EVENT_ID } from './apply-event';
import { attributesKeyOf, encodeEvent, eventTypeOf, withEventId, type EventAttributes, type EventAttributesKey } from './events';
import { isWorkflowTaskStarted, type MutableState } from './mutable-state';
import { visibleStateOf, type VisibleState } from './visibility';
import type { HistoryTaskKey } from '@hourglass/persistence';
import type { BillableAction } from '@hourglass/usage';
import { ACTION_OF_EVENT } from '../usage/action-of-event';

export { BUFFERED_STARTED_EVENT_ID };

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
  /** Not a billable action even if its type is one (signals a reset re-applies were billed when first received). */
  unbilled?: boolean;
  /** An event the worker's replay skips (HistoryEvent.worker_may_ignore), as WorkflowExecutionOptionsUpdated is. */
  workerMayIgnore?: boolean;
}

/** A task produced by a mutation, before the shard gives it an id. */
export interface PendingTask {
  category: TaskCategory;
  /** When due (scheduled categories); 0 for immediate ones. */
  fireAt: number;
  task: { type: string };
  /** Told the task's key once the commit gives it an id (before the state is written). */
  onKey?: (key: HistoryTaskKey) => void;
}

/**
 * A workflow task started as soon as this change schedules it and handed to the caller instead of
 * going through matching: the next task inline in a completion's response, or the first task of an
 * eagerly started run. Durable like any other: its Scheduled and Started events and its
 * start-to-close timeout commit with the change, so a lost response ends in a timeout and a retry.
 */
export interface InlineWorkflowTask {
  requestId: string;
  identity: string;
  /** Read when the task starts (after the change's own events). */
  suggestContinueAsNew(ctx: MutationContext): boolean;
  /** Set when the change scheduled and started the task (and the run was still open at the end of it). */
  started?: StartedWorkflowTask;
}

/** What a poll response needs of a started workflow task, read in the change that started it. */
export interface StartedWorkflowTask {
  startedEventId: number;
  scheduledEventId: number;
  attempt: number;
  scheduledTime: number;
  startedTime: number;
  previousStartedEventId: number;
  workflowTypeName: string;
  taskQueue: string;
  messages: temporal.api.protocol.v1.IMessage[];
}

export class MutationContext {
  /** Events that got ids in this mutation, in order: the history append. */
  readonly events: HistoryEvent[] = [];
  /** `events`, encoded once: what gets persisted. */
  readonly encodedEvents: Uint8Array[] = [];
  readonly tasks: PendingTask[] = [];
  /** Billable actions this change records, committed with it as a usage task (exactly once). */
  readonly usage = new Map<BillableAction, number>();
  /** The change asks for a workflow task (the mutation helper schedules one unless one is pending or the run cannot take one). */
  private workflowTaskRequested = false;

  /** Start the workflow task this change schedules at once, for the caller (see InlineWorkflowTask). */
  inlineWorkflowTask: InlineWorkflowTask | undefined;

  /** A run that continues this one (continue-as-new, retry, cron), created in the same commit. */
  successor: MutationContext | undefined;
  /** The run's status before this mutation: a change moves the workflow's current pointer. */
  readonly initialStatus: number;
  /** What search showed of the run before this mutation: a change of it adds a visibility task to the commit. */
  readonly initialVisible: VisibleState;
  /** The workflow task's timeout timers before this mutation: those it no longer holds are dropped after the commit. */
  readonly initialTimeoutTasks: readonly HistoryTaskKey[];
  constructor(readonly ms: MutableState, readonly now: number) {
    this.initialStatus = ms.executionInfo.status;
    this.initialVisible = visibleStateOf(ms);
    this.initialTimeoutTasks = ms.workflowTask?.timeoutTasks ?? [];
  }

  /**
   * Timeout timers this mutation made pointless: its workflow task's (it ended the task, or
   * started it) and those of the activities it removed. Read after the commit, before the state
   * settles; work proportional to the change.
   */
  staleTimeoutTasks(): HistoryTaskKey[] {
    const stale: HistoryTaskKey[] = [];
    if (this.initialTimeoutTasks.length > 0) {
      const held = new Set((this.ms.workflowTask?.timeoutTasks ?? []).map((key) => key.taskId));
      for (const key of this.initialTimeoutTasks) if (!held.has(key.taskId)) stale.push(key);
    }
    for (const activity of this.ms.activities.removedItems()) stale.push(...(activity.timeoutTasks ?? []));
    return stale;
  }

  /** Appends an event (or buffers it), applies its effect on state, and returns it; a buffered event has eventId 0 for now. */
  addEvent<K extends EventAttributesKey>(key: K, attributes: EventAttributes<K>, options: AddEventOptions = {}): HistoryEvent {
    const event: HistoryEvent = {
      eventId: int64(0),
      eventTime: msToTimestamp(options.eventTime ?? this.now),
      eventType: eventTypeOf(key),
      [key]: attributes,
      ...(options.userMetadata ? { userMetadata: options.userMetadata } : {}),
      ...(options.workerMayIgnore ? { workerMayIgnore: true } : {}),
    };
    // Billed when recorded, buffered or not: a buffered event is persisted with the change too.
    const action = options.unbilled ? undefined : ACTION_OF_EVENT[key];
    if (action) this.bill(action);
    if (key === 'markerRecordedEventAttributes') this.usage.set('marker', 1);
    if (options.bufferable && isWorkflowTaskStarted(this.ms)) {
      this.ms.bufferEvent(event, encodeEvent(event));
    } else {
      this.assignId(event);
    }
    applyEvent(this.ms, event);
    return event;
  }

  /** Counts a billable action of this change (committed with it, so counted exactly once). */
  bill(action: BillableAction, count = 1): void {
    this.usage.set(action, (this.usage.get(action) ?? 0) + count);
  }

  hasBufferedEvents(): boolean {
    return this.ms.bufferedEventCount > 0;
  }

  /** Gives buffered events their ids (their effect on state was applied when they were buffered). Returns how many. */
  flushBufferedEvents(): number {
    const buffered = this.ms.takeBufferedEvents();
    const startedIds = new Map<string, number>();
    for (const { event, encoded } of buffered) {
      const key = attributesKeyOf(event);
      const closeLink = key ? CLOSE_KEYS[key] : undefined;
      let unchanged = encoded;
      if (key && closeLink) {
        const attrs = event[key] as Record<string, unknown>;
        if (Number(attrs.startedEventId) === BUFFERED_STARTED_EVENT_ID) {
          attrs.startedEventId = int64(startedIds.get(`${closeLink}:${Number(attrs[closeLink])}`) ?? 0);
          unchanged = undefined;
        }
      }
      this.assignId(event, unchanged);
      const startedLink = key ? STARTED_KEYS[key] : undefined;
      if (key && startedLink) {
        const ref = Number((event[key] as Record<string, unknown>)[startedLink]);
        startedIds.set(`${startedLink}:${ref}`, Number(event.eventId));
        // A child's Started event id becomes known only now.
        if (startedLink === 'initiatedEventId' && this.ms.children.get(String(ref))?.startedEventId === BUFFERED_STARTED_EVENT_ID) {
          (this.ms.children.mutable(String(ref)) as { startedEventId: number }).startedEventId = Number(event.eventId);
        }
      }
    }
    return buffered.length;
  }

  /** Events copied verbatim from another run (reset); mutable state was rebuilt from them already. */
  adoptEvents(events: HistoryEvent[]): void {
    for (const event of events) {
      this.events.push(event);
      this.encodedEvents.push(encodeEvent(event));
    }
  }

  addTask(category: TaskCategory, fireAt: number, task: { type: string }): void {
    this.tasks.push({ category, fireAt: category.kind === 'immediate' ? 0 : fireAt, task });
  }

  addTransferTask(task: TransferTask): void {
    this.addTask(TaskCategories.transfer, 0, task);
  }

  /** `onKey` learns the task's key when the commit gives it an id, before the run's state is written (see WorkflowTaskInfo.timeoutTasks). */
  addTimerTask(fireAt: number, task: TimerTask, onKey?: (key: HistoryTaskKey) => void): void {
    this.tasks.push({ category: TaskCategories.timer, fireAt, task, ...(onKey ? { onKey } : {}) });
  }

  /** Asks the mutation helper for a workflow task to deliver what this change recorded. */
  requestWorkflowTask(): void {
    this.workflowTaskRequested = true;
  }

  get wantsWorkflowTask(): boolean {
    return this.workflowTaskRequested;
  }

  hasChanges(): boolean {
    return (
      this.events.length > 0 ||
      this.tasks.length > 0 ||
      this.usage.size > 0 ||
      this.workflowTaskRequested ||
      this.ms.hasItemChanges() ||
      this.ms.coreChanged()
    );
  }

  /** Encoded bytes of the events this change appends (what one history transaction writes). */
  appendedBytes(): number {
    return this.encodedEvents.reduce((total, e) => total + e.length, 0);
  }

  /** `unassigned`: the event's encoding with event id 0, when nothing else changed since (spliced instead of encoded again). */
  private assignId(event: HistoryEvent, unassigned?: Uint8Array): void {
    const id = this.ms.nextEventId++;
    event.eventId = int64(id);
    const encoded = (unassigned && withEventId(unassigned, id)) ?? encodeEvent(event);
    this.ms.executionInfo.historySizeBytes += encoded.length;
    this.events.push(event);
    this.encodedEvents.push(encoded);
  }
}
