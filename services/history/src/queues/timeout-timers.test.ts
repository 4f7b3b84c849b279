/**
 * Timeout timers are dropped by the change that makes them pointless: a workflow task's completion
 * deletes its start-to-close timer, its start the sticky schedule-to-start one, an activity's
 * completion its start-to-close timer, instead of leaving each stored until it comes up only to
 * find nothing to do. A task that is not completed still times out.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { msToDuration } from '@hourglass/common';
import type { HistoryTaskRow } from '@hourglass/persistence';
import { completeWorkflow, createTestEngine, eventually, scheduleActivity, startTimer, typeNames, type TestEngine } from '../testing/engine-fixture';
import { TaskCategories } from './task-categories';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The run's stored timeout timers, as `type/timeoutType` (1 start-to-close, 2 schedule-to-start). */
async function timeoutTimers(e: TestEngine, workflowId: string, runId: string): Promise<string[]> {
  const rows: HistoryTaskRow[] = await e.persistence.executions.listScheduledTasks(
    e.engine.shardFor(e.namespace.id, workflowId).shardId,
    TaskCategories.timer.id,
    Number.MAX_SAFE_INTEGER,
    1000,
  );
  return rows
    .filter((row) => row.runId === runId && (row.type === 'workflow-task-timeout' || row.type === 'activity-timeout'))
    .map((row) => `${row.type}/${(JSON.parse(row.data) as { timeoutType: number }).timeoutType}`);
}

describe('workflow task timeout timers', () => {
  it('the completion deletes the start-to-close timer, the sticky start deletes the schedule-to-start one', async () => {
    t = await createTestEngine();
    const e = t;
    const runId = await e.start('wf-timers');
    const first = await e.startWorkflowTask('wf-timers', runId);
    assert.deepEqual(await timeoutTimers(e, 'wf-timers', runId), ['workflow-task-timeout/1'], 'started: its start-to-close timer is stored');
    await e.complete(first.token, [startTimer('t1', 1000)], { stickyAttributes: { workerTaskQueue: { name: 'worker-1-sticky' }, scheduleToStartTimeout: msToDuration(5000) } });
    // Deleted with the shard's next batch of acknowledgements; the clock is manual, so the timer cannot have come up.
    await eventually(async () => (await timeoutTimers(e, 'wf-timers', runId)).length === 0, 5000);

    // The timer fires and schedules a task on the sticky queue: its schedule-to-start timer.
    e.clock.advance(1000);
    await eventually(async () => (await timeoutTimers(e, 'wf-timers', runId)).join() === 'workflow-task-timeout/2', 5000);
    const second = await e.startWorkflowTask('wf-timers', runId, 'sticky');
    await eventually(async () => (await timeoutTimers(e, 'wf-timers', runId)).join() === 'workflow-task-timeout/1', 5000);
    await e.complete(second.token, [completeWorkflow]);
    await eventually(async () => (await timeoutTimers(e, 'wf-timers', runId)).length === 0, 5000);
    assert.deepEqual(typeNames(await e.history('wf-timers', runId)).slice(-1), ['WORKFLOW_EXECUTION_COMPLETED']);
  });

  it("an activity's completion deletes its start-to-close timer", async () => {
    t = await createTestEngine();
    const e = t;
    const runId = await e.start('wf-activity');
    const first = await e.startWorkflowTask('wf-activity', runId);
    await e.complete(first.token, [scheduleActivity('a1')]);
    const token = await e.startActivity('wf-activity', runId, 5);
    await eventually(async () => (await timeoutTimers(e, 'wf-activity', runId)).join() === 'activity-timeout/1', 5000);
    await e.engine.respondActivityTaskCompleted({ target: { by: 'token', token }, identity: 'worker-1' });
    // The next workflow task goes to the normal queue: no timer of its own until started.
    await eventually(async () => (await timeoutTimers(e, 'wf-activity', runId)).length === 0, 5000);
  });

  it('a started task that is not completed still times out, and its next attempt is armed again', async () => {
    t = await createTestEngine();
    const e = t;
    const runId = await e.start('wf-late', { workflowTaskTimeout: msToDuration(2000) });
    await e.startWorkflowTask('wf-late', runId);
    e.clock.advance(2000);
    await eventually(async () => typeNames(await e.history('wf-late', runId)).includes('WORKFLOW_TASK_TIMED_OUT'), 5000);
    await e.startWorkflowTask('wf-late', runId);
    await eventually(async () => (await timeoutTimers(e, 'wf-late', runId)).join() === 'workflow-task-timeout/1', 5000);
  });
});
