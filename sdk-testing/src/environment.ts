/**
 * An offline test environment: an embedded Hourglass (in-memory store) in the test's own process
 * on a free port, with the official client and worker wired to it, and — by default — time
 * skipping, so workflows that sleep for days finish in milliseconds.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createLogger, type LogLevel } from '@hourglass/common';
import { parseDevServerConfig, startDevServer, type RunningServer } from '@hourglass/server';
import { Client, Connection, type ClientOptions } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';

export interface TestEnvironmentOptions {
  /**
   * Skip time: whenever no workflow task or activity is in progress, the server's clock jumps to
   * the next timer (a workflow's `sleep('30 days')` takes milliseconds). Default true. With false
   * the server runs on the system clock.
   */
  timeSkipping?: boolean;
  /** The namespace of `client` and of workers from `createWorker` (created at start). Default `default`. */
  namespace?: string;
  /** Level of the embedded server's JSON logs on stderr. Default `warn`. */
  logLevel?: LogLevel;
  /** More options for the `Client` (data converter, interceptors…). */
  client?: Omit<ClientOptions, 'connection' | 'namespace'>;
}

/** Options of {@link TestEnvironment.createWorker}: `Worker.create`'s, less the connection. */
export type TestWorkerOptions = Omit<WorkerOptions, 'connection'>;

/**
 * Retention of closed runs: far beyond any virtual time a test covers, so results, histories and
 * queries of closed workflows stay readable however far time skips (with the server's 24 h
 * default, the first idle moment after a workflow closed would skip a day ahead and delete it).
 */
const KEEP_CLOSED_RUNS_HOURS = 1000 * 365 * 24;

/** How long teardown waits for the workers it stops. */
const WORKER_STOP_TIMEOUT_MS = 30_000;
const STOPPED_STATES: ReadonlySet<string> = new Set(['STOPPED', 'FAILED']);

/**
 * An embedded Hourglass for tests, with the official `Client`, `NativeConnection` and `Worker`
 * pointed at it. Nothing to install or start beforehand: it runs in the test's process.
 *
 * ```ts
 * import { before, after, test } from 'node:test';
 * import assert from 'node:assert/strict';
 * import { TestEnvironment } from '@hourglass/testing';
 *
 * let env: TestEnvironment;
 * before(async () => { env = await TestEnvironment.create(); });
 * after(() => env.teardown());
 *
 * test('reminder after 30 days', async () => {
 *   const sent: string[] = [];
 *   const worker = await env.createWorker({
 *     taskQueue: 'test',
 *     workflowsPath: require.resolve('./workflows'),
 *     activities: { sendEmail: async (to: string) => void sent.push(to) }, // stubs stand in for the real activities
 *   });
 *   await worker.runUntil(env.client.workflow.execute('reminder', { taskQueue: 'test', workflowId: 'r-1', args: ['a@b.c'] }));
 *   assert.deepEqual(sent, ['a@b.c']); // the workflow slept 30 days in a few milliseconds
 * });
 * ```
 */
export class TestEnvironment {
  private readonly workers: Worker[] = [];
  private tearingDown: Promise<void> | undefined;

  private constructor(
    private readonly server: RunningServer,
    /** The official client, for {@link TestEnvironment.namespace}. */
    public readonly client: Client,
    /** The grpc-js connection under `client`. */
    public readonly connection: Connection,
    /** The connection workers use (`createWorker` fills it in). */
    public readonly nativeConnection: NativeConnection,
    /** The namespace of `client` and of workers from `createWorker`. */
    public readonly namespace: string,
  ) {}

  /**
   * Starts the embedded server on a free port and connects to it.
   *
   * ```ts
   * const env = await TestEnvironment.create();                        // time skipping
   * const real = await TestEnvironment.create({ timeSkipping: false }); // wall-clock time
   * ```
   */
  static async create(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
    const namespace = options.namespace ?? 'default';
    const config = parseDevServerConfig(
      {
        ip: '127.0.0.1',
        port: 0,
        inMemory: true,
        logLevel: options.logLevel ?? 'warn',
        // One shard is plenty for one test process and keeps the embedded server light.
        numHistoryShards: 1,
        retentionHours: KEEP_CLOSED_RUNS_HOURS,
        namespaces: namespace === 'default' ? [] : [namespace],
        // Plaintext only: the environment connects without TLS, and test processes running side by
        // side must not contend for the TLS port.
        tls: false,
      },
      {},
    );
    const logger = createLogger({ level: config.logLevel, name: 'hourglass-test-environment' });
    const timeSkipping = options.timeSkipping ?? true;
    const server = await startDevServer({ config, logger, identity: false, ...(timeSkipping ? { timeSkipping: { locked: false } } : {}) });
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address: server.address });
      const nativeConnection = await NativeConnection.connect({ address: server.address });
      const client = new Client({ ...options.client, connection, namespace });
      return new TestEnvironment(server, client, connection, nativeConnection, namespace);
    } catch (err) {
      await connection?.close().catch(() => undefined);
      await server.stop();
      throw err;
    }
  }

  /** `127.0.0.1:<port>` of the embedded server, for any other client or tool. */
  get address(): string {
    return this.server.address;
  }

  /** Whether this environment skips time. */
  get timeSkipping(): boolean {
    return this.server.timeSkippingClock !== undefined;
  }

  /**
   * `Worker.create` with this environment's connection and namespace filled in. Workers still
   * running at {@link TestEnvironment.teardown} are shut down there.
   *
   * ```ts
   * const worker = await env.createWorker({ taskQueue: 'test', workflowBundle, activities: { charge: async () => 'receipt-1' } });
   * const result = await worker.runUntil(env.client.workflow.execute(order, { taskQueue: 'test', workflowId: 'o-1' }));
   * ```
   */
  async createWorker(options: TestWorkerOptions): Promise<Worker> {
    const worker = await Worker.create({ namespace: this.namespace, ...options, connection: this.nativeConnection });
    this.workers.push(worker);
    return worker;
  }

  /**
   * Lets `duration` (ms or a string like `'2 days'`) of time pass. With time skipping, virtual
   * time jumps (timers due on the way fire in order, and the workflows they wake run before time
   * moves on), even while skipping is locked; otherwise this waits for real.
   *
   * ```ts
   * const handle = await env.client.workflow.start(trial, { taskQueue: 'test', workflowId: 't-1' });
   * await env.sleep('14 days');
   * assert.equal(await handle.query(trialState), 'expired');
   * ```
   */
  async sleep(duration: Duration): Promise<void> {
    const ms = msToNumber(duration);
    const clock = this.server.timeSkippingClock;
    if (!clock) {
      await delay(ms);
      return;
    }
    const woke = new Promise<void>((resolve) => clock.wakeAt(clock.now() + ms, resolve));
    const held = clock.locked;
    if (held) clock.unlock();
    try {
      await woke;
    } finally {
      if (held) clock.lock();
    }
  }

  /**
   * The server's current time — virtual with time skipping — as workflows see it.
   *
   * ```ts
   * const before = env.currentTime();
   * await env.sleep('1 day');
   * env.currentTime().getTime() - before.getTime(); // ≥ 86_400_000
   * ```
   */
  currentTime(): Date {
    return new Date(this.server.timeSkippingClock?.now() ?? Date.now());
  }

  /**
   * Holds time skipping off (counted: each lock needs an unlock), e.g. while a test signals a
   * workflow before a timer would fire. Timers then fire in real time. No-op without time skipping.
   *
   * ```ts
   * env.lockTimeSkipping();
   * const handle = await env.client.workflow.start(approval, { taskQueue: 'test', workflowId: 'a-1' }); // waits 1 day for a signal
   * await handle.signal(approve);
   * env.unlockTimeSkipping();
   * ```
   */
  lockTimeSkipping(): void {
    this.server.timeSkippingClock?.lock();
  }

  /** Releases one {@link TestEnvironment.lockTimeSkipping}. */
  unlockTimeSkipping(): void {
    this.server.timeSkippingClock?.unlock();
  }

  /**
   * Shuts down the workers from `createWorker` that are still running, closes the connections
   * and stops the server. Idempotent.
   */
  teardown(): Promise<void> {
    this.tearingDown ??= (async () => {
      const errors: unknown[] = [];
      const attempt = async (fn: () => Promise<unknown>): Promise<void> => {
        try {
          await fn();
        } catch (err) {
          errors.push(err);
        }
      };
      await attempt(() => this.stopWorkers());
      await attempt(() => this.connection.close());
      await attempt(() => this.nativeConnection.close());
      await attempt(() => this.server.stop());
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, 'test environment teardown failed');
    })();
    return this.tearingDown;
  }

  private async stopWorkers(): Promise<void> {
    for (const worker of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    const deadline = Date.now() + WORKER_STOP_TIMEOUT_MS;
    const stopping = (): Worker[] => this.workers.filter((w) => w.getState() !== 'INITIALIZED' && !STOPPED_STATES.has(w.getState()));
    while (stopping().length > 0) {
      if (Date.now() > deadline) throw new Error(`${stopping().length} worker(s) did not stop within ${WORKER_STOP_TIMEOUT_MS} ms`);
      await delay(20);
    }
  }
}
