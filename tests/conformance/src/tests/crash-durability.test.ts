// Durability: SIGKILL the server while workflows sleep and activities run, restart it on the same
// db file and port, and every execution finishes exactly as if nothing had happened.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import {
  EventType,
  assertContiguousHistory,
  conformanceFile,
  eventually,
  eventsOfType,
  fetchEvents,
  uniqueName,
  withTimeout,
  type ConformanceEnv,
  type HistoryEvent,
  type RunningWorker,
} from '../harness';
import { activityThenSleep, sleepThenReturn, slowActivity } from '../workflows';

const file = conformanceFile({ name: 'crash' });

type Kind = 'sleeper' | 'slow-activity' | 'activity-then-sleep';

interface Tracked {
  kind: Kind;
  handle: WorkflowHandle;
  expected: string;
}

/** Activity ids with an ActivityTaskCompleted event: completions the server has acknowledged. */
function completedActivityIds(events: readonly HistoryEvent[]): Set<string> {
  const scheduled = new Map<number, string>();
  for (const e of eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)) {
    scheduled.set(Number(e.eventId?.toString()), e.activityTaskScheduledEventAttributes?.activityId ?? '');
  }
  const ids = new Set<string>();
  for (const e of eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)) {
    const id = scheduled.get(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString()));
    if (id !== undefined) ids.add(id);
  }
  return ids;
}

function assertEveryTimerFiredOnce(workflowId: string, events: readonly HistoryEvent[]): void {
  const started = eventsOfType(events, EventType.EVENT_TYPE_TIMER_STARTED).map(
    (e) => e.timerStartedEventAttributes?.timerId ?? '',
  );
  const firedCounts = new Map<string, number>();
  for (const e of eventsOfType(events, EventType.EVENT_TYPE_TIMER_FIRED)) {
    const id = e.timerFiredEventAttributes?.timerId ?? '';
    firedCounts.set(id, (firedCounts.get(id) ?? 0) + 1);
  }
  assert.equal(new Set(started).size, started.length, `${workflowId}: timer ids started twice: ${started.join(', ')}`);
  for (const id of started) {
    assert.equal(firedCounts.get(id) ?? 0, 1, `${workflowId}: timer ${id} fired ${firedCounts.get(id) ?? 0} times`);
  }
  for (const id of firedCounts.keys()) {
    assert.ok(started.includes(id), `${workflowId}: timer ${id} fired but was never started`);
  }
}

/** The worker polling this file's task queue: the file's own, or its replacement if it died. */
let currentWorker: RunningWorker | undefined;

/**
 * Waits for every result. If the worker dies instead of reconnecting on its own, a new worker is
 * started (and that is reported as a diagnostic, since the SDK is expected to cope).
 */
async function awaitResultsAcrossRestart(
  t: TestContext,
  env: ConformanceEnv,
  tracked: readonly Tracked[],
  timeoutMs: number,
): Promise<string[]> {
  const pending = new Set(tracked.map((w) => w.handle.workflowId));
  const results = Promise.all(
    tracked.map(async (w) => {
      const result = (await w.handle.result()) as string;
      pending.delete(w.handle.workflowId);
      return result;
    }),
  );
  const describePending = (): string =>
    `${pending.size} of ${tracked.length} still open: ${[...pending].slice(0, 10).join(', ')}`;
  const worker = currentWorker ?? env.worker!;
  const workerDied = worker.done.then(
    () => 'stopped' as const,
    () => 'failed' as const,
  );
  try {
    const first = await withTimeout(Promise.race([results, workerDied]), timeoutMs, 'results after restart');
    if (first !== 'failed' && first !== 'stopped') return first;
    t.diagnostic(
      `NOTE: the worker did not survive the server restart (${first}: ${String(worker.failure)}); started a new worker`,
    );
    currentWorker = await env.startExtraWorker();
    return await withTimeout(results, timeoutMs, 'results after restart (with a new worker)');
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; ${describePending()}`, { cause: err });
  }
}

file.test(
  'SIGKILL mid-flight, restart on the same db: every workflow completes, nothing acknowledged re-runs',
  async (t, env) => {
    const count = 10;
    const tracked: Tracked[] = [];
    for (let i = 0; i < count; i++) {
      const value = `sleeper-${i}`;
      const handle = await env.client.workflow.start(sleepThenReturn, {
        taskQueue: env.taskQueue,
        workflowId: uniqueName(`crash-sleeper-${i}`),
        args: [value, 3000],
      });
      tracked.push({ kind: 'sleeper', handle, expected: value });
    }
    for (let i = 0; i < count; i++) {
      const value = `slow-${i}`;
      const handle = await env.client.workflow.start(slowActivity, {
        taskQueue: env.taskQueue,
        workflowId: uniqueName(`crash-slow-${i}`),
        args: [value, 2000],
      });
      tracked.push({ kind: 'slow-activity', handle, expected: value });
    }
    for (let i = 0; i < count; i++) {
      const value = `ats-${i}`;
      const handle = await env.client.workflow.start(activityThenSleep, {
        taskQueue: env.taskQueue,
        workflowId: uniqueName(`crash-ats-${i}`),
        args: [value, 3000],
      });
      tracked.push({ kind: 'activity-then-sleep', handle, expected: value });
    }

    // Wait until every workflow is where we want to crash it: sleepers on their timer, slow
    // activities running in the worker, the others past their activity and on their timer. The
    // histories read in the last round are the snapshot of what the server had acknowledged.
    const snapshot = await eventually(
      async () => {
        const histories = new Map<string, HistoryEvent[]>();
        for (const w of tracked) {
          const events = await fetchEvents(w.handle);
          const timerStarted = eventsOfType(events, EventType.EVENT_TYPE_TIMER_STARTED).length === 1;
          const ready =
            w.kind === 'slow-activity'
              ? env.recorder.forWorkflow(w.handle.workflowId).length > 0
              : w.kind === 'sleeper'
                ? timerStarted
                : timerStarted && completedActivityIds(events).has('1');
          if (!ready) return undefined;
          histories.set(w.handle.workflowId, events);
        }
        return histories;
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'all workflows sleeping or running their activity' },
    );

    const pidBefore = env.server.pid;
    const killedStatus = await env.server.kill();
    assert.equal(killedStatus.signal, 'SIGKILL');
    const runningAtKill = tracked.filter(
      (w) => w.kind === 'slow-activity' && !completedActivityIds(snapshot.get(w.handle.workflowId)!).has('1'),
    ).length;
    t.diagnostic(`killed pid ${pidBefore}; ${runningAtKill}/${count} slow activities not yet acknowledged`);

    await env.server.restart();
    assert.notEqual(env.server.pid, pidBefore, 'a new server process');

    const results = await awaitResultsAcrossRestart(t, env, tracked, 60_000);
    assert.deepEqual(
      results,
      tracked.map((w) => w.expected),
      'every workflow completed with its own result',
    );

    const counts = env.recorder.countsByActivity();
    let rerun = 0;
    for (const w of tracked) {
      const workflowId = w.handle.workflowId;
      const events = await assertContiguousHistory(w.handle);
      assertEveryTimerFiredOnce(workflowId, events);
      assert.equal(
        eventsOfType(events, EventType.EVENT_TYPE_TIMER_FIRED).length,
        w.kind === 'slow-activity' ? 0 : 1,
        `${workflowId}: timers fired`,
      );
      assert.equal(
        eventsOfType(events, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length,
        w.kind === 'sleeper' ? 0 : 1,
        `${workflowId}: one ActivityTaskCompleted per activity`,
      );

      const acknowledged = completedActivityIds(snapshot.get(workflowId)!);
      for (const activityId of acknowledged) {
        assert.equal(
          counts.get(`${workflowId}/${activityId}`),
          1,
          `${workflowId}: activity ${activityId} was acknowledged before the crash and must not run again`,
        );
      }
      if (w.kind === 'activity-then-sleep') {
        assert.ok(acknowledged.has('1'), `${workflowId}: its activity was acknowledged before the crash`);
      }
      if (w.kind === 'slow-activity') {
        const n = counts.get(`${workflowId}/1`) ?? 0;
        assert.ok(n >= 1, `${workflowId}: the slow activity ran`);
        if (n > 1) rerun++;
      }
    }
    t.diagnostic(`${rerun} slow activities whose completion was not acknowledged before the crash ran again`);
  },
  { timeoutMs: 120_000 },
);

file.test('SIGTERM shuts down cleanly, and a restart resumes the sleeping workflows', async (t, env) => {
  const tracked: Tracked[] = [];
  for (let i = 0; i < 3; i++) {
    const value = `graceful-${i}`;
    const handle = await env.client.workflow.start(sleepThenReturn, {
      taskQueue: env.taskQueue,
      workflowId: uniqueName(`graceful-${i}`),
      args: [value, 2000],
    });
    tracked.push({ kind: 'sleeper', handle, expected: value });
  }
  await eventually(
    async () => {
      for (const w of tracked) {
        const events = await fetchEvents(w.handle);
        if (eventsOfType(events, EventType.EVENT_TYPE_TIMER_STARTED).length !== 1) return false;
      }
      return true;
    },
    { timeoutMs: 15_000, description: 'all timers started' },
  );

  const status = await env.server.stop();
  assert.deepEqual(status, { code: 0, signal: null }, 'SIGTERM leads to a clean exit with code 0');
  await env.server.restart();

  const results = await awaitResultsAcrossRestart(t, env, tracked, 60_000);
  assert.deepEqual(results, tracked.map((w) => w.expected));
  for (const w of tracked) {
    const events = await assertContiguousHistory(w.handle);
    assertEveryTimerFiredOnce(w.handle.workflowId, events);
  }
});
