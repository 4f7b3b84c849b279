#!/usr/bin/env node
/**
 * The flooding tenant of `make bench --mode aps-neighbours`, in a process of its own (as noise.ts):
 * it offers `--rate` single-activity workflow starts per second to `--namespace` with the official
 * client's retries off, so each start is admitted or refused once and counted (a retrying client
 * would turn every refusal into up to ten more attempts and blur what was offered), while its own
 * worker runs the workflows that were admitted. Started by bench.ts with fork(); says {ready} once
 * its worker polls, floods from {go} to {stop}, then says {done} with the counts.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { bundleBenchWorkflows, createBenchWorker } from './bench-worker';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string' },
    namespace: { type: 'string', default: 'default' },
    rate: { type: 'string', default: '200' },
  },
});

export type FloodCommand = 'go' | 'stop';

export type FloodMessage =
  | { kind: 'ready' }
  | { kind: 'done'; seconds: number; offered: number; admitted: number; refused: number; failed: number; firstFailure?: string };

/** gRPC's RESOURCE_EXHAUSTED (grpc-js is not a dependency of this package). */
const RESOURCE_EXHAUSTED = 8;

function send(message: FloodMessage): void {
  process.send?.(message);
}

/** The gRPC status of a failed start: the client wraps the gRPC error as its cause. */
function grpcCode(err: unknown): number | undefined {
  if (isGrpcServiceError(err)) return err.code;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return isGrpcServiceError(cause) ? cause.code : undefined;
}

async function main(): Promise<void> {
  if (!args.address) throw new Error('--address is required');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const rate = Number(args.rate);
  const taskQueue = `flood-${randomUUID().slice(0, 8)}`;
  const { connection: nativeConnection, worker } = await createBenchWorker({ address: args.address }, args.namespace as string, taskQueue, await bundleBenchWorkflows());
  const connection = await Connection.connect({ address: args.address, interceptors: [] });
  const client = new Client({ connection, namespace: args.namespace });
  let stopped = false;
  const go = new Promise<void>((resolve) => {
    process.on('message', (command: FloodCommand) => {
      if (command === 'go') resolve();
      if (command === 'stop') stopped = true;
    });
  });
  await worker.runUntil(async () => {
    send({ kind: 'ready' });
    await go;
    let admitted = 0;
    let refused = 0;
    let failed = 0;
    let firstFailure: string | undefined;
    const starts: Promise<void>[] = [];
    const t0 = performance.now();
    let offered = 0;
    for (; !stopped; offered++) {
      const wait = t0 + (offered * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      starts.push(
        client.workflow.start('singleActivity', { taskQueue, workflowId: `flood-${randomUUID()}`, args: ['x'] }).then(
          () => void (admitted += 1),
          (err: unknown) => {
            if (grpcCode(err) === RESOURCE_EXHAUSTED) refused += 1;
            else {
              failed += 1;
              firstFailure ??= String(err);
            }
          },
        ),
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    await Promise.all(starts);
    send({ kind: 'done', seconds, offered, admitted, refused, failed, ...(firstFailure ? { firstFailure } : {}) });
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
