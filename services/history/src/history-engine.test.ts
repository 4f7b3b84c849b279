/**
 * The history state machine, driven through the engine's API on a real (in-memory) store:
 * each command produces its events, ids stay contiguous, external events wait in the buffer
 * while a workflow task is in flight, and timers/retries are persisted tasks.
 */
import { TaskCategories } from './queues/task-categories';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CommandType, RetryState, TimeoutType, WorkflowTaskFailedCause, msToDuration, temporal, toNumber } from '@hourglass/common';
import type { WorkflowTaskToken } from '@hourglass/contracts';
import { continueAsNew } from './workflow/close';
import { completeWorkflow, createTestEngine, eventually, scheduleActivity, startTimer, typeNames, type TestEngine } from './testing/engine-fixture';

type Command = temporal.api.command.v1.ICommand;

let t: TestEngine;
beforeEach(async () => {
  t = await createTestEngine();
});
afterEach(async () => {
  await t.close();
});

const start = (workflowId: string, extra?: Partial<temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest>) => t.start(workflowId, extra);
const history = (workflowId: string, runId: string) => t.history(workflowId, runId);
const startWorkflowTask = (workflowId: string, runId: string, pollKind?: 'normal' | 'sticky') => t.startWorkflowTask(workflowId, runId, pollKind);
const complete = (token: WorkflowTaskToken, commands: Command[], extra?: Partial<temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedRequest>) => t.complete(token, commands, extra);
const startActivity = (workflowId: string, runId: string, scheduledEventId: number, attempt?: number) => t.startActivity(workflowId, runId, scheduledEventId, attempt);

describe('history state machine', () => {
  it('start writes WorkflowExecutionStarted + WorkflowTaskScheduled and pushes the task to matching', async () => {
    const runId = await start('wf-start');
    assert.deepEqual(typeNames(await history('wf-start', runId)), ['WORKFLOW_EXECUTION_STARTED', 'WORKFLOW_TASK_SCHEDULED']);
    await eventually(() => t.matching.pushed.find((p) => p.kind === 'workflow' && p.workflowId === 'wf-start'));
  });

  it('a started workflow task delivers the history up to its WorkflowTaskStarted', async () => {
    const runId = await start('wf-poll');
    const { res } = await startWorkflowTask('wf-poll', runId);
    assert.deepEqual(typeNames(res.history?.events ?? []), ['WORKFLOW_EXECUTION_STARTED', 'WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED']);
    assert.equal(toNumber(res.startedEventId), 3);
    assert.equal(toNumber(res.previousStartedEventId), 0);
    assert.equal(res.attempt, 1);
    assert.equal(res.workflowExecutionTaskQueue?.name, 'tq');
  });

  it('each command becomes its event, in command order, after WorkflowTaskCompleted', async () => {
    const runId = await start('wf-cmds');
    const { token } = await startWorkflowTask('wf-cmds', runId);
    await complete(token, [
      scheduleActivity('a1'),
      startTimer('t1', 5000),
      { commandType: CommandType.COMMAND_TYPE_RECORD_MARKER, recordMarkerCommandAttributes: { markerName: 'core_patch' } },
      { commandType: CommandType.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, upsertWorkflowSearchAttributesCommandAttributes: { searchAttributes: { indexedFields: {} } } },
      { commandType: CommandType.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES, modifyWorkflowPropertiesCommandAttributes: { upsertedMemo: { fields: {} } } },
    ], { sdkMetadata: { langUsedFlags: [1, 2] } });
    const events = await history('wf-cmds', runId);
    assert.deepEqual(typeNames(events).slice(3), [
      'WORKFLOW_TASK_COMPLETED',
      'ACTIVITY_TASK_SCHEDULED',
      'TIMER_STARTED',
      'MARKER_RECORDED',
      'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
      'WORKFLOW_PROPERTIES_MODIFIED',
    ]);
    assert.deepEqual(events[3]?.workflowTaskCompletedEventAttributes?.sdkMetadata?.langUsedFlags, [1, 2], 'sdk_metadata is kept verbatim');
    for (const e of events.slice(4)) {
      const attrs = Object.values(e).find((v) => v && typeof v === 'object' && 'workflowTaskCompletedEventId' in v) as { workflowTaskCompletedEventId: unknown };
      assert.equal(toNumber(attrs.workflowTaskCompletedEventId as number), 4);
    }
    const scheduled = events[4]?.activityTaskScheduledEventAttributes;
    assert.equal(toNumber(scheduled?.startToCloseTimeout?.seconds), 10);
    assert.equal(scheduled?.retryPolicy?.backoffCoefficient, 2, 'default retry policy is filled in');
    await eventually(() => t.matching.pushed.find((p) => p.kind === 'activity' && p.workflowId === 'wf-cmds'));
  });

  it('an activity result writes Started (lazily) + Completed and schedules a workflow task', async () => {
    const runId = await start('wf-act');
    const { token } = await startWorkflowTask('wf-act', runId);
    await complete(token, [scheduleActivity('a1')]);
    const act = await startActivity('wf-act', runId, 5);
    assert.deepEqual(typeNames(await history('wf-act', runId)).slice(-1), ['ACTIVITY_TASK_SCHEDULED'], 'no Started event at dispatch');
    await t.engine.respondActivityTaskCompleted({ target: { by: 'token', token: act }, result: { payloads: [{ data: Buffer.from('"ok"') }] }, identity: 'worker-1' });
    const events = await history('wf-act', runId);
    assert.deepEqual(typeNames(events).slice(5), ['ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_COMPLETED', 'WORKFLOW_TASK_SCHEDULED']);
    assert.equal(toNumber(events[6]?.activityTaskCompletedEventAttributes?.startedEventId), 6);
  });

  it('events arriving while a workflow task runs are buffered and flushed after its completion events', async () => {
    const runId = await start('wf-buffer');
    const first = await startWorkflowTask('wf-buffer', runId);
    await complete(first.token, [scheduleActivity('a1'), scheduleActivity('a2')]);
    const act1 = await startActivity('wf-buffer', runId, 5);
    const act2 = await startActivity('wf-buffer', runId, 6);
    await t.engine.respondActivityTaskCompleted({ target: { by: 'token', token: act1 }, identity: 'w' });
    const second = await startWorkflowTask('wf-buffer', runId);
    // The second activity completes while the workflow task is in flight.
    await t.engine.respondActivityTaskCompleted({ target: { by: 'token', token: act2 }, identity: 'w' });
    const during = await history('wf-buffer', runId);
    assert.equal(typeNames(during).at(-1), 'WORKFLOW_TASK_STARTED', 'nothing is written after WorkflowTaskStarted while it runs');
    await complete(second.token, [startTimer('t1', 1000)]);
    const events = await history('wf-buffer', runId);
    assert.deepEqual(typeNames(events).slice(9), ['WORKFLOW_TASK_STARTED', 'WORKFLOW_TASK_COMPLETED', 'TIMER_STARTED', 'ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_COMPLETED', 'WORKFLOW_TASK_SCHEDULED']);
    const completed = events[13]?.activityTaskCompletedEventAttributes;
    assert.equal(toNumber(completed?.scheduledEventId), 6);
    assert.equal(toNumber(completed?.startedEventId), 13, 'buffered Started/Completed pair is wired at flush');
  });

  it('closing the workflow while events are buffered fails the task with exactly UnhandledCommand', async () => {
    const runId = await start('wf-unhandled');
    const first = await startWorkflowTask('wf-unhandled', runId);
    await complete(first.token, [scheduleActivity('a1'), scheduleActivity('a2')]);
    const act1 = await startActivity('wf-unhandled', runId, 5);
    const act2 = await startActivity('wf-unhandled', runId, 6);
    await t.engine.respondActivityTaskCompleted({ target: { by: 'token', token: act1 }, identity: 'w' });
    const second = await startWorkflowTask('wf-unhandled', runId);
    await t.engine.respondActivityTaskCompleted({ target: { by: 'token', token: act2 }, identity: 'w' });
    await assert.rejects(complete(second.token, [completeWorkflow]), (err: Error & { code?: string }) => err.message === 'UnhandledCommand' && err.code === 'INVALID_ARGUMENT');
    const events = await history('wf-unhandled', runId);
    assert.deepEqual(typeNames(events).slice(10), ['WORKFLOW_TASK_FAILED', 'ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_COMPLETED', 'WORKFLOW_TASK_SCHEDULED']);
    assert.equal(events[10]?.workflowTaskFailedEventAttributes?.cause, WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND);
    assert.equal(events[13]?.workflowTaskScheduledEventAttributes?.attempt, 1, 'UnhandledCommand does not count as a failed attempt');
    const d = await t.engine.describeWorkflowExecution({ namespaceId: t.namespace.id, request: { execution: { workflowId: 'wf-unhandled', runId } } });
    assert.equal(d.workflowExecutionInfo?.status, temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
  });

  it('a Nexus command fails the task with FEATURE_DISABLED; repeated rejections wait before the next attempt (a persisted timer) instead of spinning', async () => {
    const runId = await start('wf-nexus');
    const nexus: Command = {
      commandType: CommandType.COMMAND_TYPE_SCHEDULE_NEXUS_OPERATION,
      scheduleNexusOperationCommandAttributes: { endpoint: 'ep', service: 'svc', operation: 'op', scheduleToCloseTimeout: msToDuration(60_000) },
    };
    const first = await startWorkflowTask('wf-nexus', runId);
    await assert.rejects(complete(first.token, [nexus]), /SCHEDULE_NEXUS_OPERATION: Nexus operations are not supported by Hourglass/);
    let events = await history('wf-nexus', runId);
    assert.equal(events.at(-2)?.workflowTaskFailedEventAttributes?.cause, WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FEATURE_DISABLED);
    assert.equal(typeNames(events).at(-1), 'WORKFLOW_TASK_SCHEDULED', 'the first rejection retries at once');
    // The second attempt is rejected too: no workflow task until the pause (1 s) is over.
    const second = await startWorkflowTask('wf-nexus', runId);
    assert.equal(second.res.attempt, 2);
    await assert.rejects(complete(second.token, [nexus]), /not supported/);
    events = await history('wf-nexus', runId);
    assert.equal(typeNames(events).at(-1), 'WORKFLOW_TASK_FAILED');
    const rows = await t.persistence.executions.listScheduledTasks(t.engine.shardFor(t.namespace.id, 'wf-nexus').shardId, TaskCategories.timer.id, Number.MAX_SAFE_INTEGER, 100);
    assert.ok(rows.some((r) => r.type === 'workflow-task-retry' && r.runId === runId), 'the pause is a persisted timer task');
    t.clock.advance(999);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(typeNames(await history('wf-nexus', runId)).at(-1), 'WORKFLOW_TASK_FAILED');
    t.clock.advance(1);
    await eventually(async () => typeNames(await history('wf-nexus', runId)).at(-1) === 'WORKFLOW_TASK_SCHEDULED');
    const third = await startWorkflowTask('wf-nexus', runId);
    assert.equal(third.res.attempt, 3);
    // A signal during the pause is new input: it brings a workflow task at once.
    await assert.rejects(complete(third.token, [nexus]), /not supported/);
    assert.equal(typeNames(await history('wf-nexus', runId)).at(-1), 'WORKFLOW_TASK_FAILED');
    await t.engine.signalWorkflowExecution({ namespaceId: t.namespace.id, request: { namespace: t.namespace.name, workflowExecution: { workflowId: 'wf-nexus', runId }, signalName: 's', identity: 'test' } });
    assert.deepEqual(typeNames(await history('wf-nexus', runId)).slice(-2), ['WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_TASK_SCHEDULED']);
    // The 2 s pause timer then finds a workflow task already there and adds nothing.
    t.clock.advance(2_000);
    const fourth = await startWorkflowTask('wf-nexus', runId);
    await complete(fourth.token, [completeWorkflow]);
    assert.equal(typeNames(await history('wf-nexus', runId)).at(-1), 'WORKFLOW_EXECUTION_COMPLETED');
  });

  it('a bad command fails the workflow task with its cause, writes none of the completion and answers INVALID_ARGUMENT', async () => {
    const runId = await start('wf-bad');
    const { token } = await startWorkflowTask('wf-bad', runId);
    await assert.rejects(complete(token, [scheduleActivity('a1'), scheduleActivity('a1')]), /already used by a pending activity/);
    const events = await history('wf-bad', runId);
    assert.deepEqual(typeNames(events).slice(3), ['WORKFLOW_TASK_FAILED', 'WORKFLOW_TASK_SCHEDULED']);
    assert.equal(events[3]?.workflowTaskFailedEventAttributes?.cause, WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID);
    assert.equal(events[4]?.workflowTaskScheduledEventAttributes?.attempt, 2);
  });

  it('a command over the payload limit fails the workflow task (PAYLOADS_TOO_LARGE) and writes none of the completion', async () => {
    const runId = await start('wf-big');
    const { token } = await startWorkflowTask('wf-big', runId);
    const big = { payloads: [{ data: Buffer.alloc(3 * 1024 * 1024, 1) }] };
    await assert.rejects(complete(token, [scheduleActivity('a1', { input: big })]), /3\.0 MB, more than the 2\.0 MB payload limit/);
    const events = await history('wf-big', runId);
    assert.deepEqual(typeNames(events).slice(3), ['WORKFLOW_TASK_FAILED', 'WORKFLOW_TASK_SCHEDULED']);
    assert.equal(events[3]?.workflowTaskFailedEventAttributes?.cause, WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PAYLOADS_TOO_LARGE);
  });

  it('a sticky run dispatches to its sticky queue until ResetStickyTaskQueue', async () => {
    const runId = await start('wf-sticky');
    const first = await startWorkflowTask('wf-sticky', runId);
    await complete(first.token, [startTimer('t1', 1000)], { stickyAttributes: { workerTaskQueue: { name: 'worker-1-sticky' }, scheduleToStartTimeout: msToDuration(5000) } });
    t.clock.advance(1000);
    await eventually(() => t.matching.pushed.find((p) => p.workflowId === 'wf-sticky' && p.queueKind === 'sticky'));
    const second = await startWorkflowTask('wf-sticky', runId, 'sticky');
    assert.equal(toNumber(second.res.history?.events?.[0]?.eventId), 4, 'a sticky task carries only the new events');
    await complete(second.token, [startTimer('t2', 1000)], { stickyAttributes: { workerTaskQueue: { name: 'worker-1-sticky' } } });
    await t.engine.resetStickyTaskQueue({ namespaceId: t.namespace.id, workflowId: 'wf-sticky', runId: '' });
    t.clock.advance(1000);
    await eventually(() => t.matching.pushed.filter((p) => p.workflowId === 'wf-sticky' && p.kind === 'workflow').length === 3);
    assert.equal(t.matching.pushed.filter((p) => p.workflowId === 'wf-sticky').at(-1)?.queueKind, 'normal');
  });

  it('a signal retried after the run continued as new is not applied twice', async () => {
    const runId = await start('wf-can-dedupe');
    const signal = () => t.engine.signalWorkflowExecution({ namespaceId: t.namespace.id, request: { workflowExecution: { workflowId: 'wf-can-dedupe' }, signalName: 's', requestId: 'signal-request-1' } });
    await signal();
    const { token } = await startWorkflowTask('wf-can-dedupe', runId);
    await complete(token, [
      { commandType: CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION, continueAsNewWorkflowExecutionCommandAttributes: { workflowType: { name: 'TestWorkflow' } } },
    ]);
    const next = await t.engine.describeWorkflowExecution({ namespaceId: t.namespace.id, request: { execution: { workflowId: 'wf-can-dedupe' } } });
    const nextRunId = next.workflowExecutionInfo?.execution?.runId as string;
    assert.notEqual(nextRunId, runId, 'the run continued as new');
    await signal(); // the client's retry of the same request
    assert.deepEqual(typeNames(await history('wf-can-dedupe', nextRunId)), ['WORKFLOW_EXECUTION_STARTED', 'WORKFLOW_TASK_SCHEDULED'], 'no second WorkflowExecutionSignaled');
  });

  it('terminating by workflow id hits the run that is current once the call gets its turn', async () => {
    const runId = await start('wf-current');
    const shard = t.engine.shardFor(t.namespace.id, 'wf-current');
    let terminate!: Promise<void>;
    await shard.updateWorkflow(t.namespace.id, 'wf-current', async (tx) => {
      // The terminate call arrives while another change holds the workflow…
      terminate = t.engine.terminateWorkflowExecution({ namespaceId: t.namespace.id, request: { workflowExecution: { workflowId: 'wf-current' }, reason: 'stop' } });
      await new Promise((r) => setTimeout(r, 20));
      // …and that change hands the workflow over to a new run (as cron, retry and continue-as-new do).
      continueAsNew((await tx.run(runId))!, { workflowType: { name: 'TestWorkflow' } }, 3, { retentionMs: 86_400_000 });
    });
    await terminate;
    const current = await t.engine.describeWorkflowExecution({ namespaceId: t.namespace.id, request: { execution: { workflowId: 'wf-current' } } });
    assert.notEqual(current.workflowExecutionInfo?.execution?.runId, runId);
    assert.equal(current.workflowExecutionInfo?.status, temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED, 'the new current run was terminated');
  });

  it('a stale workflow task token gets NOT_FOUND', async () => {
    const runId = await start('wf-stale');
    const { token } = await startWorkflowTask('wf-stale', runId);
    await complete(token, [startTimer('t', 1000)]);
    await assert.rejects(complete(token, [completeWorkflow]), (err: Error & { code?: string }) => err.code === 'NOT_FOUND');
  });

  it('a user timer is a persisted task that fires once, when due', async () => {
    const runId = await start('wf-timer');
    const { token } = await startWorkflowTask('wf-timer', runId);
    await complete(token, [startTimer('t1', 60_000)]);
    const rows = await t.persistence.executions.listScheduledTasks(t.engine.shardFor(t.namespace.id, 'wf-timer').shardId, TaskCategories.timer.id, Number.MAX_SAFE_INTEGER, 100);
    assert.ok(rows.some((r) => r.type === 'user-timer' && r.runId === runId), 'the timer is in the store');
    t.clock.advance(59_000);
    assert.deepEqual(typeNames(await history('wf-timer', runId)).at(-1), 'TIMER_STARTED');
    t.clock.advance(1_000);
    await eventually(async () => typeNames(await history('wf-timer', runId)).includes('TIMER_FIRED'));
    const events = await history('wf-timer', runId);
    assert.deepEqual(typeNames(events).slice(5), ['TIMER_FIRED', 'WORKFLOW_TASK_SCHEDULED']);
    assert.equal(events[5]?.timerFiredEventAttributes?.timerId, 't1');
    assert.equal(toNumber(events[5]?.timerFiredEventAttributes?.startedEventId), 5);
  });

  it('activity retries follow the policy: no events per attempt, backoff timer, final Started carries attempt and last failure', async () => {
    const runId = await start('wf-retry');
    const { token } = await startWorkflowTask('wf-retry', runId);
    await complete(token, [scheduleActivity('a1', { retryPolicy: { initialInterval: msToDuration(2000), backoffCoefficient: 3, maximumAttempts: 5 } })]);
    const first = await startActivity('wf-retry', runId, 5, 1);
    await t.engine.respondActivityTaskFailed({ target: { by: 'token', token: first }, failure: { message: 'boom', applicationFailureInfo: { type: 'Flaky' } }, identity: 'w' });
    assert.deepEqual(typeNames(await history('wf-retry', runId)).slice(-1), ['ACTIVITY_TASK_SCHEDULED'], 'a retried attempt writes no event');
    await assert.rejects(startActivity('wf-retry', runId, 5, 2), (e: Error & { code?: string }) => e.code === 'NOT_FOUND', 'attempt 2 waits for its backoff');
    t.clock.advance(2000);
    await eventually(() => t.matching.pushed.find((p) => p.kind === 'activity' && p.workflowId === 'wf-retry' && p.attempt === 2));
    const second = await startActivity('wf-retry', runId, 5, 2);
    await t.engine.respondActivityTaskFailed({ target: { by: 'token', token: second }, failure: { message: 'boom again', applicationFailureInfo: { type: 'Flaky' } }, identity: 'w' });
    t.clock.advance(5999);
    assert.equal(t.matching.pushed.filter((p) => p.kind === 'activity' && p.attempt === 3).length, 0, 'second backoff is 2 s × 3');
    t.clock.advance(1);
    await eventually(() => t.matching.pushed.find((p) => p.kind === 'activity' && p.workflowId === 'wf-retry' && p.attempt === 3));
    const third = await startActivity('wf-retry', runId, 5, 3);
    await t.engine.respondActivityTaskCompleted({ target: { by: 'token', token: third }, identity: 'w' });
    const events = await history('wf-retry', runId);
    const started = events.find((e) => e.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes;
    assert.equal(started?.attempt, 3);
    assert.equal(started?.lastFailure?.message, 'boom again');
    assert.equal(typeNames(events).filter((n) => n === 'ACTIVITY_TASK_STARTED').length, 1, 'exactly one Started event');
  });

  it('a non-retryable failure closes the activity at once with ActivityTaskFailed', async () => {
    const runId = await start('wf-nonretry');
    const { token } = await startWorkflowTask('wf-nonretry', runId);
    await complete(token, [scheduleActivity('a1', { retryPolicy: { nonRetryableErrorTypes: ['Fatal'] } })]);
    const act = await startActivity('wf-nonretry', runId, 5);
    await t.engine.respondActivityTaskFailed({ target: { by: 'token', token: act }, failure: { message: 'no', applicationFailureInfo: { type: 'Fatal' } }, identity: 'w' });
    const events = await history('wf-nonretry', runId);
    assert.deepEqual(typeNames(events).slice(5), ['ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_FAILED', 'WORKFLOW_TASK_SCHEDULED']);
    assert.equal(events[6]?.activityTaskFailedEventAttributes?.retryState, RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE);
  });

  it('start-to-close timeout without retries writes Started + TimedOut with a TimeoutFailure', async () => {
    const runId = await start('wf-stc');
    const { token } = await startWorkflowTask('wf-stc', runId);
    await complete(token, [scheduleActivity('a1', { startToCloseTimeout: msToDuration(3000), retryPolicy: { maximumAttempts: 1 } })]);
    await startActivity('wf-stc', runId, 5);
    t.clock.advance(3000);
    await eventually(async () => typeNames(await history('wf-stc', runId)).includes('ACTIVITY_TASK_TIMED_OUT'));
    const events = await history('wf-stc', runId);
    const timedOut = events.find((e) => e.activityTaskTimedOutEventAttributes)?.activityTaskTimedOutEventAttributes;
    assert.equal(timedOut?.failure?.timeoutFailureInfo?.timeoutType, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE);
    assert.equal(timedOut?.retryState, RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
    assert.deepEqual(typeNames(events).slice(5), ['ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_TIMED_OUT', 'WORKFLOW_TASK_SCHEDULED']);
  });

  it('a heartbeat keeps the activity alive; silence past the heartbeat timeout times it out', async () => {
    const runId = await start('wf-hb');
    const { token } = await startWorkflowTask('wf-hb', runId);
    await complete(token, [scheduleActivity('a1', { startToCloseTimeout: msToDuration(60_000), heartbeatTimeout: msToDuration(2000), retryPolicy: { maximumAttempts: 1 } })]);
    const act = await startActivity('wf-hb', runId, 5);
    t.clock.advance(1500);
    const hb = await t.engine.recordActivityTaskHeartbeat({ target: { by: 'token', token: act }, details: { payloads: [{ data: Buffer.from('42') }] }, identity: 'w' });
    assert.equal(hb.cancelRequested, false);
    t.clock.advance(1000);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(!typeNames(await history('wf-hb', runId)).includes('ACTIVITY_TASK_TIMED_OUT'), 'the heartbeat moved the deadline');
    t.clock.advance(1000);
    await eventually(async () => typeNames(await history('wf-hb', runId)).includes('ACTIVITY_TASK_TIMED_OUT'));
    const failure = (await history('wf-hb', runId)).find((e) => e.activityTaskTimedOutEventAttributes)?.activityTaskTimedOutEventAttributes?.failure;
    assert.equal(failure?.timeoutFailureInfo?.timeoutType, TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    assert.equal(Buffer.from(failure?.timeoutFailureInfo?.lastHeartbeatDetails?.payloads?.[0]?.data ?? []).toString(), '42');
  });

  it('a workflow task that times out is retried with attempt + 1 on the normal queue', async () => {
    const runId = await start('wf-wft-timeout');
    const { res } = await startWorkflowTask('wf-wft-timeout', runId);
    assert.equal(res.attempt, 1);
    t.clock.advance(10_000);
    await eventually(async () => typeNames(await history('wf-wft-timeout', runId)).includes('WORKFLOW_TASK_TIMED_OUT'));
    const events = await history('wf-wft-timeout', runId);
    assert.deepEqual(typeNames(events).slice(3), ['WORKFLOW_TASK_TIMED_OUT', 'WORKFLOW_TASK_SCHEDULED']);
    assert.equal(events[4]?.workflowTaskScheduledEventAttributes?.attempt, 2);
    const second = await startWorkflowTask('wf-wft-timeout', runId);
    assert.equal(second.res.attempt, 2);
  });

  it('terminate during a workflow task fails it (FORCE_CLOSE_COMMAND) and closes the run', async () => {
    const runId = await start('wf-term');
    const { token } = await startWorkflowTask('wf-term', runId);
    await t.engine.terminateWorkflowExecution({ namespaceId: t.namespace.id, request: { workflowExecution: { workflowId: 'wf-term' }, reason: 'test' } });
    const events = await history('wf-term', runId);
    assert.deepEqual(typeNames(events).slice(3), ['WORKFLOW_TASK_FAILED', 'WORKFLOW_EXECUTION_TERMINATED']);
    await assert.rejects(complete(token, [completeWorkflow]), (err: Error & { code?: string }) => err.code === 'NOT_FOUND');
    await assert.rejects(
      t.engine.terminateWorkflowExecution({ namespaceId: t.namespace.id, request: { workflowExecution: { workflowId: 'wf-term' } } }),
      (err: Error & { code?: string }) => err.code === 'NOT_FOUND',
    );
  });

  it('start is idempotent per request id and FAIL conflicts with a running run', async () => {
    const runId = await start('wf-dup');
    const again = await t.engine.startWorkflowExecution({ namespaceId: t.namespace.id, request: { workflowId: 'wf-dup', workflowType: { name: 'TestWorkflow' }, taskQueue: { name: 'tq' }, requestId: 'req-wf-dup' } });
    assert.equal(again.runId, runId);
    await assert.rejects(
      t.engine.startWorkflowExecution({ namespaceId: t.namespace.id, request: { workflowId: 'wf-dup', workflowType: { name: 'TestWorkflow' }, taskQueue: { name: 'tq' }, requestId: 'other' } }),
      (err: Error & { code?: string }) => err.code === 'ALREADY_EXISTS' && err.message.includes(runId),
    );
    assert.equal((await history('wf-dup', runId)).length, 2, 'the rejected start changed nothing');
  });

  it('the close-event filter returns exactly the close event', async () => {
    const runId = await start('wf-close');
    const { token } = await startWorkflowTask('wf-close', runId);
    await complete(token, [completeWorkflow]);
    const res = await t.engine.getWorkflowExecutionHistory({ namespaceId: t.namespace.id, request: { execution: { workflowId: 'wf-close' }, historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT, waitNewEvent: true } }, { deadline: 0 }, );
    assert.deepEqual(typeNames(res.history?.events ?? []), ['WORKFLOW_EXECUTION_COMPLETED']);
  });
});
