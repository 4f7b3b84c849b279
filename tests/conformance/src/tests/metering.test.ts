// Usage metering end to end: workflows run by the official SDK produce exactly the billable
// actions a hand-written table expects, per type (`hourglass admin usage`), across a SIGKILL of
// the server; `@temporalio/cloud`'s getUsage() returns the same counts; another account sees none
// of it and may not ask the operator API for it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { parse } from 'csv-parse/sync';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { ScheduleOverlapPolicy, type WorkflowHandle } from '@temporalio/client';
import { EventType, SERVICES, conformanceFile, eventually, eventsOfType, fetchEvents, rawServiceClient, runCloudScenario, serverBinPath, uniqueName } from '../harness';
import { echoWorkflow, meterQuery, meterSignal, meterUpdate, meteredSignalTarget, meteredSleeper, meteredWorkflow } from '../workflows';

const exec = promisify(execFile);
const file = conformanceFile({ name: 'metering' });

/** Billable actions by type, as `hourglass admin usage` names them. */
type Actions = Record<string, number>;

const NONE: Actions = {
  workflow_started: 0,
  workflow_reset: 0,
  signal: 0,
  query: 0,
  update: 0,
  activity_started: 0,
  activity_heartbeat: 0,
  marker: 0,
  timer_started: 0,
  upsert: 0,
  schedule_action: 0,
};

// Written by hand from the workflow code (workflows/metering.ts), not read back from the server.
const SCRIPTED: Actions = {
  ...NONE,
  // The client's start, the child, the continue-as-new run, the signal-with-start, a schedule's trigger and backfill.
  workflow_started: 6,
  // Two SignalWorkflowExecution calls and the signal of the signal-with-start.
  signal: 3,
  query: 1,
  update: 1,
  // failUntilAttempt(3): attempts 1, 2 and 3; heartbeatThenGoSilent: one attempt.
  activity_started: 4,
  activity_heartbeat: 1,
  // One workflow task recorded the local activity's marker.
  marker: 1,
  timer_started: 1,
  // upsertMemo.
  upsert: 1,
  // Two schedule actions (a trigger, a backfilled time): 2 each, as Temporal Cloud bills a schedule execution.
  schedule_action: 4,
};

// Three meteredSleeper workflows: each starts, starts a timer and receives one signal.
const SLEEPERS = 3;
const CRASHED: Actions = { ...NONE, workflow_started: SLEEPERS, timer_started: SLEEPERS, signal: SLEEPERS };

function sum(...tables: Actions[]): Actions {
  const out: Actions = { ...NONE };
  for (const t of tables) for (const [k, v] of Object.entries(t)) out[k] = (out[k] ?? 0) + v;
  return out;
}

const total = (t: Actions): number => Object.values(t).reduce((a, b) => a + b, 0);

async function admin(args: string[], operatorKey: string, address: string): Promise<Record<string, unknown>> {
  const { stdout } = await exec(process.execPath, [serverBinPath(), 'admin', ...args, '--address', address], { env: { ...process.env, HOURGLASS_OPERATOR_API_KEY: operatorKey } });
  return JSON.parse(stdout) as Record<string, unknown>;
}

interface UsageJson {
  periods: { namespaces: { namespace: string; actions: Actions; actionsTotal: number; activeStorageByteSeconds: number }[] }[];
}

/** The dev account's actions on namespace `default` today (UTC), per type, from `hourglass admin usage`. */
async function actionsToday(operatorKey: string, address: string, accountId: string): Promise<Actions> {
  const day = new Date().toISOString().slice(0, 10);
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const usage = (await admin(['usage', '--account', accountId, '--from', day, '--to', next], operatorKey, address)) as unknown as UsageJson;
  const out: Actions = { ...NONE };
  for (const period of usage.periods) {
    for (const ns of period.namespaces) {
      if (ns.namespace !== 'default') continue;
      for (const [k, v] of Object.entries(ns.actions)) out[k] = (out[k] ?? 0) + Number(v);
    }
  }
  return out;
}

/** Waits until the counters show `expected` (the usage tasks are folded shortly after their commits), then checks they stay there. */
async function expectActions(env: { server: { address: string; devCredentials(): { operatorApiKey: string; accountId: string } } }, expected: Actions): Promise<void> {
  const { operatorApiKey, accountId } = env.server.devCredentials();
  let last: Actions = {};
  try {
    await eventually(
      async () => {
        last = await actionsToday(operatorApiKey, env.server.address, accountId);
        return JSON.stringify(last) === JSON.stringify(expected);
      },
      { timeoutMs: 15_000, intervalMs: 200, description: 'the usage counters reach the expected table' },
    );
  } catch (err) {
    assert.deepEqual(last, expected, `usage counters never matched: ${(err as Error).message}`);
  }
  // Nothing more arrives later (no double count from a retried fold or a replay).
  assert.deepEqual(await actionsToday(operatorApiKey, env.server.address, accountId), expected);
}

function runUsageScenario(args: string[], caFile: string): Promise<Record<string, unknown>> {
  return runCloudScenario('usage-scenario.js', args, caFile);
}

file.test('a scripted set of workflows produces exactly the expected billable actions of every type', async (_t, env) => {
  const handle = await env.client.workflow.start(meteredWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('metered'), args: [false] });
  // Waiting on history (not on a query: a query is billed) until the child completed and the workflow waits for signals.
  await eventually(async () => eventsOfType(await fetchEvents(handle), EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED).length === 1, {
    timeoutMs: 30_000,
    description: 'the child completed',
  });
  await handle.signal(meterSignal, 'one');
  await handle.signal(meterSignal, 'two');
  assert.equal(await handle.query(meterQuery), 2);
  assert.equal(await handle.executeUpdate(meterUpdate, { args: [41] }), 42);
  assert.equal(await handle.result(), 'done', 'continued as new, and the new run returned');
  const sws = await env.client.workflow.signalWithStart(meteredSignalTarget, {
    taskQueue: env.taskQueue,
    workflowId: uniqueName('metered-sws'),
    signal: meterSignal,
    signalArgs: ['go'],
  });
  assert.equal(await sws.result(), 1);
  const schedule = await env.client.schedule.create({
    scheduleId: uniqueName('metered-schedule'),
    spec: { intervals: [{ every: '1h' }] },
    action: { type: 'startWorkflow', workflowType: echoWorkflow, args: ['scheduled'], taskQueue: env.taskQueue },
    state: { paused: true },
  });
  await schedule.trigger();
  await schedule.backfill({ start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T00:00:00Z'), overlap: ScheduleOverlapPolicy.ALLOW_ALL });
  await eventually(async () => (await schedule.describe()).info.numActionsTaken === 2, { timeoutMs: 10_000, description: 'the schedule took two actions' });
  await schedule.delete();
  await expectActions(env, SCRIPTED);
}, { timeoutMs: 90_000 });

file.test('a SIGKILL of the server mid-flight, then a restart: the counts are still exact', async (_t, env) => {
  const handles: WorkflowHandle[] = [];
  for (let i = 0; i < SLEEPERS; i++) {
    handles.push(await env.client.workflow.start(meteredSleeper, { taskQueue: env.taskQueue, workflowId: uniqueName(`metered-sleeper-${i}`), args: [1500] }));
  }
  await eventually(
    async () => {
      for (const h of handles) if (eventsOfType(await fetchEvents(h), EventType.EVENT_TYPE_TIMER_STARTED).length !== 1) return false;
      return true;
    },
    { timeoutMs: 20_000, description: 'every sleeper on its timer' },
  );
  const killed = await env.server.kill();
  assert.equal(killed.signal, 'SIGKILL');
  await env.server.restart();
  for (const h of handles) await h.signal(meterSignal, 'wake');
  for (const h of handles) assert.equal(await h.result(), 'slept');
  await expectActions(env, sum(SCRIPTED, CRASHED));
}, { timeoutMs: 120_000 });

file.test("@temporalio/cloud's getUsage() returns the same counts, and another account sees none of them", async (_t, env) => {
  const { tlsAddress, tlsCaFile } = env.server;
  assert.ok(tlsAddress && tlsCaFile, 'the server serves TLS');
  const credentials = env.server.devCredentials();
  const expectedTotal = total(sum(SCRIPTED, CRASHED));
  const seen = await runUsageScenario([tlsAddress, credentials.ownerApiKey], tlsCaFile);
  const summaries = seen.summaries as { startMs: number; endMs: number; incomplete: boolean; groups: { groupBys: { key: number; value: string }[]; records: { type: number; unit: number; value: number }[] }[] }[];
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const todays = summaries.find((s) => s.startMs === today);
  assert.ok(todays, `a summary for today among ${summaries.length}`);
  assert.equal(todays.endMs, today + 86_400_000);
  assert.equal(todays.incomplete, true, 'the running day is incomplete');
  const group = todays.groups.find((g) => g.groupBys.some((b) => b.key === 1 /* GROUP_BY_KEY_NAMESPACE */ && b.value === 'default'));
  assert.ok(group, 'a record group for namespace default');
  const actions = group.records.find((r) => r.type === 1 /* RECORD_TYPE_ACTIONS */);
  assert.equal(actions?.unit, 1 /* RECORD_UNIT_NUMBER */);
  assert.equal(actions?.value, expectedTotal);
  for (const type of [2, 3] /* ACTIVE_STORAGE, RETAINED_STORAGE */) {
    assert.equal(group.records.find((r) => r.type === type)?.unit, 2 /* RECORD_UNIT_BYTE_SECONDS */);
  }
  // Every change of a run accrues its storage since the previous one: the open runs of this file held bytes for seconds.
  assert.ok((group.records.find((r) => r.type === 2)?.value ?? 0) > 0, 'active storage accrued');
  // Days before this month's first are never listed; every day listed ends where the next starts.
  for (const [i, s] of summaries.entries()) if (i > 0) assert.equal(s.startMs, summaries[i - 1]?.endMs);

  // Another account: its owner sees no usage of namespace default; the operator API is not for it.
  const other = await admin(['account', 'create', '--name', 'metering-b', '--owner-email', 'owner@metering-b.test'], credentials.operatorApiKey, env.server.address);
  const otherSeen = await runUsageScenario([tlsAddress, other.ownerApiKey as string], tlsCaFile);
  const otherGroups = (otherSeen.summaries as { groups: unknown[] }[]).flatMap((s) => s.groups);
  assert.deepEqual(otherGroups, [], "another account's usage holds none of this account's namespaces");
  const raw = rawServiceClient(env.server.address);
  try {
    const denied = await raw.outcome(SERVICES.operatorApi, 'GetAccountUsage', { accountId: credentials.accountId, fromTimeMs: today, toTimeMs: today + 86_400_000 }, { apiKey: other.ownerApiKey as string });
    assert.equal(denied.code, status.PERMISSION_DENIED, denied.details);
    const invoice = await raw.outcome(SERVICES.operatorApi, 'GetInvoice', { accountId: credentials.accountId, month: new Date().toISOString().slice(0, 7) }, { apiKey: other.ownerApiKey as string });
    assert.equal(invoice.code, status.PERMISSION_DENIED, invoice.details);
  } finally {
    raw.close();
  }
}, { timeoutMs: 90_000 });

file.test("a billing report's CSV, downloaded from its signed URL, sums to the month's invoice; another account may not read it", async (_t, env) => {
  const credentials = env.server.devCredentials();
  const now = new Date();
  const month = now.toISOString().slice(0, 7);
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const seconds = (ms: number): { seconds: number } => ({ seconds: ms / 1000 });
  const raw = rawServiceClient(env.server.address);
  try {
    const owner = { apiKey: credentials.ownerApiKey };
    const created = await raw.call(SERVICES.cloud, 'CreateBillingReport', { spec: { startTimeInclusive: seconds(start), endTimeExclusive: seconds(end), granularity: 2 /* DAILY */, description: 'this month' } }, owner);
    const id = created.billingReportId as string;
    assert.ok(id, 'a report id');
    const got = await raw.call(SERVICES.cloud, 'GetBillingReport', { billingReportId: id }, owner);
    const report = got.billingReport as { state: number; downloadInfo: { url: string; fileFormat: number; fileSizeBytes: number }[] };
    assert.equal(report.state, 2 /* GENERATED */);
    const download = report.downloadInfo[0];
    assert.ok(download, 'a download');
    assert.equal(download.fileFormat, 1 /* CSV */);
    // Hourglass serves the file at the signed URL.
    const res = await fetch(download.url);
    assert.equal(res.status, 200);
    const csv = await res.text();
    assert.equal(Buffer.byteLength(csv), download.fileSizeBytes);
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    const invoice = (await admin(['invoice', '--account', credentials.accountId, '--month', month], credentials.operatorApiKey, env.server.address)) as { totalCents: number; lines: { namespace: string; type: string; quantity: number }[] };
    const billed = rows.reduce((sum, r) => sum + Math.round(Number(r.BilledCost) * 100), 0);
    assert.equal(billed, invoice.totalCents, 'the CSV sums to the invoice, to the cent');
    const actionsLine = invoice.lines.find((l) => l.namespace === 'default' && l.type === 'actions');
    assert.equal(actionsLine?.quantity, total(sum(SCRIPTED, CRASHED)), "the invoice bills this file's actions");
    // A URL whose signature does not match is refused.
    const tampered = await fetch(download.url.replace(/sig=[^&]+/, 'sig=AAAA'));
    assert.equal(tampered.status, 403);

    const other = await admin(['account', 'create', '--name', 'metering-c', '--owner-email', 'owner@metering-c.test'], credentials.operatorApiKey, env.server.address);
    const denied = await raw.outcome(SERVICES.cloud, 'GetBillingReport', { billingReportId: id }, { apiKey: other.ownerApiKey as string });
    assert.equal(denied.code, status.PERMISSION_DENIED, denied.details);
  } finally {
    raw.close();
  }
}, { timeoutMs: 60_000 });
