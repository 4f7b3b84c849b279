/**
 * A cluster of `hourglass start` processes on a fresh set of MariaDB databases (a cluster database
 * and four shard databases, migrated with `hourglass db migrate`), each role set in a process of its
 * own, for the tests of the distributed deployment. Every host gets a tmp YAML config (the shared
 * store, its `cluster:` section) and ports from getFreePort (below the ephemeral range, probed); a
 * host is up when grpc.health.v1.Health on its internal port answers SERVING for '' and each role.
 *
 * ```ts
 * const cluster = await startCluster({ hosts: [{ name: 'fe', services: ['frontend'] }, { name: 'h1', services: ['history'] }, …] });
 * const { client } = await connectClient(cluster.host('fe').publicAddress!);
 * await cluster.host('h1').signal('SIGKILL');
 * await cluster.dispose();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { credentials, makeClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { eventually } from './eventually';
import { createTestDatabases, type TestDatabases } from './mysql';
import { getFreePort, makeTempDir, removeTempDir, serverBinPath } from './server';

export type Role = 'frontend' | 'history' | 'matching' | 'indexer';

export interface ClusterHostSpec {
  /** Names the host in the test and in failure output. */
  name: string;
  services: Role[];
  /** Where the host serves its Prometheus metrics (default: off). */
  metricsAddress?: string;
}

export interface ClusterOptions {
  hosts: ClusterHostSpec[];
  /** Shards of the new cluster (default 8: several per history host). */
  numHistoryShards?: number;
  membershipHeartbeatMs?: number;
  membershipTtlMs?: number;
  /** Extra top-level YAML (e.g. a settings: section), appended to every host's config. */
  extraYaml?: string;
  /** How long every host together may take to be SERVING. */
  readyTimeoutMs?: number;
}

/** Lines of output kept per host for failure reports. */
const LOG_RING_SIZE = 300;

type HealthStatus = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN';
interface HealthClient {
  check(req: { service: string }, options: { deadline: number }, cb: (err: Error | null, res: { status: HealthStatus }) => void): void;
  close(): void;
}
const HealthClientCtor = makeClientConstructor(healthService as unknown as ServiceDefinition, 'Health');

/** grpc.health.v1.Health Check of `service` at `address`; rejects when the host does not answer within 1 s. */
export async function checkHealth(address: string, service = ''): Promise<HealthStatus> {
  const client = new HealthClientCtor(address, credentials.createInsecure()) as unknown as HealthClient;
  try {
    return await new Promise<HealthStatus>((resolve, reject) =>
      client.check({ service }, { deadline: Date.now() + 1000 }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  } finally {
    client.close();
  }
}

export class ClusterHost {
  private child: ChildProcess | undefined;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  private readonly lines: string[] = [];
  /** How many lines were ever pushed: `lines[0]` is line number `pushed - lines.length`. */
  private pushed = 0;

  constructor(
    readonly name: string,
    readonly services: Role[],
    readonly internalPort: number,
    readonly publicPort: number | undefined,
    readonly configFile: string,
  ) {}

  get internalAddress(): string {
    return `127.0.0.1:${this.internalPort}`;
  }

  /** Where the SDK connects: the frontend's WorkflowService; undefined without the frontend role. */
  get publicAddress(): string | undefined {
    return this.publicPort === undefined ? undefined : `127.0.0.1:${this.publicPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the host wrote (and the harness said of it), those after `outputMark()` returned `since` if given. */
  output(since = 0): string {
    const first = this.pushed - this.lines.length;
    return this.lines.slice(Math.max(0, since - first)).join('\n');
  }

  /** A position in the output, for `output(since)`. */
  outputMark(): number {
    return this.pushed;
  }

  private push(line: string): void {
    this.pushed += 1;
    this.lines.push(line);
    if (this.lines.length > LOG_RING_SIZE) this.lines.shift();
  }

  /** Spawns `hourglass start --config <file>`; resolves at once (see waitServing). */
  launch(): void {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const child = spawn(process.execPath, [serverBinPath(), 'start', '--config', this.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HOURGLASS_'))),
    });
    this.child = child;
    liveHosts.add(child);
    this.push(`[harness] ${this.name}: spawned pid ${child.pid}: hourglass start --config ${this.configFile} (${this.services.join(',')})`);
    createInterface({ input: child.stdout! }).on('line', (line) => this.push(`[${this.name} stdout] ${line}`));
    createInterface({ input: child.stderr! }).on('line', (line) => this.push(`[${this.name} stderr] ${line}`));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        liveHosts.delete(child);
        this.push(`[harness] ${this.name}: pid ${child.pid} exited code=${code} signal=${signal}`);
        resolve({ code, signal });
      });
    });
  }

  /** Health SERVING for the process and each of its roles. */
  async serving(): Promise<boolean> {
    if (!this.running) return false;
    for (const service of ['', ...this.services]) {
      if ((await checkHealth(this.internalAddress, service).catch(() => 'UNKNOWN')) !== 'SERVING') return false;
    }
    return true;
  }

  async waitServing(timeoutMs = 30_000): Promise<void> {
    await eventually(
      async () => {
        if (this.exited && !this.running) throw new Error(`${this.name} exited before it was serving`);
        return this.serving();
      },
      { timeoutMs, intervalMs: 100, description: `${this.name} (${this.services.join(',')}) SERVING on ${this.internalAddress}\n--- output ---\n${this.output()}` },
    );
  }

  /** Sends a signal; SIGTERM and SIGKILL wait for the exit (SIGTERM: at most `timeoutMs`). */
  async signal(signal: NodeJS.Signals, timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    if (!this.child || !this.exited) throw new Error(`${this.name} was never started`);
    if (!this.running) return this.exited;
    this.child.kill(signal);
    if (signal !== 'SIGTERM' && signal !== 'SIGKILL') return undefined;
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    const result = await Promise.race([this.exited, timer]);
    if (result === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`${this.name} did not exit within ${timeoutMs} ms of ${signal}\n--- output ---\n${this.output()}`);
    }
    return result;
  }
}

const liveHosts = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveHosts) child.kill('SIGKILL');
});

export interface Cluster {
  readonly hosts: readonly ClusterHost[];
  readonly databases: TestDatabases;
  host(name: string): ClusterHost;
  /** Public addresses of the frontends. */
  frontends(): string[];
  /** Every host's recent output, for failure reports. */
  output(): string;
  /** SIGTERM every host still running, drop the databases, remove the configs. */
  dispose(): Promise<void>;
}

function hostYaml(spec: ClusterHostSpec, db: TestDatabases, ports: { internal: number; public: number | undefined }, options: ClusterOptions): string {
  const lines = [
    'store: mysql',
    `mysqlClusterDsn: ${db.clusterDsn}`,
    'mysqlShardDsns:',
    ...db.shardDsns.map((d) => `  - ${d}`),
    `numHistoryShards: ${options.numHistoryShards ?? 8}`,
    'logLevel: warn',
    'ip: 127.0.0.1',
    // A host without the frontend role binds no public port; the key is still valid.
    `port: ${ports.public ?? 0}`,
    'tls: false',
    `metricsAddress: "${spec.metricsAddress ?? 'off'}"`,
    'cluster:',
    `  services: [${spec.services.join(', ')}]`,
    `  internalAddress: 127.0.0.1:${ports.internal}`,
    `  membershipHeartbeatMs: ${options.membershipHeartbeatMs ?? 300}`,
    `  membershipTtlMs: ${options.membershipTtlMs ?? 2000}`,
    '  drainTimeoutMs: 3000',
  ];
  return `${lines.join('\n')}\n${options.extraYaml ?? ''}`;
}

/**
 * Creates the databases, then starts the first host alone (it records the shard databases in the new
 * cluster) and the others together, and resolves once every host is SERVING.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const databases = await createTestDatabases(serverBinPath());
  const dir = makeTempDir('hourglass-cluster-');
  const hosts: ClusterHost[] = [];
  const dispose = async (): Promise<void> => {
    await Promise.all(hosts.filter((h) => h.running).map((h) => h.signal('SIGTERM').catch(() => h.signal('SIGKILL'))));
    await databases.drop();
    removeTempDir(dir);
  };
  try {
    // Each probed free, and none given twice (two draws may pick the same one).
    const taken = new Set<number>();
    const port = async (): Promise<number> => {
      for (;;) {
        const p = await getFreePort();
        if (!taken.has(p)) {
          taken.add(p);
          return p;
        }
      }
    };
    for (const spec of options.hosts) {
      const internal = await port();
      const pub = spec.services.includes('frontend') ? await port() : undefined;
      const file = path.join(dir, `${spec.name}.yaml`);
      writeFileSync(file, hostYaml(spec, databases, { internal, public: pub }, options));
      hosts.push(new ClusterHost(spec.name, spec.services, internal, pub, file));
    }
    const timeout = options.readyTimeoutMs ?? 45_000;
    const [first, ...rest] = hosts;
    if (!first) throw new Error('a cluster needs at least one host');
    first.launch();
    await first.waitServing(timeout);
    for (const host of rest) host.launch();
    await Promise.all(rest.map((h) => h.waitServing(timeout)));
  } catch (err) {
    const output = hosts.map((h) => h.output()).join('\n');
    await dispose().catch(() => undefined);
    throw err instanceof Error ? new Error(`${err.message}\n--- cluster output ---\n${output}`, { cause: err }) : err;
  }
  return {
    hosts,
    databases,
    host: (name) => {
      const found = hosts.find((h) => h.name === name);
      if (!found) throw new Error(`no host ${name} in this cluster (${hosts.map((h) => h.name).join(', ')})`);
      return found;
    },
    frontends: () => hosts.flatMap((h) => (h.publicAddress ? [h.publicAddress] : [])),
    output: () => hosts.map((h) => h.output()).join('\n'),
    dispose,
  };
}
