#!/usr/bin/env node
/**
 * The worker a k6 run (load-tests/k6) needs beside it: the official SDK's worker on the bench
 * workflows (singleActivity for starts, k6Entity for signals and queries) with the no-op activity.
 *
 *   node load-tests/dist/k6-worker.js --address 127.0.0.1:7233 --namespace default --task-queue k6-load
 *   (with --api-key KEY and --tls-ca-file ca.pem for a TLS endpoint)
 *
 * Runs until SIGINT/SIGTERM, then shuts down gracefully.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bundleBenchWorkflows, createBenchWorker } from './bench-worker';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      address: { type: 'string', default: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' },
      namespace: { type: 'string', default: process.env.TEMPORAL_NAMESPACE ?? 'default' },
      'task-queue': { type: 'string', default: 'k6-load' },
      'api-key': { type: 'string', default: process.env.TEMPORAL_API_KEY },
      'tls-ca-file': { type: 'string' },
    },
  });
  const apiKey = values['api-key'];
  const caFile = values['tls-ca-file'];
  const tls = caFile ? { serverRootCACertificate: readFileSync(caFile) } : apiKey ? true : undefined;
  const { connection, worker } = await createBenchWorker(
    { address: values.address, ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}) },
    values.namespace,
    values['task-queue'],
    await bundleBenchWorkflows(),
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
  console.log(`k6 worker polling ${values['task-queue']} in ${values.namespace} on ${values.address}`);
  await worker.run();
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
