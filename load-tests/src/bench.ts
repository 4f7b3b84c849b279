#!/usr/bin/env node
/**
 * `make bench`: the official SDK (worker + client in this process) against a real Hourglass
 * server process on this machine. Measurements (`--mode all` runs each):
 *  - throughput: N single-activity workflows started as fast as the client can, workflows/s, and
 *    the server process's CPU per workflow (its own user + system time, from /proc);
 *  - latency: workflows offered at a fixed rate, start-to-close (start call → result) p50/p99;
 *  - neighbours: on a fresh server, one workflow schedules 2,000 activities and another takes
 *    10,000 signals (a separate process, noise.ts) while another namespace runs single-activity
 *    workflows at a fixed rate: that namespace's start-to-close p50/p99, and the server's event-loop
 *    stalls over the noise.
 *  - aps-neighbours: on a fresh server, namespace `flooded` (its APS set to `--flood-aps` through a
 *    namespace-scoped setting) is offered 10× its APS in starts from a separate process (flood.ts),
 *    while namespace `steady` runs single-activity workflows at `--rate`/s from this process:
 *    steady's start-to-close alone (the baseline) and under the flood, then on a second server with
 *    flooded's APS limit off, for contrast. Runs only when asked for (not part of `all`).
 *  - starts: StartWorkflowExecution alone, no worker (`--workflows` starts, `--concurrency` in
 *    flight): starts/s and the server's CPU per start. Only when asked for.
 *  - long-history: a workflow task's latency (an update's round trip through the sticky worker) on
 *    a run with a 10-event history and on one grown past `--history-events` (10,000) by signals:
 *    p50/p99 of `--pings` (50) sequential updates each. Only when asked for.
 *  - idle-memory: `--workflows` workflows that take their first workflow task and then wait for a
 *    signal; the server's resident memory per open workflow. Only when asked for.
 * `--profile <dir>` writes a CPU profile of each server the bench starts into <dir>.
 * `--address` runs against a server started elsewhere (another build, say); `--server-pid` then
 * names its process so its CPU is read too.
 * Results print as a table and as one JSON line; record them in BENCHMARKS.md with the command.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { MYSQL_SHARD_DATABASES, MYSQL_URL, startServer, type ServerProcess, type StartServerOptions } from '@hourglass/conformance';
import { bundleBenchWorkflows, createBenchWorker, type WorkflowBundle } from './bench-worker';
import { measureRoundTrips } from './db-roundtrips';
import type { FloodCommand, FloodMessage } from './flood';
import type { NoiseMessage } from './noise';
import { histogramDelta, histogramQuantile, parseEventLoopReport, parseHistogram, processCpuMs, processRssBytes, type EventLoopReport, type HistogramBuckets } from './server-stats';
import { visibilityListBench } from './visibility-list';
import { summarize, type LatencySummary } from './stats';
import { breakdown, formatBreakdown, type Breakdown, type TimedRun } from './breakdown';

const OPTIONS = {
  workflows: { type: 'string', default: '2000' },
  concurrency: { type: 'string', default: '200' },
  rate: { type: 'string', default: '50' },
  duration: { type: 'string', default: '20' },
  mode: { type: 'string', default: 'all' },
  'history-events': { type: 'string', default: '10000' },
  pings: { type: 'string', default: '50' },
  'in-memory': { type: 'boolean', default: false },
  store: { type: 'string', default: 'sqlite' },
  address: { type: 'string' },
  /** With --address: the server's pid, so its CPU per workflow is measured too (same machine); a cluster's pids comma-separated, summed. */
  'server-pid': { type: 'string' },
  /**
   * How the throughput and latency phases' client and worker authenticate: `none` (the key-less
   * development caller of the plaintext port) or `key` (an API key on every call: the dev
   * account owner's from a server the bench starts, else --api-key), still over plaintext, so
   * what is measured is authentication and authorization, not TLS.
   */
  auth: { type: 'string', default: 'none' },
  'api-key': { type: 'string' },
  /** aps-neighbours: the flooded namespace's actions per second (it is offered 10× that). */
  'flood-aps': { type: 'string', default: '20' },
  /** With --address: the server's metrics endpoint (e.g. http://127.0.0.1:9090), so visibility lag is read too. */
  'metrics-url': { type: 'string' },
  /** visibility-list: how many executions the visibility index is filled with. */
  executions: { type: 'string', default: '100000' },
  /**
   * throughput/latency: the client shares the worker's NativeConnection and asks for eager
   * workflow start (the SDK's requestEagerStart), so each run's first workflow task comes back in
   * the start's response instead of through matching and a poll.
   */
  'eager-start': { type: 'boolean', default: false },
  /**
   * A directory: each server the bench starts runs under `node --cpu-prof` and writes its CPU
   * profile there when it stops (open it in Chrome DevTools or speedscope).
   */
  profile: { type: 'string' },
  /** `key=value`, repeatable: a setting (as in the config file's settings: section) of every server the bench starts. */
  setting: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const MODES = ['all', 'throughput', 'latency', 'neighbours', 'aps-neighbours', 'starts', 'long-history', 'idle-memory', 'visibility-list'] as const;
/** Modes that start servers of their own (a fresh one per phase), so they cannot run against --address. */
const OWN_SERVER_MODES: readonly string[] = ['neighbours', 'aps-neighbours'];

/** An option's default as the usage text shows it. */
const byDefault = (name: keyof typeof OPTIONS): string => `default ${String((OPTIONS[name] as { default?: unknown }).default)}`;

const USAGE = `Usage: make bench ARGS="[options]"   (or: node load-tests/dist/bench.js [options])

The official SDK's worker and client against a real Hourglass server process; prints a table and one
JSON line. Record results in BENCHMARKS.md with the command.

  --mode <mode>          ${MODES.join(' | ')} (${byDefault('mode')}:
                         throughput, latency, then neighbours on a server of its own)
  --store <store>        sqlite | mysql: the server the bench starts (${byDefault('store')}; mysql uses the
                         machine's MariaDB at 127.0.0.1:3306)
  --in-memory            that server keeps SQLite in memory instead of a file
  --address <host:port>  run against a server started elsewhere (not for neighbours, aps-neighbours)
  --server-pid <pid>     with --address: the server's pid(s), comma-separated, to read its CPU time
  --metrics-url <url>    with --address: its metrics endpoint, to read visibility lag
  --workflows <n>        throughput, starts, idle-memory: how many (${byDefault('workflows')}); starts runs with
                         the namespace's APS and RPS limits off (against --address, set them off there)
  --concurrency <n>      throughput, starts: in flight at once (${byDefault('concurrency')})
  --rate <n>             latency, aps-neighbours: workflows offered per second (${byDefault('rate')})
  --duration <s>         latency, aps-neighbours: seconds of each phase (${byDefault('duration')})
  --history-events <n>   long-history: events of the long run (${byDefault('history-events')})
  --pings <n>            long-history: sequential updates timed on each run (${byDefault('pings')})
  --flood-aps <n>        aps-neighbours: the flooded namespace's APS; offered 10x that (${byDefault('flood-aps')})
  --executions <n>       visibility-list: executions in the index (${byDefault('executions')})
  --auth none|key        none: the key-less dev caller; key: an API key on every call (${byDefault('auth')})
  --api-key <key>        with --auth key against --address
  --eager-start          the client asks for eager workflow start
  --profile <dir>        each server the bench starts writes a CPU profile into <dir>
  --setting <key=value>  a setting of every server the bench starts, over the mode's own (repeat for
                         more; e.g. history.transferTaskConcurrency=8; \`hourglass settings\` lists them)
  -h, --help             this text
`;

function parseBenchArgs() {
  let parsed;
  try {
    parsed = parseArgs({ options: OPTIONS }).values;
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (!(MODES as readonly string[]).includes(parsed.mode)) fail(`--mode ${JSON.stringify(parsed.mode.slice(0, 40))} is not one of ${MODES.join(', ')}`);
  if (parsed.address !== undefined && OWN_SERVER_MODES.includes(parsed.mode)) fail(`--mode ${parsed.mode} starts servers of its own; it cannot run against --address`);
  if (parsed.store !== 'sqlite' && parsed.store !== 'mysql') fail(`--store must be sqlite or mysql, got ${JSON.stringify(parsed.store.slice(0, 40))}`);
  if (parsed.auth !== 'none' && parsed.auth !== 'key') fail(`--auth must be none or key, got ${JSON.stringify(parsed.auth.slice(0, 40))}`);
  if (parsed.setting !== undefined && parsed.address !== undefined) fail('--setting applies to servers the bench starts; set it on the server at --address');
  return { ...parsed, settings: benchSettings(parsed.setting ?? []) };
}

type SettingOverrides = NonNullable<StartServerOptions['settings']>;

/** `key=value` pairs as unconstrained overrides; a number or true/false is one, anything else a string ("30s"). The server checks them. */
function benchSettings(pairs: readonly string[]): SettingOverrides {
  const settings: SettingOverrides = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) fail(`--setting takes key=value, got ${JSON.stringify(pair.slice(0, 60))}`);
    const raw = pair.slice(eq + 1);
    const value = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
    settings[pair.slice(0, eq)] = [{ value }];
  }
  return settings;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\nRun with --help for the options.\n`);
  process.exit(2);
}

const args = parseBenchArgs();

if (args.profile !== undefined && args.address !== undefined) {
  throw new Error('--profile profiles a server the bench starts; for one started elsewhere run it under `node --cpu-prof --cpu-prof-dir=<dir>`');
}

/** A server for the bench: `--in-memory` as asked, no rebuild verification, and under `node --cpu-prof` with --profile. */
function startBenchServer(options: StartServerOptions): Promise<ServerProcess> {
  if (args.profile !== undefined) mkdirSync(args.profile, { recursive: true });
  const nodeArgs = args.profile === undefined ? {} : { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile)}`] };
  const settings = { ...options.settings, ...args.settings };
  return startServer({ inMemory: args['in-memory'], verifyRebuild: false, ...nodeArgs, ...options, settings });
}

/** Says where the profiles written since `before` (file names already there) are. */
function reportProfiles(before: ReadonlySet<string>): void {
  if (args.profile === undefined) return;
  const written = readdirSync(args.profile).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
  console.log(written.length > 0 ? `CPU profile of the server: ${written.map((f) => path.join(args.profile as string, f)).join(', ')}` : `no CPU profile was written to ${args.profile}`);
}

function profilesNow(): Set<string> {
  return new Set(args.profile !== undefined && existsSync(args.profile) ? readdirSync(args.profile) : []);
}

const TASK_QUEUE = `bench-${randomUUID().slice(0, 8)}`;
/** `--server-pid` may list every process of a cluster (comma-separated): their CPU is summed. */
const serverPids = (args['server-pid'] ?? '').split(',').filter((p) => p.trim() !== '').map(Number);

const NEIGHBOUR_NAMESPACE = 'neighbour';
const FAN_OUT = 2000;
const SIGNALS = 10_000;

/** One single-activity workflow, start to result, ms; `timed` (when given) gets its id and wall-clock times for a breakdown. */
async function runOne(client: Client, timed?: TimedRun[]): Promise<number> {
  const t0 = performance.now();
  const workflowId = `bench-${randomUUID()}`;
  const handle = await client.workflow.start('singleActivity', { taskQueue: TASK_QUEUE, workflowId, args: ['x'], ...(args['eager-start'] ? { requestEagerStart: true } : {}) });
  await handle.result();
  const t1 = performance.now();
  timed?.push({ workflowId, calledAt: performance.timeOrigin + t0, answeredAt: performance.timeOrigin + t1 });
  return t1 - t0;
}

/** Runs `one` `total` times with `concurrency` in flight; each call's latency (ms, as it reports it) and the wall time. */
async function closedLoop(total: number, concurrency: number, one: () => Promise<number>): Promise<{ seconds: number; latency: LatencySummary }> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        latencies.push(await one());
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, latency: summarize(latencies) };
}

async function throughput(client: Client, total: number, concurrency: number): Promise<{ workflowsPerSecond: number; seconds: number; latency: LatencySummary }> {
  const { seconds, latency } = await closedLoop(total, concurrency, () => runOne(client));
  return { workflowsPerSecond: total / seconds, seconds, latency };
}

/**
 * StartWorkflowExecution alone: `total` starts, `concurrency` in flight, on a task queue no worker
 * polls (each start writes its run, history and first workflow task, and matching backlogs the task).
 */
async function startsOnly(client: Client, total: number, concurrency: number): Promise<{ startsPerSecond: number; seconds: number; latency: LatencySummary }> {
  const taskQueue = `bench-unpolled-${randomUUID()}`;
  const { seconds, latency } = await closedLoop(total, concurrency, async () => {
    const t = performance.now();
    await client.workflow.start('singleActivity', { taskQueue, workflowId: `bench-start-${randomUUID()}`, args: ['x'] });
    return performance.now() - t;
  });
  return { startsPerSecond: total / seconds, seconds, latency };
}

/**
 * Memory per open workflow: `total` workflows that run their first workflow task on the bench's
 * worker and then wait for a signal, started `concurrency` at a time; the server's resident set
 * before and after, per workflow. "After" is read 5 s after the last first task (`rssLoadedBytes`:
 * the garbage of the load is still largely there) and again once the server has been idle for
 * 30 s (`rssAfterBytes`, the figure: V8 has collected and returned the load's garbage by then).
 */
async function idleMemory(client: Client, pid: number | undefined, total: number, concurrency: number): Promise<{ workflows: number; rssBeforeBytes?: number; rssLoadedBytes?: number; rssAfterBytes?: number; bytesPerWorkflow?: number }> {
  const settle = () => new Promise((r) => setTimeout(r, 5000));
  await settle();
  const rssBeforeBytes = processRssBytes(pid);
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        const workflowId = `bench-idle-${randomUUID()}`;
        ids.push(workflowId);
        await client.workflow.start('countSignals', { taskQueue: TASK_QUEUE, workflowId, args: [1] });
      }
    }),
  );
  // Every run has taken its first workflow task (it waits for the signal) once describe says so for the last ones.
  for (const workflowId of ids.slice(-concurrency)) {
    for (;;) {
      const d = await client.workflow.getHandle(workflowId).describe();
      if (d.historyLength >= 4) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await settle();
  const rssLoadedBytes = processRssBytes(pid);
  await new Promise((r) => setTimeout(r, 25_000));
  const rssAfterBytes = processRssBytes(pid);
  const bytesPerWorkflow = rssBeforeBytes === undefined || rssAfterBytes === undefined ? undefined : (rssAfterBytes - rssBeforeBytes) / total;
  return { workflows: total, ...(rssBeforeBytes === undefined ? {} : { rssBeforeBytes }), ...(rssLoadedBytes === undefined ? {} : { rssLoadedBytes }), ...(rssAfterBytes === undefined ? {} : { rssAfterBytes }), ...(bytesPerWorkflow === undefined ? {} : { bytesPerWorkflow }) };
}

/** Update round trips on a short run and on one whose history was grown past `events` by signals. */
async function longHistory(client: Client, events: number, pings: number): Promise<Record<'short' | 'long', { events: number; latency: LatencySummary }>> {
  const measure = async (grow: number): Promise<{ events: number; latency: LatencySummary }> => {
    const handle = await client.workflow.start('k6Entity', { taskQueue: TASK_QUEUE, workflowId: `bench-history-${randomUUID()}` });
    await handle.executeUpdate('ping');
    // Signals in batches of 200 in flight, until the history holds `grow` events; past Temporal's
    // 10,000 signals per run (refused beyond), updates (about 5 events each) make up the rest.
    let signals = 0;
    while ((await handle.describe()).historyLength < grow) {
      if (signals + 200 <= 9_800) {
        await Promise.all(Array.from({ length: 200 }, () => handle.signal('tick')));
        signals += 200;
      } else {
        await Promise.all(Array.from({ length: 20 }, () => handle.executeUpdate('ping')));
      }
    }
    await handle.executeUpdate('ping');
    const latencies: number[] = [];
    for (let i = 0; i < pings; i++) {
      const t0 = performance.now();
      await handle.executeUpdate('ping');
      latencies.push(performance.now() - t0);
    }
    const length = (await handle.describe()).historyLength;
    await handle.signal('stop');
    await handle.result();
    return { events: length, latency: summarize(latencies) };
  };
  const short = await measure(0);
  const long = await measure(events);
  return { short, long };
}

async function fixedRate(client: Client, rate: number, durationSeconds: number, timed?: TimedRun[]): Promise<{ offered: number; completed: number; latency: LatencySummary }> {
  const total = Math.round(rate * durationSeconds);
  const latencies: number[] = [];
  const runs: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    runs.push(runOne(client, timed).then((ms) => void latencies.push(ms)));
  }
  await Promise.all(runs);
  return { offered: rate, completed: latencies.length, latency: summarize(latencies) };
}

function fmt(l: LatencySummary): string {
  return `p50 ${l.p50.toFixed(0)} ms, p90 ${l.p90.toFixed(0)} ms, p99 ${l.p99.toFixed(0)} ms, max ${l.max.toFixed(0)} ms (n=${l.count})`;
}

/** The server's CPU (ms) spent while `phase` ran, per workflow it ran. */
/** The server's CPU over a phase: the one process's, or the sum over every process of a cluster (`--server-pid 1,2,3`). */
async function withServerCpu<T extends object>(pid: number | undefined, workflows: number, phase: () => Promise<T>): Promise<T & { serverCpuMsPerWorkflow?: number }> {
  const pids = serverPids.length > 0 ? serverPids : pid === undefined ? [] : [pid];
  const total = (): number | undefined => {
    let sum = 0;
    for (const p of pids) {
      const ms = processCpuMs(p);
      if (ms === undefined) return undefined;
      sum += ms;
    }
    return pids.length > 0 ? sum : undefined;
  };
  const before = total();
  const result = await phase();
  const after = total();
  return before === undefined || after === undefined ? result : { ...result, serverCpuMsPerWorkflow: (after - before) / workflows };
}

const LAG_METRIC = 'hourglass_visibility_lag_seconds';

async function scrapeText(metricsUrl: string): Promise<string> {
  const response = await fetch(`${metricsUrl}/metrics`);
  if (!response.ok) throw new Error(`GET ${metricsUrl}/metrics answered ${response.status}`);
  return response.text();
}

/** The calls a single-activity workflow's client and worker make that are not long polls. */
const WORKFLOW_CALLS = ['StartWorkflowExecution', 'RespondWorkflowTaskCompleted', 'RespondActivityTaskCompleted'];

/**
 * The server's own latency (interceptor chain in to answer out) of `namespace`'s calls between two
 * scrapes, by method: how much of a start-to-close the server spends answering, apart from the
 * time a call waits before the server reads it and the time the worker spends on its task.
 */
type ServerSide = { method: string; count: number; p50Ms: number; p99Ms: number }[];

/** The server's own answer time (its RPC latency histogram between two scrapes) for one namespace's workflow calls. */
function rpcLatencies(before: string, after: string, namespace: string): ServerSide {
  return WORKFLOW_CALLS.map((method) => {
    const labels = { namespace, method };
    const delta = histogramDelta(parseHistogram(before, 'hourglass_rpc_latency_seconds', labels), parseHistogram(after, 'hourglass_rpc_latency_seconds', labels));
    return { method, count: delta.counts[delta.counts.length - 1] ?? 0, p50Ms: histogramQuantile(delta, 0.5) * 1000, p99Ms: histogramQuantile(delta, 0.99) * 1000 };
  });
}

async function scrapeLag(metricsUrl: string | undefined): Promise<HistogramBuckets | undefined> {
  if (!metricsUrl) return undefined;
  return parseHistogram(await scrapeText(metricsUrl), LAG_METRIC);
}

interface LagSummary {
  changes: number;
  p50Ms: number;
  p99Ms: number;
}

/** Visibility lag (commit → searchable) of the changes indexed while `phase` ran, from the server's histogram. */
async function withVisibilityLag<T extends object>(metricsUrl: string | undefined, phase: () => Promise<T>): Promise<T & { visibilityLag?: LagSummary }> {
  const before = await scrapeLag(metricsUrl);
  const result = await phase();
  // Records of the phase's last commits are indexed moments after their workflows completed.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await scrapeLag(metricsUrl);
  if (!before || !after) return result;
  const delta = histogramDelta(before, after);
  const lag = { changes: delta.counts[delta.counts.length - 1] ?? 0, p50Ms: histogramQuantile(delta, 0.5) * 1000, p99Ms: histogramQuantile(delta, 0.99) * 1000 };
  return { ...result, visibilityLag: lag };
}

function fmtLag(lag: LagSummary | undefined): string {
  return lag ? `; visibility lag p50 ${lag.p50Ms.toFixed(1)} ms, p99 ${lag.p99Ms.toFixed(1)} ms (${lag.changes} changes)` : '';
}

function createWorker(address: string, namespace: string, workflowBundle: WorkflowBundle): ReturnType<typeof createBenchWorker> {
  return createBenchWorker({ address }, namespace, TASK_QUEUE, workflowBundle);
}

/**
 * One tenant's big fan-out and its signal storm (noise.ts, a process of its own), while a second
 * namespace runs single-activity workflows at `rate`/s from this process: that namespace's
 * start-to-close, and the longest stalls of the server's event loop over the noise (the server
 * starts a new stall window on SIGUSR2 and reports it when it stops).
 */
async function neighbours(store: 'sqlite' | 'mysql', workflowBundle: WorkflowBundle, rate: number) {
  // Temporal's buffered-event limit (100 behind a running workflow task) would fail nearly every task
  // of the two noisy runs here and make their worker replay whole histories; lifted, as in the
  // noisy-neighbours conformance test, so what is measured is isolation.
  const settings = { 'history.maximumBufferedEventsBatch': [{ value: 1_000_000 }] };
  const server = await startBenchServer({ store, settings, extraArgs: ['--log-level', 'warn', '-n', NEIGHBOUR_NAMESPACE] });
  const quiet = await createWorker(server.address, NEIGHBOUR_NAMESPACE, workflowBundle);
  const connection = await Connection.connect({ address: server.address });
  const neighbour = new Client({ connection, namespace: NEIGHBOUR_NAMESPACE });
  const noise = fork(require.resolve('./noise'), ['--address', server.address, '--fan-out', String(FAN_OUT), '--signals', String(SIGNALS)], { stdio: 'inherit' });
  // A customer's workers run on its own machines: here the noisy tenant's worker and client get the
  // CPU the server and the quiet tenant leave, instead of a third of two shared cores.
  if (noise.pid !== undefined) os.setPriority(noise.pid, 19);
  const messages = (kind: NoiseMessage['kind']): Promise<NoiseMessage> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: NoiseMessage): void => {
        if (message.kind !== kind) return;
        noise.off('message', onMessage);
        resolve(message);
      };
      noise.on('message', onMessage);
      noise.once('exit', (code) => reject(new Error(`the noise process exited (code ${code}) before saying ${kind}`)));
    });
  try {
    const measured = await quiet.worker.runUntil(async () => {
      await throughput(neighbour, 20, 5); // warm-up of the quiet namespace
      await messages('ready');
      const done = messages('done');
      process.kill(server.pid as number, 'SIGUSR2'); // the stall window starts with the noise
      const rpcBefore = await scrapeText(server.metricsUrl);
      noise.send('go');
      let noiseDone = false;
      const noiseSeconds = done.then((m) => (m.kind === 'done' ? m.seconds : NaN)).finally(() => (noiseDone = true));
      // The quiet namespace runs at a fixed rate for as long as the noise lasts.
      const latencies: number[] = [];
      const timed: TimedRun[] = [];
      const runs: Promise<void>[] = [];
      const t0 = performance.now();
      for (let i = 0; !noiseDone; i++) {
        const wait = t0 + (i * 1000) / rate - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        runs.push(runOne(neighbour, timed).then((ms) => void latencies.push(ms)));
      }
      await Promise.all(runs);
      const rpcAfter = await scrapeText(server.metricsUrl);
      const serverSide = rpcLatencies(rpcBefore, rpcAfter, NEIGHBOUR_NAMESPACE);
      const syncs = histogramDelta(parseHistogram(rpcBefore, 'hourglass_sqlite_wal_sync_seconds', {}), parseHistogram(rpcAfter, 'hourglass_sqlite_wal_sync_seconds', {}));
      const walSync = { count: syncs.counts[syncs.counts.length - 1] ?? 0, p50Ms: histogramQuantile(syncs, 0.5) * 1000, p99Ms: histogramQuantile(syncs, 0.99) * 1000 };
      return { noiseSeconds: await noiseSeconds, neighbour: summarize(latencies), breakdown: await breakdown(neighbour, timed), serverSide, walSync };
    });
    await connection.close();
    await quiet.connection.close();
    await server.stop();
    return { ...measured, eventLoop: parseEventLoopReport(server.recentOutput()) };
  } finally {
    noise.kill();
    await server.dispose();
  }
}

const FLOODED_NAMESPACE = 'flooded';
const STEADY_NAMESPACE = 'steady';
/** How far over its APS the flooded namespace is offered starts. */
const FLOOD_FACTOR = 10;

interface FloodCounts {
  seconds: number;
  offered: number;
  admitted: number;
  refused: number;
  failed: number;
  firstFailure?: string;
}

/**
 * One server: `steady` at `rate`/s alone (when `baseline`), then while flood.ts offers `flooded`
 * FLOOD_FACTOR × `floodAps` starts per second; `floodAps` 0 runs the server with flooded's APS off.
 */
async function apsPhase(
  store: 'sqlite' | 'mysql',
  workflowBundle: WorkflowBundle,
  options: { rate: number; durationSeconds: number; floodAps: number; offered: number; baseline: boolean },
): Promise<{
  baseline?: LatencySummary;
  baselineBreakdown?: Breakdown;
  baselineServerSide?: ServerSide;
  baselineLoop?: EventLoopReport | undefined;
  flooded: LatencySummary;
  floodedBreakdown: Breakdown;
  floodedServerSide: ServerSide;
  floodedLoop: EventLoopReport | undefined;
  flood: FloodCounts;
}> {
  const settings = { 'frontend.namespaceAPS': [{ value: options.floodAps, constraints: { namespace: FLOODED_NAMESPACE } }] };
  const server = await startBenchServer({ store, settings, extraArgs: ['--log-level', 'warn', '-n', FLOODED_NAMESPACE, STEADY_NAMESPACE] });
  const steadyWorker = await createWorker(server.address, STEADY_NAMESPACE, workflowBundle);
  const connection = await Connection.connect({ address: server.address });
  const steady = new Client({ connection, namespace: STEADY_NAMESPACE });
  const flood = fork(require.resolve('./flood'), ['--address', server.address, '--namespace', FLOODED_NAMESPACE, '--rate', String(options.offered)], { stdio: 'inherit' });
  // As in the neighbours mode: a customer's clients and workers run on its own machines, so the
  // flooding tenant gets the CPU the server and the steady tenant leave.
  if (flood.pid !== undefined) os.setPriority(flood.pid, 19);
  const message = <K extends FloodMessage['kind']>(kind: K): Promise<Extract<FloodMessage, { kind: K }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: FloodMessage): void => {
        if (m.kind !== kind) return;
        flood.off('message', onMessage);
        resolve(m as Extract<FloodMessage, { kind: K }>);
      };
      flood.on('message', onMessage);
      flood.once('exit', (code) => reject(new Error(`the flood process exited (code ${code}) before saying ${kind}`)));
    });
  const command = (c: FloodCommand): void => {
    if (flood.connected) flood.send(c);
  };
  const exited = new Promise<void>((resolve) => flood.once('exit', () => resolve()));
  try {
    const ready = message('ready');
    return await steadyWorker.worker.runUntil(async () => {
      await throughput(steady, 20, 5); // warm-up of the steady namespace
      await ready;
      const quiet: TimedRun[] = [];
      // Each phase is a window of the server's event-loop stall report (SIGUSR2 prints the last and starts the next).
      const stallWindow = async (): Promise<EventLoopReport | undefined> => {
        process.kill(server.pid as number, 'SIGUSR2');
        await new Promise((resolve) => setTimeout(resolve, 300));
        return parseEventLoopReport(server.recentOutput());
      };
      await stallWindow();
      const atStart = await scrapeText(server.metricsUrl);
      const baseline = options.baseline ? (await fixedRate(steady, options.rate, options.durationSeconds, quiet)).latency : undefined;
      const beforeFlood = await scrapeText(server.metricsUrl);
      const baselineLoop = await stallWindow();
      const done = message('done');
      command('go');
      const timed: TimedRun[] = [];
      const flooded = (await fixedRate(steady, options.rate, options.durationSeconds, timed)).latency;
      const afterFlood = await scrapeText(server.metricsUrl);
      const floodedLoop = await stallWindow();
      command('stop');
      const { kind: _kind, ...counts } = await done;
      return {
        ...(baseline ? { baseline, baselineBreakdown: await breakdown(steady, quiet), baselineServerSide: rpcLatencies(atStart, beforeFlood, STEADY_NAMESPACE), baselineLoop } : {}),
        flooded,
        floodedLoop,
        floodedBreakdown: await breakdown(steady, timed),
        floodedServerSide: rpcLatencies(beforeFlood, afterFlood, STEADY_NAMESPACE),
        flood: counts,
      };
    });
  } finally {
    // The flood's worker drains its in-flight tasks and exits on its own after 'stop'; it must be
    // gone before the server is, or it retries against a closed port for minutes.
    command('stop');
    const killer = setTimeout(() => flood.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killer);
    await connection.close();
    await steadyWorker.connection.close();
    await server.dispose();
  }
}

async function apsNeighbours(store: 'sqlite' | 'mysql', workflowBundle: WorkflowBundle) {
  const rate = Number(args.rate);
  const durationSeconds = Number(args.duration);
  const floodAps = Number(args['flood-aps']);
  const offered = floodAps * FLOOD_FACTOR;
  const limited = await apsPhase(store, workflowBundle, { rate, durationSeconds, floodAps, offered, baseline: true });
  const unlimited = await apsPhase(store, workflowBundle, { rate, durationSeconds, floodAps: 0, offered, baseline: false });
  return { rate, durationSeconds, floodAps, offered, limited, unlimited };
}

function fmtLoop(loop: EventLoopReport | undefined): string {
  return loop ? `; server event loop: longest stall ${loop.maxMs.toFixed(0)} ms, p99 ${loop.p99Ms.toFixed(1)} ms` : '';
}

function fmtServerSide(serverSide: ServerSide): string {
  return serverSide.map((r) => `${r.method} p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms (n=${r.count})`).join('; ');
}

function fmtFlood(f: FloodCounts): string {
  const failed = f.failed > 0 ? `, ${f.failed} failed otherwise (${f.firstFailure ?? ''})` : '';
  return `${f.offered} starts offered in ${f.seconds.toFixed(1)} s: ${f.admitted} admitted (${(f.admitted / f.seconds).toFixed(1)}/s), ${f.refused} refused with RESOURCE_EXHAUSTED${failed}`;
}

async function main(): Promise<void> {
  const profilesBefore = profilesNow();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  if (args.mode === 'visibility-list') {
    console.log(JSON.stringify(await visibilityListBench(Number(args.executions))));
    return;
  }
  let server: ServerProcess | undefined;
  const store = args.store === 'mysql' ? 'mysql' : 'sqlite';
  // `starts` measures the server, not a tenant's quota: the namespace's APS (500) and RPS (2,400)
  // limits would refuse part of the starts and the client's backoff would be what is timed.
  const settings = args.mode === 'starts' ? { 'frontend.namespaceAPS': [{ value: 0 }], 'frontend.namespaceRPS': [{ value: 0 }] } : undefined;
  const address = args.address ?? (server = await startBenchServer({ store, ...(settings ? { settings } : {}), extraArgs: ['--log-level', 'warn'] })).address;
  const workflowBundle = await bundleBenchWorkflows();
  const apiKey = args.auth === 'key' ? (args['api-key'] ?? server?.devCredentials().ownerApiKey) : undefined;
  if (args.auth === 'key' && !apiKey) throw new Error('--auth key against a server the bench did not start needs --api-key');
  // An API key turns TLS on in the SDK by default: plaintext here, to measure the key alone.
  const auth = apiKey ? { apiKey, tls: false as const } : {};
  const { connection: nativeConnection, worker } = await createBenchWorker({ address, ...auth }, 'default', TASK_QUEUE, workflowBundle);
  const connection = await Connection.connect({ address, ...auth });
  // Eager start needs the client on the worker's own connection (the SDK hands the task to that worker).
  const client = new Client({ connection: args['eager-start'] ? nativeConnection : connection });
  const serverPid = server?.pid ?? (args['server-pid'] === undefined ? undefined : Number(args['server-pid'].split(',')[0]));
  const metricsUrl = server?.metricsUrl ?? args['metrics-url'];
  const result: Record<string, unknown> = {
    machine: `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
    store: args.address ? 'external' : store === 'mysql' ? `mysql (${MYSQL_SHARD_DATABASES} shard databases)` : args['in-memory'] ? 'sqlite (in memory)' : 'sqlite (file)',
    auth: apiKey ? 'API key on every call' : 'none (key-less dev caller)',
  };
  try {
    await worker.runUntil(async () => {
      await throughput(client, 50, 10); // warm-up: JIT, caches, connections
      if (args.mode === 'all' || args.mode === 'throughput') {
        const t = await withVisibilityLag(metricsUrl, () => withServerCpu(serverPid, Number(args.workflows), () => throughput(client, Number(args.workflows), Number(args.concurrency))));
        result.throughput = t;
        const cpu = t.serverCpuMsPerWorkflow === undefined ? '' : `; server CPU ${t.serverCpuMsPerWorkflow.toFixed(2)} ms per workflow`;
        console.log(`throughput: ${Number(args.workflows)} workflows in ${t.seconds.toFixed(1)} s = ${t.workflowsPerSecond.toFixed(1)} workflows/s${cpu}; start-to-close ${fmt(t.latency)}${fmtLag(t.visibilityLag)}`);
      }
      if (args.mode === 'all' || args.mode === 'latency') {
        const l = await withVisibilityLag(metricsUrl, () => withServerCpu(serverPid, Math.round(Number(args.rate) * Number(args.duration)), () => fixedRate(client, Number(args.rate), Number(args.duration))));
        result.latency = l;
        const cpu = l.serverCpuMsPerWorkflow === undefined ? '' : `; server CPU ${l.serverCpuMsPerWorkflow.toFixed(2)} ms per workflow`;
        console.log(`latency at ${l.offered} workflows/s offered for ${args.duration} s: start-to-close ${fmt(l.latency)}${cpu}${fmtLag(l.visibilityLag)}`);
      }
      if (args.mode === 'starts') {
        const s = await withServerCpu(serverPid, Number(args.workflows), () => startsOnly(client, Number(args.workflows), Number(args.concurrency)));
        result.starts = s;
        const cpu = s.serverCpuMsPerWorkflow === undefined ? '' : `; server CPU ${s.serverCpuMsPerWorkflow.toFixed(2)} ms per start`;
        console.log(`starts: ${Number(args.workflows)} StartWorkflowExecution calls (no worker) in ${s.seconds.toFixed(1)} s = ${s.startsPerSecond.toFixed(0)}/s${cpu}; call latency ${fmt(s.latency)}`);
      }
      if (args.mode === 'long-history') {
        const h = await longHistory(client, Number(args['history-events']), Number(args.pings));
        result.longHistory = h;
        console.log(
          `workflow task latency (update round trip, sticky worker): ${h.short.events}-event history ${fmt(h.short.latency)}; ${h.long.events}-event history ${fmt(h.long.latency)}; p50 ratio ${(h.long.latency.p50 / h.short.latency.p50).toFixed(2)}`,
        );
      }
      if (args.mode === 'idle-memory') {
        const m = await idleMemory(client, serverPid, Number(args.workflows), Number(args.concurrency));
        result.idleMemory = m;
        const mib = (b: number | undefined) => (b === undefined ? '?' : (b / 2 ** 20).toFixed(0));
        console.log(
          `idle memory: ${m.workflows} open workflows waiting on a signal; server RSS ${mib(m.rssBeforeBytes)} → ${mib(m.rssLoadedBytes)} MiB just after the load, ${mib(m.rssAfterBytes)} MiB after 30 s idle = ${m.bytesPerWorkflow === undefined ? '?' : (m.bytesPerWorkflow / 1024).toFixed(1)} KiB per workflow`,
        );
      }
      if (store === 'mysql' && metricsUrl && args.mode !== 'starts' && args.mode !== 'idle-memory') {
        const r = await measureRoundTrips(connection, MYSQL_URL, metricsUrl);
        result.roundTrips = r;
        for (const [what, c] of [['round trips', r.roundTrips], ['statements', r.statements], ['Questions (every client of the database server)', r.questions]] as const) {
          console.log(
            `MySQL ${what} (median of ${r.runs} workflows): start ${c.startWorkflow}, workflow task (schedule activity) ${c.workflowTaskScheduleActivity}, activity completion ${c.activityCompletion}, workflow task (complete) ${c.workflowTaskCompleteWorkflow}; ${c.perWorkflow} per workflow`,
          );
        }
      }
    });
  } finally {
    await connection.close();
    await nativeConnection.close();
    await server?.dispose();
  }
  if (!args.address && (args.mode === 'all' || args.mode === 'neighbours')) {
    const n = await neighbours(store, workflowBundle, 20);
    result.neighbours = n;
    console.log(`neighbours: ${FAN_OUT} activities in one workflow task and ${SIGNALS} signals took ${n.noiseSeconds.toFixed(1)} s; meanwhile namespace ${NEIGHBOUR_NAMESPACE} at 20/s: start-to-close ${fmt(n.neighbour)}${fmtLoop(n.eventLoop)}`);
    for (const line of formatBreakdown(n.breakdown)) console.log(line);
    console.log(`  the server's own answer time for ${NEIGHBOUR_NAMESPACE}'s calls: ${fmtServerSide(n.serverSide)}`);
    if (n.walSync.count > 0) console.log(`  the store's log syncs over the noise: ${n.walSync.count}, p50 ${n.walSync.p50Ms.toFixed(1)} ms, p99 ${n.walSync.p99Ms.toFixed(1)} ms`);
  }
  if (!args.address && args.mode === 'aps-neighbours') {
    const a = await apsNeighbours(store, workflowBundle);
    result.apsNeighbours = a;
    console.log(`aps-neighbours: namespace ${FLOODED_NAMESPACE} offered ${a.offered} starts/s (${FLOOD_FACTOR}× its ${a.floodAps} APS) for ${a.durationSeconds} s while ${STEADY_NAMESPACE} runs ${a.rate} workflows/s`);
    if (a.limited.baseline) console.log(`  ${STEADY_NAMESPACE} alone (baseline):            start-to-close ${fmt(a.limited.baseline)}`);
    if (a.limited.baselineBreakdown) for (const line of formatBreakdown(a.limited.baselineBreakdown)) console.log(line);
    if (a.limited.baselineServerSide) console.log(`  the server's own answer time for ${STEADY_NAMESPACE}'s calls: ${fmtServerSide(a.limited.baselineServerSide)}${fmtLoop(a.limited.baselineLoop)}`);
    console.log(`  ${STEADY_NAMESPACE} under the flood, APS limited: start-to-close ${fmt(a.limited.flooded)}`);
    for (const line of formatBreakdown(a.limited.floodedBreakdown)) console.log(line);
    console.log(`  the server's own answer time for ${STEADY_NAMESPACE}'s calls: ${fmtServerSide(a.limited.floodedServerSide)}${fmtLoop(a.limited.floodedLoop)}`);
    console.log(`    ${FLOODED_NAMESPACE}: ${fmtFlood(a.limited.flood)}`);
    console.log(`  ${STEADY_NAMESPACE} under the flood, APS off:     start-to-close ${fmt(a.unlimited.flooded)}`);
    console.log(`    ${FLOODED_NAMESPACE}: ${fmtFlood(a.unlimited.flood)}`);
  }
  reportProfiles(profilesBefore);
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
