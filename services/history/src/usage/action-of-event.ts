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

