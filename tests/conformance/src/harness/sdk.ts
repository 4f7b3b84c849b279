import { Client, Connection, type TLSConfig } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  bundleWorkflowCode,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withTimeout } from './eventually';
import { SCRATCH_DIR } from './scratch';

export const NAMESPACE = 'default';

let runtimeInstalled = false;

/**
 * Installs the SDK's Rust runtime once per process with a WARN logger, so workers stay quiet.
 * Must run before the first NativeConnection or Worker is created; every helper here calls it.
 */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch (err) {
    // A host (e.g. a load test) that created its own Runtime first keeps it.
    if (!(err instanceof Error && err.name === 'IllegalStateError')) throw err;
  }
}

let bundlePromise: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Where bundles are kept between test processes. */
const BUNDLE_CACHE = path.join(SCRATCH_DIR, 'workflow-bundles');

/**
 * What the bundle is made of: the compiled workflow files and the versions of the packages webpack
 * pulls into it. A change to any of them names a different cache file.
 */
function bundleKey(workflowsDir: string): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(workflowsDir).filter((f) => f.endsWith('.js')).sort()) {
    hash.update(name).update(readFileSync(path.join(workflowsDir, name)));
  }
  for (const pkg of ['@temporalio/workflow', '@temporalio/common', '@temporalio/worker', 'nexus-rpc']) {
    hash.update(pkg).update(readFileSync(require.resolve(`${pkg}/package.json`)));
  }
  return hash.digest('hex').slice(0, 24);
}

/**
 * Bundles `src/workflows` once (webpack takes seconds, and every test file is a process of its own):
 * the first process to need it writes it under .test-tmp, the others read it. Within a process the
 * same bundle goes to every caller. Pass it as `workflowBundle` to `Worker.create`.
 */
export function createWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  if (!bundlePromise) {
    installQuietRuntime();
    const workflowsPath = require.resolve('../workflows');
    const file = path.join(BUNDLE_CACHE, `${bundleKey(path.dirname(workflowsPath))}.json`);
    bundlePromise = (async () => {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as WorkflowBundleWithSourceMap;
      } catch {
        // Not there yet: bundle it.
      }
      const bundle = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
      mkdirSync(BUNDLE_CACHE, { recursive: true });
      // Written aside and renamed: a concurrent reader sees the whole file or none.
      const partial = `${file}.${randomUUID()}.partial`;
      writeFileSync(partial, JSON.stringify({ code: bundle.code, sourceMap: bundle.sourceMap }));
      renameSync(partial, file);
      return bundle;
    })();
    // A failed bundle is not cached: the next caller gets a fresh attempt and the real error.
    bundlePromise.catch(() => {
      bundlePromise = undefined;
    });
  }
  return bundlePromise;
}

export interface ClientConnection {
  connection: Connection;
  client: Client;
}

/**
 * A `Client` (and its `Connection`, for raw `workflowService` calls) for namespace `default`;
 * plaintext unless `tls` is given (e.g. `{ serverRootCACertificate }` for a server's `tlsAddress`),
 * key-less unless `apiKey` is given (a key-less call is the dev account's owner on plaintext only).
 */
export async function connectClient(address: string, namespace = NAMESPACE, tls?: TLSConfig, apiKey?: string): Promise<ClientConnection> {
  const connection = await Connection.connect({ address, ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}) });
  const client = new Client({ connection, namespace });
  return { connection, client };
}

/** A `NativeConnection` for workers; plaintext unless `tls` is given, key-less unless `apiKey` is. */
export async function connectWorker(address: string, tls?: TLSConfig, apiKey?: string): Promise<NativeConnection> {
  installQuietRuntime();
  return NativeConnection.connect({ address, ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}) });
}

export interface RunningWorker {
  readonly worker: Worker;
  readonly taskQueue: string;
  /** Settles when `worker.run()` does; rejects if the worker failed. */
  readonly done: Promise<void>;
  /** The error `worker.run()` failed with, once it has. */
  readonly failure: unknown;
  /** Graceful shutdown, then wait for `run()` to finish (throws if the worker had failed). */
  shutdown(): Promise<void>;
}

export type TestWorkerOptions = Omit<WorkerOptions, 'connection' | 'workflowBundle' | 'workflowsPath'> & {
  connection: NativeConnection;
};

/**
 * Creates a worker on the shared workflow bundle and starts `run()` in the background.
 *
 * Heartbeat throttling is lowered so a heartbeat reaches the server within ~100 ms (the defaults
 * throttle for up to 30 s, longer than these tests last).
 */
export async function startWorker(options: TestWorkerOptions): Promise<RunningWorker> {
  installQuietRuntime();
  const workflowBundle = await createWorkflowBundle();
  const worker = await Worker.create({
    namespace: NAMESPACE,
    maxHeartbeatThrottleInterval: '100ms',
    defaultHeartbeatThrottleInterval: '100ms',
    ...options,
    workflowBundle,
  });
  let failure: unknown;
  const done = worker.run().catch((err: unknown) => {
    failure = err;
    throw err;
  });
  // Observed through `done`/`failure`; avoid an unhandled rejection if nobody awaits it yet.
  done.catch(() => undefined);
  let shutdownPromise: Promise<void> | undefined;
  return {
    worker,
    taskQueue: options.taskQueue,
    done,
    get failure() {
      return failure;
    },
    shutdown() {
      if (!shutdownPromise) {
        shutdownPromise = (async () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await withTimeout(done, 60_000, `shutdown of worker on ${options.taskQueue}`);
        })();
      }
      return shutdownPromise;
    },
  };
}

let uniqueCounter = 0;

/** A name that no other test (in this or another process) uses: for task queues and workflow ids. */
export function uniqueName(prefix: string): string {
  uniqueCounter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${uniqueCounter}`;
}

export interface Connections extends ClientConnection {
  nativeConnection: NativeConnection;
}

/** Both connections at once: a `Client` for starting/inspecting workflows and a `NativeConnection` for workers. */
export async function connect(address: string, namespace = NAMESPACE): Promise<Connections> {
  const { connection, client } = await connectClient(address, namespace);
  const nativeConnection = await connectWorker(address);
  return { connection, client, nativeConnection };
}
