/**
 * Billable actions, as Temporal Cloud's "Temporal Cloud Actions" page defines them
 * (https://docs.temporal.io/cloud/actions). Each row is one action type: its persisted record type
 * (the `record_type` of the hourly usage counters: never rename or reuse one), what counts it, and
 * where Hourglass counts it. Actions are counted by the commit that records them (see
 * the history service's `MutationContext.bill` and its usage task category), so a worker's replay never counts and a
 * retried or crashed write counts exactly once. docs/metering.md has the same table.
 */
export interface BillableActionType {
  /** Persisted: the record type of its hourly counters. */
  readonly recordType: string;
  /** What Temporal Cloud counts. */
  readonly counts: string;
}

export const BillableActions = {
  workflowStarted: {
    recordType: 'workflow_started',
    counts: 'a run starts: client start, the start of a signal-with-start, a child workflow, each new run of continue-as-new, cron and workflow retry',
  },
  workflowReset: { recordType: 'workflow_reset', counts: 'ResetWorkflowExecution creates the reset run (the copied history is not counted again)' },
  signal: {
    recordType: 'signal',
    counts: 'a signal is recorded: SignalWorkflowExecution, the signal of a signal-with-start, an external signal delivered (signals re-applied by a reset are not counted again)',
  },
  query: { recordType: 'query', counts: 'a QueryWorkflow is answered by a worker' },
  update: { recordType: 'update', counts: 'an update is received (admitted); a retry with the same update id is not counted again' },
  activityStarted: { recordType: 'activity_started', counts: 'an activity attempt is handed to a worker: every attempt, retries included' },
  activityHeartbeat: { recordType: 'activity_heartbeat', counts: 'a RecordActivityTaskHeartbeat is recorded on the server (SDK throttling decides how many arrive)' },
  marker: { recordType: 'marker', counts: 'a workflow task completion records local-activity or side-effect markers: once per such workflow task' },
  timerStarted: { recordType: 'timer_started', counts: 'a timer is started (StartTimer command)' },
  upsert: { recordType: 'upsert', counts: 'search attributes or memo are upserted (UpsertWorkflowSearchAttributes, ModifyWorkflowProperties)' },
  scheduleAction: {
    recordType: 'schedule_action',
    counts: 'a schedule takes an action (on its spec, triggered or backfilled): 2 per action, as Temporal Cloud counts a schedule execution as 3 actions with the workflow it starts',
  },
} as const satisfies Record<string, BillableActionType>;

export type BillableAction = keyof typeof BillableActions;

export const BILLABLE_ACTIONS: readonly BillableAction[] = Object.keys(BillableActions) as BillableAction[];

/** Record types of storage usage (byte-seconds), beside the action types. */
export const StorageRecordTypes = {
  active: 'active_storage_byte_seconds',
  retained: 'retained_storage_byte_seconds',
} as const;

export function actionOfRecordType(recordType: string): BillableAction | undefined {
  return BILLABLE_ACTIONS.find((a) => BillableActions[a].recordType === recordType);
}

/** True for the record types of billable actions (RECORD_TYPE_ACTIONS), false for storage. */
export function isActionRecordType(recordType: string): boolean {
  return actionOfRecordType(recordType) !== undefined;
}
