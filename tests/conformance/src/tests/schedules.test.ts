// Schedules through the official client's `client.schedule`: firing on an interval and on a
// calendar in a time zone, describe's info, pause/unpause/trigger/backfill, every overlap policy
// (a workflow blocked on a signal makes overlap observable), list/delete, bad input, and a SIGKILL
// of the server across a firing (no lost and no doubled run).
import assert from 'node:assert/strict';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import Long from 'long';
import { conformanceFile, eventually, uniqueName } from '../harness';
import { echoWorkflow, failingWorkflow, waitForFinish } from '../workflows';

const file = conformanceFile({ name: 'sched' });

/** Workflow executions a schedule started (by the search attribute Temporal sets on them). */
async function startedBy(client: Client, scheduleId: string): Promise<{ workflowId: string; status: string }[]> {
  const out: { workflowId: string; status: string }[] = [];
  for await (const w of client.workflow.list({ query: `TemporalScheduledById = '${scheduleId}'` })) out.push({ workflowId: w.workflowId, status: w.status.name });
  return out;
}

file.test('an interval schedule fires every second; describe, list and delete show it as Temporal does', async (_t, env) => {
  const scheduleId = uniqueName('sched-interval');
  const handle = await env.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1s' }] },
    action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['tick'], taskQueue: env.taskQueue, workflowId: `${scheduleId}-wf` },
    memo: { owner: 'team-a' },
  });
  await eventually(async () => (await handle.describe()).info.numActionsTaken >= 3, { timeoutMs: 15_000, description: 'three actions taken' });
  const d = await handle.describe();
  assert.equal(d.action.type, 'startWorkflow');
  assert.equal(d.memo?.owner, 'team-a');
  assert.ok(d.info.recentActions.length >= 3, 'recent actions are listed');
  assert.equal(d.info.nextActionTimes.length, 10, 'ten upcoming times');
  for (const t of d.info.nextActionTimes) assert.equal(t.getTime() % 1000, 0, 'interval times are whole seconds');
  const first = d.info.recentActions[0]!;
  assert.match(first.action.workflow.workflowId, new RegExp(`^${scheduleId}-wf-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`), 'workflow id is <workflowId>-<RFC 3339 time>');
  assert.equal(first.action.workflow.workflowId, `${scheduleId}-wf-${first.scheduledAt.toISOString().replace('.000Z', 'Z')}`);

  // The started run carries TemporalScheduledById / TemporalScheduledStartTime.
  const run = await env.client.workflow.getHandle(first.action.workflow.workflowId).describe();
  assert.deepEqual(run.searchAttributes.TemporalScheduledById, [scheduleId]);
  assert.equal((run.searchAttributes.TemporalScheduledStartTime as Date[])[0]!.getTime(), first.scheduledAt.getTime());
  assert.equal(await env.client.workflow.getHandle(first.action.workflow.workflowId).result(), 'tick');

  // Listed (with its info), not among the namespace's workflows.
  await eventually(
    async () => {
      for await (const s of env.client.schedule.list()) if (s.scheduleId === scheduleId) return s.action?.workflowType === 'echoWorkflow' && s.memo?.owner === 'team-a';
      return false;
    },
    { timeoutMs: 10_000, description: 'schedule listed' },
  );
  for await (const w of env.client.workflow.list({ query: `WorkflowId = 'temporal-sys-scheduler:${scheduleId}'` })) assert.fail(`schedule row listed as a workflow: ${w.workflowId}`);

  await handle.delete();
  await assert.rejects(handle.describe(), ScheduleNotFoundError);
  const countAfterDelete = (await startedBy(env.client, scheduleId)).length;
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal((await startedBy(env.client, scheduleId)).length, countAfterDelete, 'a deleted schedule starts nothing');
  await eventually(
    async () => {
      for await (const s of env.client.schedule.list()) if (s.scheduleId === scheduleId) return false;
      return true;
    },
    { timeoutMs: 10_000, description: 'deleted schedule no longer listed' },
  );
});

file.test('a calendar in a time zone: upcoming times from describe, and a real seconds-level firing', async (_t, env) => {
  const scheduleId = uniqueName('sched-cal');
  const handle = await env.client.schedule.create({
    scheduleId,
    spec: { calendars: [{ hour: 9, minute: 30, dayOfWeek: 'MONDAY' }], timezone: 'America/New_York' },
    action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['cal'], taskQueue: env.taskQueue, workflowId: `${scheduleId}-wf` },
    state: { paused: false },
  });
  const d = await handle.describe();
  assert.equal(d.spec.timezone, 'America/New_York');
  for (const t of d.info.nextActionTimes) {
    const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', weekday: 'short', hour: '2-digit', minute: '2-digit', hour12: false }).format(t);
    assert.equal(local, 'Mon 09:30', `${t.toISOString()} is Monday 09:30 in New York`);
  }
  // ListScheduleMatchingTimes over March 2030 (DST starts on the 10th): 13:30Z before, 14:30Z... no: EDT is UTC-4, so 13:30Z after.
  const res: { startTime?: { seconds?: Long | null }[] | null } = await env.client.workflowService.listScheduleMatchingTimes({
    namespace: 'default',
    scheduleId,
    startTime: { seconds: Long.fromNumber(Date.UTC(2030, 2, 1) / 1000) },
    endTime: { seconds: Long.fromNumber(Date.UTC(2030, 2, 31) / 1000) },
  });
  const times = (res.startTime ?? []).map((t) => new Date(Number(t.seconds) * 1000).toISOString());
  assert.deepEqual(times, ['2030-03-04T14:30:00.000Z', '2030-03-11T13:30:00.000Z', '2030-03-18T13:30:00.000Z', '2030-03-25T13:30:00.000Z']);
  await handle.delete();

  // Every 2 seconds by the wall clock of Tokyo: fires for real.
  const everyTwo = uniqueName('sched-cal-secs');
  const h2 = await env.client.schedule.create({
    scheduleId: everyTwo,
    spec: { calendars: [{ second: { start: 0, end: 59, step: 2 }, minute: '*', hour: '*' }], timezone: 'Asia/Tokyo' },
    action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['sec'], taskQueue: env.taskQueue, workflowId: `${everyTwo}-wf` },
  });
  await eventually(async () => (await h2.describe()).info.numActionsTaken >= 2, { timeoutMs: 10_000, description: 'calendar fired twice' });
  const recent = (await h2.describe()).info.recentActions;
  for (const a of recent) assert.equal((a.scheduledAt.getTime() / 1000) % 2, 0, 'scheduled on even seconds');
  await h2.delete();
});

file.test('pause, unpause, trigger now, backfill and remaining actions', async (_t, env) => {
  const scheduleId = uniqueName('sched-patch');
  const handle = await env.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1h' }] },
    action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['p'], taskQueue: env.taskQueue, workflowId: `${scheduleId}-wf` },
    state: { paused: true, note: 'created paused' },
    policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL },
  });
  let d = await handle.describe();
  assert.equal(d.state.paused, true);
  assert.equal(d.state.note, 'created paused');
  assert.deepEqual(d.info.nextActionTimes, [], 'no upcoming times while paused');
  await handle.unpause('back');
  d = await handle.describe();
  assert.equal(d.state.paused, false);
  assert.equal(d.state.note, 'back');
  assert.equal(d.info.nextActionTimes.length, 10);
  await handle.pause('stop');
  assert.equal((await handle.describe()).state.paused, true);

  // Trigger works while paused.
  await handle.trigger();
  await eventually(async () => (await handle.describe()).info.numActionsTaken === 1, { timeoutMs: 10_000, description: 'triggered action' });

  // Backfill three hours of a 1h interval: three runs with the past scheduled times.
  const start = new Date(Date.UTC(2024, 0, 1, 0, 0, 0));
  await handle.backfill({ start, end: new Date(Date.UTC(2024, 0, 1, 2, 0, 0)), overlap: ScheduleOverlapPolicy.ALLOW_ALL });
  await eventually(async () => (await handle.describe()).info.numActionsTaken === 4, { timeoutMs: 10_000, description: 'backfilled actions' });
  const ids = (await startedBy(env.client, scheduleId)).map((w) => w.workflowId).sort();
  for (const t of ['2024-01-01T00:00:00Z', '2024-01-01T01:00:00Z', '2024-01-01T02:00:00Z']) assert.ok(ids.includes(`${scheduleId}-wf-${t}`), `backfilled ${t}`);
  await handle.delete();

  // Created with an initial patch: trigger at once and backfill one past time.
  const initial = uniqueName('sched-initial');
  const h3 = await env.client.schedule.create({
    scheduleId: initial,
    spec: { intervals: [{ every: '1h' }] },
    action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['i'], taskQueue: env.taskQueue, workflowId: `${initial}-wf` },
    state: { paused: true, triggerImmediately: true, backfill: [{ start: new Date('2024-06-01T10:00:00Z'), end: new Date('2024-06-01T10:00:00Z'), overlap: ScheduleOverlapPolicy.ALLOW_ALL }] },
  });
  await eventually(async () => (await h3.describe()).info.numActionsTaken === 2, { timeoutMs: 10_000, description: 'initial trigger and backfill' });
  const initialIds = (await h3.describe()).info.recentActions.map((a) => a.action.workflow.workflowId);
  assert.ok(initialIds.includes(`${initial}-wf-2024-06-01T10:00:00Z`), `backfilled run among ${initialIds.join(', ')}`);
  await h3.delete();

  // Remaining actions: two, then the schedule stops on its own.
  const limited = uniqueName('sched-limited');
  const h2 = await env.client.schedule.create({
    scheduleId: limited,
    spec: { intervals: [{ every: '1s' }] },
    action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['l'], taskQueue: env.taskQueue, workflowId: `${limited}-wf` },
    state: { remainingActions: 2 },
  });
  await eventually(async () => (await h2.describe()).info.numActionsTaken === 2, { timeoutMs: 10_000, description: 'two actions' });
  await new Promise((r) => setTimeout(r, 2000));
  const after = await h2.describe();
  assert.equal(after.info.numActionsTaken, 2, 'no more than the remaining actions');
  assert.equal(after.state.remainingActions, 0);
  assert.deepEqual(after.info.nextActionTimes, []);
  await h2.delete();
});

/** Ends what a test's schedule left running (the index may still show a run that just closed). */
async function terminateRunning(client: Client, scheduleId: string): Promise<void> {
  for (const w of await startedBy(client, scheduleId)) {
    if (w.status !== 'RUNNING') continue;
    await client.workflow
      .getHandle(w.workflowId)
      .terminate('test done')
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
  }
}

/** A schedule every second of a workflow that blocks on a signal, with the given overlap policy. */
async function overlapRun(env: Parameters<Parameters<typeof file.test>[1]>[1], overlap: ScheduleOverlapPolicy, waitMs: number, pause = true) {
  const scheduleId = uniqueName(`sched-ov-${String(overlap).toLowerCase()}`);
  const handle = await env.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1s' }] },
    action: { type: 'startWorkflow', workflowType: waitForFinish, taskQueue: env.taskQueue, workflowId: `${scheduleId}-wf` },
    policies: { overlap },
  });
  await eventually(async () => (await handle.describe()).info.numActionsTaken >= 1, { timeoutMs: 10_000, description: 'first action' });
  await new Promise((r) => setTimeout(r, waitMs));
  // Paused, the counts stop moving (and, as in Temporal, buffered starts of the spec are dropped when they would run).
  if (pause) await handle.pause('observe');
  return { handle, scheduleId };
}

file.test('overlap SKIP and ALLOW_ALL', async (_t, env) => {
  const skip = await overlapRun(env, ScheduleOverlapPolicy.SKIP, 2500);
  const ds = await skip.handle.describe();
  assert.equal(ds.info.numActionsTaken, 1, 'SKIP: one run while it runs');
  assert.ok(ds.info.numActionsSkippedOverlap >= 2, `SKIP: skipped ${ds.info.numActionsSkippedOverlap}`);
  assert.equal(ds.info.runningActions.length, 1);
  const allow = await overlapRun(env, ScheduleOverlapPolicy.ALLOW_ALL, 2500);
  const da = await allow.handle.describe();
  assert.ok(da.info.numActionsTaken >= 3, `ALLOW_ALL: ${da.info.numActionsTaken} runs side by side`);
  assert.equal(da.info.runningActions.length, da.info.numActionsTaken);
  for (const s of [skip, allow]) {
    await terminateRunning(env.client, s.scheduleId);
    await s.handle.delete();
  }
});

file.test('overlap BUFFER_ONE and BUFFER_ALL: buffered starts run when the running one closes', async (_t, env) => {
  for (const overlap of [ScheduleOverlapPolicy.BUFFER_ONE, ScheduleOverlapPolicy.BUFFER_ALL]) {
    const { handle, scheduleId } = await overlapRun(env, overlap, 2500, false);
    const d = await handle.describe();
    assert.equal(d.info.numActionsTaken, 1, `${overlap}: one run at a time`);
    assert.equal(d.info.numActionsSkippedOverlap, 0);
    const buffered = Number(d.raw.info?.bufferSize ?? 0);
    if (overlap === ScheduleOverlapPolicy.BUFFER_ONE) {
      assert.equal(buffered, 1, 'BUFFER_ONE keeps one');
      assert.ok(Number(d.raw.info?.bufferDropped ?? 0) >= 1, 'and drops the rest');
    } else assert.ok(buffered >= 2, `BUFFER_ALL keeps all (${buffered})`);
    const first = d.info.runningActions[0]!.workflow.workflowId;
    await env.client.workflow.getHandle(first).signal('finish', 'ok');
    await eventually(async () => (await handle.describe()).info.numActionsTaken === 2, { timeoutMs: 10_000, description: `${overlap}: the buffered start ran` });
    const again = await handle.describe();
    assert.equal(again.info.runningActions.length, 1);
    assert.notEqual(again.info.runningActions[0]!.workflow.workflowId, first);
    await handle.delete();
    await terminateRunning(env.client, scheduleId);
  }
});

file.test('overlap CANCEL_OTHER and TERMINATE_OTHER: the running one is ended and the new one starts', async (_t, env) => {
  for (const [overlap, status] of [
    [ScheduleOverlapPolicy.CANCEL_OTHER, 'CANCELLED'],
    [ScheduleOverlapPolicy.TERMINATE_OTHER, 'TERMINATED'],
  ] as const) {
    const { handle, scheduleId } = await overlapRun(env, overlap, 2500, false);
    await eventually(
      async () => {
        const all = await startedBy(env.client, scheduleId);
        return all.length >= 2 && all.filter((w) => w.status === 'RUNNING').length === 1 && all.some((w) => w.status === status);
      },
      { timeoutMs: 10_000, description: `${overlap}: earlier runs ${status}, one running` },
    );
    await handle.delete();
    await terminateRunning(env.client, scheduleId);
  }
});

file.test('bad input is INVALID_ARGUMENT and creates nothing', async (_t, env) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['bad cron', { cronExpressions: ['61 * * * *'] }, /minute/],
    ['bad time zone', { intervals: [{ every: '1m' }], timezone: 'Mars/Olympus' }, /time zone/],
    ['interval 0', { intervals: [{ every: 0 }] }, /interval/],
  ];
  for (const [what, spec, message] of cases) {
    const scheduleId = uniqueName('sched-bad');
    await assert.rejects(
      env.client.schedule.create({ scheduleId, spec: spec as never, action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['x'], taskQueue: env.taskQueue } }),
      (err: Error & { cause?: Error & { code?: number } }) => {
        // The client wraps the gRPC error: INVALID_ARGUMENT (3) saying what is wrong.
        assert.equal(err.cause?.code, 3, `${what}: INVALID_ARGUMENT`);
        assert.match(err.cause?.message ?? '', message, what);
        return true;
      },
    );
    await assert.rejects(env.client.schedule.getHandle(scheduleId).describe(), ScheduleNotFoundError, `${what}: nothing created`);
  }
  // An id in use: ScheduleAlreadyRunning (ALREADY_EXISTS), the first schedule unchanged.
  const taken = uniqueName('sched-taken');
  const first = await env.client.schedule.create({
    scheduleId: taken,
    spec: { intervals: [{ every: '1h' }] },
    action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['x'], taskQueue: env.taskQueue },
    state: { paused: true, note: 'first' },
  });
  await assert.rejects(
    env.client.schedule.create({ scheduleId: taken, spec: { intervals: [{ every: '1m' }] }, action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['y'], taskQueue: env.taskQueue } }),
    ScheduleAlreadyRunning,
  );
  assert.equal((await first.describe()).state.note, 'first');
  await first.delete();
  // Unknown schedules: NOT_FOUND for every call that names one.
  const unknown = env.client.schedule.getHandle(uniqueName('sched-unknown'));
  await assert.rejects(unknown.pause(), ScheduleNotFoundError);
  await assert.rejects(unknown.trigger(), ScheduleNotFoundError);
  await assert.rejects(unknown.delete(), ScheduleNotFoundError);

  const scheduleId = uniqueName('sched-bad-overlap');
  await assert.rejects(
    env.client.workflowService.createSchedule({
      namespace: 'default',
      scheduleId,
      requestId: scheduleId,
      schedule: {
        spec: { interval: [{ interval: { seconds: Long.fromNumber(60) } }] },
        action: { startWorkflow: { workflowId: 'x', workflowType: { name: 'echoWorkflow' }, taskQueue: { name: env.taskQueue } } },
        policies: { overlapPolicy: 42 as never },
      },
    }),
    /overlapPolicy is 42/,
  );
});

file.test('SIGKILL across a firing: after the restart every time runs exactly once', async (_t, env) => {
  const scheduleId = uniqueName('sched-crash');
  const handle = await env.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1s' }] },
    action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['c'], taskQueue: env.taskQueue, workflowId: `${scheduleId}-wf` },
    policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: '1 minute' },
  });
  await eventually(async () => (await handle.describe()).info.numActionsTaken >= 2, { timeoutMs: 10_000, description: 'fired before the kill' });
  await env.server.kill();
  // Down across two firing times: they are caught up after the restart (within the catch-up window).
  await new Promise((r) => setTimeout(r, 2500));
  await env.server.restart();
  const h = env.client.schedule.getHandle(scheduleId);
  const before = await eventually(async () => {
    const d = await h.describe();
    return d.info.numActionsTaken >= 6 ? d : undefined;
  }, { timeoutMs: 20_000, description: 'firing again after the restart' });
  await h.pause('check');
  const d = await h.describe();
  const runs = await eventually(async () => {
    const all = await startedBy(env.client, scheduleId);
    return all.length >= d.info.numActionsTaken ? all : undefined;
  }, { timeoutMs: 10_000, description: 'runs indexed' });
  const ids = runs.map((r) => r.workflowId);
  assert.equal(new Set(ids).size, ids.length, 'no workflow id twice');
  assert.equal(ids.length, d.info.numActionsTaken, `one run per action (${ids.length} runs, ${d.info.numActionsTaken} actions)`);
  // No second lost: consecutive scheduled times from the first to the last.
  const times = ids.map((id) => Date.parse(id.slice(`${scheduleId}-wf-`.length))).sort((a, b) => a - b);
  for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, 1000, `no time lost between ${new Date(times[i - 1]!).toISOString()} and ${new Date(times[i]!).toISOString()}`);
  assert.ok(before.info.numActionsTaken >= 6);
  await h.delete();
});

file.test('search attributes and memo of the schedule and of its runs; list queries; update with its conflict token', async (_t, env) => {
  const IVT = temporal.api.enums.v1.IndexedValueType;
  await env.connection.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes: { SchedTeam: IVT.INDEXED_VALUE_TYPE_KEYWORD, RunTier: IVT.INDEXED_VALUE_TYPE_KEYWORD } });
  const team = defineSearchAttributeKey('SchedTeam', SearchAttributeType.KEYWORD);
  const tier = defineSearchAttributeKey('RunTier', SearchAttributeType.KEYWORD);
  const scheduleId = uniqueName('sched-attrs');
  const handle = await env.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1h' }] },
    action: {
      type: 'startWorkflow',
      workflowType: echoWorkflow,
      args: ['a'],
      taskQueue: env.taskQueue,
      workflowId: `${scheduleId}-wf`,
      memo: { runNote: 'from the action' },
      typedSearchAttributes: [{ key: tier, value: 'gold' }],
    },
    memo: { scheduleNote: 'of the schedule' },
    typedSearchAttributes: [{ key: team, value: 'payments' }],
    state: { paused: true },
  });
  const d = await handle.describe();
  assert.equal(d.typedSearchAttributes.get(team), 'payments');
  assert.equal(d.memo?.scheduleNote, 'of the schedule');
  assert.deepEqual(d.action.type === 'startWorkflow' && d.action.searchAttributes?.RunTier, ['gold']);

  await handle.trigger();
  const runId = await eventually(async () => (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId, { timeoutMs: 10_000, description: 'triggered' });
  const run = await env.client.workflow.getHandle(runId).describe();
  assert.equal(run.memo?.runNote, 'from the action');
  assert.equal(run.typedSearchAttributes.get(tier), 'gold');
  assert.deepEqual(run.searchAttributes.TemporalScheduledById, [scheduleId]);

  // ListSchedules over the schedule's own attributes and TemporalSchedulePaused.
  const listed = async (query: string): Promise<string[]> => {
    const out: string[] = [];
    for await (const s of env.client.schedule.list({ query })) out.push(s.scheduleId);
    return out;
  };
  await eventually(async () => (await listed(`SchedTeam = 'payments' AND TemporalSchedulePaused = true`)).includes(scheduleId), { timeoutMs: 10_000, description: 'listed by attribute' });
  assert.ok(!(await listed(`SchedTeam = 'other'`)).includes(scheduleId));
  const count = await env.client.workflowService.countSchedules({ namespace: 'default', query: `SchedTeam = 'payments'` });
  assert.equal(Number(count.count), 1);

  // Update: a new spec (the client reads, changes and writes back with the conflict token).
  await handle.update((prev) => ({ ...prev, spec: { calendars: [{ hour: 7, minute: 15 }], timezone: 'Europe/Paris' }, state: { ...prev.state, paused: false } }));
  const u = await handle.describe();
  assert.equal(u.spec.timezone, 'Europe/Paris');
  assert.equal(u.spec.intervals?.length ?? 0, 0);
  assert.ok(u.info.lastUpdatedAt, 'update time set');
  for (const t of u.info.nextActionTimes) assert.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(t), '07:15');
  // A stale conflict token is refused and changes nothing.
  const stale = d.raw.conflictToken;
  await assert.rejects(
    env.client.workflowService.updateSchedule({ namespace: 'default', scheduleId, schedule: d.raw.schedule, conflictToken: stale, requestId: uniqueName('req') }),
    /changed since the conflict token was read/,
  );
  assert.equal((await handle.describe()).spec.timezone, 'Europe/Paris');
  await handle.delete();
});

file.test('after downtime longer than the catch-up window, the late times are counted as missed, not run', async (_t, env) => {
  const scheduleId = uniqueName('sched-catchup');
  const handle = await env.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1s' }] },
    action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['c'], taskQueue: env.taskQueue, workflowId: `${scheduleId}-wf` },
    policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: '10s' },
  });
  await eventually(async () => (await handle.describe()).info.numActionsTaken >= 1, { timeoutMs: 10_000, description: 'fired before the kill' });
  await env.server.kill();
  await new Promise((r) => setTimeout(r, 13_000));
  await env.server.restart();
  const d = await eventually(
    async () => {
      const x = await env.client.schedule.getHandle(scheduleId).describe();
      return x.info.numActionsMissedCatchupWindow > 0 ? x : undefined;
    },
    { timeoutMs: 15_000, description: 'missed times counted' },
  );
  // About 3 of the ~13 down seconds were more than 10 s late; the other ~10 were caught up.
  assert.ok(d.info.numActionsMissedCatchupWindow >= 1 && d.info.numActionsMissedCatchupWindow <= 6, `missed ${d.info.numActionsMissedCatchupWindow}`);
  await env.client.schedule.getHandle(scheduleId).delete();
});

file.test('pauseOnFailure: a run that fails pauses the schedule before its next action', async (_t, env) => {
  const scheduleId = uniqueName('sched-pof');
  const handle = await env.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1s' }] },
    action: { type: 'startWorkflow', workflowType: failingWorkflow, args: ['boom', 'Boom'], taskQueue: env.taskQueue, workflowId: `${scheduleId}-wf` },
    policies: { pauseOnFailure: true },
  });
  const d = await eventually(
    async () => {
      const x = await handle.describe();
      return x.state.paused ? x : undefined;
    },
    { timeoutMs: 10_000, description: 'paused after the failure' },
  );
  assert.match(d.state.note ?? '', /failed/);
  assert.equal(d.policies.pauseOnFailure, true);
  const taken = d.info.numActionsTaken;
  assert.ok(taken >= 1 && taken <= 2, `stopped after the failure (${taken} actions)`);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal((await handle.describe()).info.numActionsTaken, taken, 'no action while paused');
  await handle.delete();
});
