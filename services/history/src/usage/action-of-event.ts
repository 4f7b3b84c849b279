/** The history events whose recording is itself a billable action (markers are counted per workflow task instead). */
import type { BillableAction } from '@hourglass/usage';
import type { EventAttributesKey } from '../workflow/events';

export const ACTION_OF_EVENT: Partial<Record<EventAttributesKey, BillableAction>> = {
  workflowExecutionStartedEventAttributes: 'workflowStarted',
  workflowExecutionSignaledEventAttributes: 'signal',
  timerStartedEventAttributes: 'timerStarted',
  upsertWorkflowSearchAttributesEventAttributes: 'upsert',
  workflowPropertiesModifiedEventAttributes: 'upsert',
};


/**
 * The billable actions the recording of one history event counted, for views of a history (the
 * portal's): the events of ACTION_OF_EVENT count one action; an ActivityTaskStarted counts one per
 * attempt (every attempt was handed to a worker; the history keeps the last one's event). Markers
 * are counted once per workflow task, not per event, and queries, updates and heartbeats leave no
 * event of their own, so none of them appears here.
 */
export function billableActionsOfEvent(event: { [K in EventAttributesKey]?: unknown }): { action: BillableAction; count: number }[] {
  for (const key of Object.keys(ACTION_OF_EVENT) as EventAttributesKey[]) {
    if (event[key]) return [{ action: ACTION_OF_EVENT[key] as BillableAction, count: 1 }];
  }
  const started = event.activityTaskStartedEventAttributes as { attempt?: number | null } | null | undefined;
  if (started) return [{ action: 'activityStarted', count: Math.max(1, started.attempt ?? 1) }];
  return [];
}
