import { after, before, test, type TestContext } from 'node:test';
import type { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { ActivityRecorder, createActivities } from '../activities';
import { withTimeout } from './eventually';
import {
  connectClient,
  connectWorker,
  createWorkflowBundle,
  startWorker,
  uniqueName,
  type RunningWorker,
  type TestWorkerOptions,
} from './sdk';
import { startServer, type ServerProcess, type StartServerOptions } from './server';

/** Everything a conformance test file shares: one server, one client, one worker. */
export interface ConformanceEnv {
  server: ServerProcess;
  connection: Connection;
  client: Client;
  nativeConnection: NativeConnection;
  /** The file's worker; undefined when the file asked for none. */
  worker: RunningWorker | undefined;
  /** The file's unique task queue (the worker polls it). */
  taskQueue: string;
  /** Records every activity call made by this file's workers. */
  recorder: ActivityRecorder;
  /** Starts another worker with this file's activities (e.g. to replace a stopped one). */
  startExtraWorker(options?: Partial<Omit<TestWorkerOptions, 'connection'>>): Promise<RunningWorker>;
}

export interface EnvOptions {
  /** A short name for the area; used in task queue names. */
  name: string;
  /** Start a worker for the file (default true). */
  worker?: boolean;
  server?: StartServerOptions;
  workerOptions?: Partial<Omit<TestWorkerOptions, 'connection' | 'taskQueue' | 'activities'>>;
}

export type ConformanceTestFn = (t: TestContext, env: ConformanceEnv) => Promise<void>;

export interface ConformanceFile {
  /** The environment; only valid inside tests (after `before` ran). */
  readonly env: ConformanceEnv;
  /**
   * Declares a test. On failure or timeout the server's recent output is printed to stderr.
   * Default timeout 60 s.
   */
  test(name: string, fn: ConformanceTestFn, options?: { timeoutMs?: number }): void;
}

/** Prints the server's recent output to stderr, framed, for a failed test. */
export function reportServerOutput(
  testName: string,
  server: ServerProcess | undefined,
  err?: unknown,
  since?: number,
): void {
  const lines = [
    '',
    `======== Hourglass output during failed test: ${testName} ========`,
    server ? server.recentOutput(since) || '(no output)' : '(server not started)',
    '======== end of server output ========',
  ];
  if (err instanceof Error && err.stack) lines.push(`error: ${err.stack}`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

/**
 * Registers `before`/`after` hooks for a test file: a fresh server process, a client, a native
 * connection and (unless `worker: false`) a worker on a unique task queue with activities that
 * record into a fresh recorder. Everything is shut down in `after`.
 */
export function conformanceFile(options: EnvOptions): ConformanceFile {
  let env: ConformanceEnv | undefined;
  let server: ServerProcess | undefined;
  const extraWorkers: RunningWorker[] = [];

  before(async () => {
    // Bundle while the server boots.
    const bundle = createWorkflowBundle();
    server = await startServer(options.server);
    try {
      await bundle;
      const { connection, client } = await connectClient(server.address);
      const nativeConnection = await connectWorker(server.address);
      const recorder = new ActivityRecorder();
      const taskQueue = uniqueName(`tq-${options.name}`);
      const activities = createActivities(recorder);
      const startExtraWorker = async (
        extra: Partial<Omit<TestWorkerOptions, 'connection'>> = {},
      ): Promise<RunningWorker> => {
        const w = await startWorker({
          ...options.workerOptions,
          taskQueue,
          activities,
          ...extra,
          connection: nativeConnection,
        });
        extraWorkers.push(w);
        return w;
      };
      const worker =
        options.worker === false
          ? undefined
          : await startWorker({
              ...options.workerOptions,
              taskQueue,
              activities,
              connection: nativeConnection,
            });
      env = { server, connection, client, nativeConnection, worker, taskQueue, recorder, startExtraWorker };
    } catch (err) {
      reportServerOutput(`before (${options.name})`, server, err);
      throw err;
    }
  });

  after(async () => {
    const errors: unknown[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await withTimeout(fn(), 70_000, what);
      } catch (err) {
        errors.push(err);
      }
    };
    // Workers first: stopping the server under a polling worker only makes it retry.
    for (const w of [...(env?.worker ? [env.worker] : []), ...extraWorkers]) {
      await attempt(`worker shutdown (${w.taskQueue})`, () => w.shutdown().catch(() => undefined));
    }
    if (env) {
      await attempt('client connection close', () => env!.connection.close());
      await attempt('native connection close', () => env!.nativeConnection.close());
    }
    if (server) await attempt('server dispose', () => server!.dispose());
    if (errors.length > 0) {
      reportServerOutput(`after (${options.name})`, server);
      throw new AggregateError(errors, `teardown of ${options.name} failed`);
    }
  });

  return {
    get env(): ConformanceEnv {
      if (!env) throw new Error('conformance env used before its before() hook ran (or the hook failed)');
      return env;
    },
    test(name: string, fn: ConformanceTestFn, testOptions: { timeoutMs?: number } = {}): void {
      const timeoutMs = testOptions.timeoutMs ?? 60_000;
      // Our own deadline, so a hung test still prints the server output; node's is a backstop.
      test(name, { timeout: timeoutMs + 10_000 }, async (t) => {
        const mark = server?.outputMark();
        try {
          if (!env) throw new Error('environment not available: the before() hook failed');
          await withTimeout(fn(t, env), timeoutMs, `test "${name}"`);
        } catch (err) {
          reportServerOutput(name, server, err, mark);
          throw err;
        }
      });
    },
  };
}
