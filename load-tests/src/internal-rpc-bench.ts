#!/usr/bin/env node
/**
 * Cost of one internal gRPC call (services/rpc) over loopback, against calling the same
 * implementation in process: sequential calls of a cheap method (MatchingService.describeTaskQueue,
 * contract data only) and of one carrying Temporal messages (HistoryService.describeWorkflowExecution).
 * The implementations answer at once, so the difference is the transport: encode, HTTP/2 over
 * loopback, decode, conversions. A bare grpc-js unary call (10 bytes each way, no protobuf) is the
 * floor that grpc-js itself sets on this machine. Prints the median over the runs of the mean µs
 * per call, wall clock and CPU time (client and server share the process, so CPU is the whole
 * cost of a call; it is also the steadier figure on a busy machine).
 *
 *   node load-tests/dist/internal-rpc-bench.js [--calls 2000] [--runs 5]
 */
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { HistoryClient, MatchingClient, addHistoryService, addMatchingService } from '@hourglass/rpc';

type Impl = Record<string, (...args: unknown[]) => Promise<unknown>>;

const description = { waitingPollers: 2, backlogTasks: 5, pendingQueries: 0, oldestBacklogTime: 1_700_000_000_000, pollers: [{ identity: 'worker-1@host', lastAccessTime: 1_700_000_000_000 }] };
const described = {
  executionConfig: { taskQueue: { name: 'orders' }, workflowRunTimeout: { seconds: 0 }, defaultWorkflowTaskTimeout: { seconds: 10 } },
  workflowExecutionInfo: { execution: { workflowId: 'order-1', runId: '0f9b3a6e-2c1d-4f7a-9e8b-1a2b3c4d5e6f' }, type: { name: 'processOrder' }, status: 1, historyLength: 11, taskQueue: 'orders', startTime: { seconds: 1_700_000_000 } },
};
const impl = new Proxy({}, { get: (_t, name) => async () => (name === 'describeTaskQueue' ? description : described) }) as Impl;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${process.argv[i + 1]}`);
  return value;
}

/** Mean wall-clock and CPU (user + system, client and server together: one process) µs per call. */
async function meanMicros(calls: number, call: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < calls; i++) await call();
  const used = process.cpuUsage(cpu);
  return { wall: ((performance.now() - started) * 1000) / calls, cpu: (used.user + used.system) / calls };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const calls = arg('calls', 2000);
  const runs = arg('runs', 5);
  const server = new grpc.Server();
  addHistoryService(server, impl as never);
  addMatchingService(server, impl as never);
  const bytes = (b: Buffer): Buffer => b;
  const raw = { path: '/bench.Raw/Echo', requestStream: false, responseStream: false, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes };
  server.addService({ Echo: raw }, { Echo: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.alloc(10)) });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const matching = new MatchingClient(`127.0.0.1:${port}`);
  const history = new HistoryClient(`127.0.0.1:${port}`);
  const rawClient = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const rawCall = (): Promise<unknown> =>
    new Promise((resolve, reject) =>
      rawClient.makeUnaryRequest(raw.path, bytes, bytes, Buffer.alloc(10), new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err, value) => (err ? reject(err) : resolve(value))),
    );
  const key = { namespaceId: 'ns-1', taskQueueName: 'orders', type: 'workflow' as const, kind: 'normal' as const };
  const request = { namespaceId: 'ns-1', request: { namespace: 'default', execution: { workflowId: 'order-1' } } };
  const cases: [string, () => Promise<unknown>][] = [
    ['in process: describeTaskQueue', () => impl.describeTaskQueue!(key)],
    ['bare grpc-js unary call (floor)', rawCall],
    ['internal gRPC: MatchingService.describeTaskQueue', () => matching.describeTaskQueue(key)],
    ['internal gRPC: HistoryService.describeWorkflowExecution', () => history.describeWorkflowExecution(request)],
  ];
  for (const [, call] of cases) await meanMicros(Math.min(calls, 500), call); // warm up: JIT, channel connect
  for (const [name, call] of cases) {
    const samples: { wall: number; cpu: number }[] = [];
    for (let r = 0; r < runs; r++) samples.push(await meanMicros(calls, call));
    const wall = samples.map((s) => s.wall);
    const cpu = median(samples.map((s) => s.cpu));
    console.log(`${name}: median ${median(wall).toFixed(1)} µs/call wall, ${cpu.toFixed(1)} µs CPU (wall per run: ${wall.map((s) => s.toFixed(0)).join(', ')}; ${calls} sequential calls each)`);
  }
  matching.close();
  history.close();
  rawClient.close();
  server.forceShutdown();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
