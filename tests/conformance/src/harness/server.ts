import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createTestDatabases, testStore, type TestStore } from './mysql';

/** How long a server may take to print its ready line. */
const READY_TIMEOUT_MS = 20_000;
/** How long a server may take to exit after SIGTERM before we call it hung. */
const STOP_TIMEOUT_MS = 15_000;
/** Lines of server output kept for failure reports. */
const LOG_RING_SIZE = 400;

export interface StartServerOptions {
  /** SQLite file to use. Default: `hourglass.db` in a fresh temp dir (removed by `dispose()`). */
  dbPath?: string;
  /** Port to listen on. Default: a free port picked by the OS. */
  port?: number;
  /** Run on the in-memory store instead of a db file (then `restart()` starts from empty). */
  inMemory?: boolean;
  /** Extra flags appended to `start-dev`. */
  extraArgs?: string[];
  /** Store to run on; default from HOURGLASS_TEST_STORE (sqlite). */
  store?: TestStore;
  /**
   * Setting overrides (Temporal dynamic-config shape, as in the `settings:` section of the config
   * file). `history.verifyRebuild` is always on: every conformance workflow proves at each step that
   * its mutable state is what its history rebuilds to (a divergence stops the server).
   */
  settings?: Record<string, { value: unknown; constraints?: { namespace?: string; taskQueue?: string } }[]>;
  /** Benchmarks turn the (costly) rebuild verification off. Default true. */
  verifyRebuild?: boolean;
  /**
   * Serve TLS too (default true), on a free port of its own picked like `port`, so that servers
   * started side by side never contend for start-dev's default 7234 and a restart keeps its ports.
   */
  tls?: boolean;
  /**
   * How the server's roles call each other: in process, or over internal gRPC on loopback (start-dev's
   * hidden --internal-transport). Default from HOURGLASS_TEST_INTERNAL_TRANSPORT (in process).
   */
  internalTransport?: InternalTransport;
  /** Environment variables set for the server process besides the test's own (e.g. OTEL_* to trace). */
  env?: Record<string, string>;
  /**
   * Node flags for the server process (`--cpu-prof --cpu-prof-dir=…`: a CPU profile, written when
   * it exits), before those of HOURGLASS_SERVER_NODE_ARGS.
   */
  nodeArgs?: string[];
  /**
   * Serve the web console on the portal listener (default false: `--no-portal-web`, so the hundreds
   * of test servers never load Next.js). Only the console's browser test turns it on.
   */
  portalWeb?: boolean;
}

/** start-dev's dev credentials file. */
export interface DevCredentials {
  address: string;
  tlsAddress?: string;
  caCertFile?: string;
  accountId: string;
  namespace: string;
  ownerApiKey: string;
  operatorApiKey: string;
  /** The owner's portal sign-in. */
  portalEmail: string;
  portalPassword: string;
  /** `http://127.0.0.1:<port>/graphql`. */
  portalUrl?: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  /** `127.0.0.1:<port>`, what `Connection.connect({ address })` wants. */
  readonly address: string;
  readonly port: number;
  /** `127.0.0.1:<tlsPort>`: the same services over TLS; undefined when started with `tls: false`. */
  readonly tlsAddress: string | undefined;
  readonly tlsPort: number | undefined;
  /**
   * The CA certificate (PEM file) the server's banner names for TLS clients, as of its last start
   * (an in-memory server makes a new CA at every start; one on a db file keeps it).
   */
  readonly tlsCaFile: string | undefined;
  /** `http://127.0.0.1:<port>`: the metrics endpoint (`/metrics`, `/v1/metrics`), on a free port of its own. */
  readonly metricsUrl: string;
  /** `http://127.0.0.1:<port>/graphql`: the portal's GraphQL API, on a free port of its own. */
  readonly portalUrl: string;
  /**
   * What start-dev wrote to its dev credentials file (a temp file): the development account, its
   * owner's key and an operator key. Read afresh on each call (a restart of an in-memory server
   * makes a new account).
   */
  devCredentials(): DevCredentials;
  /** The db file, or `undefined` when started `--in-memory`. */
  readonly dbPath: string | undefined;
  /** The pid of the current server process (changes on restart). */
  readonly pid: number | undefined;
  /** True between a successful start/restart and stop/kill/unexpected exit. */
  readonly running: boolean;
  /** SIGTERM, then wait for the process to exit. Resolves with how it exited. */
  stop(): Promise<ExitStatus>;
  /** SIGKILL, then wait for the process to exit. */
  kill(): Promise<ExitStatus>;
  /** Start again on the same port and db file (after stop() or kill()). */
  restart(): Promise<void>;
  /**
   * The last lines the server wrote (stderr and stdout, oldest first), optionally only those after
   * `outputMark()` returned `since`.
   */
  recentOutput(since?: number): string;
  /** A position in the output, for `recentOutput(since)`. */
  outputMark(): number;
  /** Stop if still running, then remove the temp dir this harness created. */
  dispose(): Promise<void>;
}

export type InternalTransport = 'in-process' | 'grpc-loopback';

/** The internal transport the suite runs on: HOURGLASS_TEST_INTERNAL_TRANSPORT (in-process by default). */
export function testInternalTransport(): InternalTransport {
  return process.env.HOURGLASS_TEST_INTERNAL_TRANSPORT === 'grpc-loopback' ? 'grpc-loopback' : 'in-process';
}

/** Where the server's command-line entry lives; `HOURGLASS_BIN` overrides it. */
export function serverBinPath(): string {
  return process.env.HOURGLASS_BIN ?? path.resolve(__dirname, '../../../../services/server/dist/bin.js');
}

export function serverBinExists(): boolean {
  return existsSync(serverBinPath());
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. It is drawn at random from below the kernel's
 * ephemeral range (32768 and up on Linux): a port the OS hands out for `listen(0)` is also one it hands
 * out as the local end of outgoing connections (to MySQL, to other test servers), so a server told to
 * bind it later, or again after a restart, could find it taken. Ports below that range are only ever
 * taken by someone binding them on purpose, which this probe checks.
 */
export async function getFreePort(): Promise<number> {
  const [low, high] = portRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found between ${low} and ${high} after 200 tries`);
}

/**
 * Where ports are drawn from: 20000–31999, or the part of it HOURGLASS_TEST_PORT_RANGE names
 * (`low-high`, high excluded). The test runner gives each of its lanes a part of its own, so a port
 * one lane probed free (or freed for a restart) is never taken meanwhile by the other.
 */
function portRange(): [number, number] {
  const named = process.env.HOURGLASS_TEST_PORT_RANGE;
  if (!named) return [20000, 32000];
  const m = /^(\d+)-(\d+)$/.exec(named);
  const [low, high] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(low >= 1024 && high <= 32768 && high - low >= 100)) throw new Error(`HOURGLASS_TEST_PORT_RANGE must be low-high within 1024-32768, at least 100 ports, got ${named.slice(0, 40)}`);
  return [low, high];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

// Leftovers are removed even when a test file dies half-way: a SIGKILLed server must not
// outlive the test process, and temp dirs must not pile up.
const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of tempDirs) {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Creates a temp dir under os.tmpdir() that is removed when the process exits at the latest. */
export function makeTempDir(prefix = 'hourglass-conformance-'): string {
  installExitHook();
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

class LineRing {
  private readonly lines: string[] = [];
  /** How many lines were ever pushed; `lines[0]` is line number `pushed - lines.length`. */
  private pushed = 0;
  constructor(private readonly capacity: number) {}
  push(line: string): void {
    this.lines.push(line);
    this.pushed++;
    if (this.lines.length > this.capacity) this.lines.shift();
  }
  mark(): number {
    return this.pushed;
  }
  text(since = 0): string {
    const first = this.pushed - this.lines.length;
    const skipped = since > first ? since - first : 0;
    const dropped = since < first && since > 0 ? `[harness] (${first - since} older lines dropped)\n` : '';
    return dropped + this.lines.slice(skipped).join('\n');
  }
}

const READY_PATTERN = /Hourglass is serving WorkflowService on 127\.0\.0\.1:(\d+)/;
/** The line after the ready line when TLS is served: its port and the CA file clients trust. */
const TLS_PATTERN = /^Hourglass serves the same over TLS on 127\.0\.0\.1:(\d+), clients trust the CA certificate (.+)$/;

class ServerProcessImpl implements ServerProcess {
  readonly address: string;
  readonly tlsAddress: string | undefined;
  private caFile: string | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<ExitStatus> | undefined;
  private readonly output = new LineRing(LOG_RING_SIZE);
  private generation = 0;

  constructor(
    readonly port: number,
    readonly tlsPort: number | undefined,
    readonly dbPath: string | undefined,
    private readonly args: string[],
    private readonly ownedTempDir: string | undefined,
    private readonly credentialsFile: string,
    readonly metricsUrl: string,
    readonly portalUrl: string,
    private readonly env: Record<string, string>,
    private readonly onDispose: () => Promise<void> = async () => undefined,
    private readonly nodeArgs: readonly string[] = [],
  ) {
    this.address = `127.0.0.1:${port}`;
    this.tlsAddress = tlsPort === undefined ? undefined : `127.0.0.1:${tlsPort}`;
  }

  get tlsCaFile(): string | undefined {
    return this.caFile;
  }

  devCredentials(): DevCredentials {
    return JSON.parse(readFileSync(this.credentialsFile, 'utf8')) as DevCredentials;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  recentOutput(since?: number): string {
    return this.output.text(since);
  }

  outputMark(): number {
    return this.output.mark();
  }

  async launch(): Promise<void> {
    if (this.running) throw new Error(`server on ${this.address} is already running (pid ${this.pid})`);
    const generation = ++this.generation;
    const bin = serverBinPath();
    if (!existsSync(bin)) {
      throw new Error(`Hourglass server entry not found at ${bin} (build it with \`npm run build\`)`);
    }
    // Node flags for the server alone (NODE_OPTIONS refuses some, --cpu-prof among them), e.g. to
    // profile a bench's server: HOURGLASS_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
    const nodeArgs = [...this.nodeArgs, ...(process.env.HOURGLASS_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
    const child = spawn(process.execPath, [...nodeArgs, bin, ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env },
    });
    this.child = child;
    liveChildren.add(child);
    this.output.push(`[harness] spawned pid ${child.pid} (#${generation}): node ${bin} ${this.args.join(' ')}`);

    // 'close' comes after the output pipes are drained, so the last stderr lines are captured; if
    // something else holds the pipes open, the exit status is used half a second after 'exit'.
    this.exited = new Promise<ExitStatus>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (done) return;
        done = true;
        liveChildren.delete(child);
        this.output.push(`[harness] pid ${child.pid} exited code=${code} signal=${signal}`);
        resolve({ code, signal });
      };
      child.once('close', finish);
      child.once('exit', (code, signal) => {
        setTimeout(() => finish(code, signal), 500).unref();
      });
    });

    // Both streams are drained for the whole life of the process: a full pipe would block the server.
    const stderrLines = createInterface({ input: child.stderr! });
    stderrLines.on('line', (line) => this.output.push(`[stderr] ${line}`));
    const stdoutLines = createInterface({ input: child.stdout! });

    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        settle(
          new Error(
            `Hourglass did not print its ready line within ${READY_TIMEOUT_MS} ms on ${this.address}\n` +
              `--- server output ---\n${this.recentOutput()}`,
          ),
        );
      }, READY_TIMEOUT_MS);
      // Ready once the ready line, and with TLS the TLS line right after it, have been read.
      let ready = false;
      stdoutLines.on('line', (line) => {
        this.output.push(`[stdout] ${line}`);
        if (!ready) {
          const m = READY_PATTERN.exec(line);
          if (!m) return;
          if (Number(m[1]) !== this.port) return settle(new Error(`server announced port ${m[1]} but was asked for ${this.port}: ${line}`));
          ready = true;
          if (this.tlsPort === undefined) settle();
          return;
        }
        if (settled) return;
        const tls = TLS_PATTERN.exec(line);
        if (!tls) return settle(new Error(`server printed no TLS line after its ready line, but was asked for TLS on ${this.tlsPort}: ${line}`));
        if (Number(tls[1]) !== this.tlsPort) return settle(new Error(`server announced TLS port ${tls[1]} but was asked for ${this.tlsPort}: ${line}`));
        this.caFile = tls[2];
        settle();
      });
      child.once('error', (err) => settle(new Error(`could not spawn the server: ${err.message}`)));
      // `exited` never rejects; settle() ignores this once the server was ready.
      void this.exited!.then(({ code, signal }) =>
        settle(
          new Error(
            `Hourglass exited before it was ready (code=${code}, signal=${signal})\n` +
              `--- server output ---\n${this.recentOutput()}`,
          ),
        ),
      );
    });
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<ExitStatus> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) throw new Error('server was never started');
    if (!this.running) return exited;
    child.kill(signal);
    if (signal === 'SIGKILL') return exited;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
    });
    const result = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      child.kill('SIGKILL');
      await exited;
      throw new Error(
        `Hourglass did not exit within ${STOP_TIMEOUT_MS} ms of ${signal}; killed it\n` +
          `--- server output ---\n${this.recentOutput()}`,
      );
    }
    return result;
  }

  stop(): Promise<ExitStatus> {
    return this.signalAndWait('SIGTERM');
  }

  kill(): Promise<ExitStatus> {
    return this.signalAndWait('SIGKILL');
  }

  restart(): Promise<void> {
    return this.launch();
  }

  async dispose(): Promise<void> {
    try {
      if (this.running) await this.stop();
    } finally {
      if (this.ownedTempDir) removeTempDir(this.ownedTempDir);
      await this.onDispose();
    }
  }
}

/**
 * Starts `hourglass start-dev` as a child process and resolves once it prints its ready line.
 *
 * ```ts
 * const server = await startServer();
 * const { client } = await connectClient(server.address);
 * // over TLS: connectClient(server.tlsAddress!, 'default', { serverRootCACertificate: readFileSync(server.tlsCaFile!) })
 * // ...
 * await server.kill();     // SIGKILL
 * await server.restart();  // same port, same db file
 * await server.dispose();
 * ```
 */
export async function startServer(options: StartServerOptions = {}): Promise<ServerProcess> {
  // Another test process can bind a port between our probe and the server's bind: then the server
  // exits with EADDRINUSE before it is ready, and a fresh set of ports is tried.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(options);
    } catch (err) {
      const portTaken = err instanceof Error && /EADDRINUSE/.test(err.message);
      if (!portTaken || options.port !== undefined || attempt >= 3) throw err;
    }
  }
}

async function startServerOnce(options: StartServerOptions): Promise<ServerProcess> {
  const port = options.port ?? (await getFreePort());
  let tlsPort: number | undefined;
  if (options.tls !== false) {
    do tlsPort = await getFreePort();
    while (tlsPort === port);
  }
  let metricsPort: number;
  do metricsPort = await getFreePort();
  while (metricsPort === port || metricsPort === tlsPort);
  let portalPort: number;
  do portalPort = await getFreePort();
  while (portalPort === port || portalPort === tlsPort || portalPort === metricsPort);
  let ownedTempDir: string | undefined;
  let dbPath: string | undefined;
  // MySQL mode: fresh databases per server; `restart()` reuses them like it reuses a db file.
  const mysql = !options.inMemory && (options.store ?? testStore()) === 'mysql' ? await createTestDatabases(serverBinPath()) : undefined;
  if (!options.inMemory && !mysql) {
    if (options.dbPath) {
      dbPath = options.dbPath;
    } else {
      ownedTempDir = makeTempDir();
      dbPath = path.join(ownedTempDir, 'hourglass.db');
    }
  }
  // On MySQL the development TLS credentials go beside where --db-filename points (the SQLite file
  // is not used): a temp dir, never the working tree.
  if (mysql && tlsPort !== undefined) ownedTempDir = makeTempDir();
  const credentialsFile = path.join(ownedTempDir ?? makeTempDir('hourglass-credentials-'), 'dev-credentials.json');
  const verify = options.verifyRebuild === false ? {} : { 'history.verifyRebuild': [{ value: true }] };
  const settings = { ...verify, ...options.settings };
  let configArgs: string[] = [];
  if (Object.keys(settings).length > 0) {
    const configFile = path.join(ownedTempDir ?? makeTempDir('hourglass-config-'), 'hourglass.yaml');
    // JSON is YAML: the settings section as the server's config file expects it.
    writeFileSync(configFile, JSON.stringify({ settings }));
    configArgs = ['--config', configFile];
  }
  const args = [
    'start-dev',
    ...configArgs,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    ...(mysql ? [...mysql.args, ...(ownedTempDir ? ['--db-filename', path.join(ownedTempDir, 'unused.db')] : [])] : dbPath ? ['--db-filename', dbPath] : ['--in-memory']),
    ...(tlsPort === undefined ? ['--no-tls'] : ['--tls-port', String(tlsPort)]),
    '--dev-credentials-file',
    credentialsFile,
    '--metrics-address',
    `127.0.0.1:${metricsPort}`,
    '--portal-address',
    `127.0.0.1:${portalPort}`,
    ...(options.portalWeb ? [] : ['--no-portal-web']),
    '--log-level',
    'warn',
    ...((options.internalTransport ?? testInternalTransport()) === 'grpc-loopback' ? ['--internal-transport', 'grpc-loopback'] : []),
    ...(options.extraArgs ?? []),
  ];
  const server = new ServerProcessImpl(port, tlsPort, dbPath, args, ownedTempDir, credentialsFile, `http://127.0.0.1:${metricsPort}`, `http://127.0.0.1:${portalPort}/graphql`, options.env ?? {}, async () => mysql?.drop(), options.nodeArgs);
  try {
    await server.launch();
  } catch (err) {
    if (ownedTempDir) removeTempDir(ownedTempDir);
    await mysql?.drop();
    throw err;
  }
  return server;
}
