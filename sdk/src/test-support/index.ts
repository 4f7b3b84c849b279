/**
 * Helpers for the sdk's own tests (not exported, not shipped): a quiet SDK runtime, the test
 * workflows bundled once per test file, a real Hourglass server process per test file, unique
 * names, deadlines.
 *
 * The server runs as a child process of the repository's `hourglass` command rather than embedded:
 * `@hourglass/sdk` must not depend on the server (the embedded TestEnvironment is
 * `@hourglass/testing`, which itself depends on this package's build).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before } from 'node:test';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { connect, type HourglassConnection } from '../connect';

/** The repository's `hourglass` command (built by `tsc -b sdk`, which references the server). */
export const HOURGLASS_BIN = path.resolve(__dirname, '../../../services/server/dist/bin.js');

/** How long a server process may take to print its ready line. */
const SERVER_START_TIMEOUT_MS = 30_000;
const SERVER_STOP_TIMEOUT_MS = 10_000;

let runtimeInstalled = false;

/** Installs the SDK runtime with an ERROR logger (expected failures log WARN) (once per process), before any connection or worker. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** `./workflows` bundled once per process (each test file is a process). */
export function testWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  installQuietRuntime();
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') });
  return bundle;
}

let counter = 0;

/** A task queue or workflow id no other test uses. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}

/** Rejects if `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** What `promise` rejects with; throws if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

export interface ServerProcess {
  /** `127.0.0.1:<port>`, from the server's ready line. */
  address: string;
  /** `dev` mode: the development account owner's API key (start-dev's dev credentials file). */
  ownerApiKey(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after a deadline). Idempotent. */
  stop(): Promise<void>;
}

export interface StartServerOptions {
  /**
   * `dev`: `hourglass start-dev --port 0 --in-memory` (wall-clock time). `time-skipping`:
   * `hourglass test-server 0 --enable-time-skipping` (virtual time jumps to the next timer whenever
   * nothing is in progress, and closed runs are kept).
   */
  mode?: 'dev' | 'time-skipping';
  /** Extra namespaces (`dev` only; both modes create `default`). */
  namespaces?: string[];
}

/** Ready lines of `start-dev` ("…serving WorkflowService on 127.0.0.1:7233 (…") and `test-server` ("…is serving on 127.0.0.1:7233"). */
const READY_LINE = /^Hourglass (?:is serving WorkflowService|test server \(time skipping\) is serving) on (\S+?:\d+)\b/;

/** Starts the repository's `hourglass` command on a free port and waits for its ready line. */
export function startServer(options: StartServerOptions = {}): Promise<ServerProcess> {
  const credentialsFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'hourglass-sdk-')), 'dev-credentials.json');
  const args =
    options.mode === 'time-skipping'
      ? ['test-server', '0', '--enable-time-skipping']
      : [
          'start-dev',
          '--port',
          '0',
          // A free TLS port too: test files run side by side, and 7234 is taken by the first.
          '--tls-port',
          '0',
          '--in-memory',
          // Metrics on a free port of their own, never contending for start-dev's default 9090.
          '--metrics-address',
          '127.0.0.1:0',
          '--dev-credentials-file',
          credentialsFile,
          '--log-level',
          'warn',
          ...(options.namespaces?.length ? ['--namespace', ...options.namespaces] : []),
        ];
  const child = spawn(process.execPath, [HOURGLASS_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // A test file that dies half-way must not leave its server running.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    }),
  );
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), SERVER_STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  return new Promise<ServerProcess>((resolve, reject) => {
    const fail = (why: string): void => {
      // Not awaited: the start already failed, and stop() never rejects (it only kills and waits).
      void stop();
      reject(new Error(`hourglass ${args.join(' ')} ${why}${stderr ? `; stderr:\n${stderr}` : ''}`));
    };
    const timer = setTimeout(() => fail(`printed no ready line within ${SERVER_START_TIMEOUT_MS} ms`), SERVER_START_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(`could not be spawned: ${err.message}`);
    });
    const exitedEarly = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      fail(`exited (${signal ?? `code ${code}`}) before it was ready`);
    };
    child.once('exit', exitedEarly);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const address = READY_LINE.exec(line)?.[1];
      if (address === undefined) return;
      clearTimeout(timer);
      child.off('exit', exitedEarly);
      resolve({ address, stop, ownerApiKey: () => (JSON.parse(readFileSync(credentialsFile, 'utf8')) as { ownerApiKey: string }).ownerApiKey });
    });
  });
}

/** What {@link useServer} gives a test file once its `before` hook ran. */
export interface TestFileServer {
  server: ServerProcess;
  /** `connect({ address: server.address })`. */
  hg: HourglassConnection;
  workflowBundle: WorkflowBundleWithSourceMap;
  /** `Worker.create` on `hg`'s native connection and namespace. */
  createWorker(options: Omit<WorkerOptions, 'connection' | 'namespace'>): Promise<Worker>;
}

/**
 * Registers `before`/`after` hooks (in the calling `describe`) that start a server process
 * (time skipping by default), connect to it and bundle the test workflows, and stop it all. The
 * returned object is filled in by `before`.
 */
export function useServer(options: StartServerOptions = { mode: 'time-skipping' }): TestFileServer {
  const file = {
    createWorker: (workerOptions) => Worker.create({ ...workerOptions, connection: file.hg.nativeConnection, namespace: file.hg.namespace }),
  } as TestFileServer;
  before(async () => {
    installQuietRuntime();
    const [server, workflowBundle] = await Promise.all([startServer(options), testWorkflowBundle()]);
    file.server = server;
    file.workflowBundle = workflowBundle;
    file.hg = await connect({ address: server.address }, {});
  });
  after(async () => {
    await file.hg?.close();
    await file.server?.stop();
  });
  return file;
}
