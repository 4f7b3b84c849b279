#!/usr/bin/env node
/**
 * The noisy tenant of `make bench --mode neighbours`, in a process of its own so that its worker's
 * load never shares an event loop with the quiet tenant's measurements: one workflow schedules
 * `--fan-out` activities in one workflow task and another takes `--signals` signals, sent 100 at a
 * time. Started by bench.ts with fork(); says {ready} once its worker polls, waits for {go}, then
 * says {done, seconds} when both workflows have completed.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { bundleBenchWorkflows, createBenchWorker } from './bench-worker';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string' },
    namespace: { type: 'string', default: 'default' },
    'fan-out': { type: 'string', default: '2000' },
    signals: { type: 'string', default: '10000' },
  },
});

export type NoiseMessage = { kind: 'ready' } | { kind: 'done'; seconds: number };

function send(message: NoiseMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  if (!args.address) throw new Error('--address is required');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const taskQueue = `noise-${randomUUID().slice(0, 8)}`;
  const { connection: nativeConnection, worker } = await createBenchWorker({ address: args.address }, args.namespace as string, taskQueue, await bundleBenchWorkflows());
  const connection = await Connection.connect({ address: args.address });
  const client = new Client({ connection, namespace: args.namespace });
  const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
  await worker.runUntil(async () => {
    send({ kind: 'ready' });
    await go;
    const t0 = performance.now();
    const signals = Number(args.signals);
    const fanOut = await client.workflow.start('fanOut', { taskQueue, workflowId: `fan-out-${randomUUID()}`, args: [Number(args['fan-out'])] });
    const counter = await client.workflow.start('countSignals', { taskQueue, workflowId: `signals-${randomUUID()}`, args: [signals] });
    for (let sent = 0; sent < signals; ) {
      const batch = Math.min(100, signals - sent);
      await Promise.all(Array.from({ length: batch }, () => counter.signal('tick')));
      sent += batch;
    }
    await Promise.all([fanOut.result(), counter.result()]);
    send({ kind: 'done', seconds: (performance.now() - t0) / 1000 });
  });
  await connection.close();
  await nativeConnection.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
