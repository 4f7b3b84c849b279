/**
 * Temporal's per-run limits, each a setting (lowered here so the tests stay small): pending-item
 * caps and id lengths in commands fail the workflow task with the matching cause and write nothing
 * of the completion; past the history count or size a change is dropped and the run terminated with
 * Temporal's reason; suggestContinueAsNew from the thresholds; too many buffered events fail the
 * running workflow task. And a change writes what it changed: one activity's progress in a run with
 * hundreds pending writes a row or two, not the whole state.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { CommandType, WorkflowTaskFailedCause, temporal, toNumber, type SettingOverrides } from '@hourglass/common';
import type { ShardCommit } from '@hourglass/persistence';
import { createTestEngine, scheduleActivity, startTimer, typeNames, type TestEngine } from '../testing/engine-fixture';
import { HISTORY_COUNT_EXCEEDS_LIMIT, HISTORY_SIZE_EXCEEDS_LIMIT } from './limits';

type Command = temporal.api.command.v1.ICommand;
const Cause = WorkflowTaskFailedCause;

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function engineWith(settings: SettingOverrides): Promise<TestEngine> {
  t = await createTestEngine({ settings });
  return t;
}

function signal(engine: TestEngine, workflowId: string, bytes = 0) {
  return engine.engine.signalWorkflowExecution({
    namespaceId: engine.namespace.id,
    request: {
      namespace: engine.namespace.name,
      workflowExecution: { workflowId },
      signalName: 'ping',
      identity: 'test',
      requestId: `sig-${Math.random()}`,
      ...(bytes > 0 ? { input: { payloads: [{ data: Buffer.alloc(bytes, 1) }] } } : {}),
    },
  });
}

/** Completes the run's first workflow task with `commands`; returns how it was refused (or undefined). */
async function completeFirstTask(engine: TestEngine, workflowId: string, commands: Command[]) {
  const runId = await engine.start(workflowId);
  const { token } = await engine.startWorkflowTask(workflowId, runId);
  const refused = await engine.complete(token, commands).then(
    () => undefined,
    (err: Error & { code?: string }) => err,
  );
  return { runId, refused, events: await engine.history(workflowId, runId) };
}

function lastFailedCause(events: temporal.api.history.v1.IHistoryEvent[]): number | undefined {
  return events.filter((e) => e.workflowTaskFailedEventAttributes).at(-1)?.workflowTaskFailedEventAttributes?.cause ?? undefined;
}

const startChild = (workflowId: string): Command => ({
  commandType: CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
  startChildWorkflowExecutionCommandAttributes: { workflowId, workflowType: { name: 'Child' } },
});
const signalExternal = (workflowId: string): Command => ({
  commandType: CommandType.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
  signalExternalWorkflowExecutionCommandAttributes: { execution: { workflowId }, signalName: 's' },
});
const cancelExternal = (workflowId: string): Command => ({
  commandType: CommandType.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION,
  requestCancelExternalWorkflowExecutionCommandAttributes: { workflowId },
});

describe('pending-item caps and ids in commands', () => {
  const cases: [string, string, (i: number) => Command, number][] = [
    ['activities', 'limit.numPendingActivities.error', (i) => scheduleActivity(`a${i}`), Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED],
    ['child workflows', 'limit.numPendingChildExecutions.error', (i) => startChild(`child-${i}`), Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED],
    ['signals to other workflows', 'limit.numPendingSignals.error', (i) => signalExternal(`target-${i}`), Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_SIGNALS_LIMIT_EXCEEDED],
    ['cancellation requests to other workflows', 'limit.numPendingCancelRequests.error', (i) => cancelExternal(`target-${i}`), Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED],
  ];
  for (const [what, key, command, cause] of cases) {
    it(`one more pending ${what} than the cap fails the workflow task with its cause and writes none of the completion`, async () => {
      const engine = await engineWith({ [key]: [{ value: 3 }] });
      const within = await completeFirstTask(engine, `wf-${key}-ok`, [0, 1, 2].map(command));
      assert.equal(within.refused, undefined, 'three are allowed');
      const over = await completeFirstTask(engine, `wf-${key}-over`, [0, 1, 2, 3].map(command));
      assert.equal(over.refused?.code, 'INVALID_ARGUMENT');
      assert.match(over.refused?.message ?? '', new RegExp(`already has 3 pending ${what}`));
      assert.equal(lastFailedCause(over.events), cause);
      assert.deepEqual(typeNames(over.events).slice(3), ['WORKFLOW_TASK_FAILED', 'WORKFLOW_TASK_SCHEDULED'], 'nothing of the completion was written');
    });
  }

  it('ids inside commands are held to the id limit in UTF-8 bytes, quoted short', async () => {
    const engine = await engineWith({ 'limit.maxIDLength': [{ value: 10 }] });
    const atLimit = await completeFirstTask(engine, 'wf-id-ok', [scheduleActivity('é'.repeat(5))]);
    assert.equal(atLimit.refused, undefined, '5 × é is 10 bytes');
    const long = 'é'.repeat(6) + 'x'.repeat(5000);
    for (const [command, cause] of [
      [scheduleActivity(long), Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES],
      [startTimer(long, 1000), Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES],
      [startChild(long), Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES],
    ] as const) {
      const over = await completeFirstTask(engine, `wf-id-${cause}`, [command]);
      assert.equal(over.refused?.code, 'INVALID_ARGUMENT');
      assert.ok((over.refused?.message.length ?? 0) < 300, `a short message: ${over.refused?.message.slice(0, 400)}`);
      assert.match(over.refused?.message ?? '', /is 5012 bytes long, more than the limit of 10/);
      assert.equal(lastFailedCause(over.events), cause);
    }
  });

  it('a task queue named like a partition (/_sys/…) in a command fails the workflow task', async () => {
    const engine = await engineWith({});
    for (const [command, cause] of [
      [scheduleActivity('a1', { taskQueue: { name: '/_sys/orders/1' } }), Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES],
      [{ ...startChild('c1'), startChildWorkflowExecutionCommandAttributes: { workflowId: 'c1', workflowType: { name: 'Child' }, taskQueue: { name: '/_sys/orders/2' } } }, Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES],
      [
        { commandType: CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION, continueAsNewWorkflowExecutionCommandAttributes: { workflowType: { name: 'Next' }, taskQueue: { name: '/_sys/orders/3' } } },
        Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES,
      ],
    ] as const) {
      const over = await completeFirstTask(engine, `wf-sys-${cause}`, [command]);
      assert.equal(over.refused?.code, 'INVALID_ARGUMENT');
      assert.match(over.refused?.message ?? '', /TaskQueue "\/_sys\/orders\/\d" starts with \/_sys\/, which is reserved for task queue partitions/);
      assert.equal(lastFailedCause(over.events), cause);
    }
  });
});

describe('history limits', () => {
  it('past the history count limit the change is dropped and the run terminated with Temporal’s reason', async () => {
    const engine = await engineWith({ 'limit.historyCount.error': [{ value: 10 }] });
    const runId = await engine.start('wf-count');
    // Started + WorkflowTaskScheduled + 8 signals = 10 events: at the limit, still fine.
    for (let i = 0; i < 8; i++) await signal(engine, 'wf-count');
    await assert.rejects(signal(engine, 'wf-count'), (err: Error & { code?: string }) => err.code === 'INVALID_ARGUMENT' && err.message === HISTORY_COUNT_EXCEEDS_LIMIT);
    const events = await engine.history('wf-count', runId);
    assert.equal(events.filter((e) => e.workflowExecutionSignaledEventAttributes).length, 8, 'the signal past the limit was not written');
    const terminated = events.at(-1)?.workflowExecutionTerminatedEventAttributes;
    assert.equal(terminated?.reason, HISTORY_COUNT_EXCEEDS_LIMIT);
    assert.equal(terminated?.identity, 'history-service');
    await assert.rejects(signal(engine, 'wf-count'), (err: Error & { code?: string }) => err.code === 'NOT_FOUND', 'the run is closed');
  });

  it('past the history size limit the change is dropped and the run terminated', async () => {
    const engine = await engineWith({ 'limit.historySize.error': [{ value: 20_000 }] });
    const runId = await engine.start('wf-size');
    let refused: (Error & { code?: string }) | undefined;
    for (let i = 0; i < 10 && !refused; i++) {
      refused = await signal(engine, 'wf-size', 5000).then(
        () => undefined,
        (err: Error & { code?: string }) => err,
      );
    }
    assert.equal(refused?.message, HISTORY_SIZE_EXCEEDS_LIMIT);
    const events = await engine.history('wf-size', runId);
    assert.equal(events.at(-1)?.workflowExecutionTerminatedEventAttributes?.reason, HISTORY_SIZE_EXCEEDS_LIMIT);
    const described = await engine.engine.describeWorkflowExecution({ namespaceId: engine.namespace.id, request: { execution: { workflowId: 'wf-size', runId } } });
    assert.ok(toNumber(described.workflowExecutionInfo?.historySizeBytes) <= 20_000 + 1000, 'the oversized change is not in the history');
  });

  it('workflow tasks carry suggestContinueAsNew from the count threshold on', async () => {
    const engine = await engineWith({ 'limit.historyCount.suggestContinueAsNew': [{ value: 12 }] });
    const runId = await engine.start('wf-suggest');
    const first = await engine.startWorkflowTask('wf-suggest', runId);
    const startedOf = (res: typeof first.res) => res.history?.events?.at(-1)?.workflowTaskStartedEventAttributes;
    assert.equal(startedOf(first.res)?.suggestContinueAsNew, false, 'event 3: below the threshold');
    for (let i = 0; i < 6; i++) await signal(engine, 'wf-suggest');
    await engine.complete(first.token, []);
    // 3 + completed + 6 buffered signals + scheduled = 11 events: the next Started is event 12.
    const second = await engine.startWorkflowTask('wf-suggest', runId, 'sticky');
    assert.equal(toNumber(second.res.startedEventId), 12);
    assert.equal(startedOf(second.res)?.suggestContinueAsNew, true);
  });

  it('too many events buffered behind a running workflow task fail it (FORCE_CLOSE_COMMAND) so a new task delivers them', async () => {
    const engine = await engineWith({ 'history.maximumBufferedEventsBatch': [{ value: 3 }] });
    const runId = await engine.start('wf-buffer-limit');
    const { token } = await engine.startWorkflowTask('wf-buffer-limit', runId);
    for (let i = 0; i < 4; i++) await signal(engine, 'wf-buffer-limit');
    const events = await engine.history('wf-buffer-limit', runId);
    assert.deepEqual(typeNames(events).slice(3), ['WORKFLOW_TASK_FAILED', 'WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_TASK_SCHEDULED']);
    assert.equal(lastFailedCause(events), Cause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND);
    await assert.rejects(engine.complete(token, []), (err: Error & { code?: string }) => err.code === 'NOT_FOUND', 'the failed task cannot complete');
  });
});

describe('cost proportional to the change', () => {
  it('in a run with 500 pending activities, one activity’s progress writes one item row and a small execution row', async () => {
    const engine = await engineWith({});
    const commits: ShardCommit[] = [];
    const store = engine.persistence.executions;
    const commit = store.commit.bind(store);
    store.commit = async (c) => {
      commits.push(c);
      return commit(c);
    };
    const runId = await engine.start('wf-wide');
    const { token } = await engine.startWorkflowTask('wf-wide', runId);
    await engine.complete(token, Array.from({ length: 500 }, (_, i) => scheduleActivity(`a${i}`)));
    const scheduling = commits.at(-1);
    assert.equal(scheduling?.update?.upsertItems.filter((row) => row.kind === 'activity').length, 500, 'the 500 new activities are written once');
    commits.length = 0;
    const attempt = await engine.startActivity('wf-wide', runId, 300);
    await engine.engine.recordActivityTaskHeartbeat({ target: { by: 'token', token: attempt }, details: null, identity: 'w' });
    await engine.engine.respondActivityTaskCompleted({ target: { by: 'token', token: attempt }, result: null, identity: 'w' });
    assert.equal(commits.length, 3, 'start, heartbeat, completion');
    for (const c of commits) {
      const items = (c.update?.upsertItems.length ?? 0) + (c.update?.deleteItems.length ?? 0);
      assert.ok(items <= 1, `a change writes the one item it changed, not ${items}`);
      assert.ok((c.update?.state.length ?? 0) < 4096, `the execution row stays small (${c.update?.state.length} bytes)`);
    }
    assert.deepEqual(commits.at(-1)?.update?.deleteItems, [{ kind: 'activity', id: '300' }], 'the completed activity’s row is deleted');
  });
});

describe('rebuild verifier', () => {
  it('reports a change that moved state its history does not explain', async () => {
    const engine = await engineWith({});
    const runId = await engine.start('wf-diverge');
    const key = { namespaceId: engine.namespace.id, workflowId: 'wf-diverge', runId };
    await assert.rejects(
      engine.engine.shardFor(key.namespaceId, key.workflowId).updateExecution(key, (ctx) => {
        // A bug: cancellation recorded without its WorkflowExecutionCancelRequested event.
        ctx!.ms.cancelRequested = true;
      }),
      /diverged from its history at state\.cancelRequested: the change made true, its history gives false/,
    );
  });
});
